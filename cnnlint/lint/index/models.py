"""What the models of a file put out, and the losses they are compiled with (Keras and PyTorch).

`ctx.get(KerasCompiled)` lists each `model.compile(...)` of a Keras model built in the file with the
model's output layer and the loss; `KerasModels` and `TorchModels` follow a model to its last
layer. Everything is built on the file's `Bindings`; an unknown layer or loss is None (quiet).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from cnnlint.lint.index.bindings import FUNCTIONS, Binding, Bindings, argument, nth_positional
from cnnlint.lint.index.names import dotted_name, keyword, string_value
from cnnlint.lint.index.source_text import short_code
from cnnlint.lint.index.syntax import walk

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

KERAS_ROOTS = {"keras", "tensorflow", "tf_keras", "tf"}


def label(bindings: Bindings, node: ast.AST, limit: int = 60) -> str:
    """A node's code, shortened, for a message."""
    return short_code(bindings.syntax, node, limit)


def literal_bool(expr: Optional[ast.AST]) -> Optional[bool]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, bool):
        return expr.value
    return None


def is_none(expr: Optional[ast.AST]) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def plain_args(call: ast.Call) -> List[ast.expr]:
    """The positional arguments that are not `*args`."""
    return [a for a in call.args if not isinstance(a, ast.Starred)]


def has_star(call: ast.Call) -> bool:
    """`*args` or `**kwargs` among the arguments."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(kw.arg is None for kw in call.keywords)


def only_plain_args(call: ast.Call) -> bool:
    """Positional arguments only, none of them starred."""
    return not call.keywords and not any(isinstance(a, ast.Starred) for a in call.args)


def element_values(seq: ast.AST) -> List[ast.AST]:
    """The elements of a list or tuple display (`*xs` stands as `xs`)."""
    return [el.value if isinstance(el, ast.Starred) else el for el in getattr(seq, "elts", ())]


def keeps_labels(call: ast.Call) -> bool:
    """`ds.map(lambda x, y: (f(x), y))`: the labels pass through unchanged."""
    fn = nth_positional(call, 0)
    if not isinstance(fn, ast.Lambda):
        return False
    params = fn.args.args
    if len(params) != 2:
        return False
    body = fn.body
    if not isinstance(body, ast.Tuple) or len(body.elts) != 2:
        return False
    lab = body.elts[1]
    lab = lab.value if isinstance(lab, ast.Starred) else lab
    return isinstance(lab, ast.Name) and lab.id == params[1].arg


# --------------------------------------------------------------------------- Keras


def keras_name(bindings: Bindings, func: ast.AST) -> Optional[str]:
    """The Keras class/function name a callee resolves to, or None when not Keras."""
    q = bindings.q(func)
    if not q:
        return None
    parts = q.split(".")
    if len(parts) == 1:
        return parts[0] if bindings.keras else None
    if parts[0] in KERAS_ROOTS:
        return parts[-1]
    return None


@dataclass
class Out:
    """What a Keras model puts out."""

    kind: str  # softmax | sigmoid | linear | other
    units: Optional[int]
    layer: ast.Call  # the call that decides the activation
    dense: Optional[ast.Call]  # the Dense that gives the units


def activation_kind(bindings: Bindings, expr: Optional[ast.AST]) -> Optional[str]:
    if expr is None or is_none(expr):
        return "linear"
    s = string_value(expr)
    if s is not None:
        s = s.lower()
        return s if s in ("softmax", "sigmoid", "linear") else "other"
    q = bindings.q(expr)
    if q and q.split(".")[0] in KERAS_ROOTS and q.split(".")[-1] in ("softmax", "sigmoid", "linear"):
        return q.split(".")[-1]
    return None


def keras_layer(bindings: Bindings, call: Optional[ast.AST]) -> Optional[Out]:
    """What a layer call puts out, for the layers that decide a model's output."""
    if not isinstance(call, ast.Call):
        return None
    name = keras_name(bindings, call.func)
    if name == "Dense":
        units = argument(call, "units", 0)
        kind = activation_kind(bindings, argument(call, "activation", 1))
        if kind is None:
            return None
        return Out(kind, bindings.integer(units) if units is not None else None, call, call)
    if name == "Softmax":
        return Out("softmax", None, call, None)
    if name == "Activation":
        arg = argument(call, "activation", 0)
        kind = activation_kind(bindings, arg) if arg is not None else None
        if kind is None or kind == "linear":
            return None
        return Out(kind, None, call, None)
    return None


