"""Pipeline facts from a script's tree: data paths, image sizes, channels, outputs, losses, weighting.

Runs in the static pass, after the rules, on the analyses they share (cnnlint.lint.index: the
file's Bindings, its Keras models); the result is cached with the file's findings. Values are
followed through simple assignments and constants (cnnlint.crosscheck.values); anything the code
computes at run time stays unknown (None), and an unknown fact is never held against the data.
The model facts are in extract_models, the image readers and in-memory sets in extract_images.
"""

from __future__ import annotations

import ast
import functools
import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from cnnlint.crosscheck.extract_base import ScriptReader, levels
from cnnlint.crosscheck.extract_images import COLOR_CHANNELS, InMemoryFacts, ReaderFacts, in_memory_sets
from cnnlint.crosscheck.extract_models import KerasModelFacts, TorchHeadFacts
from cnnlint.crosscheck.facts import Fact, Loader, ScriptFacts
from cnnlint.crosscheck.values import glob_root
from cnnlint.dataset.layout import IMAGE_EXTENSIONS, SPLITS
from cnnlint.lint.index.bindings import FUNCTIONS, CallSite, argument, nth_positional
from cnnlint.lint.index.models import KERAS_ROOTS, KerasCompiled, element_values, is_none, keeps_labels, torch_name
from cnnlint.lint.index.names import call_tail, dotted_name, keyword, string_value
from cnnlint.lint.index.syntax import walk

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

_KERAS_DEFAULT_SIZE = [256, 256]
_KEYS = (
    "flow_from_directory", "image_dataset_from_directory", "ImageFolder", "DatasetFolder", "listdir", "glob",
    "os.walk", "scandir", "iterdir", "Dense", "Linear", "input_shape", "Input(", "applications", "num_classes",
)

_TORCH_CE = {"CrossEntropyLoss": "torch_ce", "NLLLoss": "torch_ce", "BCEWithLogitsLoss": "torch_bce", "BCELoss": "torch_bce"}
_LOSS_WEIGHT_KWARGS = ("weight", "pos_weight", "class_weight", "class_weights", "alpha")
_WEIGHTING_CALLS = re.compile(
    r"^(WeightedRandomSampler|compute_class_weight|compute_sample_weight|SMOTE|ADASYN|RandomOverSampler|"
    r"RandomUnderSampler|sample_from_datasets|rejection_resample|ImbalancedDatasetSampler|.*[Ff]ocal.*)$"
)
# every alternative starts with a plain letter, so the search skips to the letters they start with
_WEIGHTING_TEXT = re.compile(
    r"class_weight|sample_weight|WeightedRandomSampler|pos_weight|Focal|focal|SMOTE|OverSampler|UnderSampler|"
    r"sample_from_datasets|rejection_resample|oversampl|undersampl|ImbalancedDatasetSampler"
)
# what fetches, unpacks or moves data: words that start with a plain letter (the search skips to
# those letters), and the two that don't, each tried only where its word occurs
_CREATES_DATA = re.compile(
    r"get_file|urlretrieve|urlopen|requests\.get|wget|curl\s|unzip|extractall|tarfile|zipfile|ZipFile|"
    r"download\s*=\s*True|download_url|download_and_extract|makedirs|mkdir|shutil\.|copytree|"
    r"copyfile|snapshot_download|kagglehub|kaggle\s|gdown|tfds\.|load_dataset\(|drive\.mount|git\s+clone|"
    r"split_?folders|symlink|os\.rename|\.rename\(|hf_hub_download|os\.chdir|%cd\b"
)
_CALLS_DOWNLOAD = re.compile(r"\bdownload\(")
_CD_LINE = re.compile(r"^\s*cd\s", re.MULTILINE)


def creates_data(text: str) -> bool:
    """Whether code or shell text fetches, unpacks, moves or makes data folders."""
    return bool(_CREATES_DATA.search(text) or ("download(" in text and _CALLS_DOWNLOAD.search(text))
                or ("cd" in text and _CD_LINE.search(text)))
