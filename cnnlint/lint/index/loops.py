"""What a training loop does to gradients: the events of each loop body (analysis `LoopEvents`).

`LoopEvents(ctx).events(loop)` lists, in evaluation order, the `backward()` calls, optimizer
steps, gradient clears and writes, `continue`s, and the calls this file cannot see into that
might clear gradients, following calls into the functions and methods defined in the file (in a
notebook: in any cell). Each event knows the loops and branches around it inside the body, so
a rule can tell what runs every iteration. Also the evidence that a name is an optimizer or a
gradient scaler, and what counts as a neutral (zero) value.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Callable, Dict, FrozenSet, List, Optional, Set, Tuple

from cnnlint.lint.index.names import call_tail, dotted_name
from cnnlint.lint.index.statements import (
    COMPREHENSIONS,
    DEFINITIONS,
    FOR_LOOPS,
    MATCH,
    TRIES,
    WITHS,
    Block,
    Statements,
    call_arguments,
    definitions_in_force,
    is_compound,
    short_code,
)
from cnnlint.lint.index.syntax import Syntax, children

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

# how deep calls into functions defined in the file are followed, and how many
# function bodies one loop may pull in before the analysis gives up (quietly)
MAX_CALL_DEPTH = 4
MAX_EXPANSIONS = 64

# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------

_NAME, _CONSTANT = ast.Name, ast.Constant
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_OPT_WORDS = {"opt", "opts", "optim", "optims", "optimizer", "optimizers", "optimiser", "optimisers"}
_NOT_OPT = ("sched", "scaler", "swa", "ema", "warmup", "lr_", "_lr", "decay")
KNOWN_OPTIMIZERS = {
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
    "LBFGS", "SparseAdam", "ASGD", "Rprop", "Lion", "LAMB", "Lamb", "Adafactor", "FusedAdam",
    "FusedLAMB", "FusedSGD", "AdamW8bit", "Adam8bit", "PagedAdamW", "SGDW", "Ranger", "NovoGrad",
    "Novograd", "AdaBelief", "Shampoo", "Adan", "Sophia", "Prodigy", "DAdaptAdam", "MADGRAD",
}


def last_name(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def looks_like_optimizer_name(name: str) -> bool:
    """`optimizer`, `opt`, `opt_d`, `optimizerG`, `g_optim`; not `scheduler`, `lr_opt_sched`."""
    lower = name.lower()
    if lower == "lr" or any(bad in lower for bad in _NOT_OPT):
        return False
    if "optim" in lower:
        return True
    return any(w.lower() in _OPT_WORDS for w in _WORDS.findall(name))


_CLEAR_TAILS = {
    "zero_grad", "zero_grads", "zero_gradients", "zerograd", "zerograds", "clear_grad",
    "clear_grads", "clear_gradients", "cleargrads", "reset_grad", "reset_grads",
    "reset_gradients",
}


def is_clear_tail(tail: str) -> bool:
    """A method name that clears gradients (`zero_grad`, `clear_grads`, ...)."""
    lower = tail.lower()
    return lower in _CLEAR_TAILS or "zero_grad" in lower or "zerograd" in lower or "clear_grad" in lower


# "clear" calls that are about something else: dict/list `.clear()`, notebook output, caches
_NOT_GRAD_CLEARS = {"clear", "clear_output", "clear_session", "cache_clear", "clear_cache", "clear_figure", "clearscreen"}


def _unknown_clear_name(tail: str) -> bool:
    """An unresolvable call that may clear gradients (`reset_grad()`, `clear_state()`)."""
    lower = tail.lower()
    if lower in _NOT_GRAD_CLEARS:
        return False
    return "clear" in lower or "zero_grad" in lower or "zerograd" in lower or "reset_grad" in lower


# unresolvable calls that receive the optimizer but do not clear its gradients
_SAFE_TAILS = {
    "print", "len", "str", "repr", "format", "isinstance", "getattr", "hasattr", "type", "id",
    "unscale_", "step", "update", "scale", "backward", "log", "info", "debug", "warning", "warn",
    "append", "extend", "set_postfix", "set_description", "save", "prepare", "accumulate",
    "autocast", "no_sync", "enumerate", "zip", "range", "list", "dict", "tuple", "sorted",
    "state_dict", "load_state_dict", "add_scalar", "write", "clip_grad_norm_", "clip_grad_value_",
    "item", "to", "float", "int", "sum", "mean", "max", "min", "toggle_optimizer",
    "untoggle_optimizer", "clip_gradients", "manual_backward", "deepcopy", "copy", "dumps",
}
# methods of `self` (Lightning, nn.Module) that never clear gradients
_SAFE_SELF = {
    "log", "log_dict", "print", "train", "eval", "forward", "parameters", "named_parameters",
    "to", "cuda", "cpu", "state_dict", "save_hyperparameters", "toggle_optimizer",
    "untoggle_optimizer", "clip_gradients", "optimizers", "lr_schedulers", "all_gather",
    "modules", "children", "named_modules", "register_buffer", "log_metrics",
}

# ---------------------------------------------------------------------------
# neutral values
# ---------------------------------------------------------------------------


def is_none(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is None


def is_zero(syntax: Syntax, expr: ast.AST) -> bool:
    """A literal zero written in decimal (`0`, `0.0`, `0e3`; not `0x0`)."""
    if not isinstance(expr, ast.Constant):
        return False
    value = expr.value
    if type(value) is float:
        return value == 0.0
    if type(value) is int and value == 0:
        return syntax.segment(expr)[:2].lower() not in ("0x", "0b", "0o")
    return False


def is_zeros_call(syntax: Syntax, expr: ast.AST) -> bool:
    """`torch.zeros(...)`, `tf.zeros_like(v)`, `np.zeros(n)`, `tf.Variable(tf.zeros_like(v))`, `torch.tensor(0.)`."""
    if not isinstance(expr, ast.Call):
        return False
    tail = call_tail(expr)
    if tail in ("zeros", "zeros_like", "new_zeros"):
        return True
    if tail in ("tensor", "constant", "Variable", "array", "as_tensor"):
        args = call_arguments(expr)
        return bool(args) and (is_zero(syntax, args[0]) or is_zeros_call(syntax, args[0]))
    return False


def neutral_kind(syntax: Syntax, expr: ast.AST) -> Optional[str]:
    """How an initial value reads in a message, when it is a neutral accumulator start."""
    if is_none(expr):
        return "None"
    if is_zero(syntax, expr):
        return "0"
    if isinstance(expr, ast.List) and not expr.elts:
        return "[]"
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "list":
        if not expr.args and not expr.keywords:
            return "[]"
    if is_zeros_call(syntax, expr):
        return "zeros"
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
        elt = expr.elt
        if is_zeros_call(syntax, elt) or is_none(elt) or is_zero(syntax, elt):
            return "zeros"
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):
        left = expr.left
        if isinstance(left, ast.List) and len(left.elts) == 1:
            el = left.elts[0]
            el = el.value if isinstance(el, ast.Starred) else el
            if is_none(el) or is_zero(syntax, el):
                return "zeros"
    return None


def mentions_grad(expr: ast.AST) -> bool:
    """`p.grad`, `p.grad.data`, `param.grad[...]`: an expression on a `.grad` attribute."""
    while True:
        if isinstance(expr, ast.Attribute):
            if expr.attr == "grad":
                return True
            expr = expr.value
        elif isinstance(expr, ast.Subscript):
            expr = expr.value
        else:
            return False


# ---------------------------------------------------------------------------
# events
# ---------------------------------------------------------------------------

BACKWARD, STEP, CLOSURE_STEP, CLEAR, SETGRAD, PRODUCE, CONTINUE, OPAQUE, OPAQUE_SELF, OPAQUE_ALL = range(10)

Cond = Tuple[object, object]  # (the branching node's key, which branch)


# the gradient events of a call into a helper of the project's other modules (cnnlint.lint.project_index
# registers itself here): (ctx, call) -> [(BACKWARD | STEP | CLEAR, the argument naming the optimizer, whether
# any name counts as one: `scaler.step(opt)`)], or None when the helper is not known
IMPORTED_GRADIENTS: List[Callable[["FileContext", ast.Call], Optional[List[Tuple[int, Optional[ast.AST], bool]]]]] = []


class ScanState:
    """Where the scan is: the loops and branches around it inside the loop body, whether it
    runs straight through (no branch, no inner loop), and the call chain it came through."""

    __slots__ = ("loops", "conds", "straight", "site", "depth", "stack", "cls")

    def __init__(self, loops: Tuple[ast.AST, ...], conds: Tuple[Cond, ...], straight: bool, site: Optional[ast.Call],
                 depth: int, stack: FrozenSet[int], cls: Optional[ast.ClassDef]) -> None:
        self.loops = loops
        self.conds = conds
        self.straight = straight
        self.site = site  # the call in the loop body that led here (None: in the body itself)
        self.depth = depth
        self.stack = stack  # the functions being scanned (ids), against recursion
        self.cls = cls  # the class whose `self` the code sees

    def loop(self, node: ast.AST) -> "ScanState":
        return ScanState(self.loops + (node,), self.conds, False, self.site, self.depth, self.stack, self.cls)

    def branch(self, owner: object, which: object) -> "ScanState":
        return ScanState(self.loops, self.conds + ((owner, which),), False, self.site, self.depth, self.stack, self.cls)

    def call(self, call: ast.Call, fn: ast.AST, cls: Optional[ast.ClassDef]) -> "ScanState":
        site = self.site if self.site is not None else call
        return ScanState(self.loops, self.conds, self.straight, site, self.depth + 1, self.stack | {id(fn)}, cls)


class Event:
    """One thing a loop body does: `kind` (BACKWARD, STEP, CLEAR, ...), the node, and where."""

    __slots__ = ("kind", "node", "key", "site", "loops", "conds", "straight", "order", "names", "text", "by_name")

    def __init__(self, kind: int, node: ast.AST, state: ScanState, order: int) -> None:
        self.kind = kind
        self.node = node
        self.site = state.site
        self.loops = state.loops
        self.conds = state.conds
        self.straight = state.straight
        self.order = order
        self.key: Optional[str] = None  # the optimizer, as written
        self.names: FrozenSet[str] = frozenset()
        self.text = ""  # the clearing call's code
        self.by_name = False  # CLEAR through `optimizer.zero_grad()` rather than model-wide

    @property
    def at(self) -> ast.AST:
        """The node in the loop body itself: the call that led to the event, or the event's node."""
        return self.site if self.site is not None else self.node