def with_units(out: Optional[Out], previous: Optional[Out]) -> Optional[Out]:
    if out is None:
        return None
    if out.dense is None and previous is not None and previous.dense is not None and previous.kind == "linear":
        return Out(out.kind, previous.units, out.layer, previous.dense)
    return out


def out_text(bindings: Bindings, out: Out) -> str:
    if out.dense is not None and out.dense is not out.layer:
        return f"`{label(bindings, out.dense)}` followed by `{label(bindings, out.layer)}`"
    return f"`{label(bindings, out.layer)}`"


def _known_binding(b: Optional[Binding]) -> bool:
    return b is not None and not b.conditional and b.unpack is None and b.value is not None


class KerasModels:
    """The output layer of Sequential and functional models built in this file."""

    def __init__(self, bindings: Bindings) -> None:
        self.f = bindings

    def output(self, var: str, at: ast.AST) -> Optional[Out]:
        """The output of the model bound to `var`, as seen at `at`."""
        b = self.f.binding(var, at)
        if b is None or not _known_binding(b) or not isinstance(b.value, ast.Call):
            return None
        call = b.value
        name = keras_name(self.f, call.func)
        if name == "Sequential":
            return self._sequential(var, call, b, at)
        if name in ("Model", "Functional"):
            out = argument(call, "outputs", 1)
            return self._functional(out, call) if out is not None else None
        return None

    def _sequential(self, var: str, call: ast.Call, bind: Binding, at: ast.AST) -> Optional[Out]:
        f = self.f
        layers: List[ast.AST] = []
        arg = argument(call, "layers", 0)
        if arg is not None:
            if not isinstance(arg, (ast.List, ast.Tuple)):
                return None
            layers = element_values(arg)
        # model.add(...) calls between the Sequential() binding and the use
        end = f.position(at)
        for c in f.calls:
            func = c.node.func
            if (
                c.tail in ("add", "pop")
                and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == var
                and bind.order < c.order < end
                and c.scope is bind.scope
            ):
                if c.tail == "pop" or c.block is not bind.block:
                    return None
                first = nth_positional(c.node, 0)
                if first is None:
                    return None
                layers.append(first)
        if not layers:
            return None
        last = keras_layer(f, layers[-1])
        previous = keras_layer(f, layers[-2]) if len(layers) > 1 else None
        return with_units(last, previous)

    def _functional(self, out: ast.AST, at: ast.AST) -> Optional[Out]:
        last = self._applied(out, at)
        if last is None:
            return None
        layer_out, arg = last
        if layer_out.dense is None and arg is not None:
            prev = self._applied(arg, at)
            if prev is not None:
                return with_units(layer_out, prev[0])
        return layer_out

    def _applied(self, expr: ast.AST, at: ast.AST) -> Optional[Tuple[Out, Optional[ast.AST]]]:
        """`Dense(10, activation="softmax")(x)` (directly or via the name bound to it)."""
        f = self.f
        node: Optional[ast.AST] = expr
        if isinstance(expr, ast.Name):
            b = f.binding(expr.id, at)
            if not _known_binding(b):
                return None
            node = b.value  # type: ignore[union-attr]
        if not isinstance(node, ast.Call):
            return None
        layer: ast.AST = node.func
        if isinstance(layer, ast.Name):  # `prediction_layer = Dense(1)` ... `prediction_layer(x)`
            lb = f.binding(layer.id, node)
            if not _known_binding(lb) or not isinstance(lb.value, ast.Call):  # type: ignore[union-attr]
                return None
            layer = lb.value  # type: ignore[union-attr]
        if not isinstance(layer, ast.Call):
            return None
        out = keras_layer(f, layer)
        if out is None:
            return None
        return out, nth_positional(node, 0)