_PRETRAINED = re.compile(
    r"weights\s*=\s*['\"](imagenet|DEFAULT|IMAGENET)|pretrained\s*=\s*True|_Weights\.|Weights\.DEFAULT|"
    r"from_pretrained|from_preset|hub\.(load|KerasLayer)|load_state_dict|weights\s*=\s*\w+_Weights"
)
_RESIZES = {"resize", "resize_with_pad", "resize_with_crop_or_pad", "smart_resize", "Resizing", "CenterCrop",
            "RandomCrop", "crop_to_bounding_box", "central_crop", "random_crop", "resize_images"}
_IMAGE_READERS = {"imread", "open", "load_img", "read_image", "decode_image", "decode_jpeg", "decode_png",
                  "decode_bmp", "read_file", "imdecode"}


# the callee names _call looks at (beside weighting names and the keywords below)
_TAILS = frozenset({
    "flow_from_directory", "image_dataset_from_directory", "ImageFolder", "DatasetFolder", "listdir", "scandir",
    "walk", "glob", "iglob", "rglob", "iterdir", "list_files", "fit", "fit_generator", "train_on_batch",
    "apply_gradients", "step", "map", "one_hot", "to_categorical",
}) | _RESIZES | _IMAGE_READERS | frozenset(_TORCH_CE)
_KEYWORDS = frozenset({"target_transform", "class_weight", "sample_weight", "sampler", *_LOSS_WEIGHT_KWARGS})




def applies(text: str) -> bool:
    return any(k in text for k in _KEYS)


def _is_none(expr: Optional[ast.AST]) -> bool:
    return expr is not None and is_none(expr)


def _weighted(node: ast.Call, names: Tuple[str, ...]) -> bool:
    """A keyword of these names given, and not None."""
    return any(keyword(node, k) is not None and not is_none(keyword(node, k).value) for k in names)  # type: ignore[union-attr]


@functools.lru_cache(maxsize=4096)
def _telling_tail(tail: str) -> bool:
    """A callee name that may say something about the data (the same names recur in every file)."""
    return tail in _TAILS or _WEIGHTING_CALLS.match(tail) is not None


def _may_tell(c: CallSite) -> bool:
    return _telling_tail(c.tail) or any(kw.arg in _KEYWORDS for kw in c.node.keywords)