class LoopEvents:
    """An analysis (`ctx.get(LoopEvents)`): the gradient events of each loop, and the evidence
    about optimizers and scalers they rest on."""

    def __init__(self, ctx: "FileContext") -> None:
        assert ctx.syntax is not None
        self.ctx = ctx
        self.syntax = ctx.syntax
        self.statements = ctx.get(Statements)
        self._events: Dict[int, List[Event]] = {}
        # verdicts by written name: a name assigned thousands of times (a long file) is judged once
        self._optimizers: Dict[str, bool] = {}
        self._scalers: Dict[str, bool] = {}
        self._methods_of: Dict[Tuple[str, str], List[ast.stmt]] = {}  # (receiver, method) -> its defs

    def events(self, loop: ast.stmt) -> List[Event]:
        found = self._events.get(id(loop))
        if found is None:
            found = self._events[id(loop)] = LoopScanner(self).scan_loop(loop)
        return found

    def method_of_instance(self, root: str, name: str) -> List[ast.stmt]:
        """`trainer.fit()` where `trainer = Trainer(...)` and the class is in this file: its `fit`."""
        key = (root, name)
        found = self._methods_of.get(key)
        if found is None:
            found = self._methods_of[key] = self._find_method_of_instance(root, name)
        return found

    def _find_method_of_instance(self, root: str, name: str) -> List[ast.stmt]:
        statements = self.statements
        for value in statements.assigned.get(root, ()):
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
                cls = statements.classes.get(value.func.id)
                if cls is not None:
                    found = self.class_method(cls, name, include_self=True)
                    if found:
                        return found
        return []

    def is_optimizer(self, expr: ast.AST) -> bool:
        name = dotted_name(expr)
        if name is None:
            return False
        found = self._optimizers.get(name)
        if found is None:
            found = self._optimizers[name] = self._names_optimizer(name)
        return found

    def _names_optimizer(self, name: str) -> bool:
        values = self.statements.assigned.get(name, ())
        for value in values:
            if isinstance(value, ast.Call):
                low = (dotted_name(value.func) or "").lower()
                if "sched" in low or "swa_utils" in low or "scaler" in low:
                    return False
        if looks_like_optimizer_name(last_name(name)):
            return True
        for value in values:
            if isinstance(value, ast.Call):
                # written names, not import-resolved: `torch.optim.SGD`, `optim.SGD`, `SGD` all end the same
                qual, tail = dotted_name(value.func) or "", call_tail(value) or ""
                if qual.startswith(("torch.optim.", "optim.")) or tail in KNOWN_OPTIMIZERS:
                    return True
                if "optimizer" in tail.lower() or tail == "optimizers":
                    return True
        return False

    def is_scaler(self, expr: ast.AST) -> bool:
        name = dotted_name(expr)
        if name is None:
            return False
        found = self._scalers.get(name)
        if found is None:
            found = self._scalers[name] = "scaler" in last_name(name).lower() or any(
                isinstance(value, ast.Call) and (call_tail(value) or "").endswith("GradScaler")
                for value in self.statements.assigned.get(name, ()))
        return found

    def optimizer_key(self, expr: ast.AST, any_name: bool = False) -> Optional[str]:
        """The optimizer an expression names, as written (`optimizer`, `self.opt_d`), or None."""
        if isinstance(expr, ast.Call):
            tail = call_tail(expr)
            if tail in ("optimizers", "optimizer", "get_optimizer"):
                return (dotted_name(expr.func) or tail) + "()"
            return None
        if isinstance(expr, ast.Subscript):
            base = dotted_name(expr.value)
            if base is not None and (any_name or looks_like_optimizer_name(last_name(base)) or self.is_optimizer(expr.value)):
                return base + "[]"
            return None
        name = dotted_name(expr)
        if name is None:
            return None
        if any_name or self.is_optimizer(expr):
            return name
        return None

    def class_method(self, cls: Optional[ast.ClassDef], name: str, include_self: bool) -> List[ast.stmt]:
        """`name` looked up in `cls` and its bases defined in this file."""
        statements = self.statements
        seen: Set[int] = set()
        todo: List[Tuple[ast.ClassDef, bool]] = [(cls, include_self)] if cls is not None else []
        while todo:
            current, look = todo.pop(0)
            if id(current) in seen or len(seen) > 8:
                continue
            seen.add(id(current))
            if look:
                found = statements.class_methods.get(id(current), {}).get(name)
                if found:
                    return list(found)
            for base in _bases(current):
                base_cls = statements.classes.get(last_name(base)) if base is not None else None
                if base_cls is not None:
                    todo.append((base_cls, True))
        return []

    def has_unseen_base(self, cls: Optional[ast.ClassDef]) -> bool:
        """The class (or a base of it in this file) inherits from a class defined elsewhere."""
        if cls is None:
            return True
        seen: Set[int] = set()
        todo = [cls]
        while todo:
            current = todo.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            for name in _bases(current):
                if name is None:
                    return True
                if name == "object":
                    continue
                found = self.statements.classes.get(last_name(name))
                if found is None:
                    return True
                todo.append(found)
        return False


