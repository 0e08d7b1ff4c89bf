"""CNL103 augmentation on validation or test data; CNL104 truncated images hidden.

CNL103 looks for three shapes, each with local evidence on both sides (the
augmentation and the validation/test data):

- Keras: an `ImageDataGenerator` with random augmentation (`rotation_range`,
  `zoom_range`, `horizontal_flip`, ...) whose `flow*` call reads a validation or
  test folder, a `subset="validation"`, validation/test arrays, or feeds
  `validation_data=`, `evaluate` or `predict`;
- tf.data: a `.map()` on a validation/test dataset whose function calls random
  augmentation (a `Sequential` of `Random*` layers, a `Random*` layer, a
  `tf.image.random_*` op);
- torchvision: a dataset built for validation or test (`train=False`,
  `split="val"`, a `val`/`test` folder, a `val_dataset =` name) whose
  `transform=` is a `Compose` with random transforms.

A name counts as an augmenting generator or transform only when every binding
of it in the file is one; a function parameter is unknown. Files that speak of
test-time augmentation are left alone.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

import libcst as cst

from cnnlint.findings import Severity
from cnnlint.lint.rule import Rule
from cnnlint.lint.tree import (
    all_params,
    call_tail,
    children,
    dotted_name,
    has_star_kwargs,
    is_falsy_literal,
    keyword,
    positional,
    short_code,
    string_value,
    walk,
)

# ---------------------------------------------------------------------------
# words
# ---------------------------------------------------------------------------

_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_VAL_TOKEN = re.compile(
    r"^(val|valid|validation|validate|test|testing|eval|evaluation)"
    r"(dir|path|data|set|ds|loader|dl|gen|generator|dataset|images|imgs|folder|root|x|y|df)?$"
)
_TRAIN_TOKEN = re.compile(r"^train(ing)?")


def _tokens(text: str) -> List[str]:
    return [t.lower() for t in _SPLIT.findall(text)]


def word_kind(text: str) -> Optional[str]:
    """"val" when a name or path says validation/test (and not train), "train" when it says train."""
    tokens = _tokens(text)
    if any(_TRAIN_TOKEN.match(t) for t in tokens):
        return "train"
    if any(_VAL_TOKEN.match(t) for t in tokens):
        return "val"
    return None


_TTA = re.compile(r"(?i)\btta\b|test[_ -]?time|_tta|tta_")

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
_FLOWS = ("flow", "flow_from_directory", "flow_from_dataframe")
_EVAL_SINKS = ("evaluate", "evaluate_generator", "predict", "predict_generator")


def _chain_root(expr: cst.CSTNode) -> Optional[str]:
    """`ds` for `ds.map(f).batch(32)`: the name a method chain starts from."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value
    return dotted_name(expr)


def _params(fn: cst.CSTNode) -> Set[str]:
    params = getattr(fn, "params", None)
    return {p.name.value for p in all_params(params)} if isinstance(params, cst.Parameters) else set()


