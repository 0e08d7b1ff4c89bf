"""Pipeline facts from a script's tree: data paths, image sizes, channels, outputs, losses, weighting.

Runs in the static pass, after the rules, on the tree they share (and on the
binding index of the CNL3xx rules); the result is cached with the file's
findings. Values are followed through simple assignments and constants
(`img_height, img_width = 150, 150`, `IMG_SHAPE = IMG_SIZE + (3,)`); anything
the code computes at run time stays unknown (None), and an unknown fact is
never held against the data.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

import libcst as cst

from cnnlint.crosscheck.facts import Fact, Loader, ScriptFacts
from cnnlint.dataset.layout import IMAGE_EXTENSIONS, SPLITS
from cnnlint.lint.model_config import (
    _KERAS_ROOTS,
    _keeps_labels,
    _compiled_models,
    _KerasModels,
    _facts,
    _Facts,
    _keras_name,
    _TorchModels,
    _torch_name,
)
from cnnlint.lint.tree import arithmetic, call_tail, dotted_name, keyword, positional, short_code, string_value, walk

_KEYS = (
    "flow_from_directory", "image_dataset_from_directory", "ImageFolder", "DatasetFolder", "listdir", "glob",
    "os.walk", "scandir", "iterdir", "Dense", "Linear", "input_shape", "Input(", "applications", "num_classes",
)

_KERAS_DEFAULT_SIZE = [256, 256]
# keras.applications: the input size when include_top=True and no input_shape is given
_APP_SIZES = {
    **{n: 224 for n in ("VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
                        "ResNet152V2", "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large",
                        "DenseNet121", "DenseNet169", "DenseNet201", "ConvNeXtTiny", "ConvNeXtSmall",
                        "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge", "RegNetX002", "RegNetY002",
                        "EfficientNetV2B0", "NASNetMobile")},
    **{n: 299 for n in ("InceptionV3", "InceptionResNetV2", "Xception")},
    "NASNetLarge": 331, "EfficientNetB0": 224, "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300,
    "EfficientNetB4": 380, "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600,
    "EfficientNetV2B1": 240, "EfficientNetV2B2": 260, "EfficientNetV2B3": 300, "EfficientNetV2S": 384,
    "EfficientNetV2M": 480, "EfficientNetV2L": 480,
}
_COLOR_CHANNELS = {"rgb": 3, "grayscale": 1, "rgba": 4}
_TORCH_HEADS = {"fc", "classifier", "head", "heads", "last_linear", "fc_out", "out", "output", "logits"}
_TORCH_CE = {"CrossEntropyLoss": "torch_ce", "NLLLoss": "torch_ce", "BCEWithLogitsLoss": "torch_bce", "BCELoss": "torch_bce"}
_LOSS_WEIGHT_KWARGS = ("weight", "pos_weight", "class_weight", "class_weights", "alpha")
_WEIGHTING_CALLS = re.compile(
    r"^(WeightedRandomSampler|compute_class_weight|compute_sample_weight|SMOTE|ADASYN|RandomOverSampler|"
    r"RandomUnderSampler|sample_from_datasets|rejection_resample|ImbalancedDatasetSampler|.*[Ff]ocal.*)$"
)
_WEIGHTING_TEXT = re.compile(
    r"class_weight|sample_weight|WeightedRandomSampler|pos_weight|[Ff]ocal|SMOTE|OverSampler|UnderSampler|"
    r"sample_from_datasets|rejection_resample|oversampl|undersampl|ImbalancedDatasetSampler"
)
_CREATES_DATA = re.compile(
    r"get_file|urlretrieve|urlopen|requests\.get|wget|curl\s|unzip|extractall|tarfile|zipfile|ZipFile|"
    r"download\s*=\s*True|download_url|download_and_extract|\bdownload\(|makedirs|mkdir|shutil\.|copytree|"
    r"copyfile|snapshot_download|kagglehub|kaggle\s|gdown|tfds\.|load_dataset\(|drive\.mount|git\s+clone|"
    r"split_?folders|symlink|os\.rename|\.rename\(|hf_hub_download|os\.chdir|%cd\b|^\s*cd\s",
    re.MULTILINE,
)
_PRETRAINED = re.compile(
    r"weights\s*=\s*['\"](imagenet|DEFAULT|IMAGENET)|pretrained\s*=\s*True|_Weights\.|Weights\.DEFAULT|"
    r"from_pretrained|from_preset|hub\.(load|KerasLayer)|load_state_dict|weights\s*=\s*\w+_Weights"
)
_RESIZES = {"resize", "resize_with_pad", "resize_with_crop_or_pad", "smart_resize", "Resizing", "CenterCrop",
            "RandomCrop", "crop_to_bounding_box", "central_crop", "random_crop", "resize_images"}
_IMAGE_READERS = {"imread", "open", "load_img", "read_image", "decode_image", "decode_jpeg", "decode_png",
                  "decode_bmp", "read_file", "imdecode"}
_GLOB_STOP = re.compile(r"[*?\[{]")


# the callee names _call looks at (beside weighting names and the keywords below)
_TAILS = frozenset({
    "flow_from_directory", "image_dataset_from_directory", "ImageFolder", "DatasetFolder", "listdir", "scandir",
    "walk", "glob", "iglob", "rglob", "iterdir", "list_files", "fit", "fit_generator", "train_on_batch",
    "apply_gradients", "step", "map", "one_hot", "to_categorical",
}) | _RESIZES | _IMAGE_READERS | frozenset(_TORCH_CE)
_KEYWORDS = frozenset({"target_transform", "class_weight", "sample_weight", "sampler", *_LOSS_WEIGHT_KWARGS})


def applies(text: str) -> bool:
    return any(k in text for k in _KEYS)


class _Extractor:
    def __init__(self, ctx, facts: _Facts) -> None:
        self.ctx = ctx
        self.f = facts
        self.module: cst.Module = ctx.module
        self.text: str = ctx.source.text
        self.out = ScriptFacts()
        self._placed: List[Tuple[cst.CSTNode, Fact]] = []

    # ---- facts and their places

    def fact(self, node: cst.CSTNode, value: Any, default: bool = False, text: Optional[str] = None) -> Fact:
        fact = Fact(value=value, text=text if text is not None else short_code(self.module, node, 60), default=default)
        self._placed.append((node, fact))
        return fact

    def _place_all(self) -> None:
        if not self._placed:
            return
        nodes = [n for n, _ in self._placed]
        ranges = self._ranges(nodes)
        source = self.ctx.source
        for node, fact in self._placed:
            line, column = ranges.get(id(node), (1, 1, 1, 1))[:2]
            fact.raw = source.raw_line(line)[:400] if hasattr(source, "raw_line") else ""
            fact.cell, fact.line = source.locate(line) if hasattr(source, "locate") else (None, line)
            fact.column = column

    def _ranges(self, nodes: List[cst.CSTNode]) -> Dict[int, Tuple[int, int, int, int]]:
        """Positions of the facts' nodes (FileContext.ranges generates the code of their top-level
        statements only: a training script's facts sit in a few of them)."""
        return self.ctx.ranges(nodes)

    # ---- values

    def value(self, expr: Optional[cst.CSTNode], depth: int = 0) -> Any:
        """A literal value: number, string, bool, None-literal as the string "None", or a list of values."""
        if expr is None or depth > 10:
            return None
        if isinstance(expr, (cst.Integer, cst.Float)):
            try:
                v = expr.evaluated_value
            except Exception:  # noqa: BLE001
                return None
            return int(v) if isinstance(v, int) or float(v).is_integer() and isinstance(expr, cst.Integer) else v
        s = string_value(expr)
        if s is not None:
            return s
        if isinstance(expr, (cst.Tuple, cst.List)):
            items: List[Any] = []
            for e in expr.elements:
                if isinstance(e, cst.StarredElement):  # (*IMG_SIZE, 3)
                    inner = self.value(e.value, depth + 1)
                    if not isinstance(inner, list):
                        return None
                    items.extend(inner)
                else:
                    items.append(self.value(e.value, depth + 1))
            return items
        if isinstance(expr, cst.Name):
            if expr.value in ("True", "False"):
                return expr.value == "True"
            if expr.value == "None":
                return "None"
            return self.value(self._bound(expr), depth + 1)
        if isinstance(expr, cst.Attribute):
            return None
        if isinstance(expr, cst.BinaryOperation):
            a, b = self.value(expr.left, depth + 1), self.value(expr.right, depth + 1)
            op = expr.operator
            if isinstance(op, cst.Add) and isinstance(a, list) and isinstance(b, list):
                return a + b
            if isinstance(op, cst.Add) and isinstance(a, str) and isinstance(b, str):
                return a + b
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
                v = arithmetic(op, a, b)
                return int(v) if isinstance(v, float) and v.is_integer() else v
        return None

    def _bound(self, name: cst.Name) -> Optional[cst.CSTNode]:
        """The expression a name is bound to where it is used; tuple unpacking followed."""
        b = self.f.binding(name.value, name)
        if b is None or b.value is None or b.conditional:
            return None
        if b.unpack is None:
            return b.value
        value = b.value
        if isinstance(value, (cst.Tuple, cst.List)) and not any(
            isinstance(e, cst.StarredElement) or isinstance(e.value, (cst.Tuple, cst.List)) for e in value.elements
        ):
            if b.unpack < len(value.elements):
                return value.elements[b.unpack].value
        return None

    def size(self, expr: Optional[cst.CSTNode]) -> Optional[List[int]]:
        """(height, width) written as a pair of ints (or one int for a square)."""
        v = self.value(expr)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return [v, v]
        if isinstance(v, list) and len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v):
            return [int(v[0]), int(v[1])]
        return None

    def path(self, expr: Optional[cst.CSTNode], depth: int = 0) -> Tuple[Optional[str], bool]:
        """(path, exact): the whole path when every part is known, else its known final part."""
        if expr is None or depth > 10:
            return None, False
        s = string_value(expr)
        if s is not None:
            return s, True
        if isinstance(expr, cst.Name):
            bound = self._bound(expr)
            return self.path(bound, depth + 1) if bound is not None else (None, False)
        if isinstance(expr, cst.FormattedString):
            parts: List[Tuple[Optional[str], bool]] = []
            for p in expr.parts:
                if isinstance(p, cst.FormattedStringText):
                    parts.append((p.value, True))
                elif isinstance(p, cst.FormattedStringExpression) and p.format_spec is None and p.conversion is None:
                    parts.append(self.path(p.expression, depth + 1))
                else:
                    parts.append((None, False))
            return _concat(parts)
        if isinstance(expr, cst.BinaryOperation):
            left, right = self.path(expr.left, depth + 1), self.path(expr.right, depth + 1)
            if isinstance(expr.operator, cst.Add):
                return _concat([left, right])
            if isinstance(expr.operator, cst.Divide):  # pathlib: Path(a) / "b"
                return _join([left, right])
            return None, False
        if isinstance(expr, cst.Call):
            q = self.f.q(expr.func)
            tail = q.rsplit(".", 1)[-1]
            args = [a.value for a in expr.args if a.keyword is None and not a.star]
            if q in ("os.path.join", "posixpath.join", "ntpath.join") and args and len(args) == len(expr.args):
                return _join([self.path(a, depth + 1) for a in args])
            if tail in ("Path", "PurePath", "PosixPath") and len(args) == len(expr.args):
                return _join([self.path(a, depth + 1) for a in args]) if args else (None, False)
            if q in ("str", "os.fspath", "os.path.normpath", "os.path.expanduser") and len(args) == 1:
                return self.path(args[0], depth + 1)
            if isinstance(expr.func, cst.Attribute) and tail == "joinpath":
                base = self.path(expr.func.value, depth + 1)
                return _join([base] + [self.path(a, depth + 1) for a in args])
        return None, False

    # ---- the parts

    def run(self, positions: bool = True) -> ScriptFacts:
        f = self.f
        for c in f.calls:
            try:
                self._call(c)
            except RecursionError:
                continue
        self._models()
        self._torch_heads()
        self._in_memory()
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
        out.creates_data = bool(_CREATES_DATA.search(text) or _CREATES_DATA.search(shell)
                                or re.search(r"(^|\n)\s*%?(cp|mv|cd|kaggle|tar|7z|rsync|gsutil|aws)\s", shell))
        out.pretrained = bool(_PRETRAINED.search(text))
        if positions:
            self._place_all()
        return out

    def _text_fact(self, offset: int, what: str) -> Fact:
        line = self.text.count("\n", 0, offset) + 1
        source = self.ctx.source
        cell, cell_line = source.locate(line)
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Fact(value=what, text=what, line=cell_line, column=column, cell=cell, raw=source.raw_line(line)[:400])

    def _call(self, c) -> None:
        node: cst.Call = c.node
        tail = c.tail
        if tail not in _TAILS and not _WEIGHTING_CALLS.match(tail) and not (
            node.args and any(a.keyword is not None and a.keyword.value in _KEYWORDS for a in node.args)
        ):
            return  # most calls of a script say nothing about its data
        q = c.qname
        keras_file = self.f.keras
        if tail == "flow_from_directory" and isinstance(node.func, cst.Attribute):
            self._keras_flow(node)
        elif tail == "image_dataset_from_directory" and (q.split(".")[0] in _KERAS_ROOTS or (keras_file and q == tail)):
            self._keras_idfd(node)
        elif tail in ("ImageFolder", "DatasetFolder") and (q.split(".")[0] == "torchvision" or (self.f.torch and q == tail)):
            self._image_folder(node, tail)
        elif q in ("os.listdir", "os.scandir", "os.walk", "glob.glob", "glob.iglob") or tail == "list_files" and (
            q.split(".")[0] in _KERAS_ROOTS
        ) or (
            isinstance(node.func, cst.Attribute) and tail in ("glob", "rglob", "iterdir") and q.split(".")[0] != "glob"
        ):
            self._listing(node, q, tail)
        if tail in _TORCH_CE and (_torch_name(self.f, node.func) == tail):
            self.out.losses.append(self.fact(node, _TORCH_CE[tail]))
            if any(keyword(node, k) is not None and not _is_none(keyword(node, k).value) for k in _LOSS_WEIGHT_KWARGS):
                self.out.weighting.append(self.fact(node, tail))
        elif _WEIGHTING_CALLS.match(tail or "") or (
            re.search(r"loss|entropy|nll", tail or "", re.I)
            and any(keyword(node, k) is not None and not _is_none(keyword(node, k).value) for k in _LOSS_WEIGHT_KWARGS)
        ):
            self.out.weighting.append(self.fact(node, tail))
        elif any(keyword(node, k) is not None and not _is_none(keyword(node, k).value)
                 for k in ("class_weight", "sample_weight", "sampler")) and tail in ("fit", "fit_generator", "DataLoader", "train_on_batch"):
            self.out.weighting.append(self.fact(node, tail))
        if isinstance(node.func, cst.Attribute):
            recv = dotted_name(node.func.value) or ""
            if keras_file and tail in ("fit", "fit_generator", "train_on_batch") and self._keras_model(recv, node):
                self.out.training.append(self.fact(node, tail))
            elif tail == "apply_gradients":
                self.out.training.append(self.fact(node, tail))
            elif tail == "step" and not node.args and "optim" in recv.lower() or tail == "step" and recv.lower() in ("opt", "optimizer_ft", "optimiser"):
                self.out.training.append(self.fact(node, tail))
        if tail == "map" and isinstance(node.func, cst.Attribute) and not _keeps_labels(node):
            self.out.relabels = True
        if tail in ("one_hot", "to_categorical") or keyword(node, "target_transform") is not None:
            self.out.relabels = True
        if tail in _RESIZES and (q.split(".")[0] in _KERAS_ROOTS or tail in ("Resizing", "smart_resize")):
            self.out.resizes = True
        if tail in _IMAGE_READERS:
            self._reader(node, q, tail)

    def _keras_model(self, recv: str, node: cst.Call) -> bool:
        """`recv.fit(...)` trains a Keras model: one compiled in this file, or called with Keras's
        training keywords (not `PCA().fit(x)` or `scaler.fit(x)`)."""
        if recv in {comp.model.value for comp in _compiled_models(self.f)}:
            return True
        return any(keyword(node, k) is not None for k in ("epochs", "validation_data", "callbacks", "steps_per_epoch"))

    def _keras_flow(self, node: cst.Call) -> None:
        directory = keyword(node, "directory") or positional(node, 0)
        target = keyword(node, "target_size") or positional(node, 1)
        color = keyword(node, "color_mode") or positional(node, 2)
        classes = keyword(node, "classes") or positional(node, 3)
        class_mode = keyword(node, "class_mode") or positional(node, 4)
        batch = keyword(node, "batch_size") or positional(node, 5)
        subset = keyword(node, "subset")
        loader = self._loader(node, "flow_from_directory", directory, subset)
        loader.keras = True
        self._common(loader, node, target, color, class_mode, batch, "categorical")
        if classes is not None and not _is_none(classes.value):
            v = self.value(classes.value)
            loader.classes = self.fact(classes.value, len(v) if isinstance(v, list) else None)
        self.out.loaders.append(loader)

    def _keras_idfd(self, node: cst.Call) -> None:
        directory = keyword(node, "directory") or positional(node, 0)
        labels = keyword(node, "labels") or positional(node, 1)
        label_mode = keyword(node, "label_mode") or positional(node, 2)
        class_names = keyword(node, "class_names") or positional(node, 3)
        color = keyword(node, "color_mode") or positional(node, 4)
        batch = keyword(node, "batch_size") or positional(node, 5)
        size = keyword(node, "image_size") or positional(node, 6)
        subset = keyword(node, "subset")
        loader = self._loader(node, "image_dataset_from_directory", directory, subset)
        loader.keras = True
        self._common(loader, node, size, color, label_mode, batch, "int")
        if labels is not None and string_value(labels.value) != "inferred":
            loader.class_mode = self.fact(labels.value, "None")  # labels given by the code, not the folders
        if class_names is not None and not _is_none(class_names.value):
            v = self.value(class_names.value)
            loader.classes = self.fact(class_names.value, len(v) if isinstance(v, list) else None)
        self.out.loaders.append(loader)

    def _common(self, loader: Loader, node: cst.Call, target, color, class_mode, batch, default_mode: str) -> None:
        if target is None:
            loader.target_size = self.fact(node, list(_KERAS_DEFAULT_SIZE), default=True)
        elif not _is_none(target.value):
            loader.target_size = self.fact(target.value, self.size(target.value))
        if color is None:
            loader.color_mode = self.fact(node, "rgb", default=True)
        else:
            v = self.value(color.value)
            loader.color_mode = self.fact(color.value, v if v in _COLOR_CHANNELS else None)
        if class_mode is None:
            loader.class_mode = self.fact(node, default_mode, default=True)
        else:
            v = self.value(class_mode.value)
            loader.class_mode = self.fact(class_mode.value, v if isinstance(v, str) else None)
        if batch is None:
            loader.batch_size = self.fact(node, 32, default=True)
        else:
            v = self.value(batch.value)
            loader.batch_size = self.fact(batch.value, v if isinstance(v, int) and not isinstance(v, bool) else None)

    def _loader(self, node: cst.Call, api: str, directory: Optional[cst.Arg], subset: Optional[cst.Arg]) -> Loader:
        path, exact = self.path(directory.value) if directory is not None else (None, False)
        loader = Loader(api=api, call=self.fact(node, path), exact=exact)
        role = None
        if subset is not None:
            role = {"training": "train", "validation": "val", "both": None}.get(self.value(subset.value) or "")
        if role is None and path:
            role = SPLITS.get(path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1].lower())
        if role is None:
            role = _role_of_name(self._assigned_to(node))
        loader.role = role
        loader.feeds = self._feeds(node)
        return loader

    def _feeds(self, node: cst.CSTNode) -> bool:
        """Whether the loader's result is used for its images: passed on or iterated, not only
        asked for `.class_indices` / `.class_names` / `.samples`."""
        name = self._assigned_to(node)
        if not name or "." in name:
            return True
        for n in self.f.names.get(name, ()):
            if n is not node:
                parent = self.ctx.parent(n)
                if isinstance(parent, cst.Attribute) and parent.value is n:
                    continue
                if isinstance(parent, cst.AssignTarget) or (isinstance(parent, (cst.Assign, cst.AugAssign)) and getattr(parent, "target", None) is n):
                    continue
                return True
        return False

    def _assigned_to(self, node: cst.CSTNode) -> Optional[str]:
        parent = self.ctx.parent(node)
        for _ in range(4):
            if parent is None:
                return None
            if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
                return dotted_name(parent.targets[0].target)
            if isinstance(parent, (cst.Call, cst.Arg, cst.Attribute)):
                parent = self.ctx.parent(parent)
                continue
            return None
        return None

    def _image_folder(self, node: cst.Call, api: str) -> None:
        root = keyword(node, "root") or positional(node, 0)
        transform = keyword(node, "transform") or positional(node, 1)
        loader = self._loader(node, api, root, None)
        loader.class_mode = self.fact(node, "int", default=True)
        if transform is not None:
            found = self._compose_size(transform.value)
            if found is not None:
                loader.target_size = self.fact(found[1], found[0])
        custom_loader = keyword(node, "loader")
        grey = self._compose_grayscale(transform.value) if transform is not None else None
        if grey is not None:
            out = keyword(grey, "num_output_channels") or positional(grey, 0)
            loader.color_mode = self.fact(grey, "grayscale" if out is None or self.value(out.value) == 1 else "rgb")
        elif api == "ImageFolder" and custom_loader is None:
            loader.color_mode = self.fact(node, "rgb", default=True)  # pil_loader converts to RGB
        self.out.loaders.append(loader)

    def _compose_grayscale(self, expr: cst.CSTNode) -> Optional[cst.Call]:
        """A `transforms.Grayscale(...)` in the Compose (RandomGrayscale is augmentation, not ignored here)."""
        compose = self._compose(expr)
        for t in compose or ():
            if isinstance(t, cst.Call) and call_tail(t) == "Grayscale":
                return t
        return None

    def _compose(self, expr: cst.CSTNode, depth: int = 0) -> Optional[List[cst.CSTNode]]:
        """The transforms of a torchvision Compose, followed through names and a dict of them."""
        if depth > 6:
            return None
        if isinstance(expr, cst.Name):
            bound = self._bound(expr)
            return self._compose(bound, depth + 1) if bound is not None else None
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
            key = self.value(getattr(expr.slice[0].slice, "value", None))
            base = expr.value
            if isinstance(base, cst.Name):
                base = self._bound(base)
            if isinstance(base, cst.Dict) and isinstance(key, str):
                for el in base.elements:
                    if isinstance(el, cst.DictElement) and self.value(el.key) == key:
                        return self._compose(el.value, depth + 1)
            return None
        if not isinstance(expr, cst.Call) or call_tail(expr) != "Compose":
            return None
        arg = positional(expr, 0) or keyword(expr, "transforms")
        if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
            return None
        return [el.value for el in arg.value.elements]

    def _compose_size(self, expr: cst.CSTNode) -> Optional[Tuple[List[int], cst.CSTNode]]:
        """The final spatial size a torchvision Compose produces, and the Resize/crop that sets it."""
        transforms = self._compose(expr)
        if transforms is None:
            return None
        size: Optional[Tuple[List[int], cst.CSTNode]] = None
        for t in transforms:
            if not isinstance(t, cst.Call):
                continue
            name = call_tail(t) or ""
            if name in ("Resize", "RandomResizedCrop", "CenterCrop", "RandomCrop", "Scale", "RandomSizedCrop"):
                arg = keyword(t, "size") or positional(t, 0)
                got = self.size(arg.value) if arg is not None else None
                if got is None:
                    return None
                # Resize(256) sets the shorter side only: the size is then known only after a crop
                shorter_only = name in ("Resize", "Scale") and not isinstance(self.value(arg.value), list)
                size = None if shorter_only else (got, t)
        return size

    def _listing(self, node: cst.Call, q: str, tail: str) -> None:
        arg = positional(node, 0) or keyword(node, "path") or keyword(node, "pathname") or keyword(node, "top")
        if isinstance(node.func, cst.Attribute) and q.split(".")[0] not in ("os", "glob"):
            base = self.path(node.func.value)
            pattern = self.path(arg.value) if arg is not None else ("", True)
            path, exact = base
            pat = pattern[0] or ""
        else:
            if arg is None:
                return
            path, exact = self.path(arg.value)
            pat = ""
            if tail in ("glob", "iglob") and path:
                path, pat = _glob_root(path)
        reads = any(pat.lower().endswith(ext) for ext in IMAGE_EXTENSIONS) or self._loop_reads_images(node)
        if not reads:
            return
        loader = self._loader(node, "glob" if "glob" in tail else tail, None, None)
        loader.call.value, loader.exact = path, exact
        if path:
            loader.role = SPLITS.get(path.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1].lower()) or loader.role
        self.out.loaders.append(loader)

    def _loop_reads_images(self, node: cst.CSTNode) -> bool:
        """The listing feeds a loop (or comprehension) that reads image files."""
        child, parent = node, self.ctx.parent(node)
        for _ in range(12):
            if parent is None:
                return False
            if isinstance(parent, (cst.For, cst.CompFor)) and child is parent.iter:
                body = self.ctx.parent(parent) if isinstance(parent, cst.CompFor) else parent
                return any(
                    isinstance(n, cst.Call) and (call_tail(n) or "") in _IMAGE_READERS for n in walk(body)
                )
            if isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Module, cst.SimpleStatementLine)):
                if isinstance(parent, cst.SimpleStatementLine):
                    # `files = os.listdir(d)` then `for f in files:` — look at the loops over that name
                    return self._name_loop_reads(node)
                return False
            child, parent = parent, self.ctx.parent(parent)
        return False

    def _name_loop_reads(self, node: cst.CSTNode) -> bool:
        name = self._assigned_to(node)
        if not name or "." in name:
            return False
        for n in self.f.loops:
            if isinstance(n.iter, cst.Name) and n.iter.value == name:
                body = self.ctx.parent(n) if isinstance(n, cst.CompFor) else n
                if any(isinstance(m, cst.Call) and (call_tail(m) or "") in _IMAGE_READERS for m in walk(body)):
                    return True
        return False

    def _reader(self, node: cst.Call, q: str, tail: str) -> None:
        """A per-image reader, and the channel count it forces (None: whatever each file has)."""
        root = q.split(".")[0]
        channels: Optional[int] = None
        name = q or tail
        if q in ("cv2.imread",):
            flag = keyword(node, "flags") or positional(node, 1)
            if flag is None:
                channels = 3
            else:
                v = self.value(flag.value)
                fq = self.f.q(flag.value)
                if v == 0 or fq.endswith("IMREAD_GRAYSCALE"):
                    channels = 1
                elif v == 1 or fq.endswith("IMREAD_COLOR"):
                    channels = 3
                elif v == -1 or fq.endswith("IMREAD_UNCHANGED"):
                    channels = None
                else:
                    return
        elif tail == "open" and q in ("PIL.Image.open", "Image.open"):
            mode = self._pil_convert(node)
            channels = _PIL_CHANNELS.get(mode) if mode else None
            if mode and channels is None:
                return
        elif tail in ("decode_jpeg", "decode_png", "decode_image", "decode_bmp") and root in _KERAS_ROOTS:
            arg = keyword(node, "channels") or positional(node, 1)
            if arg is None:
                channels = None
            else:
                v = self.value(arg.value)
                if not isinstance(v, int):
                    return
                channels = v or None
        elif tail in ("read_image", "decode_image") and root == "torchvision":
            arg = keyword(node, "mode") or positional(node, 1)
            if arg is not None:
                mode = (dotted_name(arg.value) or "").rsplit(".", 1)[-1]
                channels = {"RGB": 3, "GRAY": 1, "RGB_ALPHA": 4, "GRAY_ALPHA": 2}.get(mode)
                if channels is None:
                    return
        elif tail == "load_img" and root in _KERAS_ROOTS:
            color = keyword(node, "color_mode")
            channels = _COLOR_CHANNELS.get(self.value(color.value) if color is not None else "rgb")
            if channels is None:
                return
        elif tail == "imread" and root in ("skimage", "imageio", "matplotlib"):
            gray = keyword(node, "as_gray")
            if gray is not None and self.value(gray.value) is True:
                channels = 1
        else:
            return
        if channels is None and (self._handles_channels(node) or self._header_only(node)):
            return
        self.out.readers.append(self.fact(node, {"name": name, "channels": channels}))

    _HEADER_USES = frozenset({"size", "verify", "mode", "info", "format", "width", "height", "close", "getexif",
                              "n_frames", "is_animated", "_getexif", "thumbnail", "save"})

    def _header_only(self, node: cst.Call) -> bool:
        """`Image.open(p).size`, `Image.open(p).verify()`, `with Image.open(p) as im: im.verify()`:
        the file is opened for its header, not read into a batch."""
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.Attribute) and parent.value is node:
            return parent.attr.value in self._HEADER_USES
        name = self._with_name(node) or self._assigned_to(node)
        if not name or "." in name:
            return False
        own = self.f.scope_of(node)
        uses = [n for n in self.f.names.get(name, ()) if self.f.scope_of(n) is own]
        attrs = []
        for n in uses:
            p = self.ctx.parent(n)
            if isinstance(p, cst.Attribute) and p.value is n:
                attrs.append(p.attr.value)
            elif not isinstance(p, (cst.AsName, cst.AssignTarget)):
                return False
        return bool(attrs) and all(a in self._HEADER_USES for a in attrs)

    def _pil_convert(self, node: cst.Call) -> Optional[str]:
        """`Image.open(p).convert("RGB")`, or a `.convert(...)` of the name it is bound to."""
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.Attribute) and parent.attr.value == "convert":
            call = self.ctx.parent(parent)
            if isinstance(call, cst.Call):
                arg = positional(call, 0) or keyword(call, "mode")
                v = self.value(arg.value) if arg is not None else None
                return v if isinstance(v, str) else "?"
        name = self._assigned_to(node) or self._with_name(node)
        if name:
            scope = self.f.scope_of(node) or self.module
            for n in walk(scope):
                if (isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value == "convert"
                        and dotted_name(n.func.value) == name):
                    arg = positional(n, 0) or keyword(n, "mode")
                    v = self.value(arg.value) if arg is not None else None
                    return v if isinstance(v, str) else "?"
        return None

    def _with_name(self, node: cst.CSTNode) -> Optional[str]:
        parent = self.ctx.parent(node)
        if isinstance(parent, cst.WithItem) and parent.asname is not None:
            return dotted_name(parent.asname.name)
        return None

    def _handles_channels(self, node: cst.CSTNode) -> bool:
        """The code of the file deals with channel counts itself."""
        text = self.text  # the whole file: cheaper than generating the function's code, and quieter
        return bool(re.search(r"\.convert\(|cvtColor|gray2rgb|grayscale_to_rgb|\.ndim|len\([^)]*\.shape\)|shape\[-1\]|"
                              r"shape\[2\]|ImageReadMode|channels\s*=", text))

    def _models(self) -> None:
        f = self.f
        if not f.keras:
            return
        seen: set = set()
        for comp in _compiled_models(f):
            if comp.loss is not None:
                self.out.losses.append(self.fact(comp.loss.node, comp.loss.kind, text=comp.loss.text))
            # a classifier: a known classification loss or a softmax/sigmoid head (not an embedding
            # trained with a triplet loss, nor a regression)
            if comp.loss is not None or (comp.out is not None and comp.out.kind in ("softmax", "sigmoid")):
                self._output(comp.out, seen)
        compiled = {comp.model.value for comp in _compiled_models(f)}
        models = _KerasModels(f)
        classifies = "rossentropy" in self.text
        for var, at in self._trained_models(compiled).items():
            out = models.output(cst.Name(var), at)
            if out is not None and (classifies or out.kind in ("softmax", "sigmoid")):
                self._output(out, seen)
        for c in f.calls:
            name = _keras_name(f, c.node.func)
            if name is None:
                continue
            shape: Optional[List[Any]] = None
            at: cst.CSTNode = c.node
            if name in ("Input", "InputLayer"):
                arg = keyword(c.node, "shape") or keyword(c.node, "input_shape") or positional(c.node, 0)
                if arg is None:
                    batch = keyword(c.node, "batch_shape") or keyword(c.node, "batch_input_shape")
                    v = self.value(batch.value) if batch is not None else None
                    shape = v[1:] if isinstance(v, list) and len(v) == 4 else None
                    at = batch.value if batch is not None else at
                else:
                    shape, at = self.value(arg.value), arg.value
            elif name in _APP_SIZES:
                arg = keyword(c.node, "input_shape")
                if arg is not None:
                    shape, at = self.value(arg.value), arg.value
                else:
                    top = keyword(c.node, "include_top")
                    if top is None or self.value(top.value) is True:
                        if keyword(c.node, "input_tensor") is None:
                            size = _APP_SIZES[name]
                            shape = [size, size, 3]
                            self.out.input_shapes.append(self.fact(c.node, _shape(shape), default=True))
                    continue
            else:
                arg = keyword(c.node, "input_shape")
                if arg is None:
                    continue
                shape, at = self.value(arg.value), arg.value
            if isinstance(shape, list) and len(shape) == 3:
                self.out.input_shapes.append(self.fact(at, _shape(shape)))

    def _output(self, out, seen: set) -> None:
        if out is None or out.units is None:
            return
        node = out.dense if out.dense is not None else out.layer
        if id(node) in seen:
            return
        seen.add(id(node))
        self.out.outputs.append(self.fact(node, {"units": out.units, "activation": out.kind}))

    def _trained_models(self, compiled: set) -> Dict[str, cst.CSTNode]:
        """Keras models of the file that are never compiled but trained by hand (a GradientTape
        loop): name -> its last use, where its layers are all added."""
        f = self.f
        if not any(t.value == "apply_gradients" for t in self.out.training):
            return {}
        names = {}
        for c in f.calls:
            if _keras_name(f, c.node.func) in ("Sequential", "Model", "Functional"):
                var = self._assigned_to(c.node)
                if var and "." not in var and var not in compiled:
                    names[var] = None
        last: Dict[str, cst.CSTNode] = {}
        for c in f.calls:
            func = c.node.func
            head = func if isinstance(func, cst.Name) else func.value if isinstance(func, cst.Attribute) else None
            if isinstance(head, cst.Name) and head.value in names:
                last[head.value] = c.node
            for a in c.node.args:
                if isinstance(a.value, cst.Attribute) and isinstance(a.value.value, cst.Name) and a.value.value.value in names:
                    last[a.value.value.value] = c.node
        return last

    def _torch_heads(self) -> None:
        f = self.f
        if not f.torch or not re.search(r"CrossEntropyLoss|NLLLoss|BCEWithLogitsLoss|BCELoss|cross_entropy|nll_loss",
                                        self.text):
            return  # no classification loss: the last layer's units are not a class count
        for n in self.f.assigns:
            target = n.targets[0].target
            head = target.value if isinstance(target, cst.Subscript) else target
            if not isinstance(head, cst.Attribute) or head.attr.value not in _TORCH_HEADS:
                continue
            if (dotted_name(head) or "self.").startswith("self."):
                continue  # a module's own layer, judged through its forward()
            units = self._linear_units(n.value)
            if units is not None:
                self.out.outputs.append(self.fact(n.value, {"units": units, "activation": "linear"}))
        for c in f.calls:
            q = c.qname
            if q.split(".")[0] in ("torchvision", "timm") or (q.split(".")[0] == "models" and f.torch):
                arg = keyword(c.node, "num_classes")
                if arg is not None:
                    v = self.value(arg.value)
                    if isinstance(v, int) and not isinstance(v, bool):
                        self.out.outputs.append(self.fact(arg.value, {"units": v, "activation": "linear"}))
        models = _TorchModels(f)
        instantiated = {c.tail for c in f.calls}
        for name, cls in models.module_classes.items():
            if name not in instantiated:
                continue
            out = models.class_output(cls, 0)
            if out is None or out.kind != "linear":
                continue
            units = self._linear_units(out.node)
            if units is not None:
                self.out.outputs.append(self.fact(out.node, {"units": units, "activation": "linear"}))

    def _linear_units(self, expr: cst.CSTNode) -> Optional[int]:
        if not isinstance(expr, cst.Call):
            return None
        name = _torch_name(self.f, expr.func)
        if name == "Linear":
            arg = keyword(expr, "out_features") or positional(expr, 1)
            v = self.value(arg.value) if arg is not None else None
            return v if isinstance(v, int) and not isinstance(v, bool) else None
        if name == "Sequential":
            items = [a.value for a in expr.args if a.keyword is None and not a.star]
            for item in reversed(items):
                if isinstance(item, cst.Call):
                    tail = _torch_name(self.f, item.func)
                    if tail == "Linear":
                        return self._linear_units(item)
                    if tail in ("Dropout", "ReLU", "Identity"):
                        continue
                    return None
        return None

    def _in_memory(self) -> None:
        """The image sets CNL102 found held whole in memory: their per-image size, channels, dtype."""
        for at, call, acc in getattr(self.ctx, "in_memory", ()):
            loop = self._loop_of(call)
            size = self._loop_size(loop, call) if loop is not None else None
            channels = self._loop_channels(loop, call) if loop is not None else 3
            path, exact = self._loop_path(loop) if loop is not None else (None, False)
            reader = dotted_name(call.func if isinstance(call, cst.Call) else call) or ""
            value = {"size": size, "channels": channels, "bytes": self._bytes(), "reader": reader,
                     "path": path, "exact": exact}
            self.out.in_memory.append(self.fact(at, value))

    def _loop_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The outermost loop around the reader, within its function."""
        found = None
        parent = self.ctx.parent(node)
        while parent is not None and not isinstance(parent, (cst.FunctionDef, cst.ClassDef, cst.Module)):
            if isinstance(parent, (cst.For, cst.While, cst.ListComp, cst.GeneratorExp)):
                found = parent
            parent = self.ctx.parent(parent)
        return found

    def _loop_size(self, loop: cst.CSTNode, reader: cst.CSTNode) -> Optional[List[int]]:
        for n in [reader] + list(walk(loop)):
            if not isinstance(n, cst.Call):
                continue
            tail = call_tail(n) or ""
            q = self.f.q(n.func)
            if tail == "load_img":
                t = keyword(n, "target_size")
                if t is not None:
                    return self.size(t.value)
            if tail != "resize":
                continue
            if q == "cv2.resize":
                arg = keyword(n, "dsize") or positional(n, 1)
                wh = self.size(arg.value) if arg is not None else None
                return [wh[1], wh[0]] if wh else None
            if q.split(".")[0] in _KERAS_ROOTS or q.startswith("skimage"):
                arg = keyword(n, "size") or keyword(n, "output_shape") or positional(n, 1)
                return self.size(arg.value) if arg is not None else None
            if isinstance(n.func, cst.Attribute):  # PIL: img.resize((w, h))
                arg = keyword(n, "size") or positional(n, 0)
                wh = self.size(arg.value) if arg is not None else None
                return [wh[1], wh[0]] if wh else None
        return None

    def _loop_channels(self, loop: cst.CSTNode, reader: cst.CSTNode) -> int:
        if not isinstance(reader, cst.Call):
            return 3
        q = self.f.q(reader.func)
        if q == "cv2.imread":
            flag = keyword(reader, "flags") or positional(reader, 1)
            if flag is not None and (self.value(flag.value) == 0 or self.f.q(flag.value).endswith("GRAYSCALE")):
                return 1
        for n in walk(loop):
            if isinstance(n, cst.Call) and call_tail(n) == "convert":
                arg = positional(n, 0)
                v = self.value(arg.value) if arg is not None else None
                if v in _PIL_CHANNELS:
                    return _PIL_CHANNELS[v]
            if isinstance(n, cst.Call) and call_tail(n) == "load_img":
                color = keyword(n, "color_mode")
                if color is not None and self.value(color.value) in _COLOR_CHANNELS:
                    return _COLOR_CHANNELS[self.value(color.value)]
        return 3

    def _loop_path(self, loop: cst.CSTNode) -> Tuple[Optional[str], bool]:
        """The folder the loop lists: the first listdir/glob/walk in its iterables."""
        candidates: List[cst.CSTNode] = []
        for n in walk(loop):
            if isinstance(n, (cst.For, cst.CompFor)):
                it = n.iter
                if isinstance(it, cst.Name):
                    bound = self._bound(it)
                    if bound is not None:
                        it = bound
                candidates.append(it)
        for it in candidates:
            for n in walk(it):
                if isinstance(n, cst.Call):
                    q = self.f.q(n.func)
                    if q in ("os.listdir", "os.walk", "os.scandir", "glob.glob", "glob.iglob"):
                        arg = positional(n, 0)
                        if arg is None:
                            continue
                        path, exact = self.path(arg.value)
                        if q.startswith("glob") and path:
                            path = _glob_root(path)[0]
                        return path, exact
        return None, False

    def _bytes(self) -> int:
        text = self.text
        if re.search(r"float16|half\(", text):
            return 2 if not re.search(r"float32", text) else 4
        if re.search(r"float32|\.float\(\)|dtype\s*=\s*float\b|tf\.float32", text):
            return 4
        if re.search(r"/\s*255(\.0?)?\b|/=\s*255", text):
            return 8
        return 1


_PIL_CHANNELS = {"RGB": 3, "L": 1, "RGBA": 4, "LA": 2, "1": 1, "CMYK": 4, "YCbCr": 3, "I": 1, "F": 1, "I;16": 1}


def _shape(v: List[Any]) -> List[Optional[int]]:
    return [x if isinstance(x, int) and not isinstance(x, bool) and x > 0 else None for x in v]


def _is_none(expr: cst.CSTNode) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


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


def _glob_root(pattern: str) -> Tuple[str, str]:
    """'data/train/*/*.jpg' -> ('data/train', '*/*.jpg')."""
    parts = pattern.replace("\\", "/").split("/")
    for i, part in enumerate(parts):
        if _GLOB_STOP.search(part):
            return "/".join(parts[:i]) or ".", "/".join(parts[i:])
    return pattern, ""


def _concat(parts: List[Tuple[Optional[str], bool]]) -> Tuple[Optional[str], bool]:
    """String concatenation: the text after the last unknown part (exact when none is unknown)."""
    known = ""
    exact = True
    for text, ex in parts:
        if text is None:
            known, exact = "", False
            continue
        if not ex:
            known, exact = text, False
            continue
        known += text
    if not exact:
        known = known.lstrip("/\\")
        return (known or None), False
    return known, True


def _join(parts: List[Tuple[Optional[str], bool]]) -> Tuple[Optional[str], bool]:
    """os.path.join / pathlib: parts after the last unknown one (an absolute part restarts)."""
    out: List[str] = []
    exact = True
    for text, ex in parts:
        if text is None:
            out, exact = [], False
            continue
        if not ex:
            out, exact = [text], False
            continue
        if text.startswith("/"):
            out = [text]
        else:
            out.append(text)
    joined = "/".join(p.rstrip("/") for p in out if p) if out else None
    if exact and out and out[0].startswith("/") and joined is not None and not joined.startswith("/"):
        joined = "/" + joined
    return (joined or None), exact


def extract(ctx, positions: bool = True) -> Optional[ScriptFacts]:
    """The script's pipeline facts; None when it has none worth keeping.

    Without `positions` every fact is at line 0: placing them costs a code generation pass, which a
    run that will judge no fact against data (and print no JSON) does not need; the few facts a
    finding then points at are placed afresh (cnnlint.crosscheck.place).
    """
    facts = _facts(ctx)
    if facts is None:
        return None
    found = _Extractor(ctx, facts).run(positions)
    return None if found.empty() else found


def facts_dict(ctx, positions: bool = True) -> Optional[Dict[str, Any]]:
    found = extract(ctx, positions)
    return found.to_dict() if found is not None else None
