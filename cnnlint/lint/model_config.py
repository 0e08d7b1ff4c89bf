"""CNL3xx: model, loss and optimizer configuration.

CNL301 activation-loss-mismatch: the model's output activation and the loss disagree.
CNL302 loss-label-mismatch: the loss expects another label encoding (or class count).
CNL303 pretrained-preprocessing-mismatch: pretrained weights fed another pixel scaling.
CNL304 learning-rate-out-of-range: a literal learning rate no optimizer can train with.

All four judge the whole file in `finish`, on one shared index (`_Facts`) built
with a single walk: every call with its qualified name, scope and walk order,
and every binding of a name (or `self.attr`) with its value. A name is followed
to its last binding before the use in the same scope (then the module scope);
a binding under `if`/`for`/`while`/`try`, or one that is not a plain assignment,
makes the value unknown, and unknown means quiet.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Tuple

import libcst as cst

from cnnlint.findings import Severity
from cnnlint.lint.rule import Rule
from cnnlint.lint.tree import all_params, arithmetic, call_tail, children, dotted_name, keyword, positional, short_code, string_value, walk

_KERAS_ROOTS = {"keras", "tensorflow", "tf_keras", "tf"}
_CONTROL = frozenset(getattr(cst, n) for n in ("If", "For", "While", "Try", "TryStar", "Match") if hasattr(cst, n))

# --------------------------------------------------------------------------- the shared index


@dataclass
class _Bind:
    order: int
    scope: Optional[cst.CSTNode]  # the enclosing function (None: module level)
    value: Optional[cst.CSTNode]  # the assigned expression; None when not a plain assignment
    block: Optional[cst.CSTNode]  # the innermost if/for/while/try around it inside its scope
    unpack: Optional[int] = None  # index into a tuple target (`(x, y), (a, b) = ...` flattens)
    node: Optional[cst.CSTNode] = None
    conditional: bool = False  # set per use: may not have run before the use

    @property
    def unconditional(self) -> bool:
        return self.block is None


@dataclass
class _Call:
    node: cst.Call
    qname: str  # qualified callee, "" when not a dotted name
    tail: str
    order: int
    scope: Optional[cst.CSTNode]
    block: Optional[cst.CSTNode]


class _Done:
    """Stack marker: the walk has finished an assignment's value."""

    __slots__ = ("binds",)

    def __init__(self, binds: List[_Bind]) -> None:
        self.binds = binds


class _Facts:
    def __init__(self, ctx) -> None:
        self.ctx = ctx
        self.module: cst.Module = ctx.module
        self.imports = ctx.imports
        self.calls: List[_Call] = []
        self.binds: Dict[str, List[_Bind]] = {}
        # id(node) -> (walk order, enclosing function, innermost control block inside it)
        self.info: Dict[int, Tuple[int, Optional[cst.CSTNode], Optional[cst.CSTNode]]] = {}
        self.block_parent: Dict[int, Optional[cst.CSTNode]] = {}
        self.classes: List[cst.ClassDef] = []
        self._added: List[_Bind] = []
        self.class_of_scope: Dict[int, cst.ClassDef] = {}
        self.params: Dict[int, set] = {}  # id(function) -> parameter names
        # for the cross-check's facts, gathered in the same walk: parents, Name nodes by name, loops
        self.parents: Dict[int, cst.CSTNode] = {}
        self.names: Dict[str, List[cst.Name]] = {}
        self.loops: List[cst.CSTNode] = []  # For and CompFor, in source order
        self.assigns: List[cst.Assign] = []  # single-target assignments
        self.keras = self.imports.imports_any("tensorflow", "keras", "tf_keras")
        self.torch = self.imports.imports_any("torch", "torchvision", "lightning", "pytorch_lightning")
        self._walk()

    # ---- building

    def _walk(self) -> None:
        order = 0
        info = self.info
        calls = self.calls
        qualify = self.imports.qualify
        control = _CONTROL
        # (node, scope, block, class); block: the innermost if/for/while/try inside the function
        stack: List[Tuple[cst.CSTNode, Optional[cst.CSTNode], Optional[cst.CSTNode], Optional[cst.ClassDef]]] = [
            (self.module, None, None, None)
        ]
        pop, push = stack.pop, stack.append
        while stack:
            node, scope, cond, klass = pop()
            order += 1
            if type(node) is _Done:
                # the assignment's value has been walked: its bindings take effect from here
                for b in node.binds:
                    b.order = order
                continue
            info[id(node)] = (order, scope, cond)
            tp = type(node)
            if tp is cst.Name:
                names = self.names.get(node.value)
                if names is None:
                    self.names[node.value] = [node]
                else:
                    names.append(node)
            inner_scope, inner_cond, inner_class = scope, cond, klass
            if tp is cst.Call:
                calls.append(_Call(node, qualify(node.func) or "", call_tail(node) or "", order, scope, cond))
            elif tp is cst.Assign:
                if len(node.targets) == 1:
                    self.assigns.append(node)
                first = len(self._added)
                for target in node.targets:
                    self._bind(target.target, node.value, order, scope, cond)
                push((_Done(self._added[first:]), scope, cond, klass))
            elif tp in control:
                self.block_parent[id(node)] = cond
                inner_cond = node
                if tp is cst.For:
                    self.loops.append(node)
                    self._bind(node.target, None, order, scope, node)
            elif tp is cst.FunctionDef:
                inner_scope, inner_cond = node, None
                if klass is not None:
                    self.class_of_scope[id(node)] = klass
                    inner_class = None
                self.params[id(node)] = {param.name.value for param in all_params(node.params)}
            elif tp is cst.Lambda:
                inner_scope, inner_cond = node, None
            elif tp is cst.ClassDef:
                self.classes.append(node)
                inner_class = node
            elif tp is cst.AnnAssign or tp is cst.AugAssign:
                first = len(self._added)
                self._bind(node.target, node.value if tp is cst.AnnAssign else None, order, scope, cond)
                push((_Done(self._added[first:]), scope, cond, klass))
            elif tp is cst.CompFor or tp is cst.NamedExpr:
                if tp is cst.CompFor:
                    self.loops.append(node)
                self._bind(node.target, None, order, scope, node)
            elif tp is cst.WithItem:
                if node.asname is not None:
                    self._bind(node.asname.name, None, order, scope, cond)
            kids = children(node)
            parents = self.parents
            for k in reversed(kids):
                parents[id(k)] = node
                push((k, inner_scope, inner_cond, inner_class))

    def _bind(self, target, value, order, scope, cond, unpack=None) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            flat = _flatten_target(target)
            for i, el in enumerate(flat):
                if el is not None:
                    self._add(el, value if value is not None else None, order, scope, cond, i)
            return
        self._add(target, value, order, scope, cond, unpack)

    def _add(self, target, value, order, scope, cond, unpack) -> None:
        key = dotted_name(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
        if key is None:
            return
        b = _Bind(order, scope, value, cond, unpack, target)
        self.binds.setdefault(key, []).append(b)
        self._added.append(b)

    # ---- queries

    def q(self, expr: cst.CSTNode) -> str:
        return self.imports.qualify(expr) or ""

    def position(self, node: cst.CSTNode) -> int:
        return self.info.get(id(node), (0, None, None))[0]

    def scope_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.info.get(id(node), (0, None, None))[1]

    def block_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.info.get(id(node), (0, None, None))[2]

    def binding(self, key: str, at: cst.CSTNode) -> Optional[_Bind]:
        """The binding of `key` a use at `at` sees: last before it in its scope, else module level."""
        pos = self.position(at)
        scope = self.scope_of(at)
        binds = self.binds.get(key, [])
        if key.startswith("self."):
            klass = self.class_of_scope.get(id(scope)) if scope is not None else None
            if klass is None:
                return None
            mine = [b for b in binds if b.scope is not None and self.class_of_scope.get(id(b.scope)) is klass]
            # attributes: the one assignment in the class (several: unknown)
            return self._seen(mine[0], None) if len(mine) == 1 and mine[0].unconditional else None
        if scope is not None:
            if key in self.params.get(id(scope), set()):
                return None
            local = [b for b in binds if b.scope is scope]
            if local:
                before = [b for b in local if b.order < pos]
                return self._seen(before[-1], self.block_of(at)) if before else None
        module_binds = [b for b in binds if b.scope is None]
        if scope is None:
            module_binds = [b for b in module_binds if b.order < pos]
        elif module_binds:
            # a function sees the module's final binding when it runs; only trust a single one
            return self._seen(module_binds[0], None) if len(module_binds) == 1 else None
        return self._seen(module_binds[-1], self.block_of(at)) if module_binds else None

    def _seen(self, b: _Bind, use_block: Optional[cst.CSTNode]) -> _Bind:
        """The binding, marked conditional unless its block also encloses the use."""
        block = use_block
        while block is not None and block is not b.block:
            block = self.block_parent.get(id(block))
        return _Bind(b.order, b.scope, b.value, b.block, b.unpack, b.node, block is not b.block)

    def value_of(self, expr: cst.CSTNode, depth: int = 0) -> Optional[cst.CSTNode]:
        """Follow a name (or `self.attr`) to the expression bound to it; None when unknown."""
        seen = 0
        while isinstance(expr, (cst.Name, cst.Attribute)) and seen < 8:
            key = dotted_name(expr)
            if key is None or (isinstance(expr, cst.Attribute) and not key.startswith("self.")):
                return expr
            b = self.binding(key, expr)
            if b is None or b.value is None or b.conditional or b.unpack is not None:
                return None
            expr = b.value
            seen += 1
        return expr

    def is_param(self, expr: cst.CSTNode) -> bool:
        if not isinstance(expr, cst.Name):
            return False
        scope = self.scope_of(expr)
        return scope is not None and expr.value in self.params.get(id(scope), set())


def _flatten_target(target) -> List[Optional[cst.CSTNode]]:
    out: List[Optional[cst.CSTNode]] = []
    for el in target.elements:
        v = el.value
        if isinstance(v, (cst.Tuple, cst.List)):
            out.extend(_flatten_target(v))
        elif isinstance(v, cst.StarredElement):
            out.append(None)
        else:
            out.append(v)
    return out


_FACTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _facts(ctx) -> Optional[_Facts]:
    if ctx.module is None:
        return None
    f = _FACTS.get(ctx)
    if f is None:
        f = _FACTS[ctx] = _Facts(ctx)
    return f


# --------------------------------------------------------------------------- small value helpers


def _number(expr: Optional[cst.CSTNode], facts: Optional[_Facts] = None, depth: int = 0) -> Optional[float]:
    """A numeric literal, simple arithmetic on literals, or a module constant bound once to one."""
    if expr is None or depth > 6:
        return None
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            return float(expr.evaluated_value)
        except Exception:  # noqa: BLE001
            return None
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        v = _number(expr.expression, facts, depth + 1)
        return -v if v is not None else None
    if isinstance(expr, cst.BinaryOperation):
        a, b = _number(expr.left, facts, depth + 1), _number(expr.right, facts, depth + 1)
        if a is None or b is None:
            return None
        v = arithmetic(expr.operator, a, b)
        return float(v) if v is not None else None
    if isinstance(expr, cst.Name) and facts is not None:
        binds = facts.binds.get(expr.value, [])
        # a constant: bound exactly once in the whole file, at module level, unconditionally
        if len(binds) == 1 and binds[0].scope is None and binds[0].unconditional and binds[0].unpack is None:
            return _number(binds[0].value, facts, depth + 1)
    return None


def _int(expr, facts=None) -> Optional[int]:
    v = _number(expr, facts)
    return int(v) if v is not None and float(v).is_integer() else None


def _bool(expr: Optional[cst.CSTNode]) -> Optional[bool]:
    if isinstance(expr, cst.Name) and expr.value in ("True", "False"):
        return expr.value == "True"
    return None


def _fmt(v: float) -> str:
    return f"{v:g}"


def _label(call: cst.Call, module: cst.Module, limit: int = 60) -> str:
    return short_code(module, call, limit)


def _strip_device(expr: cst.CSTNode) -> cst.CSTNode:
    """`Net().to(device).cuda()` -> `Net()`."""
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in ("to", "cuda", "cpu", "float", "double", "half", "train", "eval", "to_empty")
        and isinstance(expr.func.value, cst.Call)
    ):
        expr = expr.func.value
    return expr


