"""CNL203 evaluation in training mode; CNL204 loss accumulated as a tensor.

Both rules judge whole loops in `finish()` with the statement index the CNL2xx
rules share (`training_loop.file_index`). They speak only when the evidence is
in the file: CNL203 needs a model whose construction this file shows to hold
dropout or batch norm (a torchvision/timm architecture, an `nn.Module` class or
`nn.Sequential` of this file), CNL204 needs a `backward()` on the very tensor
that is accumulated.
"""

from __future__ import annotations

import re
from typing import Dict, Iterator, List, Optional, Set, Tuple

import libcst as cst

from cnnlint.findings import Fix, Severity
from cnnlint.lint.augmentation import word_kind
from cnnlint.lint.rule import Rule
from cnnlint.lint.training_loop import FileIndex, block_statements, file_index, statement_blocks
from cnnlint.lint.tree import all_params, call_tail, dotted_name, positional, short_code, string_value, walk

_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_LOOPS = (cst.For, cst.While)


def _expr_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node`, not entering nested functions, classes or lambdas."""
    return (n for n in walk(node, _NESTED_SCOPES) if n is node or not isinstance(n, _NESTED_SCOPES))


def _flat(block: cst.CSTNode, enter_loops: bool = False) -> Iterator[cst.CSTNode]:
    """Statements of a block in order, entering if/with/try bodies (and loops when asked)."""
    for stmt in block_statements(block):
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
            continue
        yield stmt
        if isinstance(stmt, _NESTED_SCOPES) or (isinstance(stmt, _LOOPS) and not enter_loops):
            continue
        for sub in statement_blocks(stmt):
            yield from _flat(sub, enter_loops)


def _own_nodes(stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The expression nodes of a statement itself (a compound statement's header only)."""
    if isinstance(stmt, (cst.If, cst.While)):
        yield from _expr_nodes(stmt.test)
    elif isinstance(stmt, cst.For):
        yield from _expr_nodes(stmt.iter)
    elif isinstance(stmt, cst.With):
        for item in stmt.items:
            yield from _expr_nodes(item.item)
    elif not isinstance(stmt, (cst.Try, cst.FunctionDef, cst.ClassDef)) and not hasattr(stmt, "body"):
        yield from _expr_nodes(stmt)


def _backward_key(call: cst.Call) -> Optional[str]:
    """The tensor a backward call differentiates: `loss` in `loss.backward()`,
    `scaler.scale(loss).backward()`, `accelerator.backward(loss)`, `self.manual_backward(loss)`."""
    tail = call_tail(call)
    if tail == "backward" and isinstance(call.func, cst.Attribute):
        recv = call.func.value
        if isinstance(recv, cst.Call) and call_tail(recv) == "scale" and recv.args:
            return dotted_name(recv.args[0].value)
        name = dotted_name(recv)
        if name is not None and name.split(".")[-1] not in ("accelerator", "fabric", "engine", "self"):
            return name
        if call.args:
            return dotted_name(call.args[0].value)
        return None
    if tail == "manual_backward" and call.args:
        return dotted_name(call.args[0].value)
    return None


def _is_backward(call: cst.Call) -> bool:
    return call_tail(call) in ("backward", "manual_backward")


_GRAD_OFF = ("no_grad", "inference_mode")


def _disables_grad(expr: cst.CSTNode) -> bool:
    """`torch.no_grad()`, `torch.inference_mode()`, `torch.set_grad_enabled(False)`, `no_grad` decorator."""
    call = expr if isinstance(expr, cst.Call) else None
    name = dotted_name(call.func if call is not None else expr) or ""
    last = name.split(".")[-1]
    if last in _GRAD_OFF:
        return True
    if last == "set_grad_enabled" and call is not None and call.args:
        value = call.args[0].value
        return isinstance(value, cst.Name) and value.value == "False"
    return False


# ---------------------------------------------------------------------------
# CNL204
# ---------------------------------------------------------------------------

_ARITH = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide)


def _carried(expr: cst.CSTNode, key: str) -> Optional[cst.CSTNode]:
    """The node `key` when `expr` is it, or arithmetic on it (`loss * x.size(0)`); else None."""
    if dotted_name(expr) == key and isinstance(expr, (cst.Name, cst.Attribute)):
        return expr
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, _ARITH):
        return _carried(expr.left, key) or _carried(expr.right, key)
    if isinstance(expr, cst.UnaryOperation):
        return _carried(expr.expression, key)
    return None


def _root(name: str) -> str:
    return name.split("[")[0]


class LossAccumulatedAsTensor(Rule):
    code = "CNL204"
    name = "loss-accumulated-as-tensor"
    severity = Severity.WARNING
    autofix = True
    summary = "Loss tensor accumulated across steps without .item(): every step's autograd history stays alive"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        return "backward" in text and ("+=" in text or "append(" in text or "+ " in text)

    def finish(self) -> None:
        index = file_index(self.ctx)
        if index is None:
            return
        # names whose value some backward call differentiates (multi-task sums, `sum(losses).backward()`)
        self.backed: Set[str] = set()
        for node in walk(index.module):
            if isinstance(node, cst.Call) and _is_backward(node):
                for sub in walk(node):
                    name = dotted_name(sub) if isinstance(sub, (cst.Name, cst.Attribute)) else None
                    if name is not None:
                        self.backed.add(name)
        found: List[Tuple[cst.CSTNode, str, str, str]] = []
        seen: Set[int] = set()
        for loop in index.loops:
            for item in self.check_loop(loop):
                if id(item[0]) not in seen:
                    seen.add(id(item[0]))
                    found.append(item)
        if not found:
            return
        ranges = self.ctx.ranges([n for n, _, _, _ in found])
        for node, message, hint, key in found:
            span = ranges.get(id(node))
            fix = None
            if span is not None:
                fix = Fix(span[0], span[1], span[2], span[3], f"{key}.item()",
                          description=f"accumulate `{key}.item()` instead of the tensor")
            self.report(node, message, hint, fix=fix)

    def check_loop(self, loop: cst.CSTNode) -> Iterator[Tuple[cst.CSTNode, str, str, str]]:
        units: List[Tuple[cst.CSTNode, bool]] = []

        def add(block: cst.CSTNode, no_grad: bool) -> None:
            for stmt in block_statements(block):
                if isinstance(stmt, cst.SimpleStatementLine):
                    units.extend((s, no_grad) for s in stmt.body)
                    continue
                units.append((stmt, no_grad))
                if isinstance(stmt, _NESTED_SCOPES) or isinstance(stmt, _LOOPS):
                    continue
                inner = no_grad or (isinstance(stmt, cst.With) and any(_disables_grad(i.item) for i in stmt.items))
                for sub in statement_blocks(stmt):
                    add(sub, inner)

        add(loop.body, False)
        backs: List[Tuple[int, str]] = []
        for i, (unit, _) in enumerate(units):
            for node in _own_nodes(unit):
                if isinstance(node, cst.Call):
                    key = _backward_key(node)
                    if key is not None:
                        backs.append((i, key))
        if not backs:
            return
        keys = {k for _, k in backs}
        for i, (unit, no_grad) in enumerate(units):
            if no_grad:
                continue
            acc = self._accumulation(unit, keys)
            if acc is None:
                continue
            target, node, key, text = acc
            if target == key or _root(target).split(".")[0] in self.backed or target in self.backed:
                continue
            if self._reset_in_loop(units, target, unit):
                continue
            if not any(self._same_tensor(units, i, j, key) for j, k in backs if k == key):
                continue
            verb = "appends" if text.startswith("append") else "adds"
            shown = short_code(self.ctx.module, unit, 60)
            yield (
                node,
                f"`{shown}` {verb} the loss tensor `{key}` itself, which carries the autograd history of its step, "
                f"so `{target}` keeps the history of every step alive and memory grows with each iteration",
                f"accumulate the number instead: `{key}.item()` (or `{key}.detach()`)",
                key,
            )

    @staticmethod
    def _accumulation(unit: cst.CSTNode, keys: Set[str]) -> Optional[Tuple[str, cst.CSTNode, str, str]]:
        """(accumulator, carried node, loss key, form) for `t += loss`, `t = t + loss`, `t.append(loss)`."""
        if isinstance(unit, cst.AugAssign) and isinstance(unit.operator, cst.AddAssign):
            target = dotted_name(unit.target)
            if target is None and isinstance(unit.target, cst.Subscript):
                target = dotted_name(unit.target.value)
                target = f"{target}[]" if target else None
            if target is None:
                return None
            for key in keys:
                node = _carried(unit.value, key)
                if node is not None:
                    return target, node, key, "+="
            return None
        if isinstance(unit, cst.Assign) and len(unit.targets) == 1:
            target = dotted_name(unit.targets[0].target)
            value = unit.value
            if target is None or not isinstance(value, cst.BinaryOperation) or not isinstance(value.operator, cst.Add):
                return None
            for side, other in ((value.left, value.right), (value.right, value.left)):
                if dotted_name(side) == target:
                    for key in keys:
                        node = _carried(other, key)
                        if node is not None:
                            return target, node, key, "="
            return None
        if isinstance(unit, cst.Expr) and isinstance(unit.value, cst.Call):
            call = unit.value
            if call_tail(call) == "append" and isinstance(call.func, cst.Attribute) and len(call.args) == 1:
                target = dotted_name(call.func.value)
                if target is None:
                    return None
                for key in keys:
                    if dotted_name(call.args[0].value) == key:
                        return target, call.args[0].value, key, "append"
        return None

    @staticmethod
    def _binds(unit: cst.CSTNode, name: str) -> bool:
        targets: List[cst.CSTNode] = []
        if isinstance(unit, cst.Assign):
            targets = [t.target for t in unit.targets]
        elif isinstance(unit, (cst.AnnAssign, cst.AugAssign, cst.For)):
            targets = [unit.target]
        elif isinstance(unit, cst.With):
            targets = [i.asname.name for i in unit.items if i.asname is not None]
        for t in targets:
            for n in walk(t):
                if isinstance(n, (cst.Name, cst.Attribute)) and dotted_name(n) == name:
                    return True
        return False

    def _reset_in_loop(self, units, target: str, acc_unit: cst.CSTNode) -> bool:
        """The accumulator is (re)set inside this loop: it collects one step's losses (multi-task)."""
        plain = _root(target)
        for unit, _ in units:
            if unit is acc_unit or not isinstance(unit, (cst.Assign, cst.AnnAssign)):
                continue
            if self._binds(unit, plain):
                if isinstance(unit, cst.Assign) and self._accumulation(unit, {"\0"}) is None:
                    value = unit.value
                    if isinstance(value, cst.BinaryOperation) and plain in {dotted_name(value.left), dotted_name(value.right)}:
                        continue
                return True
        return False

    def _same_tensor(self, units, i: int, j: int, key: str) -> bool:
        """No rebinding of `key` between the accumulation (i) and the backward on it (j)."""
        lo, hi = (i, j) if i < j else (j, i)
        for unit, _ in units[lo + 1 : hi + 1] if i < j else units[lo:hi]:
            if unit is units[i][0]:
                continue
            if self._binds(unit, key):
                return False
        return True


# ---------------------------------------------------------------------------
# CNL203
# ---------------------------------------------------------------------------

_MODE_LAYER_WORDS = ("Dropout", "BatchNorm", "dropout", "DropPath", "StochasticDepth", "drop_path")
_MC = re.compile(r"(?i)mc[_ ]?dropout|monte[_ ]?carlo|enable_dropout|bayesian")
_WRAPPERS = ("DataParallel", "DistributedDataParallel", "compile", "convert_sync_batchnorm")


class _Models:
    """Which names hold a torch model known to have dropout or batch norm."""

    def __init__(self, ctx, index: FileIndex) -> None:
        self.ctx = ctx
        self.index = index
        self.cache: Dict[str, bool] = {}

    def has_mode_layers(self, name: str) -> bool:
        if name not in self.cache:
            self.cache[name] = False  # cycles
            values = self.index.assigned.get(name, [])
            self.cache[name] = bool(values) and all(self._value(v, 0) for v in values)
        return self.cache[name]

    def _value(self, expr: cst.CSTNode, depth: int) -> bool:
        if depth > 6 or not isinstance(expr, cst.Call):
            if isinstance(expr, (cst.Name, cst.Attribute)) and depth <= 6:
                return self.has_mode_layers(dotted_name(expr) or "")
            return False
        tail = call_tail(expr) or ""
        if isinstance(expr.func, cst.Attribute) and tail in ("to", "cuda", "cpu", "half", "float", "double", "train"):
            return self._value(expr.func.value, depth + 1)
        if tail in _WRAPPERS and expr.args:
            return self._value(expr.args[0].value, depth + 1)
        q = self.ctx.imports.qualify(expr.func) or ""
        written = dotted_name(expr.func) or ""
        if q.startswith("torchvision.models.") or written.startswith("models.") or q.startswith("timm.") or q == "torch.hub.load":
            arch = string_value(expr.args[0].value) if q.startswith("timm.") or q == "torch.hub.load" else tail
            if q == "torch.hub.load" and len(expr.args) > 1:
                arch = string_value(expr.args[1].value)
            arch = (arch or "").lower()
            return bool(arch) and not arch[:1].isupper() and "vit" not in arch and "deit" not in arch and tail[:1].islower()
        if tail == "Sequential":
            return self._holds_mode_layers(expr, depth)
        cls = self.index.classes.get(tail) if isinstance(expr.func, cst.Name) else None
        if cls is not None and self._is_module(cls, 0):
            return self._holds_mode_layers(cls, depth)
        fns = self.index.functions.get(tail, []) if isinstance(expr.func, cst.Name) else []
        if len(fns) == 1:  # a builder of this file: judge what it returns
            returned = self._returned(fns[0])
            return bool(returned) and all(self._value(v, depth + 1) for v in returned)
        return False

    @staticmethod
    def _returned(fn: cst.FunctionDef) -> List[cst.CSTNode]:
        """The values a builder returns, a returned local name replaced by its assignments."""
        local: Dict[str, List[cst.CSTNode]] = {}
        returns: List[cst.CSTNode] = []
        for node in _flat(fn.body, enter_loops=True):
            if isinstance(node, cst.Assign):
                for t in node.targets:
                    if isinstance(t.target, cst.Name):
                        local.setdefault(t.target.value, []).append(node.value)
            elif isinstance(node, cst.Return) and node.value is not None:
                returns.append(node.value)
        out: List[cst.CSTNode] = []
        for value in returns:
            if isinstance(value, cst.Name) and value.value in local:
                out.extend(local[value.value])
            else:
                out.append(value)
        return out

    def _is_module(self, cls: cst.ClassDef, depth: int) -> bool:
        for base in cls.bases:
            name = dotted_name(base.value) or ""
            if name.endswith("Module") and "keras" not in (self.ctx.imports.qualify(base.value) or ""):
                return True
            local = self.index.classes.get(name)
            if local is not None and depth < 4 and self._is_module(local, depth + 1):
                return True
        return False

    def _holds_mode_layers(self, node: cst.CSTNode, depth: int) -> bool:
        for n in walk(node):
            if isinstance(n, cst.Name) and any(w in n.value for w in _MODE_LAYER_WORDS):
                return True
            if isinstance(n, cst.Attribute) and any(w in n.attr.value for w in _MODE_LAYER_WORDS):
                return True
            if isinstance(n, cst.Call) and isinstance(n.func, cst.Name) and depth < 4:
                cls = self.index.classes.get(n.func.value)
                if cls is not None and cls is not node and self._holds_mode_layers(cls, depth + 1):
                    return True
        return False


def _iter_kind(expr: cst.CSTNode) -> Optional[str]:
    """"val" when a loop iterates a validation/test loader (`val_loader`, `dataloaders["val"]`)."""
    node = expr
    while True:
        if isinstance(node, cst.Call):
            if call_tail(node) in ("enumerate", "tqdm", "zip", "iter") and node.args:
                kinds = {_iter_kind(a.value) for a in node.args if a.keyword is None}
                if "train" in kinds:
                    return "train"
                return "val" if "val" in kinds else None
            return None
        if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
            key = string_value(node.slice[0].slice.value)
            return word_kind(key) if key is not None else None
        name = dotted_name(node)
        return word_kind(name.split(".")[-1]) if name is not None else None


class EvaluationInTrainingMode(Rule):
    code = "CNL203"
    name = "evaluation-in-training-mode"
    severity = Severity.WARNING
    summary = "Evaluation runs with the model in training mode, or with autograd on, or eval() is never undone"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        return "torch" in text and ("no_grad" in text or "eval()" in text or "val" in text or "test" in text)

    def finish(self) -> None:
        index = file_index(self.ctx)
        if index is None:
            return
        text = self.ctx.source.text
        self.index = index
        self.models = _Models(self.ctx, index)
        self.found: List[Tuple[cst.CSTNode, str, str]] = []
        self.mc = bool(_MC.search(text))
        self.evals_anywhere = ".eval()" in text or "train(False)" in text or "train(mode=False)" in text
        self.grad_anywhere = any(w in text for w in ("no_grad", "inference_mode", "set_grad_enabled"))
        try:
            for loop in index.loops:
                if isinstance(loop, cst.For):
                    self.check_eval_loop(loop)
                self.check_epoch_loop(loop)
        except RecursionError:
            return
        seen: Set[int] = set()
        for node, message, hint in self.found:
            if id(node) not in seen:
                seen.add(id(node))
                self.report(node, message, hint)

    # -- helpers ------------------------------------------------------------

    def enclosing_function(self, stmt: cst.CSTNode) -> Optional[cst.FunctionDef]:
        cur = self.index.enclosing(stmt)
        while cur is not None and not isinstance(cur, cst.FunctionDef):
            cur = self.index.enclosing(cur)
        return cur

    def under_no_grad(self, loop: cst.CSTNode) -> bool:
        cur = self.index.enclosing(loop)
        while cur is not None:
            if isinstance(cur, cst.With) and any(_disables_grad(i.item) for i in cur.items):
                return True
            if isinstance(cur, cst.FunctionDef):
                return any(_disables_grad(d.decorator) for d in cur.decorators)
            cur = self.index.enclosing(cur)
        return False

    def model_called(self, loop: cst.For) -> Optional[Tuple[str, cst.Call]]:
        for node in _expr_nodes(loop.body):
            if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
                name = dotted_name(node.func)
                if name is not None and self.models.has_mode_layers(name):
                    return name, node
        return None

    def preceding(self, stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """Statements before `stmt`, nearest first, up through its enclosing blocks to the def."""
        for block, i in self.index.path(stmt):
            stmts = block_statements(block)
            for prev in reversed(stmts[:i]):
                yield prev

    @staticmethod
    def _calls(node: cst.CSTNode) -> Iterator[cst.Call]:
        for n in walk(node):
            if isinstance(n, cst.Call):
                yield n

    # -- evaluation loops ---------------------------------------------------------

    def check_eval_loop(self, loop: cst.For) -> None:
        if any(_is_backward(c) or call_tail(c) == "step" for c in self._calls(loop.body)):
            return
        kind = _iter_kind(loop.iter)
        no_grad = self.under_no_grad(loop)
        if kind == "train" or (kind != "val" and not no_grad):
            return
        called = self.model_called(loop)
        if called is None:
            return
        model, call = called
        fn = self.enclosing_function(loop)
        if fn is not None and model.split(".")[0] in _param_names(fn):
            return
        loader = short_code(self.ctx.module, loop.iter, 40)
        if not self.evals_anywhere and not self.mc and not self.train_right_before(loop, model):
            self.found.append((
                loop.iter,
                f"the evaluation loop over `{loader}` calls `{model}` in training mode: nothing in this file calls "
                f"`{model}.eval()`, so dropout stays active and batch norm normalizes with (and updates) batch "
                f"statistics",
                f"call `{model}.eval()` before the loop (and `{model}.train()` before training resumes)",
            ))
            return
        if kind == "val" and not no_grad and not self.grad_anywhere and self.eval_before(loop, model):
            self.found.append((
                loop.iter,
                f"the evaluation loop over `{loader}` runs `{model}` with autograd on: every forward pass records "
                f"its graph and keeps activations for a backward() that never comes (more memory, slower)",
                "wrap the loop in `with torch.no_grad():` (or `torch.inference_mode()`)",
            ))

    def train_right_before(self, loop: cst.CSTNode, model: str) -> bool:
        """`model.train()` before the loop with no training in between: dropout on purpose (MC dropout)."""
        for prev in self.preceding(loop):
            for c in self._calls(prev):
                if _is_backward(c):
                    return False
                if call_tail(c) == "train" and isinstance(c.func, cst.Attribute) and dotted_name(c.func.value) == model:
                    return True
        return False

    def eval_before(self, loop: cst.For, model: str) -> bool:
        def is_eval(c: cst.Call) -> bool:
            return call_tail(c) == "eval" and isinstance(c.func, cst.Attribute) and dotted_name(c.func.value) == model

        if any(is_eval(c) for c in self._calls(loop.body)):
            return True
        return any(is_eval(c) for prev in self.preceding(loop) for c in self._calls(prev))

    # -- eval() never undone --------------------------------------------------------

    def check_epoch_loop(self, loop: cst.CSTNode) -> None:
        events: List[Tuple[str, cst.CSTNode, cst.CSTNode]] = []  # (kind, node, site in the loop)
        self._scan(loop.body, {}, None, 0, events, set())
        if any(kind == "opaque" for kind, _, _ in events):
            return
        if not any(kind == "back" for kind, _, _ in events) or any(kind == "train" for kind, _, _ in events):
            return
        trained: Set[str] = {dotted_name(n) or "" for kind, n, _ in events if kind == "model"}
        for kind, node, site in events:
            if kind != "eval":
                continue
            model = dotted_name(node) or ""
            if model not in trained or not self.models.has_mode_layers(model):
                continue
            if any(kind2 == "bind" and dotted_name(n) == model for kind2, n, _ in events):
                continue
            shown = short_code(self.ctx.module, site, 48)
            self.found.append((
                site,
                f"`{shown}` puts `{model}` in eval mode inside the training loop and nothing puts it back: from "
                f"the next iteration on it trains with dropout off and batch norm frozen",
                f"call `{model}.train()` at the start of each training epoch",
            ))
            return

    def _scan(self, block, env: Dict[str, str], site, depth: int, events, stack: Set[int]) -> None:
        for unit in _flat(block, enter_loops=True):
            if isinstance(unit, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
                targets = [t.target for t in unit.targets] if isinstance(unit, cst.Assign) else [unit.target]
                for t in targets:
                    events.append(("bind", _rename(t, env), site or unit))
            for node in _own_nodes(unit):
                if not isinstance(node, cst.Call):
                    continue
                tail = call_tail(node) or ""
                here = site or node
                if _is_backward(node):
                    events.append(("back", node, here))
                recv = node.func.value if isinstance(node.func, cst.Attribute) else None
                if tail == "train":
                    events.append(("train", node, here))
                elif tail == "eval" and recv is not None and not node.args:
                    events.append(("eval", _rename(recv, env), here))
                elif isinstance(node.func, (cst.Name, cst.Attribute)) and positional(node, 0) is not None:
                    events.append(("model", _rename(node.func, env), here))
                if "train" in tail.lower() and tail != "train":
                    fns = self.index.functions.get(tail, []) if isinstance(node.func, cst.Name) else []
                    if not fns:
                        events.append(("opaque", node, here))
                if isinstance(node.func, cst.Name) and depth < 3:
                    for fn in self.index.functions.get(node.func.value, []):
                        if id(fn) in stack:
                            continue
                        inner = _bind_args(fn, node, env)
                        self._scan(fn.body, inner, here, depth + 1, events, stack | {id(fn)})


def _param_names(fn: cst.FunctionDef) -> Set[str]:
    return {p.name.value for p in all_params(fn.params)}


def _rename(expr: cst.CSTNode, env: Dict[str, str]) -> cst.CSTNode:
    """A parameter of a helper stands for the caller's argument (`net.eval()` -> `model`)."""
    name = dotted_name(expr)
    if name is None or not env:
        return expr
    head, _, rest = name.partition(".")
    if head in env:
        full = env[head] + ("." + rest if rest else "")
        node: cst.BaseExpression = cst.Name(full.split(".")[0])
        for part in full.split(".")[1:]:
            node = cst.Attribute(value=node, attr=cst.Name(part))
        return node
    return expr


def _bind_args(fn: cst.FunctionDef, call: cst.Call, env: Dict[str, str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    params = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params)]
    pos = [a for a in call.args if a.keyword is None and not a.star]
    for name, arg in zip(params, pos):
        value = dotted_name(_rename(arg.value, env))
        if value is not None:
            out[name] = value
    for arg in call.args:
        if arg.keyword is not None:
            value = dotted_name(_rename(arg.value, env))
            if value is not None:
                out[arg.keyword.value] = value
    return out


RULES = [EvaluationInTrainingMode, LossAccumulatedAsTensor]
