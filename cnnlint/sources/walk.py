"""Turn command-line paths into the files to lint.

Directories are walked (symbolic links followed, loops detected), skipping VCS
folders, virtual environments, caches, node_modules and what .gitignore files
ignore; their files are classified by name. Explicitly named files are linted
whatever their location, unless the configuration's `exclude` matches them, and
always accounted for: one whose name does not say what it is is listed in
`Discovery.unknown` for cnnlint.named to tell by its content.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from dataclasses import dataclass, field
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from cnnlint.findings import Finding, Severity
from cnnlint.sources.read import classify

SKIP_DIRS = {
    ".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".ipynb_checkpoints",
    ".mypy_cache", ".nox", ".pants.d", ".pyenv", ".pytest_cache", ".pytype", ".ruff_cache",
    ".svn", ".tox", ".venv", ".vscode", ".idea", "__pypackages__", "__pycache__", "_build",
    "buck-out", "node_modules", "site-packages", "venv", ".cnnlint_cache", ".cache",
}


@dataclass(frozen=True)
class Target:
    path: str  # as shown to the user
    real_path: str  # absolute
    kind: str  # python | notebook | requirements | conda
    data: Optional[bytes] = field(default=None, compare=False, repr=False)  # the content read from standard input


@dataclass
class Discovery:
    targets: List[Target] = field(default_factory=list)
    errors: List[Finding] = field(default_factory=list)  # CNL001: paths that cannot be read
    images: List[Tuple[str, str]] = field(default_factory=list)  # (shown, absolute): images named on the command line
    refused: List[str] = field(default_factory=list)  # one line each: a named path that is not checked, and why
    unknown: List[str] = field(default_factory=list)  # named regular files whose name does not say: see cnnlint.named


def display_path(path: str) -> str:
    absolute = os.path.abspath(path)
    try:
        rel = os.path.relpath(absolute)
    except ValueError:  # another drive on Windows
        return absolute
    return absolute if rel.startswith(os.pardir + os.sep) or rel == os.pardir else rel


def glob_matches(rel_path: str, pattern: str) -> bool:
    """Ruff-style: patterns with a slash match the relative path, others any path component."""
    rel_path = rel_path.replace(os.sep, "/")
    pattern = pattern.rstrip("/")
    if "/" in pattern:
        pattern = pattern[2:] if pattern.startswith("./") else pattern
        return fnmatch.fnmatch(rel_path, pattern) or fnmatch.fnmatch(rel_path, pattern + "/*")
    return any(fnmatch.fnmatch(part, pattern) for part in rel_path.split("/"))


def is_venv(path: str) -> bool:
    """Whether a folder is a virtual environment (venv or conda): never walked."""
    return os.path.isfile(os.path.join(path, "pyvenv.cfg")) or os.path.isdir(
        os.path.join(path, "conda-meta")
    )


def unreadable(
    path: str,
    reason: str,
    *,
    code: str = "CNL001",
    hint: str = "fix the path or exclude it; the other files were still linted",
    line: int = 1,
) -> Finding:
    """`cannot read: <reason>` for a path (line 0: a finding about the whole file or folder)."""
    return Finding(
        code=code,
        severity=Severity.ERROR,
        message=f"cannot read: {reason}",
        path=display_path(path),
        line=line,
        column=line,
        hint=hint,
    )


def os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "no such file or directory (a broken symbolic link?)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or str(exc)


class _GitIgnores:
    """The .gitignore files that apply to a folder: its own and its parents' up to the repo root
    (or up to `floor`, for a folder named on the command line that is itself ignored)."""

    def __init__(self, floor: Optional[str] = None) -> None:
        self._specs: Dict[str, Optional[object]] = {}
        self.floor = floor

    def _spec(self, folder: str) -> Optional[object]:
        if folder not in self._specs:
            spec = None
            path = os.path.join(folder, ".gitignore")
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    lines = fh.read().splitlines()
            except OSError:
                lines = None
            if lines:
                import pathspec

                spec = pathspec.GitIgnoreSpec.from_lines(lines)
            self._specs[folder] = spec
        return self._specs[folder]

    def ignored(self, path: str, is_dir: bool) -> bool:
        folder = os.path.dirname(path)
        for _ in range(64):
            spec = self._spec(folder)
            if spec is not None:
                rel = os.path.relpath(path, folder).replace(os.sep, "/")
                if spec.match_file(rel + ("/" if is_dir else "")):  # type: ignore[attr-defined]
                    return True
            if folder == self.floor or os.path.isdir(os.path.join(folder, ".git")):
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        return False


def excluder(exclude: Sequence[str], root: str) -> Callable[[str], bool]:
    """Whether an absolute path matches one of the configuration's `exclude` patterns."""

    def excluded(path: str) -> bool:
        if not exclude:
            return False
        rel = os.path.relpath(path, root)
        return any(glob_matches(rel, p) for p in exclude)

    return excluded