# --------------------------------------------------------------------------- Keras models and losses


@dataclass
class _Out:
    kind: str  # softmax | sigmoid | linear | other
    units: Optional[int]
    layer: cst.Call  # the call that decides the activation
    dense: Optional[cst.Call]  # the Dense that gives the units


_KERAS_ACT_LAYERS = {"Activation", "Softmax"}


def _keras_name(facts: _Facts, func: cst.CSTNode) -> Optional[str]:
    """The Keras class/function name a callee resolves to, or None when not Keras."""
    q = facts.q(func)
    if not q:
        return None
    parts = q.split(".")
    if len(parts) == 1:
        return parts[0] if facts.keras else None
    if parts[0] in _KERAS_ROOTS:
        return parts[-1]
    return None


def _activation_kind(facts: _Facts, expr: Optional[cst.CSTNode]) -> Optional[str]:
    if expr is None or (isinstance(expr, cst.Name) and expr.value == "None"):
        return "linear"
    s = string_value(expr)
    if s is not None:
        s = s.lower()
        return s if s in ("softmax", "sigmoid", "linear") else "other"
    q = facts.q(expr)
    if q and q.split(".")[0] in _KERAS_ROOTS and q.split(".")[-1] in ("softmax", "sigmoid", "linear"):
        return q.split(".")[-1]
    return None


def _keras_layer(facts: _Facts, call: cst.CSTNode) -> Optional[_Out]:
    """What a layer call puts out, for the layers that decide a model's output."""
    if not isinstance(call, cst.Call):
        return None
    name = _keras_name(facts, call.func)
    if name == "Dense":
        units_arg = keyword(call, "units") or positional(call, 0)
        act_arg = keyword(call, "activation") or positional(call, 1)
        kind = _activation_kind(facts, act_arg.value if act_arg is not None else None)
        if kind is None:
            return None
        return _Out(kind, _int(units_arg.value, facts) if units_arg else None, call, call)
    if name == "Softmax":
        return _Out("softmax", None, call, None)
    if name == "Activation":
        arg = keyword(call, "activation") or positional(call, 0)
        kind = _activation_kind(facts, arg.value) if arg is not None else None
        if kind is None or kind == "linear":
            return None
        return _Out(kind, None, call, None)
    return None


def _with_units(out: Optional[_Out], previous: Optional[_Out]) -> Optional[_Out]:
    if out is None:
        return None
    if out.dense is None and previous is not None and previous.dense is not None and previous.kind == "linear":
        return _Out(out.kind, previous.units, out.layer, previous.dense)
    return out