@dataclass
class Loss:
    """A Keras loss."""

    kind: str  # cce | scce | bce
    from_logits: Optional[bool]  # None: not a literal
    node: ast.AST  # where to report
    logits_arg: Optional[ast.AST]  # the from_logits argument (keyword or positional)
    text: str


LOSS_STRINGS = {
    "categorical_crossentropy": "cce",
    "sparse_categorical_crossentropy": "scce",
    "binary_crossentropy": "bce",
    "categoricalcrossentropy": "cce",
    "sparsecategoricalcrossentropy": "scce",
    "binarycrossentropy": "bce",
}
LOSS_NAMES = {
    "categorical_crossentropy": "cce",
    "sparse_categorical_crossentropy": "scce",
    "binary_crossentropy": "bce",
    "CategoricalCrossentropy": "cce",
    "SparseCategoricalCrossentropy": "scce",
    "BinaryCrossentropy": "bce",
}


def keras_loss(bindings: Bindings, expr: ast.AST) -> Optional[Loss]:
    value = bindings.value_of(expr) if isinstance(expr, ast.Name) else expr
    if value is None:
        return None
    s = string_value(value)
    if s is not None:
        kind = LOSS_STRINGS.get(s.lower())
        return Loss(kind, False, value, None, f'"{s}"') if kind else None
    if isinstance(value, ast.Call):
        name = keras_name(bindings, value.func)
        kind = LOSS_NAMES.get(name or "")
        if kind is None or name is None or name[0].islower():
            return None
        kw = keyword(value, "from_logits")
        arg: Optional[ast.AST] = kw if kw is not None else nth_positional(value, 0)
        arg_value = kw.value if kw is not None else arg
        logits = literal_bool(arg_value) if arg is not None else False
        if arg is not None and logits is None:
            return None
        return Loss(kind, logits, value, arg, label(bindings, value))
    name = keras_name(bindings, value) if isinstance(value, (ast.Name, ast.Attribute)) else None
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"):
        return Loss(LOSS_NAMES[name], False, value, None, dotted_name(value) or name)  # type: ignore[index]
    return None


@dataclass
class Compiled:
    compile_call: ast.Call
    model: ast.Name
    out: Optional[Out]
    loss: Optional[Loss]


class KerasCompiled:
    """An analysis: `ctx.get(KerasCompiled).models`, every `model.compile(...)` of the file."""

    def __init__(self, ctx: "FileContext") -> None:
        f = ctx.get(Bindings)
        models = KerasModels(f)
        self.models: List[Compiled] = []
        if not f.keras:
            return
        for c in f.calls:
            func = c.node.func
            if c.tail != "compile" or not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
                continue
            recv = func.value
            loss_arg = argument(c.node, "loss", 1)
            loss = keras_loss(f, loss_arg) if loss_arg is not None else None
            self.models.append(Compiled(c.node, recv, models.output(recv.id, c.node), loss))

    def names(self) -> List[str]:
        return [comp.model.id for comp in self.models]


# --------------------------------------------------------------------------- PyTorch