def _bases(cls: ast.ClassDef) -> List[Optional[str]]:
    return [dotted_name(b.value if isinstance(b, ast.Starred) else b) for b in cls.bases]


class LoopScanner:
    """Lists what one loop body does to gradients, following calls into the file's functions."""

    def __init__(self, analysis: LoopEvents) -> None:
        self.analysis = analysis
        self.statements = analysis.statements
        self.syntax = analysis.syntax
        self.events: List[Event] = []
        self.expansions = 0

    def emit(self, kind: int, node: ast.AST, st: ScanState) -> Event:
        ev = Event(kind, node, st, len(self.events))
        self.events.append(ev)
        return ev

    # -- statements -----------------------------------------------------

    def scan_loop(self, loop: ast.stmt) -> List[Event]:
        st = ScanState((), (), True, None, 0, frozenset(), self.statements.self_class.get(id(loop)))
        if isinstance(loop, ast.While):
            self.expr(loop.test, st)
        self.block(loop.body, st)  # type: ignore[attr-defined]
        return self.events

    def block(self, block: Block, st: ScanState) -> None:
        for stmt in block:
            self.stmt(stmt, st)

    def stmt(self, stmt: ast.stmt, st: ScanState) -> None:
        if not is_compound(stmt):
            self.small(stmt, st)
        elif isinstance(stmt, DEFINITIONS):
            return
        elif isinstance(stmt, FOR_LOOPS):
            self.expr(stmt.iter, st)
            self.block(stmt.body, st.loop(stmt))
            if stmt.orelse:
                self.block(stmt.orelse, st.branch(id(stmt), "else"))
        elif isinstance(stmt, ast.While):
            inner = st.loop(stmt)
            self.expr(stmt.test, inner)
            self.block(stmt.body, inner)
            if stmt.orelse:
                self.block(stmt.orelse, st.branch(id(stmt), "else"))
        elif isinstance(stmt, ast.If):
            self.expr(stmt.test, st)
            self.block(stmt.body, st.branch(id(stmt), 0))
            if stmt.orelse:
                self.block(stmt.orelse, st.branch(id(stmt), 1))
        elif isinstance(stmt, WITHS):
            for item in stmt.items:
                self.expr(item.context_expr, st)
            self.block(stmt.body, st)
        elif isinstance(stmt, TRIES):
            self.block(stmt.body, st)  # type: ignore[attr-defined]
            for i, handler in enumerate(stmt.handlers):  # type: ignore[attr-defined]
                self.block(handler.body, st.branch(id(stmt), i))
            self.block(stmt.orelse, st)  # type: ignore[attr-defined]
            self.block(stmt.finalbody, st)  # type: ignore[attr-defined]
        elif MATCH is not None and isinstance(stmt, MATCH):
            self.expr(stmt.subject, st)  # type: ignore[attr-defined]
            for i, case in enumerate(stmt.cases):  # type: ignore[attr-defined]
                self.block(case.body, st.branch(id(stmt), i))

    def small(self, small: ast.stmt, st: ScanState) -> None:
        syntax = self.syntax
        if isinstance(small, ast.Assign):
            self.expr(small.value, st)
            for target in small.targets:
                self._store(target, small, small.value, st)
        elif isinstance(small, ast.AnnAssign):
            if small.value is not None:
                self.expr(small.value, st)
                self._store(small.target, small, small.value, st)
        elif isinstance(small, ast.AugAssign):
            self.expr(small.value, st)
            if mentions_grad(small.target):
                zeroing = isinstance(small.op, ast.Mult) and is_zero(syntax, small.value)
                self.emit(CLEAR if zeroing else PRODUCE, small, st)
            else:
                self.expr(small.target, st)
        elif isinstance(small, ast.Delete):
            for target in _del_targets(small.targets):
                if isinstance(target, ast.Attribute) and target.attr == "grad":
                    self.emit(CLEAR, small, st)
        elif isinstance(small, ast.Continue):
            if not st.loops and st.site is None:
                self.emit(CONTINUE, small, st)
        else:
            for child in children(small):
                self.expr(child, st)

    def _store(self, target: ast.AST, stmt: ast.stmt, value: ast.AST, st: ScanState) -> None:
        if isinstance(target, ast.Attribute) and target.attr == "grad":
            syntax = self.syntax
            if is_none(value) or is_zero(syntax, value) or is_zeros_call(syntax, value):
                self.emit(CLEAR, stmt, st)
            else:
                self.emit(SETGRAD, stmt, st)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self._store(el.value if isinstance(el, ast.Starred) else el, stmt, value, st)
        elif isinstance(target, (ast.Subscript, ast.Attribute)):
            self.expr(target, st)

    # -- expressions ----------------------------------------------------

    def expr(self, root: ast.AST, st: ScanState) -> None:
        """Events of an expression, in evaluation order (iterative: chains can be deep)."""
        stack: List[Tuple[ast.AST, ScanState, bool]] = [(root, st, False)]
        while stack:
            node, s, done = stack.pop()
            if done:
                self.call(node, s)  # type: ignore[arg-type]
                continue
            tp = type(node)
            if tp is _NAME or tp is _CONSTANT or tp is ast.Lambda:  # leaves (half the nodes) emit nothing
                continue
            if tp in COMPREHENSIONS:
                inner = s.loop(node)
                stack.extend((child, inner, False) for child in reversed(children(node)))
            elif tp is ast.IfExp:
                stack.append((node.orelse, s.branch(id(node), 1), False))  # type: ignore[attr-defined]
                stack.append((node.body, s.branch(id(node), 0), False))  # type: ignore[attr-defined]
                stack.append((node.test, s, False))  # type: ignore[attr-defined]
            elif tp is ast.BoolOp:
                values = node.values  # type: ignore[attr-defined]
                # `a or b or c` is `(a or b) or c`: each later operand is its own branch
                for k in range(len(values) - 1, 0, -1):
                    stack.append((values[k], s.branch((id(node), k), 1), False))
                stack.append((values[0], s, False))
            elif tp is ast.Call:
                stack.append((node, s, True))
                stack.extend((arg, s, False) for arg in reversed(call_arguments(node)))  # type: ignore[arg-type]
                stack.append((node.func, s, False))  # type: ignore[attr-defined]
            else:
                stack.extend((child, s, False) for child in reversed(children(node)))

    def call(self, call: ast.Call, st: ScanState) -> None:
        tail = call_tail(call)
        if tail is None:
            return
        func = call.func
        recv = func.value if isinstance(func, ast.Attribute) else None
        if tail in ("backward", "manual_backward"):
            if not self._expand(call, st):
                self.emit(BACKWARD, call, st)
            return
        if tail == "step" and recv is not None:
            self._step(call, recv, st)
            return
        if is_clear_tail(tail):
            self._clear(call, recv, st)
            return
        if recv is not None and mentions_grad(recv):
            args = call_arguments(call)
            if tail == "zero_" or (tail in ("fill_", "mul_") and args and is_zero(self.syntax, args[0])):
                self.emit(CLEAR, call, st)
            elif tail in ("copy_", "set_"):
                self.emit(SETGRAD, call, st)
            elif tail in ("add_", "sub_"):
                self.emit(PRODUCE, call, st)
            return
        if self._expand(call, st) or self._imported(call, st):
            return
        self._unknown(call, tail, recv, st)

    def _imported(self, call: ast.Call, st: ScanState) -> bool:
        """A helper of the project's other modules whose gradient events are known (`train_step(model,
        batch, optimizer)` in engine.py): its events, at the call; False when none is known."""
        for hook in IMPORTED_GRADIENTS:
            effects = hook(self.analysis.ctx, call)
            if effects is None:
                continue
            for kind, arg, any_name in effects:
                key = self.analysis.optimizer_key(arg, any_name=any_name) if arg is not None else None
                if kind == STEP and key is None:
                    continue  # not an optimizer (`scheduler.step()`)
                self.emit(kind, call, st).key = key
            return True
        return False

    def _step(self, call: ast.Call, recv: ast.AST, st: ScanState) -> None:
        analysis = self.analysis
        if analysis.is_scaler(recv):
            if call.args and not isinstance(call.args[0], ast.Starred):
                key = analysis.optimizer_key(call.args[0], any_name=True)
                if key is not None:
                    self.emit(STEP, call, st).key = key
            return
        key = analysis.optimizer_key(recv)
        if key is not None:
            self.emit(CLOSURE_STEP if call.args or call.keywords else STEP, call, st).key = key
            return
        self._expand(call, st)

    def _clear(self, call: ast.Call, recv: Optional[ast.AST], st: ScanState) -> None:
        self._expand(call, st)
        ev = self.emit(CLEAR, call, st)
        if recv is not None:
            key = self.analysis.optimizer_key(recv)
            if key is not None:
                ev.key = key
                ev.by_name = True
        ev.text = short_code(self.syntax, call)

    def _unknown(self, call: ast.Call, tail: str, recv: Optional[ast.AST], st: ScanState) -> None:
        """A call not defined in this file."""
        if _unknown_clear_name(tail):
            self.emit(CLEAR, call, st)
            return
        low = tail.lower()
        if tail in _SAFE_TAILS or "lr" in low or "learning_rate" in low or "sched" in low:
            return
        if recv is not None and self.analysis.is_scaler(recv):
            return
        names = set()
        for arg in call_arguments(call):
            name = dotted_name(arg)
            if name is not None:
                names.add(name)
                names.add(last_name(name))
        if names:
            self.emit(OPAQUE, call, st).names = frozenset(names)
        if (
            type(recv) is ast.Name
            and recv.id == "self"  # type: ignore[union-attr]
            and tail not in _SAFE_SELF
            and f"self.{tail}" not in self.statements.assigned  # an attribute (`self.criterion = ...`), not a method
            and self.analysis.has_unseen_base(st.cls)
        ):
            self.emit(OPAQUE_SELF, call, st)

    def _resolve(self, call: ast.Call, st: ScanState) -> List[ast.stmt]:
        statements = self.statements
        func = call.func
        if isinstance(func, ast.Name):
            return definitions_in_force(statements.functions.get(func.id, ()), call.lineno)
        if not isinstance(func, ast.Attribute):
            return []
        name = func.attr
        recv = func.value
        if isinstance(recv, ast.Name) and recv.id in ("self", "cls"):
            return self.analysis.class_method(st.cls, name, include_self=True)
        if isinstance(recv, ast.Call) and isinstance(recv.func, ast.Name) and recv.func.id == "super":
            return self.analysis.class_method(st.cls, name, include_self=False)
        root = dotted_name(recv)
        if root is not None:
            return list(self.analysis.method_of_instance(root, name))
        return []

    def _expand(self, call: ast.Call, st: ScanState) -> bool:
        """Scan the file's functions this call runs; True if it resolved to any."""
        defs = self._resolve(call, st)
        if not defs:
            return False
        if st.depth >= MAX_CALL_DEPTH or self.expansions >= MAX_EXPANSIONS:
            self.emit(OPAQUE_ALL, call, st)  # cannot see everything: stay quiet
            return True
        for fn in defs:
            if id(fn) in st.stack:
                continue
            self.expansions += 1
            self.block(fn.body, st.call(call, fn, self.statements.self_class.get(id(fn))))  # type: ignore[attr-defined]
        return True


def _del_targets(targets: List[ast.expr]) -> List[ast.expr]:
    out: List[ast.expr] = []
    for target in targets:
        if isinstance(target, (ast.Tuple, ast.List)):
            out.extend(_del_targets([el.value if isinstance(el, ast.Starred) else el for el in target.elts]))
        else:
            out.append(target)
    return out