class _KerasModels:
    """The output layer of Sequential and functional models built in this file."""

    def __init__(self, facts: _Facts) -> None:
        self.facts = facts

    def output(self, model_expr: cst.CSTNode, at: cst.CSTNode) -> Optional[_Out]:
        f = self.facts
        if not isinstance(model_expr, cst.Name):
            return None
        b = f.binding(model_expr.value, at)
        if b is None or b.conditional or b.unpack is not None or not isinstance(b.value, cst.Call):
            return None
        call = b.value
        name = _keras_name(f, call.func)
        if name == "Sequential":
            return self._sequential(model_expr.value, call, b, at)
        if name in ("Model", "Functional"):
            out = keyword(call, "outputs") or positional(call, 1)
            return self._functional(out.value, call) if out is not None else None
        return None

    def _sequential(self, var: str, call: cst.Call, bind: _Bind, at: cst.CSTNode) -> Optional[_Out]:
        f = self.facts
        layers: List[cst.CSTNode] = []
        arg = keyword(call, "layers") or positional(call, 0)
        if arg is not None:
            if not isinstance(arg.value, (cst.List, cst.Tuple)):
                return None
            layers = [el.value for el in arg.value.elements]
        # model.add(...) calls between the Sequential() binding and the use
        end = f.position(at)
        for c in f.calls:
            if (
                c.tail in ("add", "pop")
                and isinstance(c.node.func, cst.Attribute)
                and isinstance(c.node.func.value, cst.Name)
                and c.node.func.value.value == var
                and bind.order < c.order < end
                and c.scope is bind.scope
            ):
                if c.tail == "pop" or c.block is not bind.block:
                    return None
                first = positional(c.node, 0)
                if first is None:
                    return None
                layers.append(first.value)
        if not layers:
            return None
        last = _keras_layer(f, layers[-1])
        previous = _keras_layer(f, layers[-2]) if len(layers) > 1 else None
        return _with_units(last, previous)

    def _functional(self, out: cst.CSTNode, at: cst.CSTNode) -> Optional[_Out]:
        last = self._applied(out, at)
        if last is None:
            return None
        layer_out, arg = last
        if layer_out.dense is None and arg is not None:
            prev = self._applied(arg, at)
            if prev is not None:
                return _with_units(layer_out, prev[0])
        return layer_out

    def _applied(self, expr: cst.CSTNode, at: cst.CSTNode) -> Optional[Tuple[_Out, Optional[cst.CSTNode]]]:
        """`Dense(10, activation="softmax")(x)` (directly or via the name bound to it)."""
        f = self.facts
        node = expr
        if isinstance(expr, cst.Name):
            b = f.binding(expr.value, at)
            if b is None or b.conditional or b.unpack is not None or b.value is None:
                return None
            node = b.value
        if not isinstance(node, cst.Call):
            return None
        layer = node.func
        if isinstance(layer, cst.Name):  # `prediction_layer = Dense(1)` ... `prediction_layer(x)`
            lb = f.binding(layer.value, node)
            if lb is None or lb.conditional or lb.unpack is not None or not isinstance(lb.value, cst.Call):
                return None
            layer = lb.value
        if not isinstance(layer, cst.Call):
            return None
        out = _keras_layer(f, layer)
        if out is None:
            return None
        first = positional(node, 0)
        return out, (first.value if first is not None else None)


@dataclass
class _Loss:
    kind: str  # cce | scce | bce
    from_logits: Optional[bool]  # None: not a literal
    node: cst.CSTNode  # where to report
    logits_arg: Optional[cst.Arg]
    text: str


_LOSS_STRINGS = {
    "categorical_crossentropy": "cce",
    "sparse_categorical_crossentropy": "scce",
    "binary_crossentropy": "bce",
    "categoricalcrossentropy": "cce",
    "sparsecategoricalcrossentropy": "scce",
    "binarycrossentropy": "bce",
}
_LOSS_NAMES = {
    "categorical_crossentropy": "cce",
    "sparse_categorical_crossentropy": "scce",
    "binary_crossentropy": "bce",
    "CategoricalCrossentropy": "cce",
    "SparseCategoricalCrossentropy": "scce",
    "BinaryCrossentropy": "bce",
}


def _keras_loss(facts: _Facts, expr: cst.CSTNode) -> Optional[_Loss]:
    value = facts.value_of(expr) if isinstance(expr, cst.Name) else expr
    if value is None:
        return None
    s = string_value(value)
    if s is not None:
        kind = _LOSS_STRINGS.get(s.lower())
        return _Loss(kind, False, value, None, f'"{s}"') if kind else None
    if isinstance(value, cst.Call):
        name = _keras_name(facts, value.func)
        kind = _LOSS_NAMES.get(name or "")
        if kind is None or name is None or name[0].islower():
            return None
        arg = keyword(value, "from_logits") or positional(value, 0)
        logits = _bool(arg.value) if arg is not None else False
        if arg is not None and logits is None:
            return None
        return _Loss(kind, logits, value, arg, _label(value, facts.module))
    name = _keras_name(facts, value) if isinstance(value, (cst.Name, cst.Attribute)) else None
    if name in ("categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"):
        return _Loss(_LOSS_NAMES[name], False, value, None, dotted_name(value) or name)
    return None


@dataclass
class _Compiled:
    compile_call: cst.Call
    model: cst.Name
    out: Optional[_Out]
    loss: Optional[_Loss]


def _compiled_models(facts: _Facts) -> List[_Compiled]:
    cached = getattr(facts, "_compiled", None)
    if cached is not None:
        return cached
    models = _KerasModels(facts)
    found: List[_Compiled] = []
    if facts.keras:
        for c in facts.calls:
            if c.tail != "compile" or not isinstance(c.node.func, cst.Attribute):
                continue
            recv = c.node.func.value
            if not isinstance(recv, cst.Name):
                continue
            loss_arg = keyword(c.node, "loss") or positional(c.node, 1)
            loss = _keras_loss(facts, loss_arg.value) if loss_arg is not None else None
            found.append(_Compiled(c.node, recv, models.output(recv, c.node), loss))
    facts._compiled = found  # type: ignore[attr-defined]
    return found


def _out_text(out: _Out, module: cst.Module) -> str:
    if out.dense is not None and out.dense is not out.layer:
        return f"`{_label(out.dense, module)}` followed by `{_label(out.layer, module)}`"
    return f"`{_label(out.layer, module)}`"


_LOSS_WORD = {"cce": "categorical_crossentropy", "scce": "sparse_categorical_crossentropy", "bce": "binary_crossentropy"}

# --------------------------------------------------------------------------- PyTorch models and losses

_TORCH_LOSS = {
    "CrossEntropyLoss": "ce", "cross_entropy": "ce",
    "NLLLoss": "nll", "nll_loss": "nll",
    "BCEWithLogitsLoss": "bcel", "binary_cross_entropy_with_logits": "bcel",
    "BCELoss": "bce", "binary_cross_entropy": "bce",
}
_TORCH_FUNCTIONAL_ACTS = {"softmax": "softmax", "log_softmax": "log_softmax", "sigmoid": "sigmoid"}
_TORCH_MODULE_ACTS = {"Softmax": "softmax", "LogSoftmax": "log_softmax", "Sigmoid": "sigmoid", "Linear": "linear"}
_MODULE_BASES = ("Module", "LightningModule")


def _torch_name(facts: _Facts, func: cst.CSTNode) -> Optional[str]:
    q = facts.q(func)
    if not q:
        return None
    parts = q.split(".")
    if parts[0] == "torch" or (len(parts) == 1 and facts.torch):
        return parts[-1]
    return None


@dataclass
class _TOut:
    kind: str  # softmax | log_softmax | sigmoid | linear
    node: cst.CSTNode  # the activation (or Linear) that decides it


