"""CNL101 on the Keras side: what feeds `fit`, and whether anything scales it.

`KerasInputs.pipe` walks a Keras `fit` argument backwards through tf.data methods,
`ImageDataGenerator.flow*` and `image_dataset_from_directory` to where pixels enter, noting any
scaling `map` on the way; file-wide facts say whether the model itself scales its input or may
come from elsewhere (`load_model`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import List, Optional, Sequence, Set, Tuple, Union

from cnnlint.lint.index import image_apis as apis
from cnnlint.lint.index.arguments import argument_for, nth_positional, unstarred
from cnnlint.lint.index.flow import NONE, ImageFlow, Taint
from cnnlint.lint.index.image_scaling import body_of, is_scale_op, names_in, source_walk
from cnnlint.lint.index.names import call_tail, has_star_kwargs, is_falsy_literal, keyword
from cnnlint.lint.index.scopes import INF, Blocks, CallSite, Scope, Scopes
from cnnlint.lint.index.training_inputs import is_idg

_DS_PASSTHROUGH = {
    "batch", "shuffle", "prefetch", "cache", "repeat", "take", "skip", "unbatch", "filter",
    "with_options", "shard", "rebatch", "padded_batch", "concatenate", "apply_options",
    "ignore_errors", "assert_cardinality",
}
_IDG_NORMALIZING = {
    "rescale", "preprocessing_function", "featurewise_center", "samplewise_center",
    "featurewise_std_normalization", "samplewise_std_normalization", "zca_whitening",
}
_IDG_FLOWS = {"flow", "flow_from_directory", "flow_from_dataframe"}
_BUILTIN_RESCALING = re.compile(r"^(EfficientNet|ConvNeXt|MobileNetV3|RegNet|ResNetRS)")
_DECODERS = {"decode_jpeg", "decode_png", "decode_image", "decode_bmp", "decode_gif", "decode_and_crop_jpeg"}
_MODEL_UNKNOWN = {"load_model", "model_from_json", "model_from_yaml", "model_from_config", "from_preset", "from_pretrained",
                  "TFSMLayer"}
_BATCH_NORMS = ("BatchNormalization", "SyncBatchNormalization", "LayerNormalization")

# what a function mapped over a dataset does: "scaled" | "unknown" | "neutral" |
# ("decodes", the decode call, the function's name)
FnStatus = Union[str, Tuple[str, ast.AST, str]]


@dataclass
class Pipe:
    """What a Keras training input turned out to be."""

    state: str  # unknown | scaled | unscaled
    kind: str = ""  # idg | idfd | decode | array ; for scaled: idg | other
    node: Optional[ast.AST] = None
    detail: str = ""
    taint: Taint = NONE


def _unknown() -> Pipe:
    return Pipe("unknown")


def keras_subclass(scopes: Scopes, cls: ast.ClassDef) -> bool:
    for base in cls.bases:
        b = scopes.qualify(base) or ""
        if b.rsplit(".", 1)[-1] in ("Model", "Layer") and ("keras" in b.split(".") or "." not in b):
            return True
    return False


def _is_model_input(scopes: Scopes, expr: ast.AST, rec: CallSite) -> bool:
    """`expr` is (a name bound here to) `keras.Input(...)` / `InputLayer(...)`."""
    if isinstance(expr, ast.Call):
        return (call_tail(expr) or "") in ("Input", "InputLayer")
    if not isinstance(expr, ast.Name):
        return False
    r = scopes.reaching(expr.id, rec.scope, rec.order, rec.blocks)
    if r is None or not r[1]:
        return False
    return all(
        d.kind == "assign" and isinstance(d.value, ast.Call) and (call_tail(d.value) or "") in ("Input", "InputLayer")
        for d in r[1]
    )


def _first_layer_is_batch_norm(call: ast.Call) -> bool:
    """`Sequential([Input(...), BatchNormalization(), ...])`: the first layer after the input normalizes."""
    arg = keyword(call, "layers")
    value = nth_positional(call, 0) or (arg.value if arg is not None else None)
    if not isinstance(value, (ast.List, ast.Tuple)):
        return False
    for el in value.elts:
        layer = unstarred(el)
        if not isinstance(layer, ast.Call):
            return False
        tail = call_tail(layer) or ""
        if tail in ("Input", "InputLayer"):
            continue
        return tail in _BATCH_NORMS
    return False


def fn_status(scopes: Scopes, fn: ast.AST, depth: int, scope: Optional[Scope] = None) -> FnStatus:
    """What a function mapped over a dataset does to pixels.

    "scaled", "unknown", "neutral", or ("decodes", decode call node, function name)
    when it decodes image files and never scales them.
    """
    if depth > 4:
        return "unknown"
    scope = scope or scopes.module_scope
    if isinstance(fn, ast.Lambda):
        body, label = body_of(fn), "lambda"
    elif isinstance(fn, ast.Name):
        q = scopes.qualify(fn) or ""
        if q.rsplit(".", 1)[-1] in apis.SCALING_CALLS:
            return "scaled"
        found = scopes.local_function(fn.id, scope, INF, ())
        if found is None:
            return "unknown"
        body, label = body_of(found), fn.id
        scope = scopes.fn_scope.get(id(found), scope)
    elif isinstance(fn, ast.Attribute):
        q = scopes.qualify(fn) or ""
        return "scaled" if q.rsplit(".", 1)[-1] in apis.SCALING_CALLS else "unknown"
    elif isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        body, label = body_of(fn), fn.name
    else:
        return "unknown"
    return _body_status(scopes, body, label, depth, scope)


def _body_status(scopes: Scopes, body: Sequence[ast.AST], label: str, depth: int, scope: Scope) -> FnStatus:
    unknown = False
    decode: Optional[ast.AST] = None
    for node in source_walk(body):
        if isinstance(node, ast.BinOp) and is_scale_op(node, scopes.lines):
            return "scaled"
        if isinstance(node, ast.AugAssign) and isinstance(node.op, (ast.Div, ast.Sub)):
            return "scaled"
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if not isinstance(func, (ast.Name, ast.Attribute)):
            continue
        q = scopes.qualify(func) or ""
        tail = q.rsplit(".", 1)[-1]
        if tail in apis.SCALING_CALLS or tail in ("cast", "Rescaling", "Normalization"):
            return "scaled"
        if tail in _DECODERS:
            if decode is None or (call_tail(decode) or "") not in _DECODERS:  # type: ignore[arg-type]
                decode = node
            continue
        if apis.is_loader(q):
            decode = decode or node
            continue
        inner: Optional[ast.AST] = None
        if tail in ("py_function", "numpy_function"):
            arg = nth_positional(node, 0)
            kw = keyword(node, "func")
            inner = arg if arg is not None else (kw.value if kw is not None else None)
            if inner is None:
                continue
        elif isinstance(func, ast.Name) and scopes.local_function(func.id, scope, INF, ()) is not None:
            inner = func
        if inner is not None:
            status = fn_status(scopes, inner, depth + 1, scope)
            if status == "scaled":
                return "scaled"
            if status == "unknown":
                unknown = True
            elif isinstance(status, tuple):
                decode = decode or status[1]
            continue
        if _unknown_call(scopes, func, q, scope):
            unknown = True
    if unknown:
        return "unknown"
    if decode is not None:
        return ("decodes", decode, label)
    return "neutral"


def _unknown_call(scopes: Scopes, func: ast.AST, q: str, scope: Scope) -> bool:
    """A call in a mapped function that may do anything to the pixels."""
    if isinstance(func, ast.Name):
        if scopes.is_local(func.id, scope) or func.id in apis.BUILTIN_NAMES:
            return False  # a layer object or callable built in this file, or a builtin
        return q.split(".")[0] not in apis.KNOWN_LIBS
    return scopes.is_imported_head(func) and q.split(".")[0] not in apis.KNOWN_LIBS


class KerasInputs:
    """The Keras side of CNL101 for one file: file-wide facts about the model, and `pipe`."""

    def __init__(self, scopes: Scopes, flow: ImageFlow) -> None:
        self.scopes = scopes
        self.flow = flow
        self.idg_norm_values: Set[int] = set()
        for rec in scopes.calls:
            if is_idg(scopes, rec.node):
                arg = keyword(rec.node, "preprocessing_function")  # type: ignore[arg-type]
                if arg is not None:
                    self.idg_norm_values.add(id(arg.value))
        # (walk order, at module level) of each call that may bring a model from elsewhere
        self.unknown_calls: List[Tuple[int, bool]] = []
        self.input_names: Set[str] = set()
        self.model_scaling = False
        self._model_calls()
        self.model_unknown = self._model_facts()

    # ---- file-wide facts about the model

    def _model_calls(self) -> None:
        """Calls that build the model's first layers or load a model from elsewhere."""
        scopes = self.scopes
        for rec in scopes.calls:
            node: ast.Call = rec.node  # type: ignore[assignment]
            func = node.func
            if isinstance(func, ast.Call) and (call_tail(func) or "") in _BATCH_NORMS:
                arg = nth_positional(node, 0)
                if arg is not None and _is_model_input(scopes, arg, rec):
                    self.model_scaling = True  # `BatchNormalization()(inputs)`: the first layer standardizes the pixels
                continue
            if not isinstance(func, (ast.Name, ast.Attribute)):
                continue
            q = scopes.qualify(func) or ""
            parts = q.split(".")
            tail = parts[-1]
            kerasish = "keras" in parts or parts[0] in ("tensorflow", "tf_keras") or len(parts) == 1
            if kerasish and isinstance(func, ast.Name) and scopes.local_class(func.id, rec.scope) is not None:
                kerasish = False
            if tail in _MODEL_UNKNOWN or q in ("tensorflow_hub.load", "tensorflow.saved_model.load"):
                self.unknown_calls.append((rec.order, rec.scope is scopes.module_scope))
            if "applications" in parts and tail[:1].isupper() and _BUILTIN_RESCALING.match(tail):
                inc = keyword(node, "include_preprocessing")
                if inc is None or not is_falsy_literal(inc.value):
                    self.model_scaling = True
            if kerasish and self._scaling_layer(node, tail):
                self.model_scaling = True

    def _scaling_layer(self, node: ast.Call, tail: str) -> bool:
        if tail == "Input" or tail == "InputLayer":
            self.input_names.update(self.scopes.call_targets.get(id(node), ()))
            return False
        if tail in ("Rescaling", "Normalization", "per_image_standardization"):
            return True
        if tail in _BATCH_NORMS and (keyword(node, "input_shape") or keyword(node, "batch_input_shape")):
            return True  # `BatchNormalization(input_shape=...)`: the first layer standardizes the pixels
        if tail == "Sequential" and _first_layer_is_batch_norm(node):
            return True
        if tail == "Lambda":
            arg = nth_positional(node, 0)
            kw = keyword(node, "function")
            fn = arg if arg is not None else (kw.value if kw is not None else None)
            return fn is None or not isinstance(fn, ast.Lambda) or fn_status(self.scopes, fn, 0) != "neutral"
        return False

    def _model_facts(self) -> bool:
        """Whether a model may come from elsewhere; completes `model_scaling` from operations."""
        scopes = self.scopes
        for ref in scopes.preprocess_refs:
            if id(ref) not in self.idg_norm_values:
                self.model_scaling = True
        for op, _scope, klass in scopes.divisions:
            if klass is not None and keras_subclass(scopes, klass):
                self.model_scaling = True
                continue
            if names_in(op) & self.input_names:
                self.model_scaling = True
        return "rescale" in scopes.attr_assigns or "preprocessing_function" in scopes.attr_assigns

    def model_unknown_at(self, rec: CallSite) -> bool:
        """A model from elsewhere may reach this `fit`: a `load_model`/`from_pretrained`/... call that
        runs before it. At module level (a script, or notebook cells), one that comes after the `fit`
        (loading the saved model for inference) cannot."""
        if self.model_unknown:
            return True
        at_module = rec.scope is self.scopes.module_scope
        return any(not (at_module and module and order > rec.order) for order, module in self.unknown_calls)

    # ---- is the model being trained built in this file?

    def builds_model(self, expr: ast.AST, scope: Scope, pos: int, blocks: Blocks, depth: int = 0) -> bool:
        """True when `expr` (the receiver of `fit`) is a Keras model constructed in this file."""
        scopes = self.scopes
        if depth > 6:
            return False
        if isinstance(expr, ast.Name):
            r = scopes.reaching(expr.id, scope, pos, blocks)
            if r is None or not r[1]:
                return False
            if not all(d.kind in ("assign", "walrus") for d in r[1]):
                return False
            return all(self.builds_model(d.value, d.scope, d.order, d.blocks, depth + 1) for d in r[1])  # type: ignore[arg-type]
        if not isinstance(expr, ast.Call) or not isinstance(expr.func, (ast.Name, ast.Attribute)):
            return False
        func = expr.func
        if isinstance(func, ast.Name):
            cls = scopes.local_class(func.id, scope)
            if cls is not None:
                return keras_subclass(scopes, cls)
            fn = scopes.local_function(func.id, scope, pos, blocks)
            if fn is not None:
                inner = scopes.fn_scope.get(id(fn))
                if inner is None or not inner.returns:
                    return False
                return all(self.builds_model(v, inner, o, b, depth + 1) for v, o, b in inner.returns)
            if scopes.is_local(func.id, scope):
                return self._built_by_factories(func.id, scope, pos, blocks, depth)
        q = scopes.qualify(func) or ""
        parts = q.split(".")
        tail = parts[-1]
        if "applications" in parts and tail[:1].isupper():
            return True
        kerasish = "keras" in parts or parts[0] in ("tensorflow", "tf_keras") or len(parts) == 1
        return kerasish and tail in ("Sequential", "Model", "Functional")

    def _built_by_factories(self, param: str, scope: Scope, pos: int, blocks: Blocks, depth: int) -> bool:
        """`model = make_model()` where `make_model` is a parameter of the function around it
        (`def train_and_evaluate(make_model): ...`): every call of that function in the file passes
        one of the file's functions for it, and at least one of them builds a Keras model (others
        may be exercise stubs that build nothing; a model loaded anywhere is caught by
        model_unknown_at). Quiet when any call passes something else (an imported factory, a
        lambda, nothing)."""
        scopes = self.scopes
        fn = scope.node
        if scope.kind != "function" or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        params = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        r = scopes.reaching(param, scope, pos, blocks)
        if param not in params or r is None or any(d.kind != "param" for d in r[1]):
            return False
        sites = scopes.calls_of(fn)
        if sites is None:
            return False
        built = False
        for site in sites:
            factory_name = argument_for(site.node, params, param)  # type: ignore[arg-type]
            if not isinstance(factory_name, ast.Name):
                return False
            factory = scopes.local_function(factory_name.id, site.scope, site.order, site.blocks)
            inner = scopes.fn_scope.get(id(factory)) if factory is not None else None
            if inner is None:
                return False
            if inner.returns and all(self.builds_model(v, inner, o, b, depth + 1) for v, o, b in inner.returns):
                built = True
        return built

    # ---- generators

    def resolve_idg(self, expr: ast.AST, scope: Scope, pos: int, blocks: Blocks) -> Optional[ast.Call]:
        if isinstance(expr, ast.Call):
            return expr if is_idg(self.scopes, expr) else None
        if isinstance(expr, ast.Name):
            r = self.scopes.reaching(expr.id, scope, pos, blocks)
            if r is None or not r[1]:
                return None
            found = None
            for d in r[1]:
                if d.kind != "assign" or not is_idg(self.scopes, d.value):
                    return None
                found = d.value
            return found  # type: ignore[return-value]
        return None

    @staticmethod
    def idg_normalizes(call: ast.Call) -> Optional[bool]:
        """True if it scales, False if not, None when we cannot tell (positional args, **kwargs)."""
        if has_star_kwargs(call) or call.args:
            return None
        for kw in call.keywords:
            if kw.arg in _IDG_NORMALIZING and not is_falsy_literal(kw.value):
                return True
        return False

    # ---- walking a training input back to where its pixels enter

    def pipe(self, expr: ast.AST, scope: Scope, pos: int, blocks: Blocks, depth: int = 0) -> Pipe:
        if depth > 20:
            return _unknown()
        if isinstance(expr, ast.Name):
            return self._name_pipe(expr, scope, pos, blocks, depth)
        if isinstance(expr, ast.Call):
            found = self._call_pipe(expr, scope, pos, blocks, depth)
            if found is not None:
                return found
        return self._array(expr, scope, pos, blocks)

    def _name_pipe(self, expr: ast.Name, scope: Scope, pos: int, blocks: Blocks, depth: int) -> Pipe:
        scopes = self.scopes
        r = scopes.reaching(expr.id, scope, pos, blocks, mutcalls=True)
        if r is None or not r[1]:
            return _unknown()
        in_place = any(d.kind == "mutcall" and self.flow.may_scale_in_place(d.value, d.scope) for d in r[1])  # type: ignore[arg-type]
        defs = [d for d in r[1] if d.kind != "mutcall"]
        if not defs:
            return _unknown()
        if all(d.kind in ("assign", "walrus") for d in defs):
            merged = self._merge([self.pipe(d.value, d.scope, d.order, d.blocks, depth + 1) for d in defs])  # type: ignore[arg-type]
            if in_place and merged.state == "unscaled" and merged.kind == "array":
                return Pipe("scaled", "other")  # `normalize(X)` may have scaled the array in place
            return merged
        if all(d.kind == "unpack" for d in defs):
            results = [self._pipe_elem(d.value, d.path, d.scope, d.order, d.blocks, depth + 1) for d in defs]  # type: ignore[arg-type]
            if all(r is not None for r in results):
                return self._merge(results)  # type: ignore[arg-type]
        if any(d.kind == "aug" and isinstance(d.op, (ast.Div, ast.Mult, ast.Sub)) for d in defs):
            return Pipe("scaled", "other")
        return self._array(expr, scope, pos, blocks)

    def _call_pipe(self, expr: ast.Call, scope: Scope, pos: int, blocks: Blocks, depth: int) -> Optional[Pipe]:
        """A call feeding `fit`; None to fall back to the array taint."""
        scopes = self.scopes
        func = expr.func
        if self._is_idfd(expr):
            return Pipe("unscaled", "idfd", expr)
        local, inner = self._local_function(func, scope, pos, blocks)
        if local:
            if inner is None:
                return _unknown()
            return self._merge([self.pipe(v, inner, o, b, depth + 1) for v, o, b in inner.returns])
        if isinstance(func, ast.Attribute) and not scopes.is_imported_head(func, scope):
            attr = func.attr
            if attr in _DS_PASSTHROUGH:
                return self.pipe(func.value, scope, pos, blocks, depth + 1)
            if attr == "map":
                return self._map_pipe(expr, func, scope, pos, blocks, depth)
            if attr in _IDG_FLOWS:
                return self._flow_pipe(expr, func, scope, pos, blocks)
        q = scopes.qualify(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
        tail = (q or "").rsplit(".", 1)[-1]
        if tail in ("from_tensor_slices", "from_tensors"):
            return self._slices_pipe(expr, scope, pos, blocks)
        return None

    def _map_pipe(self, expr: ast.Call, func: ast.Attribute, scope: Scope, pos: int, blocks: Blocks, depth: int) -> Pipe:
        arg = nth_positional(expr, 0)
        kw = keyword(expr, "map_func")
        fn = arg if arg is not None else (kw.value if kw is not None else None)
        if fn is None:
            return _unknown()
        status = fn_status(self.scopes, fn, 0, scope)
        if status == "scaled":
            return Pipe("scaled", "other")
        if status == "unknown":
            return _unknown()
        if isinstance(status, tuple):
            return Pipe("unscaled", "decode", status[1], status[2])
        return self.pipe(func.value, scope, pos, blocks, depth + 1)

    def _flow_pipe(self, expr: ast.Call, func: ast.Attribute, scope: Scope, pos: int, blocks: Blocks) -> Pipe:
        """`gen.flow(x)`, `gen.flow_from_directory(...)`: scaled when the generator scales."""
        gen = self.resolve_idg(func.value, scope, pos, blocks)
        if gen is None:
            return _unknown()
        norm = self.idg_normalizes(gen)
        if norm is None:
            return _unknown()
        if norm:
            return Pipe("scaled", "idg", gen)
        if func.attr == "flow":
            kw = keyword(expr, "x")
            x = kw.value if kw is not None else nth_positional(expr, 0)
            if x is None:
                return _unknown()
            t = self.flow.taint(x, scope, pos, blocks)
            if t[0] == 2 and not t[1]:
                return Pipe("unscaled", "idg", gen, func.attr, t)
            return Pipe("scaled", "other") if t[0] else _unknown()
        return Pipe("unscaled", "idg", gen, func.attr)

    def _slices_pipe(self, expr: ast.Call, scope: Scope, pos: int, blocks: Blocks) -> Pipe:
        arg = nth_positional(expr, 0)
        kw = keyword(expr, "tensors")
        value = arg if arg is not None else (kw.value if kw is not None else None)
        if value is None:
            return _unknown()
        if isinstance(value, (ast.Tuple, ast.List)) and value.elts:
            value = unstarred(value.elts[0])
        elif isinstance(value, (ast.Tuple, ast.List, ast.Dict)):
            return _unknown()
        if isinstance(value, ast.Dict):
            return _unknown()
        res = self._array(value, scope, pos, blocks)
        if res.state == "unscaled" and res.node is None:
            res.node = value
        return res

    def _pipe_elem(self, value: ast.AST, path: Tuple[int, ...], scope: Scope, pos: int, blocks: Blocks,
                   depth: int) -> Optional[Pipe]:
        """`a, b = value`: what element `path` is, or None to fall back to the array taint."""
        if depth > 20:
            return _unknown()
        if not path:
            return self.pipe(value, scope, pos, blocks, depth + 1)
        if isinstance(value, ast.Call):
            if self._is_idfd(value):
                return Pipe("unscaled", "idfd", value)
            local, inner = self._local_function(value.func, scope, pos, blocks)
            if not local:
                return None
            if inner is None:
                return _unknown()
            results = []
            for v, o, b in inner.returns:
                r = self._pipe_elem(v, path, inner, o, b, depth + 1)
                results.append(r if r is not None else _unknown())
            return self._merge(results)
        if isinstance(value, (ast.Tuple, ast.List)):
            els = value.elts
            if any(isinstance(e, ast.Starred) for e in els) or path[0] >= len(els):
                return _unknown()
            return self._pipe_elem(els[path[0]], path[1:], scope, pos, blocks, depth + 1)
        return None

    def _local_function(self, func: ast.AST, scope: Scope, pos: int, blocks: Blocks) -> Tuple[bool, Optional[Scope]]:
        """(the callee is a function of this file, its scope when it plainly returns values)."""
        if not isinstance(func, ast.Name):
            return False, None
        fn = self.scopes.local_function(func.id, scope, pos, blocks)
        if fn is None:
            return False, None
        inner = self.scopes.fn_scope.get(id(fn))
        if inner is None or inner.has_yield or not inner.returns:
            return True, None
        return True, inner

    def _array(self, expr: ast.AST, scope: Scope, pos: int, blocks: Blocks) -> Pipe:
        t = self.flow.taint(expr, scope, pos, blocks)
        if t[0] == 2:
            if t[1]:
                return Pipe("scaled", "other")
            return Pipe("unscaled", "array", None, "", t)
        return _unknown()

    def _is_idfd(self, call: ast.Call) -> bool:
        q = self.scopes.qualify(call.func) if isinstance(call.func, (ast.Name, ast.Attribute)) else None
        if not q or q.rsplit(".", 1)[-1] != "image_dataset_from_directory":
            return False
        parts = q.split(".")
        return len(parts) == 1 or "keras" in parts or parts[0] == "tensorflow"

    @staticmethod
    def _merge(results: List[Pipe]) -> Pipe:
        if not results or any(r.state == "unknown" for r in results):
            return _unknown()
        for r in results:
            if r.state == "scaled":
                return r
        return results[-1]