class _Extractor(ScriptReader):
    def run(self, positions: bool = True) -> ScriptFacts:
        self.readers = ReaderFacts(self)
        for c in self.f.calls:
            try:
                self._call(c)
            except RecursionError:
                continue
        KerasModelFacts(self).run()
        TorchHeadFacts(self).run()
        memory = InMemoryFacts(self)
        for at, call in in_memory_sets(self):
            memory.add(at, call)
        text = self.text
        out = self.out
        if not out.weighting:
            m = _WEIGHTING_TEXT.search(text)
            if m is not None:
                out.weighting.append(self._text_fact(m.start(), m.group(0)))
        shell = "\n".join(c.text for c in getattr(self.ctx.source, "shell", ()))
        cells = getattr(self.ctx.source, "cells", None) or {}
        magics = "\n".join(line for lines in cells.values() for line in lines if line.lstrip().startswith("%"))
        shell += "\n" + magics
        out.creates_data = bool(creates_data(text) or creates_data(shell)
                                or re.search(r"(^|\n)\s*%?(cp|mv|cd|kaggle|tar|7z|rsync|gsutil|aws)\s", shell))
        out.pretrained = bool(_PRETRAINED.search(text))
        if positions:
            self.place_all()
        return out

    def _text_fact(self, offset: int, what: str) -> Fact:
        line = self.text.count("\n", 0, offset) + 1
        source = self.ctx.source
        cell, cell_line = source.locate(line)
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Fact(value=what, text=what, line=cell_line, column=column, cell=cell, raw=source.raw_line(line)[:400])

    def has_loader_and_input_shape(self) -> bool:
        """Whether the script has both a data loader and a model input shape: the one pair a run
        judges when it places no facts (no dataset, no script named, no JSON), in CNL602."""
        for c in self.f.calls:
            if _may_tell(c):
                self._loaders(c)
        if not self.out.loaders:
            return False
        KerasModelFacts(self).input_shapes()
        return bool(self.out.input_shapes)

    def _call(self, c: CallSite) -> None:
        node = c.node
        tail = c.tail
        if not _may_tell(c):
            return  # most calls of a script say nothing about its data
        self._loaders(c)
        self._weighting(node, tail)
        if isinstance(node.func, ast.Attribute):
            self._training(node, tail)
        if tail == "map" and isinstance(node.func, ast.Attribute) and not keeps_labels(node):
            self.out.relabels = True
        if tail in ("one_hot", "to_categorical") or keyword(node, "target_transform") is not None:
            self.out.relabels = True
        if tail in _RESIZES and (c.qname.split(".")[0] in KERAS_ROOTS or tail in ("Resizing", "smart_resize")):
            self.out.resizes = True
        if tail in _IMAGE_READERS:
            self.readers.add(node, c.qname, tail)

    def _loaders(self, c: CallSite) -> None:
        node, tail, q = c.node, c.tail, c.qname
        root = q.split(".")[0]
        if tail == "flow_from_directory" and isinstance(node.func, ast.Attribute):
            self._keras_flow(node)
        elif tail == "image_dataset_from_directory" and (root in KERAS_ROOTS or (self.f.keras and q == tail)):
            self._keras_idfd(node)
        elif tail in ("ImageFolder", "DatasetFolder") and (root == "torchvision" or (self.f.torch and q == tail)):
            self._image_folder(node, tail)
        elif q in ("os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob") or tail == "list_files" and (
            root in KERAS_ROOTS
        ) or (
            isinstance(node.func, ast.Attribute) and tail in ("glob", "rglob", "iterdir") and root != "glob"
        ):
            self._listing(node, q, tail)

    def _weighting(self, node: ast.Call, tail: str) -> None:
        if tail in _TORCH_CE and (torch_name(self.f, node.func) == tail):
            self.out.losses.append(self.fact(node, _TORCH_CE[tail]))
            if _weighted(node, _LOSS_WEIGHT_KWARGS):
                self.out.weighting.append(self.fact(node, tail))
        elif _WEIGHTING_CALLS.match(tail or "") or (
            re.search(r"loss|entropy|nll", tail or "", re.I) and _weighted(node, _LOSS_WEIGHT_KWARGS)
        ):
            self.out.weighting.append(self.fact(node, tail))
        elif _weighted(node, ("class_weight", "sample_weight", "sampler")) and tail in (
            "fit", "fit_generator", "DataLoader", "train_on_batch"
        ):
            self.out.weighting.append(self.fact(node, tail))

    def _training(self, node: ast.Call, tail: str) -> None:
        recv = dotted_name(node.func.value) or ""  # type: ignore[attr-defined]
        no_args = not node.args and not node.keywords
        if self.f.keras and tail in ("fit", "fit_generator", "train_on_batch") and self._keras_model(recv, node):
            self.out.training.append(self.fact(node, tail))
        elif tail == "apply_gradients":
            self.out.training.append(self.fact(node, tail))
        elif tail == "step" and no_args and "optim" in recv.lower() or tail == "step" and recv.lower() in (
            "opt", "optimizer_ft", "optimiser"
        ):
            self.out.training.append(self.fact(node, tail))

    def _keras_model(self, recv: str, node: ast.Call) -> bool:
        """`recv.fit(...)` trains a Keras model: one compiled in this file, or called with Keras's
        training keywords (not `PCA().fit(x)` or `scaler.fit(x)`)."""
        if recv in self.ctx.get(KerasCompiled).names():
            return True
        return any(keyword(node, k) is not None for k in ("epochs", "validation_data", "callbacks", "steps_per_epoch"))

    # ---- loaders

    def _keras_flow(self, node: ast.Call) -> None:
        directory = argument(node, "directory", 0)
        classes = argument(node, "classes", 3)
        subset = argument(node, "subset")
        loader = self._loader(node, "flow_from_directory", directory, subset)
        loader.keras = True
        self._common(loader, node, [argument(node, k, i) for k, i in
                                    (("target_size", 1), ("color_mode", 2), ("class_mode", 4), ("batch_size", 5))],
                     "categorical")
        if classes is not None and not _is_none(classes):
            v = self.value(classes)
            loader.classes = self.fact(classes, len(v) if isinstance(v, list) else None)
        self.out.loaders.append(loader)

    def _keras_idfd(self, node: ast.Call) -> None:
        directory = argument(node, "directory", 0)
        labels = argument(node, "labels", 1)
        class_names = argument(node, "class_names", 3)
        subset = argument(node, "subset")
        loader = self._loader(node, "image_dataset_from_directory", directory, subset)
        loader.keras = True
        self._common(loader, node, [argument(node, k, i) for k, i in
                                    (("image_size", 6), ("color_mode", 4), ("label_mode", 2), ("batch_size", 5))],
                     "int")
        if labels is not None and string_value(labels) != "inferred":
            loader.class_mode = self.fact(labels, "None")  # labels given by the code, not the folders
        if class_names is not None and not _is_none(class_names):
            v = self.value(class_names)
            loader.classes = self.fact(class_names, len(v) if isinstance(v, list) else None)
        self.out.loaders.append(loader)

    def _common(self, loader: Loader, node: ast.Call, args: List[Optional[ast.AST]], default_mode: str) -> None:
        """target size, color mode, class mode and batch size, as given or by default."""
        target, color, class_mode, batch = args
        if target is None:
            loader.target_size = self.fact(node, list(_KERAS_DEFAULT_SIZE), default=True)
        elif not _is_none(target):
            loader.target_size = self.fact(target, self.values.size(target))
        if color is None:
            loader.color_mode = self.fact(node, "rgb", default=True)
        else:
            v = self.value(color)
            loader.color_mode = self.fact(color, v if v in COLOR_CHANNELS else None)
        if class_mode is None:
            loader.class_mode = self.fact(node, default_mode, default=True)
        else:
            v = self.value(class_mode)
            loader.class_mode = self.fact(class_mode, v if isinstance(v, str) else None)
        if batch is None:
            loader.batch_size = self.fact(node, 32, default=True)
        else:
            v = self.value(batch)
            loader.batch_size = self.fact(batch, v if isinstance(v, int) and not isinstance(v, bool) else None)

    def _loader(self, node: ast.Call, api: str, directory: Optional[ast.AST], subset: Optional[ast.AST]) -> Loader:
        path, exact = self.values.path(directory) if directory is not None else (None, False)
        loader = Loader(api=api, call=self.fact(node, path), exact=exact)
        role = None
        if subset is not None:
            role = {"training": "train", "validation": "val", "both": None}.get(self.value(subset) or "")
        if role is None and path:
            role = SPLITS.get(path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1].lower())
        if role is None:
            role = _role_of_name(self.assigned_to(node))
        loader.role = role
        loader.feeds = self._feeds(node)
        return loader

    def _feeds(self, node: ast.AST) -> bool:
        """Whether the loader's result is used for its images: passed on or iterated, not only
        asked for `.class_indices` / `.class_names` / `.samples`."""
        name = self.assigned_to(node)
        if not name or "." in name:
            return True
        for n in self.f.names.get(name, ()):
            parent = self.parent(n)
            if isinstance(parent, ast.Attribute) and parent.value is n:
                continue
            if isinstance(parent, ast.Assign) and any(t is n for t in parent.targets):
                continue
            if isinstance(parent, ast.AugAssign) and parent.target is n:
                continue
            return True
        return bool(self.f.mentions(name))

    def _image_folder(self, node: ast.Call, api: str) -> None:
        transform = argument(node, "transform", 1)
        loader = self._loader(node, api, argument(node, "root", 0), None)
        loader.class_mode = self.fact(node, "int", default=True)
        if transform is not None:
            found = self._compose_size(transform)
            if found is not None:
                loader.target_size = self.fact(found[1], found[0])
        custom_loader = keyword(node, "loader")
        grey = self._compose_grayscale(transform) if transform is not None else None
        if grey is not None:
            out = argument(grey, "num_output_channels", 0)
            loader.color_mode = self.fact(grey, "grayscale" if out is None or self.value(out) == 1 else "rgb")
        elif api == "ImageFolder" and custom_loader is None:
            loader.color_mode = self.fact(node, "rgb", default=True)  # pil_loader converts to RGB
        self.out.loaders.append(loader)

    def _compose_grayscale(self, expr: ast.AST) -> Optional[ast.Call]:
        """A `transforms.Grayscale(...)` in the Compose (RandomGrayscale is augmentation, not ignored here)."""
        for t in self._compose(expr) or ():
            if isinstance(t, ast.Call) and call_tail(t) == "Grayscale":
                return t
        return None

    def _compose(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[List[ast.AST]]:
        """The transforms of a torchvision Compose, followed through names and a dict of them."""
        if depth > 6:
            return None
        if isinstance(expr, ast.Name):
            bound = self.values.bound(expr)
            return self._compose(bound, depth + 1) if bound is not None else None
        if isinstance(expr, ast.Subscript):
            key = self.value(expr.slice) if not isinstance(expr.slice, ast.Slice) else None
            base: Optional[ast.AST] = expr.value
            if isinstance(base, ast.Name):
                base = self.values.bound(base)
            if isinstance(base, ast.Dict) and isinstance(key, str):
                for k, v in zip(base.keys, base.values):
                    if k is not None and self.value(k) == key:
                        return self._compose(v, depth + 1)
            return None
        if not isinstance(expr, ast.Call) or call_tail(expr) != "Compose":
            return None
        arg = nth_positional(expr, 0) or argument(expr, "transforms")
        if arg is None or not isinstance(arg, (ast.List, ast.Tuple)):
            return None
        return element_values(arg)

    def _compose_size(self, expr: ast.AST) -> Optional[Tuple[List[int], ast.AST]]:
        """The final spatial size a torchvision Compose produces, and the Resize/crop that sets it."""
        transforms = self._compose(expr)
        if transforms is None:
            return None
        size: Optional[Tuple[List[int], ast.AST]] = None
        for t in transforms:
            if not isinstance(t, ast.Call):
                continue
            name = call_tail(t) or ""
            if name in ("Resize", "RandomResizedCrop", "CenterCrop", "RandomCrop", "Scale", "RandomSizedCrop"):
                arg = argument(t, "size", 0)
                got = self.values.size(arg) if arg is not None else None
                if got is None:
                    return None
                # Resize(256) sets the shorter side only: the size is then known only after a crop
                shorter_only = name in ("Resize", "Scale") and not isinstance(self.value(arg), list)
                size = None if shorter_only else (got, t)
        return size

    # ---- folder listings

    def _listing(self, node: ast.Call, q: str, tail: str) -> None:
        arg = nth_positional(node, 0) or argument(node, "path") or argument(node, "pathname") or argument(node, "top")
        if isinstance(node.func, ast.Attribute) and q.split(".")[0] not in ("os", "glob"):
            path, exact = self.values.path(node.func.value)
            pat = (self.values.path(arg)[0] if arg is not None else "") or ""
        else:
            if arg is None:
                return
            path, exact = self.values.path(arg)
            pat = ""
            if tail in ("glob", "iglob") and path:
                path, pat = glob_root(path)
        reads = any(pat.lower().endswith(ext) for ext in IMAGE_EXTENSIONS) or self._loop_reads_images(node)
        if not reads:
            return
        loader = self._loader(node, "glob" if "glob" in tail else tail, None, None)
        loader.call.value, loader.exact = path, exact
        if path:
            loader.role = SPLITS.get(path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1].lower()) or loader.role
        self.out.loaders.append(loader)

    def _loop_reads_images(self, node: ast.AST) -> bool:
        """The listing feeds a loop (or comprehension) that reads image files (looked for at most
        twelve levels up, counted as libcst counted them)."""
        child, parent = node, self.parent(node)
        budget = 12
        while parent is not None:
            budget -= levels(child, parent)
            if budget < 0:
                return False
            if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and child is parent.iter:
                return self._reads_images(parent)
            if isinstance(parent, (*FUNCTIONS, ast.ClassDef, ast.Module)) or isinstance(parent, _COMPOUND):
                return False
            if isinstance(parent, ast.stmt):
                # `files = os.listdir(d)` then `for f in files:` — look at the loops over that name
                # (not after a colon on the header's line: `if x: files = os.listdir(d)`)
                return budget >= 1 and not self._after_colon(parent) and self._name_loop_reads(node)
            child, parent = parent, self.parent(parent)
        return False

    def _after_colon(self, stmt: ast.AST) -> bool:
        owner = self.parent(stmt)
        if not isinstance(owner, (*_COMPOUND, *FUNCTIONS, ast.ClassDef)):
            return False
        return getattr(stmt, "lineno", 0) == getattr(owner, "lineno", -1)

    def _name_loop_reads(self, node: ast.AST) -> bool:
        name = self.assigned_to(node)
        if not name or "." in name:
            return False
        for n in self.f.loops:
            it = getattr(n, "iter", None)
            if isinstance(it, ast.Name) and it.id == name and self._reads_images(n):
                return True
        return False

    def _reads_images(self, loop: ast.AST) -> bool:
        """A per-image reader in the loop (a comprehension clause: in what libcst held under it)."""
        return any(
            isinstance(n, ast.Call) and (call_tail(n) or "") in _IMAGE_READERS
            for top in self._loop_body(loop) for n in walk(top)
        )

    def _loop_body(self, loop: ast.AST) -> List[ast.AST]:
        if not isinstance(loop, ast.comprehension):
            return [loop]
        owner = self.parent(loop)
        gens = list(getattr(owner, "generators", ()))
        index = next((i for i, g in enumerate(gens) if g is loop), 0)
        if index == 0 or owner is None:
            return [owner] if owner is not None else [loop]
        prev = gens[index - 1]
        return [prev.target, prev.iter, *prev.ifs, *gens[index:]]