TORCH_FUNCTIONAL_ACTS = {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid"}
TORCH_MODULE_ACTS = {"Softmax": "softmax", "LogSoftmax": "log_softmax", "Sigmoid": "sigmoid", "Linear": "linear"}
MODULE_BASES = ("Module", "LightningModule")
DEVICE_MOVES = ("to", "cuda", "cpu", "float", "double", "half", "train", "eval", "to_empty")


def torch_name(bindings: Bindings, func: ast.AST) -> Optional[str]:
    q = bindings.q(func)
    if not q:
        return None
    parts = q.split(".")
    if parts[0] == "torch" or (len(parts) == 1 and bindings.torch):
        return parts[-1]
    return None


def strip_device(expr: ast.AST) -> ast.AST:
    """`Net().to(device).cuda()` -> `Net()`."""
    while (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr in DEVICE_MOVES
        and isinstance(expr.func.value, ast.Call)
    ):
        expr = expr.func.value
    return expr


@dataclass
class TorchOut:
    kind: str  # softmax | log_softmax | sigmoid | linear
    node: ast.AST  # the activation (or Linear) that decides it


def walk_no_nested(fn: ast.AST) -> Iterator[ast.AST]:
    """Every node of a function's body, without nested functions, classes and lambdas."""
    for stmt in getattr(fn, "body", ()):
        yield from walk(stmt, stop=(*FUNCTIONS, ast.ClassDef, ast.Lambda))


class TorchModels:
    """The torch.nn.Module classes of the file and what a module object outputs."""

    def __init__(self, bindings: Bindings) -> None:
        self.f = bindings
        self.module_classes: Dict[str, ast.ClassDef] = {}
        for cls in bindings.classes:
            for base in cls.bases:
                name = dotted_name(base) or ""
                if name.split(".")[-1] in MODULE_BASES:
                    self.module_classes[cls.name] = cls

    def module_output(self, expr: ast.AST, depth: int = 0) -> Optional[TorchOut]:
        """What a module object (a constructor call) outputs."""
        f = self.f
        if depth > 4:
            return None
        expr = strip_device(expr)
        if not isinstance(expr, ast.Call):
            return None
        if isinstance(expr.func, ast.Name) and expr.func.id in self.module_classes:
            return self.class_output(self.module_classes[expr.func.id], depth + 1)
        name = torch_name(f, expr.func)
        if name in TORCH_MODULE_ACTS:
            return TorchOut(TORCH_MODULE_ACTS[name], expr)  # type: ignore[index]
        if name == "Sequential":
            items = plain_args(expr)
            if not items or has_star(expr):
                return None
            last = items[-1]
            if isinstance(last, ast.Call):
                return self.module_output(last, depth + 1)
        return None

    def class_output(self, cls: ast.ClassDef, depth: int) -> Optional[TorchOut]:
        forward = None
        for stmt in cls.body:
            if isinstance(stmt, FUNCTIONS) and stmt.name == "forward":
                forward = stmt
        if forward is None:
            return None
        returns = [n for n in walk_no_nested(forward) if isinstance(n, ast.Return)]
        if not returns:
            return None
        outs = [self.expr_output(r.value, depth) if r.value is not None else None for r in returns]
        if any(o is None for o in outs):
            return None
        kinds = {o.kind for o in outs if o is not None}
        return outs[0] if len(kinds) == 1 else None

    def expr_output(self, expr: ast.AST, depth: int) -> Optional[TorchOut]:
        """What an expression inside forward evaluates to: softmax(x), self.fc(x), ..."""
        f = self.f
        if depth > 6:
            return None
        if isinstance(expr, ast.Name):
            b = f.binding(expr.id, expr)
            if not _known_binding(b):
                return None
            return self.expr_output(b.value, depth + 1)  # type: ignore[union-attr, arg-type]
        if not isinstance(expr, ast.Call):
            return None
        func = expr.func
        name = torch_name(f, func)
        if name in TORCH_FUNCTIONAL_ACTS and (dotted_name(func) or "").count(".") >= 1:
            return TorchOut(TORCH_FUNCTIONAL_ACTS[name], expr)  # type: ignore[index]
        if isinstance(func, ast.Attribute) and func.attr in TORCH_FUNCTIONAL_ACTS:
            if not (dotted_name(func) or "").startswith("self."):
                # x.softmax(dim=1) on a tensor
                q = f.q(func)
                if q.split(".")[0] not in ("torch", "F") and (q.count(".") == 1 or dotted_name(func) is None):
                    return TorchOut(TORCH_FUNCTIONAL_ACTS[func.attr], expr)
        key = dotted_name(func)
        if key is not None and key.startswith("self.") and key.count(".") == 1:
            value = f.value_of(func)
            if value is not None:
                return self.module_output(value, depth + 1)
        return None