class _TorchModels:
    def __init__(self, facts: _Facts) -> None:
        self.facts = facts
        self.module_classes: Dict[str, cst.ClassDef] = {}
        for cls in facts.classes:
            for base in cls.bases:
                name = dotted_name(base.value) or ""
                if name.split(".")[-1] in _MODULE_BASES:
                    self.module_classes[cls.name.value] = cls

    def module_output(self, expr: cst.CSTNode, depth: int = 0) -> Optional[_TOut]:
        """What a module object (a constructor call) outputs."""
        f = self.facts
        if depth > 4:
            return None
        expr = _strip_device(expr)
        if not isinstance(expr, cst.Call):
            return None
        if isinstance(expr.func, cst.Name) and expr.func.value in self.module_classes:
            return self.class_output(self.module_classes[expr.func.value], depth + 1)
        name = _torch_name(f, expr.func)
        if name in _TORCH_MODULE_ACTS:
            return _TOut(_TORCH_MODULE_ACTS[name], expr)
        if name == "Sequential":
            items = [a.value for a in expr.args if a.keyword is None and not a.star]
            if not items or any(a.star for a in expr.args):
                return None
            last = items[-1]
            if isinstance(last, cst.Call) and _torch_name(f, last.func) == "Sequential":
                return self.module_output(last, depth + 1)
            if isinstance(last, cst.Call):
                return self.module_output(last, depth + 1)
        return None

    def class_output(self, cls: cst.ClassDef, depth: int) -> Optional[_TOut]:
        forward = None
        for stmt in cls.body.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == "forward":
                forward = stmt
        if forward is None:
            return None
        returns = [n for n in _walk_no_nested(forward) if isinstance(n, cst.Return)]
        if not returns:
            return None
        outs = [self.expr_output(r.value, depth) if r.value is not None else None for r in returns]
        if any(o is None for o in outs):
            return None
        kinds = {o.kind for o in outs if o is not None}
        return outs[0] if len(kinds) == 1 else None

    def expr_output(self, expr: cst.CSTNode, depth: int) -> Optional[_TOut]:
        """What an expression inside forward evaluates to: softmax(x), self.fc(x), ..."""
        f = self.facts
        if depth > 6:
            return None
        if isinstance(expr, cst.Name):
            b = f.binding(expr.value, expr)
            if b is None or b.value is None or b.conditional or b.unpack is not None:
                return None
            return self.expr_output(b.value, depth + 1)
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        name = _torch_name(f, func)
        if name in _TORCH_FUNCTIONAL_ACTS and (dotted_name(func) or "").count(".") >= 1:
            return _TOut(_TORCH_FUNCTIONAL_ACTS[name], expr)
        if isinstance(func, cst.Attribute) and func.attr.value in _TORCH_FUNCTIONAL_ACTS:
            if not (dotted_name(func) or "").startswith("self."):
                # x.softmax(dim=1) on a tensor
                q = f.q(func)
                if q.split(".")[0] not in ("torch", "F") and (q.count(".") == 1 or dotted_name(func) is None):
                    return _TOut(_TORCH_FUNCTIONAL_ACTS[func.attr.value], expr)
        key = dotted_name(func)
        if key is not None and key.startswith("self.") and key.count(".") == 1:
            value = f.value_of(func)
            if value is not None:
                return self.module_output(value, depth + 1)
        return None


def _walk_no_nested(fn: cst.FunctionDef) -> Iterator[cst.CSTNode]:
    for child in children(fn.body):
        yield from walk(child, stop=(cst.FunctionDef, cst.ClassDef, cst.Lambda))


# --------------------------------------------------------------------------- CNL301


class ActivationLossMismatch(Rule):
    code = "CNL301"
    name = "activation-loss-mismatch"
    severity = Severity.ERROR
    summary = "The model's output activation and the loss disagree (softmax with from_logits=True, logits into a probability loss)"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        return any(k in text for k in ("ntropy", "from_logits", "softmax", "Softmax", "BCE", "nll", "NLL", "cross_entropy"))

    def finish(self) -> None:
        facts = _facts(self.ctx)
        if facts is None:
            return
        if facts.keras:
            self._keras(facts)
        if facts.torch:
            self._torch(facts)

    def _keras(self, facts: _Facts) -> None:
        m = facts.module
        reported = set()
        for c in facts.calls:
            if c.tail != "Dense":
                continue
            out = _keras_layer(facts, c.node)
            if out is not None and out.kind == "softmax" and out.units == 1:
                reported.add(id(c.node))
                self.report(
                    c.node,
                    f'`{_label(c.node, m)}` always outputs 1.0: a softmax over a single unit normalises it '
                    "to one, so the loss is constant and the model cannot learn",
                    'for two classes use Dense(1, activation="sigmoid") with binary_crossentropy, '
                    'or Dense(2, activation="softmax") with a categorical loss',
                )
        for comp in _compiled_models(facts):
            out, loss = comp.out, comp.loss
            if out is None:
                continue
            if out.kind == "softmax" and out.units == 1 and id(out.layer) not in reported and out.dense is not None:
                reported.add(id(out.layer))
                self.report(
                    out.layer,
                    f"{_out_text(out, m)} always outputs 1.0: a softmax over a single unit normalises it to one, "
                    "so the loss is constant and the model cannot learn",
                    'for two classes use Dense(1, activation="sigmoid") with binary_crossentropy, '
                    'or Dense(2, activation="softmax") with a categorical loss',
                )
                continue
            if loss is None:
                continue
            if out.kind in ("softmax", "sigmoid") and loss.from_logits is True:
                target = loss.logits_arg if loss.logits_arg is not None else loss.node
                self.report(
                    target,
                    f"`{comp.model.value}` ends in {_out_text(out, m)}, which outputs probabilities, but "
                    f"`{loss.text}` treats its input as logits and applies {out.kind} again: the loss is computed "
                    "on squashed values and training stalls",
                    f"remove from_logits=True (or drop the {out.kind} from the last layer and keep from_logits=True)",
                )
            elif out.kind == "linear" and loss.from_logits is False:
                self.report(
                    loss.node,
                    f"`{comp.model.value}` ends in {_out_text(out, m)} with no activation (raw logits), but "
                    f"`{loss.text}` expects probabilities (from_logits=False): the loss is computed on "
                    "unnormalised scores and training goes wrong",
                    self._linear_hint(loss),
                )

    @staticmethod
    def _linear_hint(loss: _Loss) -> str:
        cls = {"cce": "CategoricalCrossentropy", "scce": "SparseCategoricalCrossentropy", "bce": "BinaryCrossentropy"}[loss.kind]
        act = "sigmoid" if loss.kind == "bce" else "softmax"
        return f'use loss=keras.losses.{cls}(from_logits=True), or add activation="{act}" to the last Dense layer'

    def _torch(self, facts: _Facts) -> None:
        models = _TorchModels(facts)
        m = facts.module
        done = set()
        for c in facts.calls:
            loss_kind, loss_node = self._loss_at(facts, c)
            if loss_kind is None:
                continue
            pred = positional(c.node, 0) or keyword(c.node, "input")
            if pred is None:
                continue
            out = self._prediction(facts, models, pred.value)
            if out is None or id(out.node) in done:
                continue
            where = _label(loss_node, m) if isinstance(loss_node, cst.Call) else (dotted_name(loss_node) or "the loss")
            if out.kind == "softmax" and loss_kind in ("ce", "nll"):
                done.add(id(out.node))
                expects = "raw logits (it applies log_softmax itself)" if loss_kind == "ce" else "log-probabilities (log_softmax)"
                self.report(
                    out.node,
                    f"the model's output goes through `{_label(out.node, m)}` before `{where}`, which expects "
                    f"{expects}: the loss is computed on probabilities, gradients nearly vanish and training stalls",
                    "return the raw output of the last Linear layer (apply softmax only for predictions)"
                    if loss_kind == "ce" else "use log_softmax instead of softmax before NLLLoss",
                )
            elif out.kind == "sigmoid" and loss_kind == "bcel":
                done.add(id(out.node))
                self.report(
                    out.node,
                    f"the model's output goes through `{_label(out.node, m)}` before `{where}`, which applies "
                    "the sigmoid itself: the loss sees sigmoid(sigmoid(x)), always between 0.5 and 0.73, and "
                    "training stalls",
                    "return the raw output of the last Linear layer, or keep the sigmoid and use BCELoss",
                )
            elif out.kind == "linear" and loss_kind == "bce":
                done.add(id(out.node))
                self.report(
                    loss_node if isinstance(loss_node, cst.CSTNode) else c.node,
                    f"`{where}` expects probabilities in [0, 1], but the model ends in `{_label(out.node, m)}` "
                    "with no sigmoid (raw logits): the loss fails or is meaningless on values outside [0, 1]",
                    "use BCEWithLogitsLoss (numerically stable, applies the sigmoid itself)",
                )

    def _loss_at(self, facts: _Facts, c: _Call):
        """(kind, node describing the loss) when the call computes a known loss."""
        name = _torch_name(facts, c.node.func)
        if name in _TORCH_LOSS and name[0].islower() and "." in (dotted_name(c.node.func) or ""):
            return _TORCH_LOSS[name], c.node
        func = c.node.func
        if isinstance(func, (cst.Name, cst.Attribute)):
            value = facts.value_of(func) if (isinstance(func, cst.Name) or (dotted_name(func) or "").startswith("self.")) else None
            if value is None and isinstance(func, cst.Name) and facts.is_param(func):
                value = self._only_loss(facts)
            if isinstance(value, cst.Call):
                lname = _torch_name(facts, value.func)
                if lname in _TORCH_LOSS and lname[0].isupper():
                    return _TORCH_LOSS[lname], value
        return None, None

    def _only_loss(self, facts: _Facts) -> Optional[cst.Call]:
        if not hasattr(self, "_the_loss"):
            losses = [
                c.node for c in facts.calls
                if c.tail in _TORCH_LOSS and c.tail[0].isupper() and _torch_name(facts, c.node.func) == c.tail
            ]
            self._the_loss = losses[0] if len(losses) == 1 else None
        return self._the_loss

    def _prediction(self, facts: _Facts, models: _TorchModels, expr: cst.CSTNode) -> Optional[_TOut]:
        if isinstance(expr, cst.Name):
            b = facts.binding(expr.value, expr)
            if b is None or b.value is None or b.conditional or b.unpack is not None:
                return None
            expr = b.value
        if not isinstance(expr, cst.Call):
            return None
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value == "forward":
            func = func.value
        if isinstance(func, cst.Name) and func.value == "self":
            scope = facts.scope_of(expr)
            cls = facts.class_of_scope.get(id(scope)) if scope is not None else None
            return models.class_output(cls, 0) if cls is not None and cls.name.value in models.module_classes else None
        if not isinstance(func, cst.Name):
            return None
        model = facts.value_of(func)
        if model is None and facts.is_param(func):
            model = self._only_model(facts, models)
        if model is None:
            return None
        return models.module_output(model)

    def _only_model(self, facts: _Facts, models: _TorchModels) -> Optional[cst.Call]:
        """The one model this file builds, when a loop receives it as a parameter."""
        if hasattr(self, "_the_model"):
            return self._the_model
        inside = {id(m) for cls in models.module_classes.values() for m in cls.body.body}
        built = [
            c.node for c in facts.calls
            if isinstance(c.node.func, cst.Name) and c.node.func.value in models.module_classes
        ]
        others = [
            c for c in facts.calls
            if c.qname.startswith(("torchvision.models", "timm.", "transformers.", "segmentation_models"))
            or c.tail in ("from_pretrained", "load", "load_state_dict_from_url", "create_model")
            or (c.tail == "Sequential" and id(c.scope) not in inside)
        ]
        self._the_model = built[0] if len(built) == 1 and not others else None
        return self._the_model