_COMPOUND = tuple(
    getattr(ast, n) for n in ("If", "For", "AsyncFor", "While", "With", "AsyncWith", "Try", "TryStar", "Match")
    if hasattr(ast, n)
)


def _role_of_name(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    low = name.lower().rsplit(".", 1)[-1]
    if re.search(r"(^|_)(val|valid|validation)(_|$)|^val|valid", low):
        return "val"
    if re.search(r"(^|_)test(_|$)|^test", low):
        return "test"
    if re.search(r"train", low):
        return "train"
    return None


def extract(ctx: "FileContext", positions: bool = True) -> Optional[ScriptFacts]:
    """The script's pipeline facts; None when it has none worth keeping.

    Without `positions` every fact is at line 0 (the run then judges no fact against data and
    prints no JSON); the few facts a finding then points at are placed afresh (cnnlint.cli). Such a
    run judges only a loader against a model's input shape (CNL602): a script without both has no
    facts worth keeping, and the rest is not extracted.
    """
    if ctx.syntax is None:
        return None
    if not positions:
        probe = _Extractor(ctx)
        try:
            judged = probe.has_loader_and_input_shape()
        finally:
            probe.release()
        if not judged:
            return None
    extractor = _Extractor(ctx)
    try:
        found = extractor.run(positions)
    finally:
        extractor.release()
    return None if found.empty() else found


def facts_dict(ctx: "FileContext", positions: bool = True) -> Optional[Dict[str, Any]]:
    found = extract(ctx, positions)
    return found.to_dict() if found is not None else None
