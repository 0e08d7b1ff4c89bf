"""Which folders are image datasets, and how they are laid out (splits, classes).

Detection looks at file extensions only (the scan checks content). A folder is
a dataset when it holds images directly, in class sub-folders, or in split
folders (train/, val/, valid/, validation/, test/) with class sub-folders.
Folders named on the command line get the benefit of the doubt; folders found
while walking need clear evidence: images dominate, no code beside them, and
enough images that a docs/ figure or a logo next to a script is not a dataset.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from cnnlint.dataset.urls import is_url
from cnnlint.findings import Finding, Severity
from cnnlint.sources.walk import (
    LOOP_REASON, SKIP_DIRS, TreeFolder, is_venv, display_path, os_reason, unreadable, walk_tree,
)

IMAGE_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".dib", ".webp",
    ".tif", ".tiff", ".ppm", ".pgm", ".pbm", ".pnm",
})
CODE_EXTENSIONS = frozenset({".py", ".ipynb", ".pyx", ".sh"})
JUNK_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "ehthumbs.db"})
SPLITS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}
ROLE_ORDER = {"train": 0, None: 1, "val": 2, "test": 3}
# folders never searched for datasets while walking: their pictures are documentation or web assets
DOC_DIRS = frozenset({
    "docs", "doc", "documentation", "_static", "static", "assets", "site", "public", "figures",
    "figs", "screenshots", "htmlcov", "build", "dist", "_images", "media",
})

MIN_WALKED_FLAT = 50  # images directly in a folder found while walking, with no class folders
MIN_WALKED_CLASSES = 10  # images over the class folders of a folder found while walking
STRAY_GROUP = 3  # more stray files than this in one folder: one finding for the folder


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def _abs(path: str) -> str:
    """os.path.abspath, for local paths; a bucket URL stays as it is (without a trailing slash)."""
    return path.rstrip("/") if is_url(path) else os.path.abspath(path)


def _shown(path: str) -> str:
    return path.rstrip("/") if is_url(path) else display_path(path)


def _is_code(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in CODE_EXTENSIONS


@dataclass
class _Summary:
    """Counts of one folder (directly) and of its whole subtree, from extensions alone."""

    name: str
    path: str
    images: int = 0
    code: int = 0
    others: int = 0
    children: Dict[str, "_Summary"] = field(default_factory=dict)
    total_images: int = 0
    total_code: int = 0
    total_others: int = 0


def _summarize(top: str, top_stat: Optional[os.stat_result], excluded: Callable[[str], bool],
               nodes: Optional[Iterable[TreeFolder]] = None) -> _Summary:
    """`nodes`: a listing's folders (a bucket's) instead of walking `top` on disk."""
    summaries: Dict[str, _Summary] = {}
    order: List[_Summary] = []
    for node in walk_tree(top, top_stat) if nodes is None else nodes:  # type: ignore[arg-type]
        s = summaries.get(node.path) or _Summary(os.path.basename(node.path), node.path)
        summaries[node.path] = s
        order.append(s)
        for f in node.files:
            if f.name.startswith(".") and not is_image_name(f.name) or excluded(f.path):
                continue
            if is_image_name(f.name):
                s.images += 1
            elif _is_code(f.name):
                s.code += 1
            elif f.name.lower() not in JUNK_FILES:
                s.others += 1
        keep = []
        for d in node.dirs:
            if d.loop or d.name.startswith(".") or d.name in SKIP_DIRS or is_venv(d.path) or excluded(d.path):
                continue
            keep.append(d)
            child = _Summary(d.name, d.path)
            summaries[d.path] = child
            s.children[d.name] = child
        node.dirs[:] = keep
    for s in reversed(order):
        s.total_images = s.images + sum(c.total_images for c in s.children.values())
        s.total_code = s.code + sum(c.total_code for c in s.children.values())
        s.total_others = s.others + sum(c.total_others for c in s.children.values())
    return summaries[_abs(top)]


@dataclass
class Split:
    name: Optional[str]  # the folder's name; None when the dataset has no split folders
    role: Optional[str]  # "train" | "val" | "test" | None
    path: str  # display path
    real_path: str
    classes: List[str]  # class folder names, sorted; empty for a flat folder of images
    flat: bool = False

    def label(self) -> str:
        return f"{self.name}/" if self.name else ""


@dataclass
class Dataset:
    path: str  # display path
    real_path: str  # absolute
    layout: str  # "splits" | "classes" | "flat"
    splits: List[Split]
    forced: bool = False
    listing: Optional[Any] = field(default=None, repr=False, compare=False)  # a bucket's (cnnlint.dataset.remote)

    def __post_init__(self) -> None:
        self._split_index = {s.name: i for i, s in enumerate(self.splits)}
        self._class_index = [{c: j for j, c in enumerate(s.classes)} for s in self.splits]
        self.keys: List[Tuple[int, int]] = []  # (split index, class index; -1 for a flat folder)
        for i, s in enumerate(self.splits):
            self.keys.extend([(i, -1)] if s.flat else [(i, j) for j in range(len(s.classes))])
        self._key_index = {k: n for n, k in enumerate(self.keys)}
        self._root_prefix = self.real_path.rstrip(os.sep) + os.sep

    def key_of(self, real_path: str) -> Optional[int]:
        """The class (index into `keys`) a file under the dataset belongs to, by its path."""
        root = self._root_prefix
        if real_path.startswith(root):  # the common case, without relpath's normalisation
            rel = real_path[len(root):]
        else:
            rel = os.path.relpath(real_path, self.real_path)
        parts = rel.split(os.sep)
        if self.layout == "splits":
            si = self._split_index.get(parts[0])
            if si is None:
                return None
            parts = parts[1:]
        else:
            si = 0
        split = self.splits[si]
        if split.flat:
            return self._key_index[(si, -1)] if len(parts) == 1 else None
        if len(parts) < 2:
            return None
        ci = self._class_index[si].get(parts[0])
        return None if ci is None else self._key_index[(si, ci)]

    def class_path(self, key: int) -> str:
        si, ci = self.keys[key]
        split = self.splits[si]
        return split.path if ci < 0 else os.path.join(split.path, split.classes[ci])

    def class_name(self, key: int) -> str:
        si, ci = self.keys[key]
        return "" if ci < 0 else self.splits[si].classes[ci]

    def split_of(self, key: int) -> Split:
        return self.splits[self.keys[key][0]]

    def contains(self, path: str) -> bool:
        """Whether a display path (a finding's) lies in this dataset."""
        real = _abs(path)
        return real == self.real_path or real.startswith(self.real_path.rstrip(os.sep) + os.sep)


# ---- classification ----------------------------------------------------------------------

def _class_folder_ok(s: _Summary) -> bool:
    """Nothing but images (or nothing at all) below: a class folder, possibly empty."""
    return s.total_code == 0 and s.total_images * 2 >= s.total_images + s.total_others


def _classes_ok(s: _Summary, lenient: bool, in_split: bool = False) -> bool:
    if s.code or not s.children:
        return False
    with_images = [c for c in s.children.values() if c.total_images]
    if not with_images or len(s.children if lenient else with_images) < (1 if in_split else 2):
        return False
    if not all(_class_folder_ok(c) for c in s.children.values()):
        return False
    if s.images * 2 > s.total_images:  # mostly loose images beside a few folders: not classes
        return False
    return lenient or s.total_images >= MIN_WALKED_CLASSES


def _flat_ok(s: _Summary, lenient: bool) -> bool:
    if s.code or not s.images:
        return False
    if any(c.total_images for c in s.children.values()):
        return False
    if lenient:
        return s.images * 2 >= s.images + s.others
    return s.images >= MIN_WALKED_FLAT and s.images * 10 >= (s.images + s.others) * 9


def _split_folders(s: _Summary) -> List[Tuple[_Summary, bool]]:
    """Split-named sub-folders that hold a dataset: (summary, flat)."""
    found = []
    for name in sorted(s.children):
        child = s.children[name]
        if name.lower() not in SPLITS:
            continue
        if _classes_ok(child, lenient=True, in_split=True):
            found.append((child, False))
        elif _flat_ok(child, lenient=True):
            found.append((child, True))
    return found


def _make(s: _Summary, layout: str, forced: bool, splits: Sequence[Tuple[_Summary, bool]] = ()) -> Dataset:
    real = _abs(s.path)
    shown = _shown(s.path)
    if layout == "splits":
        made = [
            Split(c.name, SPLITS[c.name.lower()], os.path.join(shown, c.name), c.path,
                  [] if flat else sorted(c.children), flat)
            for c, flat in splits
        ]
    elif layout == "classes":
        made = [Split(None, None, shown, real, sorted(s.children))]
    else:
        made = [Split(None, None, shown, real, [], flat=True)]
    return Dataset(shown, real, layout, made, forced)


def _classify(s: _Summary, lenient: bool, forced: bool = False) -> Optional[Dataset]:
    if s.code and not forced:
        return None
    splits = _split_folders(s)
    if splits and not s.code:
        return _make(s, "splits", forced, splits)
    if _classes_ok(s, lenient):
        return _make(s, "classes", forced)
    if _flat_ok(s, lenient):
        return _make(s, "flat", forced)
    if forced:
        return _make(s, "classes" if s.children else "flat", forced)
    return None


def find_datasets(
    paths: Sequence[str],
    forced: Sequence[str] = (),
    excluded: Callable[[str], bool] = lambda path: False,
) -> List[Dataset]:
    """The datasets among `paths` (or found walking them) and the `forced` (--data) folders."""
    found: Dict[str, Dataset] = {}
    for given, is_forced in [(p, True) for p in forced] + [(p, False) for p in paths]:
        try:
            st = os.stat(given)
        except OSError:
            continue  # reported by the code walk (or, for --data, by run.py)
        if not stat.S_ISDIR(st.st_mode):
            continue
        top = _summarize(given, st, excluded)
        if is_forced:
            candidates: Sequence[Optional[Dataset]] = [_classify(top, lenient=True, forced=True)]
        else:
            candidates = _walk_for_datasets(top)
        for ds in candidates:
            if ds is None:
                continue
            if any(ds.real_path == d.real_path or d.contains(ds.real_path) for d in found.values()):
                continue
            for real in [r for r, d in found.items() if ds.contains(r)]:
                del found[real]  # an outer dataset holds it
            found[ds.real_path] = ds
    return list(found.values())


def find_listed(url: str, nodes: Iterable[TreeFolder], forced: bool, listing: Any = None) -> List[Dataset]:
    """The datasets of a listed bucket prefix (`Listing.nodes()`), found as in a folder."""
    top = _summarize(url, None, lambda path: False, nodes)
    found = [_classify(top, lenient=True, forced=True)] if forced else _walk_for_datasets(top)
    for ds in found:
        if ds is not None:
            ds.listing = listing
    return [ds for ds in found if ds is not None]


def _walk_for_datasets(top: _Summary) -> List[Dataset]:
    result: List[Dataset] = []
    stack: List[Tuple[_Summary, bool]] = [(top, True)]
    while stack:
        s, lenient = stack.pop()
        ds = _classify(s, lenient)
        if ds is not None:
            result.append(ds)
            continue
        for name in sorted(s.children, reverse=True):
            if name.lower() not in DOC_DIRS:
                stack.append((s.children[name], False))
    return result


# ---- the files of a dataset ----------------------------------------------------------------

def path_finding(path: str, reason: str) -> Finding:
    return unreadable(path, reason, code="CNL514", line=0,
                      hint="fix the permissions or the link, or remove it; the rest of the dataset was still scanned")


@dataclass
class _Strays:
    folder: str
    role: str  # "class" | "split" | "flat"
    names: List[str] = field(default_factory=list)


def _stray_findings(group: _Strays, class_names: Sequence[str]) -> List[Finding]:
    names = group.names
    if not names:
        return []
    if len(names) > STRAY_GROUP:
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return [Finding(
            code="CNL510", severity=Severity.WARNING, line=0, column=0, path=_shown(group.folder),
            message=f"{len(names)} entries that are not images in this {'class ' if group.role == 'class' else ''}"
                    f"folder: {shown}",
            hint="move notes, labels and metadata out of the image folders; a loader that lists the folder "
                 "(os.listdir + Image.open) fails on them",
        )]
    out = []
    for name in names:
        path = os.path.join(group.folder, name)
        hidden_dir = name.endswith("/")
        bare = name.rstrip("/")
        if hidden_dir:
            where = "beside the class folders" if group.role == "split" else "inside a class folder"
            message = (f"hidden folder '{bare}' {where}: torchvision's ImageFolder "
                       + ("takes it as an extra class" if group.role == "split" else "reads any images in it")
                       + " (Keras skips it)")
            hint = f"delete '{bare}' (and keep notebooks out of the dataset folder)"
        elif group.role == "split" and is_image_name(bare) and class_names:
            message = f"image '{bare}' lies beside the class folders, in no class: directory loaders skip it"
            hint = "move it into the folder of its class, or delete it"
        elif bare.lower() in JUNK_FILES:
            message = f"'{bare}' is operating-system metadata, not an image"
            hint = "delete it; a loader that lists the folder (os.listdir + Image.open) fails on it"
        else:
            message = f"'{bare}' is not an image file"
            hint = ("move it out of the image folders; Keras and ImageFolder skip it, but a loader that "
                    "lists the folder (os.listdir + Image.open) fails on it")
        out.append(Finding(code="CNL510", severity=Severity.WARNING, message=message,
                           path=_shown(path.rstrip("/")), line=0, column=0, hint=hint))
    return out


def iter_files(
    ds: Dataset,
    findings: List[Finding],
    excluded: Callable[[str], bool] = lambda path: False,
) -> Iterator[Tuple[str, str]]:
    """(display path, absolute path) of each image-named file the loaders would read, streamed;
    stray entries (CNL510) and folders that cannot be read (CNL514) go to `findings`."""
    if ds.listing is not None:
        nodes: Iterable[TreeFolder] = ds.listing.nodes()
    else:
        try:
            nodes = walk_tree(ds.real_path, os.stat(ds.real_path))
        except OSError as exc:
            findings.append(path_finding(ds.real_path, os_reason(exc)))
            return
    split_by_name = {s.name: s for s in ds.splits}
    for node in nodes:
        rel = os.path.relpath(node.path, ds.real_path) if ds.listing is None else node.path[len(ds.real_path) + 1:]
        parts = [] if rel in (os.curdir, "") else rel.split(os.sep)
        if node.error is not None:
            findings.append(path_finding(node.path, os_reason(node.error)))
            continue
        if ds.layout == "splits":
            if not parts:  # the root: only the split folders matter
                node.dirs[:] = [d for d in node.dirs if d.name in split_by_name and not d.loop]
                continue
            split = split_by_name[parts[0]]
            depth = len(parts) - 1  # 0: the split folder itself
        else:
            split = ds.splits[0]
            depth = len(parts)
        role = "flat" if split.flat else ("split" if depth == 0 else "class")
        group = _Strays(node.path, role)
        keep = []
        for d in node.dirs:
            if excluded(d.path):
                continue
            if d.loop:
                findings.append(path_finding(d.path, LOOP_REASON))
            elif d.name.startswith("."):
                if role != "flat":
                    group.names.append(d.name + "/")
            elif role != "flat":
                keep.append(d)
        node.dirs[:] = keep
        shown = _shown(node.path)  # once per folder: its files are shown under it
        prefix = "" if shown == os.curdir else shown + os.sep
        for path, error, _is_link in node.errors:
            if is_image_name(path):
                yield prefix + os.path.basename(path), path  # the inspection reports it (CNL514)
            else:
                findings.append(path_finding(path, os_reason(error)))
        for f in node.files:
            if excluded(f.path):
                continue
            if is_image_name(f.name) and role != "split":
                yield prefix + f.name, f.path
            else:
                group.names.append(f.name)
        findings.extend(_stray_findings(group, split.classes))
