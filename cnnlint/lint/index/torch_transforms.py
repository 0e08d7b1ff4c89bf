"""CNL101 on the PyTorch side: torchvision `Compose` pipelines, what their steps do to pixels
(`scan`), the datasets they are given to, and scaling done anywhere else in the file."""

from __future__ import annotations

import ast
from typing import List, Optional, Set, Tuple

from cnnlint.lint.index import image_apis as apis
from cnnlint.lint.index.arguments import nth_positional, unstarred
from cnnlint.lint.index.image_scaling import (
    body_of,
    is_scale_op,
    literal_number,
    pixel_scale_op,
    source_walk,
)
from cnnlint.lint.index.names import call_tail, dotted_name, is_falsy_literal, keyword
from cnnlint.lint.index.flow import is_true
from cnnlint.lint.index.scopes import INF, PLAIN, CallSite, Scopes
from cnnlint.lint.index.training_inputs import is_dataset_class

_TV_UINT8 = {"PILToTensor", "ToImage", "ToImageTensor", "ToTensorV2"}
# albumentations: `A.Compose`, and its steps that change the pixel scale under torchvision's names
# (`ToTensorV2` only moves the channels: the dtype and 0-255 values stay; `ToFloat` divides by the
# dtype's maximum; `FromFloat` and `Lambda` are not followed)
_ALBU_COMPOSE = ("albumentations.Compose", "albumentations.core.composition.Compose")
_ALBU_NAMES = {"ToFloat": "ToTensor", "FromFloat": "Lambda"}
TORCH_SCALING_CALLS = {
    "Normalize", "normalize", "ToTensor", "to_tensor", "ConvertImageDtype", "convert_image_dtype",
    "to_dtype", "ToDtype",
}
_TV_DATASET_NAMES = {
    "ImageFolder", "DatasetFolder", "CIFAR10", "CIFAR100", "MNIST", "FashionMNIST", "STL10",
    "SVHN", "Food101", "Flowers102", "OxfordIIITPet", "StanfordCars", "Caltech101", "ImageNet",
    "EMNIST", "KMNIST", "QMNIST", "FGVCAircraft", "DTD", "GTSRB", "EuroSAT", "CelebA",
}
_INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64", "long", "int", "short")


def _arg_or_keyword(call: ast.Call, index: int, name: str) -> Optional[ast.expr]:
    """The index-th positional argument, else the keyword argument `name`."""
    arg = nth_positional(call, index)
    if arg is not None:
        return arg
    kw = keyword(call, name)
    return kw.value if kw is not None else None


def torch_fn_status(scopes: Scopes, fn: ast.AST) -> str:
    """scaled / unknown / neutral for the function given to transforms.Lambda.

    A Lambda that casts to an integer type (`x.long()`) means integer pixels are
    wanted (pixel-level generative models, masks): unknown, so never flagged.
    """
    if isinstance(fn, ast.Lambda):
        body = body_of(fn)
    elif isinstance(fn, ast.Name):
        found = scopes.local_function(fn.id, scopes.module_scope, INF, ())
        if found is None:
            return "unknown"
        body = body_of(found)
    else:
        return "unknown"
    for node in source_walk(body):
        if isinstance(node, ast.BinOp) and is_scale_op(node, scopes.lines):
            return "scaled"
        if isinstance(node, ast.Call):
            status = _call_status(scopes, node)
            if status:
                return status
    return "neutral"


def _call_status(scopes: Scopes, node: ast.Call) -> str:
    tail = call_tail(node) or ""
    if tail in ("div", "div_", "true_divide", "mul", "mul_") or tail in TORCH_SCALING_CALLS:
        return "scaled"
    if tail in ("long", "int", "byte", "short"):
        return "unknown"
    if tail in ("to", "type", "as_tensor", "tensor"):
        for a in [*node.args, *(kw.value for kw in node.keywords)]:
            name = dotted_name(unstarred(a))
            if name and name.rsplit(".", 1)[-1] in _INT_DTYPES:
                return "unknown"
    func = node.func
    if isinstance(func, ast.Name) and func.id not in apis.BUILTIN_NAMES and not scopes.is_local(func.id, scopes.module_scope):
        q = scopes.qualify(func) or ""
        if q.split(".")[0] not in apis.KNOWN_LIBS:
            return "unknown"
    if isinstance(func, ast.Name) and scopes.local_function(func.id, scopes.module_scope, INF, ()) is not None:
        return "unknown"
    return ""