class _File:
    """Bindings (dotted target -> values) and every call with the parameters in scope."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.bound: Dict[str, List[cst.CSTNode]] = {}
        self.calls: List[Tuple[cst.Call, FrozenSet[str]]] = []
        self.functions: Dict[str, List[cst.FunctionDef]] = {}
        # call -> the names it is assigned to (`val_ds = ImageFolder(...)`)
        self.targets: Dict[int, List[str]] = {}
        stack: List[Tuple[cst.CSTNode, FrozenSet[str]]] = [(module, frozenset())]
        while stack:
            node, params = stack.pop()
            tp = type(node)
            if tp is cst.FunctionDef or tp is cst.Lambda:
                if tp is cst.FunctionDef:
                    self.functions.setdefault(node.name.value, []).append(node)
                params = params | _params(node)
            elif tp is cst.Call:
                self.calls.append((node, params))
            elif tp is cst.Assign:
                for t in node.targets:
                    self._bind(t.target, node.value)
            elif tp is cst.AnnAssign and node.value is not None:
                self._bind(node.target, node.value)
            elif tp is cst.For:
                self._bind(node.target, None)
            elif tp is cst.AugAssign or tp is cst.NamedExpr:
                self._bind(node.target, None if tp is cst.AugAssign else node.value)
            elif tp is cst.WithItem and node.asname is not None:
                self._bind(node.asname.name, None)
            for child in children(node):
                stack.append((child, params))

    def _bind(self, target: cst.CSTNode, value: Optional[cst.CSTNode]) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value, None)  # unpacked: value unknown
            return
        if isinstance(target, cst.StarredElement):
            self._bind(target.value, None)
            return
        name = dotted_name(target)
        if name is None:
            return
        self.bound.setdefault(name, []).append(value if value is not None else cst.Name("None"))
        if isinstance(value, cst.Call):
            self.targets.setdefault(id(value), []).append(name)

    def values(self, expr: cst.CSTNode, params: FrozenSet[str]) -> Optional[List[cst.CSTNode]]:
        """Every value a name may hold; None when unknown (a parameter, never bound, not a name)."""
        name = dotted_name(expr)
        if name is None:
            return None
        if name.split(".")[0] in params:
            return None
        found = self.bound.get(name)
        return list(found) if found else None


def _file(ctx) -> Optional[_File]:
    cached = getattr(ctx, "_cnl103_file", None)
    if cached is None and ctx.module is not None:
        cached = _File(ctx.module)
        ctx._cnl103_file = cached
    return cached


# ---------------------------------------------------------------------------
# CNL103
# ---------------------------------------------------------------------------


class AugmentedValidation(Rule):
    code = "CNL103"
    name = "augmented-validation-data"
    severity = Severity.WARNING
    summary = "Random augmentation applied to validation or test data"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        if _TTA.search(text):
            return False
        return (
            "ImageDataGenerator" in text
            or "Random" in text
            or "random_" in text
            or "ColorJitter" in text
            or "Augment" in text
            or "AugMix" in text
        )

    def finish(self) -> None:
        f = _file(self.ctx)
        if f is None:
            return
        self.f = f
        self.seen: Set[int] = set()
        self.found: List[Tuple[cst.CSTNode, str, str]] = []
        try:
            self._keras_sinks()
            for call, params in f.calls:
                tail = call_tail(call)
                if tail in _FLOWS:
                    self._keras_flow(call, params, None)
                elif tail == "map":
                    self._tf_map(call, params)
                elif keyword(call, "transform") is not None or tail in ("ImageFolder", "DatasetFolder"):
                    self._torch_dataset(call, params)
        except RecursionError:
            return
        for node, message, hint in self.found:
            self.report(node, message, hint)

    def _add(self, node: cst.CSTNode, message: str, hint: str) -> None:
        if id(node) not in self.seen:
            self.seen.add(id(node))
            self.found.append((node, message, hint))

    # -- shared ---------------------------------------------------------

    def _code(self, node: cst.CSTNode, limit: int = 40) -> str:
        return short_code(self.f.module, node, limit)

    def _source_evidence(self, call: cst.Call, arg: Optional[cst.Arg], params: FrozenSet[str]) -> Optional[str]:
        """Why `call` reads validation/test data: the folder it reads, or the name it makes; "" when the
        folder is a training one (no finding), None when nothing says."""
        kind = self.path_kind(arg.value if arg is not None else None, params)
        if kind == "train":
            return ""
        if kind == "val" and arg is not None:
            return f"it reads `{self._code(arg.value)}`"
        names = self.f.targets.get(id(call), [])
        if names and all(word_kind(n.split(".")[-1]) == "val" for n in names):
            return f"it makes `{names[0]}`"
        return None

    def path_kind(self, expr: Optional[cst.CSTNode], params: FrozenSet[str], depth: int = 0) -> Optional[str]:
        """"val"/"train" when a path expression names a validation/test or training folder."""
        if expr is None or depth > 4:
            return None
        s = string_value(expr)
        if s is not None:
            return word_kind(s.replace("\\", "/"))
        kinds: List[Optional[str]] = []
        if isinstance(expr, cst.FormattedString):
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    kinds.append(word_kind(part.value))
                else:
                    kinds.append(self.path_kind(part.expression, params, depth + 1))
        elif isinstance(expr, cst.BinaryOperation):
            kinds = [self.path_kind(expr.left, params, depth + 1), self.path_kind(expr.right, params, depth + 1)]
        elif isinstance(expr, cst.Call):
            tail = call_tail(expr)
            if tail in ("join", "Path", "joinpath", "PurePath", "str", "abspath", "expanduser", "fspath"):
                kinds = [self.path_kind(a.value, params, depth + 1) for a in expr.args]
                if tail == "joinpath" and isinstance(expr.func, cst.Attribute):
                    kinds.append(self.path_kind(expr.func.value, params, depth + 1))
        elif isinstance(expr, (cst.Name, cst.Attribute)):
            name = dotted_name(expr) or ""
            kinds.append(word_kind(name.split(".")[-1]))
            values = self.f.values(expr, params)
            if values and len(values) == 1:
                kinds.append(self.path_kind(values[0], params, depth + 1))
        if "train" in kinds:
            return "train"
        return "val" if "val" in kinds else None

    # -- Keras ImageDataGenerator ---------------------------------------

    def idg_augments(self, expr: cst.CSTNode, params: FrozenSet[str]) -> Optional[List[str]]:
        """The augmentation kwargs (`rotation_range=40`) when every binding of `expr` is an augmenting IDG."""
        values = [expr] if isinstance(expr, cst.Call) else self.f.values(expr, params)
        if not values:
            return None
        found: List[str] = []
        for value in values:
            if not isinstance(value, cst.Call) or call_tail(value) != "ImageDataGenerator":
                return None
            kw = [a for a in value.args if a.keyword is not None and a.keyword.value in IDG_AUGMENT_KWARGS]
            kw = [a for a in kw if not is_falsy_literal(a.value)]
            if not kw:
                return None
            for a in kw:
                text = f"{a.keyword.value}={self._code(a.value, 16)}"
                if text not in found:
                    found.append(text)
        return found

    def _keras_flow(self, call: cst.Call, params: FrozenSet[str], sink: Optional[str]) -> None:
        if not isinstance(call.func, cst.Attribute):
            return
        gen = call.func.value
        augments = self.idg_augments(gen, params)
        if not augments:
            return
        tail = call_tail(call)
        evidence = sink
        subset = keyword(call, "subset")
        subset_value = string_value(subset.value) if subset is not None else None
        if subset_value == "training":
            return
        if subset_value == "validation":
            evidence = 'subset="validation"'
        if evidence is None:
            if tail == "flow_from_directory":
                arg = keyword(call, "directory") or positional(call, 0)
            elif tail == "flow_from_dataframe":
                arg = keyword(call, "directory") or keyword(call, "dataframe") or positional(call, 0)
            else:
                arg = keyword(call, "x") or positional(call, 0)
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
                arg = keyword(call, "validation_data")
                sink = "`validation_data=`"
            elif tail in _EVAL_SINKS and isinstance(call.func, cst.Attribute):
                arg = keyword(call, "x") or keyword(call, "generator") or positional(call, 0)
                sink = f"`{tail}()`"
            else:
                continue
            if arg is None:
                continue
            value = arg.value
            flows = [value] if isinstance(value, cst.Call) else (self.f.values(value, params) or [])
            for flow in flows:
                if isinstance(flow, cst.Call) and call_tail(flow) in _FLOWS:
                    subset = keyword(flow, "subset")
                    if subset is not None and string_value(subset.value) == "training":
                        continue
                    self._keras_flow(flow, params, f"it feeds {sink}")

    # -- tf.data map -----------------------------------------------------

    def random_layers(self, expr: cst.CSTNode, params: FrozenSet[str], depth: int = 0) -> List[str]:
        """Random augmentation layers/ops that calling `expr` applies (a layer, a Sequential of them)."""
        if depth > 3:
            return []
        if isinstance(expr, cst.Call):
            tail = call_tail(expr) or ""
            if tail.startswith("Random") or tail in KERAS_RANDOM:
                return [tail]
            if tail == "Sequential" and expr.args:
                first = expr.args[0].value
                out: List[str] = []
                if isinstance(first, (cst.List, cst.Tuple)):
                    for el in first.elements:
                        out.extend(self.random_layers(el.value, params, depth + 1))
                return out
            return []
        values = self.f.values(expr, params)
        if not values:
            return []
        per = [self.random_layers(v, params, depth + 1) for v in values]
        if not all(per):
            return []
        return [n for names in per for n in names]

    def _augments_in(self, body: cst.CSTNode, params: FrozenSet[str], depth: int = 0) -> List[str]:
        found: List[str] = []
        for node in walk(body):
            if not isinstance(node, cst.Call):
                continue
            training = keyword(node, "training")
            if training is not None and is_falsy_literal(training.value):
                continue
            name = dotted_name(node.func) or ""
            q = self.ctx.imports.qualify(node.func) or name
            last = name.split(".")[-1]
            if (q.startswith("tensorflow.image.") or name.startswith("tf.image.")) and (
                last.startswith("random_") or last.startswith("stateless_random_")
            ):
                found.append(name)
                continue
            if isinstance(node.func, cst.Call):  # layers.RandomFlip("horizontal")(x)
                found.extend(self.random_layers(node.func, params, depth))
                continue
            if isinstance(node.func, (cst.Name, cst.Attribute)):
                found.extend(self.random_layers(node.func, params, depth))
                if isinstance(node.func, cst.Name) and depth < 2:
                    for fn in self.f.functions.get(node.func.value, []):
                        found.extend(self._augments_in(fn.body, params | _params(fn), depth + 1))
        return found

    def dataset_kind(self, expr: cst.CSTNode, params: FrozenSet[str]) -> Optional[str]:
        # walk down a method chain (`val_ds.cache().map(...)`) to its root
        while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            expr = expr.func.value
        name = dotted_name(expr)
        if name is None:
            return None
        kind = word_kind(name.split(".")[-1])
        if kind is not None:
            return kind
        values = [v for v in self.f.values(expr, params) or [] if _chain_root(v) != name]
        if len(values) != 1 or not isinstance(values[0], cst.Call):
            return None
        call = values[0]
        subset = keyword(call, "subset")
        if subset is not None:
            return {"validation": "val", "training": "train"}.get(string_value(subset.value) or "")
        if call_tail(call) == "image_dataset_from_directory":
            arg = keyword(call, "directory") or positional(call, 0)
            return self.path_kind(arg.value if arg is not None else None, params)
        return None

    def _tf_map(self, call: cst.Call, params: FrozenSet[str]) -> None:
        if not isinstance(call.func, cst.Attribute) or not call.args:
            return
        fn_arg = keyword(call, "map_func") or positional(call, 0)
        if fn_arg is None:
            return
        if self.dataset_kind(call.func.value, params) != "val":
            return
        fn = fn_arg.value
        if isinstance(fn, cst.Lambda):
            found = self._augments_in(fn.body, params | _params(fn))
        elif isinstance(fn, cst.Name) and fn.value in self.f.functions:
            found = []
            for d in self.f.functions[fn.value]:
                found.extend(self._augments_in(d.body, params | _params(d), 1))
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

    def torch_random(self, expr: cst.CSTNode, params: FrozenSet[str], depth: int = 0) -> Optional[List[str]]:
        """Random transforms in a torchvision transform, or None when it is not known to be one."""
        if depth > 4:
            return None
        if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
            key_node = expr.slice[0].slice
            key = string_value(key_node.value) if isinstance(key_node, cst.Index) else None
            values = self.f.values(expr.value, params)
            if key is None or not values or len(values) != 1 or not isinstance(values[0], cst.Dict):
                return None
            for el in values[0].elements:
                if isinstance(el, cst.DictElement) and string_value(el.key) == key:
                    return self.torch_random(el.value, params, depth + 1)
            return None
        if isinstance(expr, cst.Call):
            q = self.ctx.imports.qualify(expr.func) or ""
            tail = call_tail(expr) or ""
            if "torchvision" not in q and not self.ctx.imports.imports_any("torchvision"):
                return None
            if tail.startswith("Random") or tail in TORCH_RANDOM:
                return [tail]
            if tail == "Compose" and expr.args:
                first = expr.args[0].value
                if not isinstance(first, (cst.List, cst.Tuple)):
                    return None
                out: List[str] = []
                for el in first.elements:
                    inner = self.torch_random(el.value, params, depth + 1)
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

    def _torch_dataset(self, call: cst.Call, params: FrozenSet[str]) -> None:
        tail = call_tail(call)
        arg = keyword(call, "transform")
        if arg is None and tail in ("ImageFolder", "DatasetFolder") and not has_star_kwargs(call):
            arg = positional(call, 1)
        if arg is None:
            return
        randoms = self.torch_random(arg.value, params)
        if not randoms:
            return
        evidence = None
        train = keyword(call, "train")
        split = keyword(call, "split")
        if train is not None:
            if not (isinstance(train.value, cst.Name) and train.value.value == "False"):
                return
            evidence = "train=False"
        elif split is not None:
            value = string_value(split.value)
            if value is None or word_kind(value) != "val":
                return
            evidence = f'split="{value}"'
        else:
            root = keyword(call, "root") or positional(call, 0)
            evidence = self._source_evidence(call, root, params)
        if not evidence:
            return
        names = list(dict.fromkeys(randoms))
        self._add(
            arg.value,
            f"the transform of `{self._code(call, 30)}` applies random augmentation ({', '.join(names[:4])}) to "
            f"validation or test data ({evidence}), so the scores measured on it are pessimistic and change "
            f"from run to run",
            "give validation and test data a deterministic transform (Resize, CenterCrop, ToTensor, Normalize) "
            "and keep the random transforms for training",
        )


# ---------------------------------------------------------------------------
# CNL104
# ---------------------------------------------------------------------------


def _truthy(expr: cst.CSTNode) -> bool:
    if isinstance(expr, cst.Name):
        return expr.value == "True"
    if isinstance(expr, cst.Integer):
        return expr.value.replace("_", "").lstrip("0") != ""
    return False


class TruncatedImagesHidden(Rule):
    code = "CNL104"
    name = "truncated-images-hidden"
    severity = Severity.WARNING
    summary = "ImageFile.LOAD_TRUNCATED_IMAGES = True hides corrupt images"

    @classmethod
    def applies(cls, source) -> bool:
        return "LOAD_TRUNCATED_IMAGES" in source.text

    def _is_imagefile(self, expr: cst.CSTNode) -> bool:
        return self.ctx.imports.qualify(expr) == "PIL.ImageFile" and (dotted_name(expr) or "").split(".")[0] in self.ctx.imports.aliases

    def visit_Assign(self, node: cst.Assign) -> None:
        if not _truthy(node.value):
            return
        for t in node.targets:
            target = t.target
            if (
                isinstance(target, cst.Attribute)
                and target.attr.value == "LOAD_TRUNCATED_IMAGES"
                and self._is_imagefile(target.value)
            ):
                self._flag(node, dotted_name(target) or "ImageFile.LOAD_TRUNCATED_IMAGES")

    def visit_Call(self, node: cst.Call) -> None:
        if not (isinstance(node.func, cst.Name) and node.func.value == "setattr") or len(node.args) != 3:
            return
        obj, attr, value = (a.value for a in node.args)
        if string_value(attr) == "LOAD_TRUNCATED_IMAGES" and _truthy(value) and self._is_imagefile(obj):
            self._flag(node, f"{dotted_name(obj)}.LOAD_TRUNCATED_IMAGES")

    def _flag(self, node: cst.CSTNode, name: str) -> None:
        self.report(
            node,
            f"`{name} = True` makes Pillow load truncated or corrupt image files without an error, filling "
            f"the missing pixels with grey, so broken images train silently",
            "remove it and find the broken files with the dataset scan (`cnnlint data/`), then delete or "
            "re-download them",
        )


RULES = [AugmentedValidation, TruncatedImagesHidden]