# --------------------------------------------------------------------------- CNL302

_CLASS_COUNT_NAMES = re.compile(r"^(num_classes|n_classes|nb_classes|number_of_classes|classes_num|num_class|n_class|nclasses|numclasses)$", re.I)
_PASSTHROUGH = {"prefetch", "cache", "shuffle", "repeat", "batch", "take", "skip", "with_options", "unbatch"}


def _keeps_labels(call: cst.Call) -> bool:
    """`ds.map(lambda x, y: (f(x), y))`: the labels pass through unchanged."""
    arg = positional(call, 0)
    fn = arg.value if arg is not None else None
    if not isinstance(fn, cst.Lambda) or len(fn.params.params) != 2:
        return False
    body = fn.body
    if not isinstance(body, cst.Tuple) or len(body.elements) != 2:
        return False
    label = body.elements[1].value
    return isinstance(label, cst.Name) and label.value == fn.params.params[1].name.value


@dataclass
class _Labels:
    encoding: str  # int | onehot | binary
    node: cst.CSTNode
    text: str


class LossLabelMismatch(Rule):
    code = "CNL302"
    name = "loss-label-mismatch"
    severity = Severity.ERROR
    summary = "The loss expects another label encoding or class count than the data and the output layer give it"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        return "rossentropy" in text and "compile" in text

    def finish(self) -> None:
        facts = _facts(self.ctx)
        if facts is None or not facts.keras:
            return
        m = facts.module
        for comp in _compiled_models(facts):
            loss, out = comp.loss, comp.out
            if loss is None:
                continue
            if loss.kind == "bce" and out is not None and out.kind == "softmax" and out.units is not None and out.units > 1:
                self.report(
                    loss.node,
                    f"`{loss.text}` scores each output unit as an independent yes/no, but `{comp.model.value}` ends "
                    f"in {_out_text(out, m)}, whose {out.units} outputs compete and sum to 1",
                    "for one label per image use categorical_crossentropy (one-hot labels) or "
                    "sparse_categorical_crossentropy (integer labels); for multi-label use sigmoid",
                )
                continue
            labels = self._labels(facts, comp)
            if labels is not None:
                self._check_labels(comp, loss, labels)
            if out is not None and loss.kind in ("cce", "scce"):
                self._check_units(facts, comp, out)

    def _check_labels(self, comp: _Compiled, loss: _Loss, labels: _Labels) -> None:
        if loss.kind == "cce" and labels.encoding in ("int", "binary"):
            what = "integer class indices" if labels.encoding == "int" else "a single 0/1 value per image"
            self.report(
                loss.node,
                f"`{loss.text}` expects one-hot labels, but {labels.text} gives {what}",
                "use sparse_categorical_crossentropy for integer labels"
                if labels.encoding == "int" else 'use binary_crossentropy with Dense(1, activation="sigmoid"), '
                'or class_mode="categorical"',
            )
        elif loss.kind == "scce" and labels.encoding == "onehot":
            self.report(
                loss.node,
                f"`{loss.text}` expects integer class indices, but {labels.text} gives one-hot vectors",
                "use categorical_crossentropy for one-hot labels (or keep integer labels)",
            )

    def _labels(self, facts: _Facts, comp: _Compiled) -> Optional[_Labels]:
        """The label encoding of the data the compiled model is fit on (all fits must agree)."""
        found: List[_Labels] = []
        for c in facts.calls:
            if c.tail != "fit" or not isinstance(c.node.func, cst.Attribute):
                continue
            recv = c.node.func.value
            if not (isinstance(recv, cst.Name) and recv.value == comp.model.value):
                continue
            b_fit, b_compile = facts.binding(recv.value, c.node), facts.binding(recv.value, comp.compile_call)
            if b_fit is None or b_compile is None or b_fit.order != b_compile.order:
                continue
            x = keyword(c.node, "x") or positional(c.node, 0)
            y = keyword(c.node, "y") or positional(c.node, 1)
            labels = None
            if y is not None:
                labels = self._array_labels(facts, y.value)
            elif x is not None:
                labels = self._dataset_labels(facts, x.value)
            if labels is None:
                return None
            found.append(labels)
        if not found or len({lab.encoding for lab in found}) != 1:
            return None
        return found[0]

    def _dataset_labels(self, facts: _Facts, expr: cst.CSTNode) -> Optional[_Labels]:
        m = facts.module
        for _ in range(12):
            if isinstance(expr, cst.Name):
                expr = facts.value_of(expr)
                if expr is None:
                    return None
                continue
            if not isinstance(expr, cst.Call):
                return None
            tail = call_tail(expr) or ""
            if isinstance(expr.func, cst.Attribute) and (
                tail in _PASSTHROUGH or (tail == "map" and _keeps_labels(expr))
            ):
                expr = expr.func.value
                continue
            if tail in ("flow_from_directory", "flow_from_dataframe"):
                arg = keyword(expr, "class_mode")
                if arg is None:
                    return _Labels("onehot", expr, f'`{_label(expr, m)}` (class_mode defaults to "categorical")')
                mode = string_value(arg.value)
                enc = {"categorical": "onehot", "sparse": "int", "binary": "binary"}.get(mode or "")
                return _Labels(enc, expr, f'`{tail}(..., class_mode="{mode}")`') if enc else None
            if tail == "flow":
                y = keyword(expr, "y") or positional(expr, 1)
                return self._array_labels(facts, y.value) if y is not None else None
            if tail == "image_dataset_from_directory":
                if (keyword(expr, "labels") is not None and string_value(keyword(expr, "labels").value) != "inferred"):
                    return None
                arg = keyword(expr, "label_mode")
                if arg is None:
                    return _Labels("int", expr, f'`{_label(expr, m)}` (label_mode defaults to "int")')
                mode = string_value(arg.value)
                enc = {"categorical": "onehot", "int": "int", "binary": "binary"}.get(mode or "")
                return _Labels(enc, expr, f'`image_dataset_from_directory(..., label_mode="{mode}")`') if enc else None
            return None
        return None

    def _array_labels(self, facts: _Facts, expr: cst.CSTNode) -> Optional[_Labels]:
        if not isinstance(expr, cst.Name):
            if isinstance(expr, cst.Call):
                return self._call_labels(facts, expr, expr)
            return None
        b = facts.binding(expr.value, expr)
        if b is None or b.conditional or b.value is None:
            return None
        value = b.value
        if b.unpack is not None:
            if isinstance(value, cst.Call) and call_tail(value) == "load_data" and b.unpack in (1, 3):
                q = facts.q(value.func)
                if ".datasets." in f".{q}." and q.split(".")[0] in _KERAS_ROOTS:
                    return _Labels("int", b.node or expr, f"`{expr.value}` (integer labels from `{dotted_name(value.func)}()`)")
            return None
        if isinstance(value, cst.Call):
            return self._call_labels(facts, value, expr)
        return None

    def _call_labels(self, facts: _Facts, call: cst.Call, name: cst.CSTNode) -> Optional[_Labels]:
        tail = call_tail(call) or ""
        q = facts.q(call.func)
        label = dotted_name(name) if isinstance(name, cst.Name) else None
        if tail == "to_categorical" and (q.split(".")[0] in _KERAS_ROOTS or q == "to_categorical"):
            who = f"`{label}` (from `to_categorical`)" if label else "`to_categorical(...)`"
            return _Labels("onehot", call, who)
        if tail == "one_hot" and q.split(".")[0] in _KERAS_ROOTS:
            who = f"`{label}` (from `{dotted_name(call.func)}`)" if label else f"`{dotted_name(call.func)}(...)`"
            return _Labels("onehot", call, who)
        return None

    def _check_units(self, facts: _Facts, comp: _Compiled, out: _Out) -> None:
        if out.units is None or out.units < 2 or out.dense is None:
            return
        units_arg = keyword(out.dense, "units") or positional(out.dense, 0)
        if units_arg is None or not isinstance(units_arg.value, cst.Integer):
            return  # units from a name: the rule cannot tell the names apart
        stated = self._stated_classes(facts)
        if stated is None:
            return
        count, name, node = stated
        if count == out.units or count < 2:
            return
        self.report(
            units_arg.value,
            f"the output layer has {out.units} units, but `{name}` says there are {count} classes: "
            f"the model predicts over {out.units} classes",
            f"use Dense({name}, ...) so the output matches the classes",
        )

    def _stated_classes(self, facts: _Facts) -> Optional[Tuple[int, str, cst.CSTNode]]:
        """A class count the code states once: `num_classes = 10` or `len(class_names)` of a literal list."""
        found = []
        for key, binds in facts.binds.items():
            if "." in key or len(binds) != 1 or binds[0].scope is not None or not binds[0].unconditional:
                continue
            b = binds[0]
            if b.unpack is not None or b.value is None:
                continue
            if _CLASS_COUNT_NAMES.match(key):
                count = _int(b.value, facts)
                if count is None and isinstance(b.value, cst.Call) and call_tail(b.value) == "len":
                    arg = positional(b.value, 0)
                    count = self._literal_len(facts, arg.value) if arg is not None else None
                if count is not None:
                    found.append((count, key, b.value))
            elif key.lower() in ("class_names", "classes", "labels", "class_labels", "categories"):
                pass
        # the name must not be used as units somewhere (then the file has several models)
        if len(found) != 1:
            return None
        count, key, node = found[0]
        for c in facts.calls:
            if c.tail == "Dense":
                arg = keyword(c.node, "units") or positional(c.node, 0)
                if arg is not None and not isinstance(arg.value, cst.Integer):
                    return None
        return count, key, node

    @staticmethod
    def _literal_len(facts: _Facts, expr: cst.CSTNode) -> Optional[int]:
        value = facts.value_of(expr) if isinstance(expr, cst.Name) else expr
        if isinstance(value, (cst.List, cst.Tuple)) and not any(isinstance(e, cst.StarredElement) for e in value.elements):
            return len(value.elements)
        return None


