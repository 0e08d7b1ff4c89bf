"""CNL103 augmented-validation-data: random augmentation applied to validation or test data.

Three shapes, each with local evidence on both sides (the augmentation and the validation/test
data):

- Keras: an `ImageDataGenerator` with random augmentation (`rotation_range`, `zoom_range`,
  `horizontal_flip`, ...) whose `flow*` call reads a validation or test folder, a
  `subset="validation"`, validation/test arrays, or feeds `validation_data=`, `evaluate` or
  `predict`;
- tf.data: a `.map()` on a validation/test dataset whose function calls random augmentation (a
  `Sequential` of `Random*` layers, a `Random*` layer, a `tf.image.random_*` op);
- torchvision: a dataset built for validation or test (`train=False`, `split="val"`, a `val`/`test`
  folder, a `val_dataset =` name) whose `transform=` is a `Compose` with random transforms.

A name counts as an augmenting generator or transform only when every binding of it in the file
is one (`AugmentBindings`); a function parameter is unknown. Files that speak of test-time
augmentation are left alone.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, FrozenSet, List, Optional, Set, Tuple

from cnnlint.findings import Severity
from cnnlint.lint.index.augment import AugmentBindings, parameter_names, word_kind
from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.call_args import arguments, plain_positional
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import (
    call_tail,
    dotted_name,
    has_star_kwargs,
    is_falsy_literal,
    keyword,
    number_value,
    string_value,
)
from cnnlint.lint.index.snippets import is_one_literal
from cnnlint.lint.index.source_text import short_code
from cnnlint.lint.index.syntax import walk
from cnnlint.lint.project_index.imported import ImportedSummaries
from cnnlint.lint.project_index.transforms import imported_steps
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.sources.model import SourceFile

_TEST_TIME = re.compile(r"test[_ -]?time")
_WORD_CHAR = re.compile(r"\w")


def mentions_tta(text: str) -> bool:
    """Test-time augmentation named: `tta` as a word or beside `_`, or `test time`/`test-time`/
    `test_time`, in any case. A substring scan: the case-blind regex it replaces cost 0.22 CPU s
    on the 500-file benchmark corpus, this 0.013 s."""
    low = text.lower()
    at = low.find("tta")
    while at >= 0:
        before, after = low[at - 1 : at] if at else "", low[at + 3 : at + 4]
        if "_" in (before, after) or not (_WORD_CHAR.match(before) or _WORD_CHAR.match(after)):
            return True
        at = low.find("tta", at + 1)
    return "test" in low and _TEST_TIME.search(low) is not None

# ---------------------------------------------------------------------------
# augmentations
# ---------------------------------------------------------------------------

IDG_AUGMENT_KWARGS = (
    "rotation_range", "width_shift_range", "height_shift_range", "brightness_range", "shear_range",
    "zoom_range", "channel_shift_range", "horizontal_flip", "vertical_flip",
)
TORCH_RANDOM = {
    "ColorJitter", "AutoAugment", "RandAugment", "TrivialAugmentWide", "AugMix", "ElasticTransform",
    "ScaleJitter",
}
KERAS_RANDOM = {"RandAugment", "AugMix", "MixUp", "CutMix"}
# albumentations transforms that draw something at random (beyond whether to run: `p`)
ALBU_RANDOM = {
    "HorizontalFlip", "VerticalFlip", "Flip", "Transpose", "Rotate", "SafeRotate", "ShiftScaleRotate", "Affine",
    "Perspective", "PiecewiseAffine", "ElasticTransform", "GridDistortion", "OpticalDistortion", "HueSaturationValue",
    "RGBShift", "ColorJitter", "GaussNoise", "ISONoise", "MultiplicativeNoise", "GaussianBlur", "MotionBlur", "Blur",
    "MedianBlur", "GlassBlur", "AdvancedBlur", "Defocus", "ZoomBlur", "CLAHE", "CoarseDropout", "Cutout",
    "GridDropout", "XYMasking", "ChannelShuffle", "ChannelDropout", "ToGray", "ToSepia", "Sharpen", "Emboss",
    "ImageCompression", "JpegCompression", "Downscale", "Posterize", "Equalize", "Solarize", "InvertImg",
    "FancyPCA", "Superpixels", "CropAndPad", "BBoxSafeRandomCrop", "OneOf", "SomeOf", "OneOrOther",
}
# ... of which the only random draw is whether to run: `p=1` makes them deterministic
ALBU_P_ONLY = {"HorizontalFlip", "VerticalFlip", "Transpose", "ToGray", "ToSepia", "Equalize", "InvertImg"}
_SPLITS = ("random_split", "train_test_split")
_FLOWS = ("flow", "flow_from_directory", "flow_from_dataframe")
_EVAL_SINKS = ("evaluate", "evaluate_generator", "predict", "predict_generator")



def _chain_root(expr: ast.AST) -> Optional[str]:
    """`ds` for `ds.map(f).batch(32)`: the name a method chain starts from."""
    while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
        expr = expr.func.value
    return dotted_name(expr)


def _arg(call: ast.Call, name: str) -> Optional[ast.expr]:
    """The value of the keyword argument `name=`, or None."""
    found = keyword(call, name)
    return found.value if found is not None else None


def _imported(ctx: "FileContext", expr: ast.AST) -> Optional[List[str]]:
    """The random steps of a transform bound in another module of the project, the first named with
    where it is (`dataset.py:12 val_tf: RandomHorizontalFlip`); None when it is not one."""
    key = ""
    if isinstance(expr, ast.Subscript):
        key = string_value(expr.slice) or "" if not isinstance(expr.slice, (ast.Tuple, ast.Slice)) else ""
        if not key:
            return None
        expr = expr.value
    found = imported_steps(ctx, expr, key)
    if found is None:
        return None
    randoms = [t for t in found[1] if t.startswith("Random") or t in TORCH_RANDOM]
    return [f"{found[0]}: {randoms[0]}", *randoms[1:]] if randoms else []


def _sets_transform(target: ast.AST) -> bool:
    """`x.transform = ...` / `x.dataset.transforms = ...` on anything but `self`."""
    if not (isinstance(target, ast.Attribute) and target.attr in ("transform", "transforms")):
        return False
    return _chain_root(target.value) != "self"


def _unstarred(expr: ast.expr) -> ast.expr:
    return expr.value if isinstance(expr, ast.Starred) else expr


class AugmentedValidation(Rule):
    code = "CNL103"
    name = "augmented-validation-data"
    severity = Severity.WARNING
    summary = "Random augmentation applied to validation or test data"
    uses = (AugmentBindings, Bindings, ImportTable, ImportedSummaries)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = source.text
        if mentions_tta(text):
            return False
        return (
            "ImageDataGenerator" in text
            or "Random" in text
            or "random_" in text
            or "ColorJitter" in text
            or "Augment" in text
            or "AugMix" in text
            or "albumentations" in text
            or ("transform" in text and "import" in text)  # a transform from the project's modules
        )

    def check(self) -> None:
        f = self.ctx.get(AugmentBindings)
        self.f = f
        assert self.ctx.syntax is not None
        self.parsed = self.ctx.syntax
        self.imports = self.ctx.get(ImportTable)
        self.seen: Set[int] = set()
        # the file sets a dataset's transform after building it (`val_ds.dataset.transform = val_tf`);
        # a dataset class storing its own (`self.transform = transform`) swaps nothing
        self.swaps_transform = ".transform" in self.ctx.source.text and any(
            type(node) is ast.Assign and any(_sets_transform(t) for t in node.targets)  # type: ignore[attr-defined]
            for node in self.ctx.get(Bindings).hooked)  # the shared walk's assignments among others
        self.found: List[Tuple[ast.AST, str, str]] = []
        self._keras_sinks()
        for call, params in f.calls:
            tail = call_tail(call)
            if tail in _FLOWS:
                self._keras_flow(call, params, None)
            elif tail == "map":
                self._tf_map(call, params)
            elif tail in _SPLITS or tail in ("Subset", "DataLoader"):
                self._split_off(call, params)
            elif keyword(call, "transform") is not None or keyword(call, "transforms") is not None \
                    or tail in ("ImageFolder", "DatasetFolder"):
                self._torch_dataset(call, params)
        for node, message, hint in self.found:
            self.report(node, message, hint)

    def _add(self, node: ast.AST, message: str, hint: str) -> None:
        if id(node) not in self.seen:
            self.seen.add(id(node))
            self.found.append((node, message, hint))

    # -- shared ---------------------------------------------------------

    def _code(self, node: ast.AST, limit: int = 40) -> str:
        return short_code(self.parsed, node, limit)

    def _source_evidence(self, call: ast.Call, arg: Optional[ast.expr], params: FrozenSet[str]) -> Optional[str]:
        """Why `call` reads validation/test data: the folder it reads, or the name it makes; "" when the
        folder is a training one (no finding), None when nothing says."""
        kind = self.path_kind(arg, params)
        if kind == "train":
            return ""
        if kind == "val" and arg is not None:
            return f"it reads `{self._code(arg)}`"
        names = self.f.targets.get(id(call), [])
        if names and all(word_kind(n.split(".")[-1]) == "val" for n in names):
            return f"it makes `{names[0]}`"
        return None

    def path_kind(self, expr: Optional[ast.AST], params: FrozenSet[str], depth: int = 0) -> Optional[str]:
        """"val"/"train" when a path expression names a validation/test or training folder."""
        if expr is None or depth > 4:
            return None
        s = string_value(expr)
        if s is not None:
            return word_kind(s.replace("\\", "/"))
        kinds: List[Optional[str]] = []
        if isinstance(expr, ast.JoinedStr):
            if is_one_literal(self.parsed, expr):  # an f-string, not one concatenated with others
                for part in expr.values:
                    if isinstance(part, ast.FormattedValue):
                        kinds.append(self.path_kind(part.value, params, depth + 1))
                    elif isinstance(part, ast.Constant) and isinstance(part.value, str):
                        kinds.append(word_kind(part.value))
        elif isinstance(expr, ast.BinOp):
            kinds = [self.path_kind(expr.left, params, depth + 1), self.path_kind(expr.right, params, depth + 1)]
        elif isinstance(expr, ast.Call):
            tail = call_tail(expr)
            if tail in ("join", "Path", "joinpath", "PurePath", "str", "abspath", "expanduser", "fspath"):
                kinds = [self.path_kind(a, params, depth + 1) for a in arguments(expr)]
                if tail == "joinpath" and isinstance(expr.func, ast.Attribute):
                    kinds.append(self.path_kind(expr.func.value, params, depth + 1))
        elif isinstance(expr, (ast.Name, ast.Attribute)):
            name = dotted_name(expr) or ""
            kinds.append(word_kind(name.split(".")[-1]))
            values = self.f.values(expr, params)
            if values and len(values) == 1:
                kinds.append(self.path_kind(values[0], params, depth + 1))
        if "train" in kinds:
            return "train"
        return "val" if "val" in kinds else None

    # -- Keras ImageDataGenerator ---------------------------------------

    def idg_augments(self, expr: ast.AST, params: FrozenSet[str]) -> Optional[List[str]]:
        """The augmentation kwargs (`rotation_range=40`) when every binding of `expr` is an augmenting IDG."""
        values = [expr] if isinstance(expr, ast.Call) else self.f.values(expr, params)
        if not values:
            return None
        found: List[str] = []
        for value in values:
            if not isinstance(value, ast.Call) or call_tail(value) != "ImageDataGenerator":
                return None
            kw = [a for a in value.keywords if a.arg is not None and a.arg in IDG_AUGMENT_KWARGS]
            kw = [a for a in kw if not is_falsy_literal(a.value)]
            if not kw:
                return None
            for a in kw:
                text = f"{a.arg}={self._code(a.value, 16)}"
                if text not in found:
                    found.append(text)
        return found

    def _keras_flow(self, call: ast.Call, params: FrozenSet[str], sink: Optional[str]) -> None:
        if not isinstance(call.func, ast.Attribute):
            return
        gen = call.func.value
        augments = self.idg_augments(gen, params)
        if not augments:
            return
        tail = call_tail(call)
        evidence = sink
        subset_value = string_value(_arg(call, "subset"))
        if subset_value == "training":
            return
        if subset_value == "validation":
            evidence = 'subset="validation"'
        if evidence is None:
            if tail == "flow_from_directory":
                arg = _arg(call, "directory") or plain_positional(call, 0)
            elif tail == "flow_from_dataframe":
                arg = _arg(call, "directory") or _arg(call, "dataframe") or plain_positional(call, 0)
            else:
                arg = _arg(call, "x") or plain_positional(call, 0)
            evidence = self._source_evidence(call, arg, params)
        if not evidence:
            return
        gen_text = self._code(gen)
        self._add(
            call,
            f"`{gen_text}` applies random augmentation ({', '.join(augments)}) and also generates validation "
            f"or test data ({evidence}), so those images are randomly altered and the scores measured on them "
            f"are pessimistic and change from run to run",
            "create a second ImageDataGenerator with only the rescaling (and the same validation_split, with the "
            "same seed in both flow calls) for validation and test data",
        )

    def _keras_sinks(self) -> None:
        """`validation_data=`, `evaluate(...)`, `predict(...)` fed by an augmenting flow."""
        for call, params in self.f.calls:
            tail = call_tail(call)
            if tail in ("fit", "fit_generator"):
                arg = _arg(call, "validation_data")
                sink = "`validation_data=`"
            elif tail in _EVAL_SINKS and isinstance(call.func, ast.Attribute):
                arg = _arg(call, "x") or _arg(call, "generator") or plain_positional(call, 0)
                sink = f"`{tail}()`"
            else:
                continue
            if arg is None:
                continue
            value = arg
            flows = [value] if isinstance(value, ast.Call) else (self.f.values(value, params) or [])
            for flow in flows:
                if isinstance(flow, ast.Call) and call_tail(flow) in _FLOWS:
                    if string_value(_arg(flow, "subset")) == "training":
                        continue
                    self._keras_flow(flow, params, f"it feeds {sink}")

    # -- tf.data map -----------------------------------------------------

    def random_layers(self, expr: ast.AST, params: FrozenSet[str], depth: int = 0) -> List[str]:
        """Random augmentation layers/ops that calling `expr` applies (a layer, a Sequential of them)."""
        if depth > 3:
            return []
        if isinstance(expr, ast.Call):
            tail = call_tail(expr) or ""
            if tail.startswith("Random") or tail in KERAS_RANDOM:
                return [tail]
            if tail == "Sequential" and (expr.args or expr.keywords):
                first = arguments(expr)[0]
                out: List[str] = []
                if isinstance(first, (ast.List, ast.Tuple)):
                    for el in first.elts:
                        out.extend(self.random_layers(_unstarred(el), params, depth + 1))
                return out
            return []
        values = self.f.values(expr, params)
        if not values:
            return []
        per = [self.random_layers(v, params, depth + 1) for v in values]
        if not all(per):
            return []
        return [n for names in per for n in names]

    def _augments_in(self, body: "ast.AST | List[ast.stmt]", params: FrozenSet[str], depth: int = 0) -> List[str]:
        found: List[str] = []
        stmts: List[ast.AST] = list(body) if isinstance(body, list) else [body]
        for node in (n for stmt in stmts for n in walk(stmt)):
            if not isinstance(node, ast.Call):
                continue
            training = keyword(node, "training")
            if training is not None and is_falsy_literal(training.value):
                continue
            name = dotted_name(node.func) or ""
            q = self.imports.qualify(node.func) or name
            last = name.split(".")[-1]
            if (q.startswith("tensorflow.image.") or name.startswith("tf.image.")) and (
                last.startswith("random_") or last.startswith("stateless_random_")
            ):
                found.append(name)
                continue
            if isinstance(node.func, ast.Call):  # layers.RandomFlip("horizontal")(x)
                found.extend(self.random_layers(node.func, params, depth))
                continue
            if isinstance(node.func, (ast.Name, ast.Attribute)):
                found.extend(self.random_layers(node.func, params, depth))
                if isinstance(node.func, ast.Name) and depth < 2:
                    for fn in self.f.functions.get(node.func.id, []):
                        body = fn.body  # type: ignore[attr-defined]
                        found.extend(self._augments_in(body, params | parameter_names(fn), depth + 1))
        return found

    def dataset_kind(self, expr: ast.AST, params: FrozenSet[str]) -> Optional[str]:
        # walk down a method chain (`val_ds.cache().map(...)`) to its root
        while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):
            expr = expr.func.value
        name = dotted_name(expr)
        if name is None:
            return None
        kind = word_kind(name.split(".")[-1])
        if kind is not None:
            return kind
        values = [v for v in self.f.values(expr, params) or [] if _chain_root(v) != name]
        if len(values) != 1 or not isinstance(values[0], ast.Call):
            return None
        call = values[0]
        subset = keyword(call, "subset")
        if subset is not None:
            return {"validation": "val", "training": "train"}.get(string_value(subset.value) or "")
        if call_tail(call) == "image_dataset_from_directory":
            return self.path_kind(_arg(call, "directory") or plain_positional(call, 0), params)
        return None

    def _tf_map(self, call: ast.Call, params: FrozenSet[str]) -> None:
        if not isinstance(call.func, ast.Attribute) or not (call.args or call.keywords):
            return
        fn = _arg(call, "map_func") or plain_positional(call, 0)
        if fn is None:
            return
        if self.dataset_kind(call.func.value, params) != "val":
            return
        if isinstance(fn, ast.Lambda):
            found = self._augments_in(fn.body, params | parameter_names(fn))
        elif isinstance(fn, ast.Name) and fn.id in self.f.functions:
            found = []
            for d in self.f.functions[fn.id]:
                found.extend(self._augments_in(d.body, params | parameter_names(d), 1))  # type: ignore[attr-defined]
        else:
            found = self.random_layers(fn, params)
        if not found:
            return
        names = list(dict.fromkeys(found))
        ds = self._code(call.func.value, 30)
        self._add(
            call,
            f"`{ds}.map(...)` applies random augmentation ({', '.join(names[:4])}) to validation or test data, "
            f"so the scores measured on it are pessimistic and change from run to run",
            "map the augmentation over the training dataset only, or put the layers inside the model "
            "(Keras preprocessing layers are inactive in evaluate() and predict())",
        )

    # -- torchvision datasets ---------------------------------------------

    def torch_random(self, expr: ast.AST, params: FrozenSet[str], depth: int = 0) -> Optional[List[str]]:
        """Random transforms in a torchvision transform, or None when it is not known to be one."""
        if depth > 4:
            return None
        imported = _imported(self.ctx, expr)  # a transform of the project's modules (dataset.py)
        if imported is not None:
            return imported
        if isinstance(expr, ast.Subscript):
            key = string_value(expr.slice) if not isinstance(expr.slice, (ast.Tuple, ast.Slice)) else None
            values = self.f.values(expr.value, params)
            if key is None or not values or len(values) != 1 or not isinstance(values[0], ast.Dict):
                return None
            for el_key, el_value in zip(values[0].keys, values[0].values):
                if el_key is not None and string_value(el_key) == key:
                    return self.torch_random(el_value, params, depth + 1)
            return None
        if isinstance(expr, ast.Call):
            q = self.imports.qualify(expr.func) or ""
            tail = call_tail(expr) or ""
            if q.startswith("albumentations."):
                return self.albu_random(expr, params, depth)
            if isinstance(expr.func, ast.Name) and expr.func.id in self.f.functions:
                returned = self._returned(expr.func.id)  # `get_valid_transforms()`
                return self.torch_random(returned, params, depth + 1) if returned is not None else None
            if "torchvision" not in q and not self.imports.imports_any("torchvision"):
                return None
            if tail.startswith("Random") or tail in TORCH_RANDOM:
                p = _arg(expr, "p")
                return [] if p is not None and is_falsy_literal(p) else [tail]
            if tail == "Compose" and (expr.args or expr.keywords):
                first = arguments(expr)[0]
                if not isinstance(first, (ast.List, ast.Tuple)):
                    return None
                out: List[str] = []
                for el in first.elts:
                    inner = self.torch_random(_unstarred(el), params, depth + 1)
                    if inner:
                        out.extend(inner)
                return out
            return None
        values = self.f.values(expr, params)
        if not values:
            return None
        per = [self.torch_random(v, params, depth + 1) for v in values]
        if any(not p for p in per):
            return None
        return [n for names in per for n in names]  # type: ignore[union-attr]

    def albu_random(self, expr: ast.Call, params: FrozenSet[str], depth: int) -> List[str]:
        """Random transforms in an albumentations pipeline: a transform of `ALBU_RANDOM` (or `Random*`)
        with `p` above 0 (and below 1 for the flips and the like); `p=0` and deterministic ones
        (`Resize`, `Normalize`, `CenterCrop`, `ToTensorV2`) are not."""
        tail = call_tail(expr) or ""
        p = _arg(expr, "p")
        if p is not None and (is_falsy_literal(p) or not isinstance(p, ast.Constant)):
            return []  # never runs, or a probability this file does not show
        inner: List[str] = []
        first = plain_positional(expr, 0) or _arg(expr, "transforms")
        if tail in ("Compose", "Sequential", "OneOf", "SomeOf", "OneOrOther") and isinstance(first, (ast.List, ast.Tuple)):
            for el in first.elts:
                el = _unstarred(el)
                if isinstance(el, ast.Call) and depth < 6:
                    inner.extend(self.torch_random(el, params, depth + 1) or [])
            return ([tail] + inner if tail != "Compose" and tail != "Sequential" else inner) if inner else []
        if tail not in ALBU_RANDOM and not tail.startswith("Random"):
            return []
        if tail in ALBU_P_ONLY and p is not None and number_value(p) == 1.0:
            return []
        return [tail]

    def _returned(self, name: str) -> Optional[ast.expr]:
        """What a function of the file returns, when it has one definition and one return."""
        defs = self.f.functions.get(name, [])
        if len(defs) != 1:
            return None
        returns = [n for stmt in defs[0].body for n in walk(stmt) if isinstance(n, ast.Return)]  # type: ignore[attr-defined]
        return returns[0].value if len(returns) == 1 else None

    def _transform_arg(self, call: ast.Call) -> Optional[ast.expr]:
        arg = _arg(call, "transform") or _arg(call, "transforms")
        if arg is None and call_tail(call) in ("ImageFolder", "DatasetFolder") and not has_star_kwargs(call):
            arg = plain_positional(call, 1)
        return arg

    def dataset_randoms(self, expr: Optional[ast.AST], params: FrozenSet[str],
                        split: Optional[ast.Call] = None) -> List[str]:
        """The random transforms a dataset applies, when every binding of it is a dataset built here
        with an augmenting transform (`split`: the call `expr` is an argument of, whose own unpacking
        does not count)."""
        if expr is None:
            return []
        values: List[ast.expr]
        if isinstance(expr, ast.Call):
            values = [expr]
        elif split is not None:
            values = self.f.values_before(expr, params, split) or []
        else:
            values = self.f.values(expr, params) or []
        found: List[str] = []
        for value in values:
            arg = self._transform_arg(value) if isinstance(value, ast.Call) else None
            randoms = self.torch_random(arg, params) if arg is not None else None
            if not randoms:
                return []
            found.extend(randoms)
        return found

    def _split_off(self, call: ast.Call, params: FrozenSet[str]) -> None:
        """A validation set split off a dataset whose transform augments: `random_split`,
        `train_test_split`, `Subset`, a loader with a `SubsetRandomSampler`."""
        if self.swaps_transform:
            return  # the file swaps a transform after the split
        tail = call_tail(call)
        dataset = plain_positional(call, 0) or _arg(call, "dataset")
        if tail in _SPLITS:
            names = [n for n in self.f.unpacked.get(id(call), []) if word_kind(n.split(".")[-1]) == "val"]
        elif tail == "Subset":
            names = self.f.targets.get(id(call), [])
            names = names if names and all(word_kind(n.split(".")[-1]) == "val" for n in names) else []
        else:
            names = self._sampled_val(call, params)
        if not names or dataset is None:
            return
        randoms = self.dataset_randoms(dataset, params, call)
        if not randoms:
            return
        shown = list(dict.fromkeys(randoms))
        self._add(
            call,
            f"`{self._code(call, 40)}` makes the validation data `{names[0]}` from `{self._code(dataset, 30)}`, "
            f"whose transform applies random augmentation ({', '.join(shown[:4])}): a split keeps its dataset's "
            f"transform, so the validation images are randomly altered and the scores measured on them are "
            f"pessimistic and change from run to run",
            "split the indices, and build the validation subset from a second dataset over the same files with a "
            "deterministic transform (`Subset(ImageFolder(root, transform=val_tf), val_idx)`)",
        )

    def _sampled_val(self, call: ast.Call, params: FrozenSet[str]) -> List[str]:
        """`val_loader = DataLoader(ds, sampler=SubsetRandomSampler(val_idx))`: the validation name."""
        sampler = _arg(call, "sampler")
        if sampler is None:
            return []
        values = [sampler] if isinstance(sampler, ast.Call) else (self.f.values(sampler, params) or [])
        if not values or not all(isinstance(v, ast.Call) and call_tail(v) == "SubsetRandomSampler" for v in values):
            return []
        words = self.f.targets.get(id(call), []) + [dotted_name(sampler) or ""]
        words += [dotted_name(a) or "" for v in values for a in arguments(v)]  # type: ignore[arg-type]
        kinds = {word_kind(w.split(".")[-1]) for w in words if w}
        if "val" not in kinds or "train" in kinds:
            return []
        return [w for w in words if w and word_kind(w.split(".")[-1]) == "val"][:1]

    def _torch_dataset(self, call: ast.Call, params: FrozenSet[str]) -> None:
        arg = self._transform_arg(call)
        if arg is None:
            return
        randoms = self.torch_random(arg, params)
        if not randoms:
            return
        evidence = None
        train = keyword(call, "train")
        split = keyword(call, "split")
        if train is not None:
            if not (isinstance(train.value, ast.Constant) and train.value.value is False):
                return
            evidence = "train=False"
        elif split is not None:
            value = string_value(split.value)
            if value is None or word_kind(value) != "val":
                return
            evidence = f'split="{value}"'
        else:
            root = _arg(call, "root") or plain_positional(call, 0)
            evidence = self._source_evidence(call, root, params)
        if not evidence:
            return
        names = list(dict.fromkeys(randoms))
        self._add(
            arg,
            f"the transform of `{self._code(call, 30)}` applies random augmentation ({', '.join(names[:4])}) to "
            f"validation or test data ({evidence}), so the scores measured on it are pessimistic and change "
            f"from run to run",
            "give validation and test data a deterministic transform (Resize, CenterCrop, ToTensor, Normalize) "
            "and keep the random transforms for training",
        )