class TorchTransforms:
    """The torchvision `Compose` calls of one file and what they do to pixels."""

    def __init__(self, scopes: Scopes) -> None:
        self.scopes = scopes
        self.compose_elements: Set[int] = set()
        self.composes: List[CallSite] = [rec for rec in scopes.calls if self.is_compose(rec.node)]  # type: ignore[arg-type]
        for rec in self.composes:
            for n in source_walk(self._elements(rec.node)):  # type: ignore[arg-type]
                self.compose_elements.add(id(n))

    def is_compose(self, call: ast.Call) -> bool:
        func = call.func
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return False
        q = self.scopes.qualify(func) or ""
        if q in ("torchvision.transforms.Compose", "torchvision.transforms.v2.Compose") or q in _ALBU_COMPOSE:
            return True
        imports = self.scopes.imports
        return q == "Compose" and imports.imports_any("torchvision") and not imports.imports_any("albumentations")

    def is_albumentations(self, call: ast.Call) -> bool:
        return isinstance(call.func, (ast.Name, ast.Attribute)) and (self.scopes.qualify(call.func) or "") in _ALBU_COMPOSE

    def reads_8bit_images(self) -> bool:
        """The file reads images with a loader that gives 0-255 values (`cv2.imread`, `Image.open`)."""
        for rec in self.scopes.calls:
            func = rec.node.func  # type: ignore[attr-defined]
            q = self.scopes.qualify(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
            if q in apis.LOADERS and q not in apis.FLOAT_LOADERS:
                return True
        return False

    @staticmethod
    def _elements(call: ast.Call) -> List[ast.AST]:
        value = _arg_or_keyword(call, 0, "transforms")
        if not isinstance(value, (ast.List, ast.Tuple)):
            return []
        return [unstarred(el) for el in value.elts]

    def tv_name(self, func: ast.AST) -> Optional[str]:
        """The torchvision transform a callee names (`T.ToTensor` -> "ToTensor"), or None."""
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return None
        scopes = self.scopes
        q = scopes.qualify(func) or ""
        if q.startswith("torchvision.transforms."):
            return q.rsplit(".", 1)[-1]
        if q.startswith("albumentations."):
            return _ALBU_NAMES.get(q.rsplit(".", 1)[-1], q.rsplit(".", 1)[-1])
        if "." not in q and scopes.imports.imports_any("torchvision") and q[:1].isupper():
            if scopes.local_class(q, scopes.module_scope) is None and not scopes.is_local(q, scopes.module_scope):
                return q
        return None

    def _step(self, el: ast.AST) -> Optional[ast.Call]:
        """A Compose element as a transform call (a name bound once to one is followed)."""
        if isinstance(el, ast.Starred):
            return None
        node = el
        if isinstance(node, ast.Name):
            r = self.scopes.reaching(node.id, self.scopes.module_scope, INF, ())
            plain = [d for d in r[1] if d.kind in PLAIN] if r else []
            if len(plain) != 1 or plain[0].kind != "assign" or not isinstance(plain[0].value, ast.Call):
                return None
            node = plain[0].value
        return node if isinstance(node, ast.Call) else None

    def scan(self, call: ast.Call, state: str = "pil", depth: int = 0) -> Tuple[str, str]:
        """Run the Compose's steps: (final state, the conversion step that made it a tensor).

        States: pil, uint8 (integer tensor), float_raw (float, 0-255), scaled, normalized, unknown.
        """
        if depth > 6:
            return "unknown", ""
        value = _arg_or_keyword(call, 0, "transforms")
        if not isinstance(value, (ast.List, ast.Tuple)):
            return "unknown", ""
        conv = ""
        for el in value.elts:
            node = self._step(el)
            name = self.tv_name(node.func) if node is not None else None
            if node is None or name is None:
                return "unknown", ""
            if name == "Normalize":
                return "normalized", conv
            if name in ("Compose", "RandomApply", "RandomChoice", "RandomOrder", "OneOf", "SomeOf", "Sequential"):
                inner_state, inner_conv = self.scan(node, state, depth + 1)
                if name != "Compose":
                    if inner_state != state:
                        return "unknown", ""
                    continue
                state, conv = inner_state, inner_conv or conv
                if state in ("unknown", "normalized"):
                    return state, conv
                continue
            state, conv = self._convert(node, name, state, conv)
            if state == "unknown":
                return "unknown", ""
        return state, conv

    def _convert(self, node: ast.Call, name: str, state: str, conv: str) -> Tuple[str, str]:
        """One conversion step of a Compose: the new (state, conversion)."""
        if name in ("ToTensor", "ConvertImageDtype"):
            return "scaled", conv
        if name == "ToDtype":
            scale = keyword(node, "scale")
            second = nth_positional(node, 1)
            scale_v = scale.value if scale is not None else second
            dtype_kw = keyword(node, "dtype")
            dtype = dtype_kw.value if dtype_kw is not None else nth_positional(node, 0)
            dname = dotted_name(dtype) if dtype is not None else None
            if dname is not None and dname.split(".")[-1] in _INT_DTYPES:
                return "unknown", ""
            if is_true(scale_v):
                return "scaled", conv
            if scale_v is not None and not is_falsy_literal(scale_v):
                return "unknown", ""
            if state == "uint8":
                return "float_raw", conv + " + ToDtype without scale=True" if conv else "ToDtype without scale=True"
            return state, conv
        if name in _TV_UINT8:
            return ("uint8", name) if state == "pil" else (state, conv)
        if name == "ToPILImage":
            return "pil", ""
        if name == "Lambda":
            fn = _arg_or_keyword(node, 0, "lambd")
            if fn is None:
                return "unknown", ""
            status = torch_fn_status(self.scopes, fn)
            if status == "scaled":
                return "scaled", conv
            if status == "unknown":
                return "unknown", ""
        return state, conv

    def scaling_elsewhere(self) -> bool:
        """Anything outside the Compose pipelines that scales pixels (`/ 255`, `.div(255)`,
        Normalize, a pretrained model's transforms, a Hugging Face image processor)."""
        scopes = self.scopes
        lines = scopes.lines
        for op, _scope, _klass in scopes.divisions:
            if id(op) not in self.compose_elements and pixel_scale_op(op, lines):
                return True
        for aug in scopes.aug_divisions:
            n = literal_number(aug.value, lines)
            if n is not None and (n >= 100 or 0 < n < 0.1):
                return True
        return any(id(rec.node) not in self.compose_elements and self._scaling_call(rec.node) for rec in scopes.calls)  # type: ignore[arg-type]

    def _scaling_call(self, node: ast.Call) -> bool:
        func = node.func
        tail = call_tail(node) or ""
        if isinstance(func, ast.Attribute) and tail in ("div", "div_", "true_divide", "mul", "mul_"):
            arg = nth_positional(node, 0)
            n = literal_number(arg, self.scopes.lines) if arg is not None else None
            if arg is None or n is None and not isinstance(arg, ast.Name) or n is not None and (n >= 100 or 0 < n < 0.1):
                return True
        if tail in TORCH_SCALING_CALLS:
            return True
        if tail == "transforms" and not node.args and not node.keywords:
            return True  # weights.transforms(): the pretrained model's own preprocessing
        if isinstance(func, (ast.Name, ast.Attribute)):
            q = self.scopes.qualify(func) or ""
            if q.startswith("transformers.") or "ImageProcessor" in q or "FeatureExtractor" in q:
                return True
        return False

    def dataset_transform_uses(self) -> List[Tuple[ast.AST, CallSite, str]]:
        """(transform expression, dataset call, dataset name) for datasets built with transform=."""
        out: List[Tuple[ast.AST, CallSite, str]] = []
        scopes = self.scopes
        for rec in scopes.calls:
            node: ast.Call = rec.node  # type: ignore[assignment]
            func = node.func
            if not isinstance(func, (ast.Name, ast.Attribute)):
                continue
            q = scopes.qualify(func) or ""
            tail = q.rsplit(".", 1)[-1]
            is_dataset = q.startswith("torchvision.datasets.") or (
                "." not in q and tail in _TV_DATASET_NAMES and scopes.imports.imports_any("torchvision")
                and not scopes.is_local(tail, rec.scope)
            )
            if not is_dataset and isinstance(func, ast.Name):
                cls = scopes.local_class(func.id, rec.scope)
                if cls is not None and is_dataset_class(scopes, cls):
                    is_dataset = True
            if not is_dataset:
                continue
            kw = keyword(node, "transform")
            arg = kw.value if kw is not None else None
            if arg is None and tail in ("ImageFolder", "DatasetFolder"):
                arg = nth_positional(node, 1)
            if arg is not None:
                out.append((arg, rec, dotted_name(func) or tail))
        return out

    def composes_for(self, expr: ast.AST, rec: CallSite, depth: int = 0) -> List[ast.Call]:
        """The Compose calls a dataset's `transform=` argument may be."""
        scopes = self.scopes
        if depth > 4:
            return []
        if isinstance(expr, ast.Call):
            return [expr] if self.is_compose(expr) else []
        if isinstance(expr, ast.IfExp):
            return self.composes_for(expr.body, rec, depth + 1) + self.composes_for(expr.orelse, rec, depth + 1)
        if isinstance(expr, (ast.Subscript, ast.Name)):
            base = expr.value if isinstance(expr, ast.Subscript) else expr
            if not isinstance(base, ast.Name):
                return []
            r = scopes.reaching(base.id, rec.scope, rec.order, rec.blocks)
            out: List[ast.Call] = []
            for d in (r[1] if r else []):
                if d.kind != "assign":
                    continue
                if isinstance(expr, ast.Name):
                    out.extend(self.composes_for(d.value, CallSite(d.value, d.scope, d.order, d.blocks, d.loops), depth + 1))  # type: ignore[arg-type]
                elif isinstance(d.value, ast.Dict):
                    for k, v in zip(d.value.keys, d.value.values):
                        if k is not None:
                            out.extend(self.composes_for(v, CallSite(v, d.scope, d.order, d.blocks, d.loops), depth + 1))
            return out
        return []