# --------------------------------------------------------------------------- CNL303

# keras.applications constructors and how their weights expect pixels (checked against Keras 3.15 source)
_CAFFE = re.compile(r"^(VGG16|VGG19|ResNet50|ResNet101|ResNet152)$")
_INTERNAL = re.compile(
    r"^(EfficientNetB[0-7]|EfficientNetV2(B[0-3]|S|M|L)|ConvNeXt(Tiny|Small|Base|Large|XLarge)|"
    r"MobileNetV3(Small|Large)|RegNet[XY]\d+|ResNetRS\d+)$"
)
_INCLUDE_PREPROCESSING = re.compile(r"^(EfficientNetV2|ConvNeXt|MobileNetV3|RegNet|ResNetRS)")
_TV_CLASSIFIERS = re.compile(
    r"^(resnet\d+|resnext\d+_\w+|wide_resnet\d+_\d|vgg\d+(_bn)?|alexnet|densenet\d+|mobilenet_v[23](_large|_small)?|"
    r"efficientnet_(b[0-7]|v2_[sml])|convnext_(tiny|small|base|large)|regnet_[xy]_\w+|vit_[bhl]_\d+|"
    r"swin_(v2_)?[tsb]|squeezenet1_[01]|shufflenet_v2_x\w+|mnasnet\w+|googlenet|inception_v3|maxvit_t)$"
)


def _is_one_over_255(expr: Optional[cst.CSTNode], facts: _Facts) -> bool:
    v = _number(expr, facts)
    return v is not None and abs(v - 1 / 255) < 1e-6