def discover(
    paths: Sequence[str],
    exclude: Sequence[str] = (),
    root: Optional[str] = None,
    respect_gitignore: bool = True,
) -> Discovery:
    """The files to lint under `paths`, CNL001 findings for paths that cannot be read, the images
    named, and the named files refused."""
    root = os.path.abspath(root or os.getcwd())
    found = Discovery()
    seen_files = set()
    gitignores = _GitIgnores() if respect_gitignore else None
    excluded = excluder(exclude, root)

    def add_file(path: str, kind: str) -> None:
        real = os.path.abspath(path)
        if real in seen_files:
            return
        seen_files.add(real)
        found.targets.append(Target(display_path(path), real, kind))

    for given in paths:
        try:
            st = os.stat(given)
        except OSError as exc:
            found.errors.append(unreadable(given, os_reason(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            ignores = gitignores
            top = os.path.abspath(given)
            if ignores is not None and ignores.ignored(top, True):
                # named on the command line: lint it, with only its own .gitignore files
                ignores = _GitIgnores(floor=top)
            _walk_dir(given, st, add_file, found.errors, excluded, ignores)
        elif not excluded(os.path.abspath(given)):
            kind = _named_kind(given, st, found)
            if kind is not None:
                add_file(given, kind)
    return found


def _named_kind(given: str, st: os.stat_result, found: Discovery) -> Optional[str]:
    """The kind of a file named on the command line, by its name; None when it is reported
    (CNL001), refused, or left to cnnlint.named to tell by its content (`found.unknown`)."""
    kind = classify(given)
    if not stat.S_ISREG(st.st_mode):
        if kind is not None:
            found.errors.append(unreadable(given, "not a regular file"))
        else:
            found.refused.append(f"{display_path(given)}: not a regular file (to check standard input, "
                                 "name it `-` and give its name with --stdin-filename)")
        return None
    if kind is None:
        found.unknown.append(given)
    return kind


@dataclass
class TreeEntry:
    name: str
    path: str
    stat: Optional[os.stat_result]  # None for a file that is not a link: stat it when needed
    is_link: bool
    loop: bool = False  # a folder that links back to one of its parents


@dataclass
class TreeFolder:
    """One folder of `walk_tree`: its entries, sorted by name. Prune `dirs` (in place) to skip
    sub-folders; those left with `loop` set are not entered (report them)."""

    path: str
    files: List[TreeEntry]
    dirs: List[TreeEntry]
    errors: List[Tuple[str, OSError, bool]]  # (path, error, is_link) of entries that cannot be stat'ed
    error: Optional[OSError] = None  # the folder itself cannot be listed


def walk_tree(top: str, top_stat: os.stat_result) -> Iterator[TreeFolder]:
    """Every folder under `top`, depth first, symbolic links followed, each folder once, loops flagged."""
    visited = {(top_stat.st_dev, top_stat.st_ino)}
    stack: List[Tuple[str, frozenset]] = [(os.path.abspath(top), frozenset(visited))]
    while stack:
        folder, ancestors = stack.pop()
        node = TreeFolder(folder, [], [], [])
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            node.error = exc
            yield node
            continue
        for entry in entries:
            is_link = False
            try:
                is_link = entry.is_symlink()
                if is_link:
                    st: Optional[os.stat_result] = os.stat(entry.path)
                    is_dir = stat.S_ISDIR(st.st_mode)  # type: ignore[union-attr]
                else:  # the folder listing's file type: no system call per file
                    is_dir = entry.is_dir(follow_symlinks=False)
                    st = entry.stat(follow_symlinks=False) if is_dir else None
            except OSError as exc:
                node.errors.append((entry.path, exc, is_link))
                continue
            if is_dir:
                assert st is not None
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    node.dirs.append(TreeEntry(entry.name, entry.path, st, is_link, loop=True))
                elif key not in visited:  # reached twice through links: once is enough
                    node.dirs.append(TreeEntry(entry.name, entry.path, st, is_link))
            else:
                node.files.append(TreeEntry(entry.name, entry.path, st, is_link))
        yield node
        subdirs = []
        for d in node.dirs:
            if d.stat is None:  # pragma: no cover - a folder's entry is always stat'ed
                continue
            key = (d.stat.st_dev, d.stat.st_ino)
            if d.loop or key in visited:
                continue
            visited.add(key)
            subdirs.append((d.path, ancestors | {key}))
        stack.extend(reversed(subdirs))


LOOP_REASON = "symbolic link loop (links back to a parent folder)"


def _walk_dir(top, top_stat, add_file, errors, excluded, gitignores) -> None:
    for node in walk_tree(top, top_stat):
        if node.error is not None:
            errors.append(unreadable(node.path, os_reason(node.error)))
            continue
        for path, exc, is_link in node.errors:
            if classify(path) is not None or not is_link or exc.errno == errno.ELOOP:
                errors.append(unreadable(path, os_reason(exc)))
        node.dirs[:] = [
            d for d in node.dirs
            if not (d.name in SKIP_DIRS or d.name.endswith(".egg-info") or is_venv(d.path)
                    or excluded(d.path) or (gitignores and gitignores.ignored(d.path, True)))
        ]
        for d in node.dirs:
            if d.loop:
                errors.append(unreadable(d.path, LOOP_REASON))
        for f in node.files:
            kind = classify(f.path)
            if kind is None:
                continue
            if excluded(f.path) or (gitignores and gitignores.ignored(f.path, False)):
                continue
            try:
                mode = (f.stat or os.lstat(f.path)).st_mode
            except OSError as exc:
                errors.append(unreadable(f.path, os_reason(exc)))
                continue
            if not stat.S_ISREG(mode):
                errors.append(unreadable(f.path, "not a regular file"))
                continue
            add_file(f.path, kind)


def with_included(targets: List[Target]) -> List[Target]:
    """The targets plus the files their requirements files name with `-r` (followed transitively)."""
    from cnnlint.sources.manifest import included_files, read_manifest
    from cnnlint.sources.model import SourceError

    result = list(targets)
    known = {t.real_path for t in targets}
    queue = [t for t in targets if t.kind == "requirements"]
    while queue:
        target = queue.pop()
        try:
            if target.data is not None:
                data = target.data[:4 * 1024 * 1024]
            else:
                with open(target.real_path, "rb") as fh:
                    data = fh.read(4 * 1024 * 1024)
            manifest = read_manifest(target.real_path, data, "requirements")
        except (OSError, SourceError):
            continue  # reported when the file itself is linted
        for path in included_files(manifest):
            real = os.path.abspath(path)
            if real in known or not os.path.isfile(real):
                continue
            known.add(real)
            included = Target(display_path(real), real, "requirements")
            result.append(included)
            queue.append(included)
    return result