class PretrainedPreprocessingMismatch(Rule):
    code = "CNL303"
    name = "pretrained-preprocessing-mismatch"
    severity = Severity.WARNING
    summary = "Pretrained weights are fed pixels scaled differently from how they were trained"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        keras = ("applications" in text or "include_top" in text) and ("rescale" in text or "Rescaling" in text)
        torch = "torchvision" in text and ("weights" in text or "pretrained" in text)
        return keras or torch

    def finish(self) -> None:
        facts = _facts(self.ctx)
        if facts is None:
            return
        if facts.keras:
            self._keras(facts)
        if facts.imports.imports_any("torchvision"):
            self._torch(facts)

    # ---- Keras

    def _keras_pretrained(self, facts: _Facts) -> List[Tuple[cst.Call, str, str]]:
        """(call, class name, mode) for keras.applications models with ImageNet weights."""
        out = []
        for c in facts.calls:
            parts = c.qname.split(".")
            if "applications" not in parts or parts[0] not in _KERAS_ROOTS:
                continue
            name = parts[-1]
            if _CAFFE.match(name):
                mode = "caffe"
            elif _INTERNAL.match(name):
                mode = "internal"
                if _INCLUDE_PREPROCESSING.match(name):
                    arg = keyword(c.node, "include_preprocessing")
                    if arg is not None and _bool(arg.value) is not True:
                        continue
            else:
                out.append((c.node, name, "other"))
                continue
            weights = keyword(c.node, "weights")
            if weights is not None and string_value(weights.value) != "imagenet":
                continue
            out.append((c.node, name, mode))
        return out

    def _keras(self, facts: _Facts) -> None:
        models = self._keras_pretrained(facts)
        if not models or any(mode == "other" for _, _, mode in models):
            return
        modes = {mode for _, _, mode in models}
        names = sorted({name for _, name, _ in models})
        if len(modes) != 1 or "preprocess_input" in facts.ctx.source.text:
            return
        mode = modes.pop()
        model_text = " / ".join(f"`{n}`" for n in names)
        if mode == "caffe":
            expects = (
                "expects its own preprocess_input (\"caffe\" mode: BGR channels with the ImageNet mean "
                "subtracted, values around -124..152)"
            )
            hint = (
                f"replace rescale=1./255 with preprocessing_function=keras.applications.{_module_of(names[0])}.preprocess_input"
            )
        else:
            expects = "rescales 0-255 pixels itself (a Rescaling/Normalization layer inside the model)"
            hint = "drop rescale=1./255 and feed the 0-255 pixels as they are"
        trains = any(c.tail in ("fit", "fit_generator") for c in facts.calls)
        if not trains:
            return
        for c in facts.calls:
            tail = c.tail
            if tail == "ImageDataGenerator":
                if _keras_name(facts, c.node.func) is None:
                    continue
                arg = keyword(c.node, "rescale")
                if arg is None or not _is_one_over_255(arg.value, facts) or keyword(c.node, "preprocessing_function"):
                    continue
                if not self._feeds_fit(facts, c.node):
                    continue
                self.report(
                    arg,
                    f"`rescale={_source(facts, arg.value)}` scales pixels to [0, 1], but the pretrained {model_text} "
                    f"{expects}: the pretrained features see inputs they were never trained on",
                    hint,
                )
            elif tail == "Rescaling" and mode == "internal":
                if _keras_name(facts, c.node.func) is None:
                    continue
                arg = keyword(c.node, "scale") or positional(c.node, 0)
                offset = keyword(c.node, "offset") or positional(c.node, 1)
                if arg is None or not _is_one_over_255(arg.value, facts) or offset is not None:
                    continue
                if not self._rescaling_feeds_model(facts, c.node, [n for n, _, _ in models]):
                    continue
                self.report(
                    c.node,
                    f"`{_label(c.node, facts.module)}` scales pixels to [0, 1] before the pretrained {model_text}, "
                    f"which {expects}: the network sees values of at most 1/255",
                    "remove the Rescaling layer: the model expects 0-255 pixels",
                )

    @staticmethod
    def _feeds_fit(facts: _Facts, idg: cst.Call) -> bool:
        """The generator's flow_* output reaches a fit call (the generator is a training/validation source)."""
        var = None
        parent = facts.ctx.parent(idg)
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
            var = parent.targets[0].target.value
        for c in facts.calls:
            if c.tail in ("flow_from_directory", "flow_from_dataframe", "flow") and isinstance(c.node.func, cst.Attribute):
                recv = c.node.func.value
                if recv is idg or (var is not None and isinstance(recv, cst.Name) and recv.value == var):
                    return True
        return False

    @staticmethod
    def _rescaling_feeds_model(facts: _Facts, rescale: cst.Call, model_calls: List[cst.Call]) -> bool:
        """Rescaling in the same Sequential list as the pretrained model, or `base(x)` with x = Rescaling(...)(...)."""
        parent = facts.ctx.parent(rescale)
        # Sequential([Rescaling(1/255), base, ...])
        if isinstance(parent, cst.Element):
            lst = facts.ctx.parent(parent)
            if isinstance(lst, (cst.List, cst.Tuple)):
                for el in lst.elements:
                    v = el.value
                    if any(v is mc for mc in model_calls):
                        return True
                    if isinstance(v, cst.Name):
                        val = facts.value_of(v)
                        if any(val is mc for mc in model_calls):
                            return True
            return False
        # x = Rescaling(1/255)(inputs); x = base_model(x, training=False)
        if not (isinstance(parent, cst.Call) and parent.func is rescale):
            return False
        assign = facts.ctx.parent(parent)
        if not (isinstance(assign, cst.Assign) and isinstance(assign.targets[0].target, cst.Name)):
            return False
        var = assign.targets[0].target.value
        for c in facts.calls:
            first = positional(c.node, 0)
            if first is None or not isinstance(first.value, cst.Name) or first.value.value != var:
                continue
            if c.order <= facts.position(assign):
                continue
            callee = c.node.func
            target = callee if any(callee is mc for mc in model_calls) else (
                facts.value_of(callee) if isinstance(callee, cst.Name) else None
            )
            if target is not None and any(target is mc for mc in model_calls):
                b = facts.binding(var, first.value)
                return b is not None and b.value is parent
        return False

    # ---- torchvision

    def _torch(self, facts: _Facts) -> None:
        text = facts.ctx.source.text
        if "Normalize" in text or "normalize" in text or ".transforms()" in text or "transforms()" in text:
            return
        if "timm" in text or "AutoImageProcessor" in text or "FeatureExtractor" in text:
            return
        pretrained = []
        for c in facts.calls:
            parts = c.qname.split(".")
            if len(parts) < 3 or parts[0] != "torchvision" or parts[1] != "models" or len(parts) != 3:
                continue
            if not _TV_CLASSIFIERS.match(parts[2]):
                continue
            weights = keyword(c.node, "weights")
            legacy = keyword(c.node, "pretrained")
            if weights is not None:
                if isinstance(weights.value, cst.Name) and weights.value.value == "None":
                    continue
                w = string_value(weights.value)
                wq = facts.q(weights.value)
                if w is not None and not w.startswith(("IMAGENET", "DEFAULT")):
                    continue
                if w is None and not (wq.endswith(".DEFAULT") or ".IMAGENET1K" in wq):
                    continue
            elif legacy is not None:
                if _bool(legacy.value) is not True:
                    continue
            else:
                continue
            pretrained.append(c)
        if not pretrained:
            return
        composes = []
        for c in facts.calls:
            if c.tail != "Compose" or not c.qname.startswith("torchvision.transforms"):
                continue
            arg = positional(c.node, 0)
            if arg is None or not isinstance(arg.value, (cst.List, cst.Tuple)):
                return  # a transform list built elsewhere: unknown
            tails = [call_tail(e.value) for e in arg.value.elements if isinstance(e.value, cst.Call)]
            if len(tails) != len(arg.value.elements):
                return
            if any(t in ("ToTensor", "ToImage", "PILToTensor", "ToDtype", "ConvertImageDtype") for t in tails):
                composes.append(c.node)
        model = pretrained[0].node
        model_text = dotted_name(model.func) or "the model"
        for comp in composes:
            self.report(
                comp,
                f"`{_label(comp, facts.module, 40)}` has no `Normalize`, but `{model_text}` loads ImageNet weights "
                "trained on inputs normalised with the ImageNet mean and std: the pretrained features see "
                "shifted inputs",
                "add transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]) after ToTensor, "
                "or use the weights' own weights.transforms()",
            )


def _module_of(name: str) -> str:
    return {"VGG16": "vgg16", "VGG19": "vgg19"}.get(name, "resnet")


def _source(facts: _Facts, node: cst.CSTNode) -> str:
    return short_code(facts.module, node, limit=1 << 30)


# --------------------------------------------------------------------------- CNL304

# optimizer class -> family; thresholds: family -> (too high at or above, or None)
_OPT_FAMILY = {
    "SGD": "sgd", "ASGD": "sgd",
    "Adam": "adam", "AdamW": "adam", "Adamax": "adam", "Nadam": "adam", "NAdam": "adam", "RAdam": "adam",
    "SparseAdam": "adam", "Lion": "adam", "RMSprop": "rmsprop",
    "Adagrad": "other", "Adadelta": "other", "Ftrl": "other", "LBFGS": "other", "Rprop": "other",
    "Adafactor": "other", "Lamb": "other", "Muon": "other", "LossScaleOptimizer": None,
}
_HIGH = {"sgd": 1.0, "adam": 0.1, "rmsprop": 0.1}
_LOW = 1e-7
_TYPICAL = {"sgd": "0.001-0.1", "adam": "1e-5-1e-2", "rmsprop": "1e-4-1e-2"}
_KERAS_SCHEDULES = {
    "ExponentialDecay": ("initial_learning_rate",),
    "InverseTimeDecay": ("initial_learning_rate",),
    "PolynomialDecay": ("initial_learning_rate",),
    "CosineDecay": ("initial_learning_rate",),
    "CosineDecayRestarts": ("initial_learning_rate",),
}
_LR_OVERRIDES = re.compile(
    r"\[\s*['\"]lr['\"]\s*\]\s*=|OneCycleLR|CyclicLR|LearningRateScheduler|set_value\(|learning_rate\.assign|lr\.assign|"
    r"adjust_learning_rate|adjust_lr|LRFinder|lr_find|find_lr"
)


@dataclass
class _Opt:
    call: cst.Call
    name: str
    family: str
    framework: str  # keras | torch


class LearningRateOutOfRange(Rule):
    code = "CNL304"
    name = "learning-rate-out-of-range"
    severity = Severity.WARNING
    summary = "A literal learning rate far outside the range the optimizer can train with"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        return "optim" in text and ("lr" in text or "learning_rate" in text or "Adam" in text or "SGD" in text
                                    or "RMSprop" in text or "Nadam" in text or "Lion" in text)

    def finish(self) -> None:
        facts = _facts(self.ctx)
        if facts is None or not (facts.keras or facts.torch):
            return
        overridden = _LR_OVERRIDES.search(facts.ctx.source.text) is not None
        for c in facts.calls:
            opt = self._optimizer(facts, c)
            if opt is None:
                continue
            lr_arg = self._lr_arg(opt)
            if lr_arg is None:
                continue
            value = lr_arg.value
            target = facts.value_of(value) if isinstance(value, cst.Name) else value
            if isinstance(target, cst.Call) and opt.framework == "keras":
                self._schedule(facts, opt, target, lr_arg)
                continue
            if overridden:
                continue
            lr = _number(value, facts)
            if lr is None:
                continue
            self._judge(facts, opt, lr, lr_arg.value, "learning rate")
        if not overridden or "OneCycleLR" in facts.ctx.source.text:
            self._one_cycle(facts)

    def _optimizer(self, facts: _Facts, c: _Call) -> Optional[_Opt]:
        parts = c.qname.split(".")
        if len(parts) < 2:
            return None
        name = parts[-1]
        family = _OPT_FAMILY.get(name)
        if family is None:
            return None
        if parts[0] == "torch" and "optim" in parts:
            return _Opt(c.node, name, family, "torch")
        if parts[0] in _KERAS_ROOTS and "optimizers" in parts:
            return _Opt(c.node, name, family, "keras")
        return None

    @staticmethod
    def _lr_arg(opt: _Opt) -> Optional[cst.Arg]:
        if opt.framework == "torch":
            return keyword(opt.call, "lr") or positional(opt.call, 1)
        return keyword(opt.call, "learning_rate") or keyword(opt.call, "lr") or positional(opt.call, 0)

    def _judge(self, facts: _Facts, opt: _Opt, lr: float, node: cst.CSTNode, what: str) -> None:
        src = _source(facts, node)
        shown = src if isinstance(node, (cst.Integer, cst.Float)) else f"`{src}` = {_fmt(lr)}"
        high = _HIGH.get(opt.family)
        if high is not None and lr >= high:
            self.report(
                node,
                f"{what} {shown} for `{opt.name}` is far too high (typical range {_TYPICAL[opt.family]}): "
                "the first updates blow the weights up and the loss becomes NaN or never falls",
                f"start from {'0.01-0.1' if opt.family == 'sgd' else '1e-3'} and tune from there",
            )
        elif 0 <= lr <= _LOW:
            self.report(
                node,
                f"{what} {shown} for `{opt.name}` is so small that the weights barely move: "
                "training runs but the model does not learn",
                "use a learning rate of at least 1e-6 (1e-5 to 1e-3 for fine-tuning)",
            )

    def _schedule(self, facts: _Facts, opt: _Opt, sched: cst.Call, lr_arg: cst.Arg) -> None:
        name = _keras_name(facts, sched.func)
        if name not in _KERAS_SCHEDULES:
            return
        if name == "CosineDecay" and keyword(sched, "warmup_target") is not None:
            arg = keyword(sched, "warmup_target")
        else:
            arg = keyword(sched, "initial_learning_rate") or positional(sched, 0)
        if arg is None:
            return
        lr = _number(arg.value, facts)
        if lr is None:
            return
        self._judge(facts, opt, lr, arg.value, f"`{name}` learning rate")

    def _one_cycle(self, facts: _Facts) -> None:
        for c in facts.calls:
            if c.tail != "OneCycleLR" or not c.qname.startswith("torch."):
                continue
            arg = keyword(c.node, "max_lr") or positional(c.node, 1)
            opt_arg = keyword(c.node, "optimizer") or positional(c.node, 0)
            if arg is None or opt_arg is None:
                continue
            lr = _number(arg.value, facts)
            opt_call = facts.value_of(opt_arg.value) if isinstance(opt_arg.value, cst.Name) else opt_arg.value
            if lr is None or not isinstance(opt_call, cst.Call):
                continue
            opt = self._optimizer(facts, _Call(opt_call, facts.q(opt_call.func), call_tail(opt_call) or "", 0, None, None))
            if opt is None:
                continue
            if opt.family == "sgd" and lr > _LOW:
                continue  # super-convergence runs SGD with max_lr of 1 to 3
            self._judge(facts, opt, lr, arg.value, "`OneCycleLR` max_lr")


RULES: List[type] = [
    ActivationLossMismatch,
    LossLabelMismatch,
    PretrainedPreprocessingMismatch,
    LearningRateOutOfRange,
]
