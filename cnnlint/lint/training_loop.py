"""CNL2xx: the training loop.

CNL201 gradients-never-cleared: a loop runs `backward()` and an optimizer step
every iteration but nothing clears the gradients (or clears them between
`backward()` and the step).

CNL202 accumulator-never-accumulated: a gradient/loss accumulator is set to a
neutral value before a micro-batch loop, only overwritten inside it, and then
used to update the model.

Both rules judge the whole file in `finish()`: a loop is only understood with
the functions it calls, and those may be defined anywhere in the file (in a
notebook: in any cell). The analysis walks statements, not every node, and
starts only when the text mentions the calls it is about.
"""

from __future__ import annotations

import re
from typing import Dict, FrozenSet, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst

from cnnlint.findings import Fix, Severity
from cnnlint.lint.rule import Rule
from cnnlint.lint.tree import assigned_names, call_tail, children, dotted_name, short_code, walk

LOOPS = (cst.For, cst.While)
COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_COMPREHENSION_TYPES = frozenset(COMPREHENSIONS)
BLOCKS = (cst.IndentedBlock, cst.SimpleStatementSuite)
# clauses that hold a block but are not statements themselves
# node types that older libcst releases lack are left out rather than failing at import
def _types(*names: str) -> Tuple[type, ...]:
    return tuple(t for t in (getattr(cst, n, None) for n in names) if isinstance(t, type))


CLAUSES = _types("Else", "Finally", "ExceptHandler", "ExceptStarHandler", "MatchCase")
TRY_TYPES = _types("Try", "TryStar")
MATCH_TYPES = _types("Match")
# how deep calls into functions defined in the file are followed, and how many
# function bodies one loop may pull in before the analysis gives up (quietly)
MAX_CALL_DEPTH = 4
MAX_EXPANSIONS = 64


# ---------------------------------------------------------------------------
# traversal
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_OPT_WORDS = {"opt", "opts", "optim", "optims", "optimizer", "optimizers", "optimiser", "optimisers"}
_NOT_OPT = ("sched", "scaler", "swa", "ema", "warmup", "lr_", "_lr", "decay")
KNOWN_OPTIMIZERS = {
    "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam",
    "LBFGS", "SparseAdam", "ASGD", "Rprop", "Lion", "LAMB", "Lamb", "Adafactor", "FusedAdam",
    "FusedLAMB", "FusedSGD", "AdamW8bit", "Adam8bit", "PagedAdamW", "SGDW", "Ranger", "NovoGrad",
    "Novograd", "AdaBelief", "Shampoo", "Adan", "Sophia", "Prodigy", "DAdaptAdam", "MADGRAD",
}


def _last(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def looks_like_optimizer_name(name: str) -> bool:
    """`optimizer`, `opt`, `opt_d`, `optimizerG`, `g_optim`; not `scheduler`, `lr_opt_sched`."""
    lower = name.lower()
    if lower == "lr" or any(bad in lower for bad in _NOT_OPT):
        return False
    if "optim" in lower:
        return True
    return any(w.lower() in _OPT_WORDS for w in _WORDS.findall(name))


def _is_grad_or_loss_name(name: str) -> bool:
    lower = name.lower()
    return "grad" in lower or "loss" in lower


_CLEAR_TAILS = {
    "zero_grad", "zero_grads", "zero_gradients", "zerograd", "zerograds", "clear_grad",
    "clear_grads", "clear_gradients", "cleargrads", "reset_grad", "reset_grads",
    "reset_gradients",
}


def _is_clear_tail(tail: str) -> bool:
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


def _is_none(expr: cst.CSTNode) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "None"


def _is_zero(expr: cst.CSTNode) -> bool:
    if isinstance(expr, cst.Integer):
        return expr.value.replace("_", "").lstrip("0") == ""
    if isinstance(expr, cst.Float):
        try:
            return float(expr.value) == 0.0
        except ValueError:
            return False
    return False


def _is_zeros_call(expr: cst.CSTNode) -> bool:
    """`torch.zeros(...)`, `tf.zeros_like(v)`, `np.zeros(n)`, `tf.Variable(tf.zeros_like(v))`, `torch.tensor(0.)`."""
    if not isinstance(expr, cst.Call):
        return False
    tail = call_tail(expr)
    if tail in ("zeros", "zeros_like", "new_zeros"):
        return True
    if tail in ("tensor", "constant", "Variable", "array", "as_tensor") and expr.args:
        first = expr.args[0].value
        return _is_zero(first) or _is_zeros_call(first)
    return False


def neutral_kind(expr: cst.CSTNode) -> Optional[str]:
    """How an initial value reads in a message, when it is a neutral accumulator start."""
    if _is_none(expr):
        return "None"
    if _is_zero(expr):
        return "0"
    if isinstance(expr, cst.List) and not expr.elements:
        return "[]"
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == "list" and not expr.args:
        return "[]"
    if _is_zeros_call(expr):
        return "zeros"
    if isinstance(expr, (cst.ListComp, cst.GeneratorExp)) and (_is_zeros_call(expr.elt) or _is_none(expr.elt) or _is_zero(expr.elt)):
        return "zeros"
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Multiply):
        left = expr.left
        if isinstance(left, cst.List) and len(left.elements) == 1:
            el = left.elements[0].value
            if _is_none(el) or _is_zero(el):
                return "zeros"
    return None


def _neutral_text(kind: str) -> str:
    return {"None": "reset to None", "0": "set to 0", "[]": "set to an empty list"}.get(kind, "set to zeros")


# ---------------------------------------------------------------------------
# statements and blocks
# ---------------------------------------------------------------------------


_BLOCK_TYPES = (cst.IndentedBlock, cst.SimpleStatementSuite, cst.Module)


def block_statements(block: cst.CSTNode) -> Sequence[cst.CSTNode]:
    if type(block) in _BLOCK_TYPES:
        return block.body  # type: ignore[attr-defined]
    return ()


def statement_blocks(stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The blocks directly inside a compound statement (clauses included)."""
    tp = type(stmt)
    if tp is cst.For or tp is cst.While:
        yield stmt.body
        if stmt.orelse is not None:
            yield stmt.orelse.body
    elif tp is cst.If:
        yield stmt.body
        orelse = stmt.orelse
        if type(orelse) is cst.If:
            yield from statement_blocks(orelse)
        elif orelse is not None:
            yield orelse.body
    elif tp is cst.With or tp is cst.FunctionDef or tp is cst.ClassDef:
        yield stmt.body
    elif tp in TRY_TYPES:
        yield stmt.body
        for handler in stmt.handlers:
            yield handler.body
        if stmt.orelse is not None:
            yield stmt.orelse.body
        if stmt.finalbody is not None:
            yield stmt.finalbody.body
    elif tp in MATCH_TYPES:
        for case in stmt.cases:
            yield case.body
    else:  # a statement kind newer than this code
        for child in children(stmt):
            if type(child) in _BLOCK_TYPES:
                yield child
            elif isinstance(child, CLAUSES):
                yield from statement_blocks(child)


def _small_units(stmts: Sequence[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    """Statements with simple lines split into their small statements."""
    for stmt in stmts:
        if type(stmt) is cst.SimpleStatementLine:
            yield from stmt.body
        else:
            yield stmt


def names_of(node: cst.CSTNode) -> Tuple[Set[str], Set[str]]:
    """(plain names bound anywhere under `node`, every plain name mentioned under it)."""
    written: Set[str] = set()
    mentioned: Set[str] = set()
    for n in walk(node):
        tp = type(n)
        if tp is cst.Name:
            mentioned.add(n.value)
        elif tp is cst.Assign:
            for t in n.targets:
                written.update(assigned_names(t.target))
        elif tp is cst.AnnAssign or tp is cst.AugAssign or tp is cst.For or tp is cst.CompFor or tp is cst.NamedExpr:
            written.update(assigned_names(n.target))
        elif tp is cst.AsName:
            written.update(assigned_names(n.name))
        elif tp is cst.FunctionDef or tp is cst.ClassDef:
            written.add(n.name.value)
    return written, mentioned


class FileIndex:
    """What the CNL2xx rules need to know about the whole file, from one statement walk."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.loops: List[cst.CSTNode] = []
        # statement -> (block, index in block); block -> owning statement
        self.stmt_pos: Dict[int, Tuple[cst.CSTNode, int]] = {}
        self.owner: Dict[int, cst.CSTNode] = {}
        self.functions: Dict[str, List[cst.FunctionDef]] = {}
        self.methods: Dict[str, List[cst.FunctionDef]] = {}
        self.classes: Dict[str, cst.ClassDef] = {}
        self.class_methods: Dict[int, Dict[str, List[cst.FunctionDef]]] = {}
        # function or loop -> the class whose `self` it sees
        self.self_class: Dict[int, Optional[cst.ClassDef]] = {}
        # dotted assignment target -> assigned values (evidence for optimizers and scalers)
        self.assigned: Dict[str, List[cst.CSTNode]] = {}
        self.global_names: Set[str] = set()
        # block -> [(index in block, names, assignment)] for `name = <neutral value>`
        self.neutral_inits: Dict[int, List[Tuple[int, List[str], cst.Assign]]] = {}
        # statement -> (names it binds, names it mentions), computed on demand
        self._unit_names: Dict[int, Tuple[Set[str], Set[str]]] = {}
        self._build()

    def _build(self) -> None:
        # (block, self class, class being defined directly)
        stack: List[Tuple[cst.CSTNode, Optional[cst.ClassDef], Optional[cst.ClassDef]]] = [(self.module, None, None)]
        while stack:
            block, self_cls, def_cls = stack.pop()
            for i, stmt in enumerate(block_statements(block)):
                self.stmt_pos[id(stmt)] = (block, i)
                tp = type(stmt)
                if tp is cst.SimpleStatementLine:
                    for small in stmt.body:
                        self._small(small, block, i)
                    continue
                if type(block) is cst.SimpleStatementSuite:
                    self._small(stmt, block, i)
                    continue
                inner_self, inner_def = self_cls, None
                if tp is cst.FunctionDef:
                    name = stmt.name.value
                    if def_cls is not None:
                        self.methods.setdefault(name, []).append(stmt)
                        self.class_methods.setdefault(id(def_cls), {}).setdefault(name, []).append(stmt)
                        inner_self = def_cls
                    else:
                        self.functions.setdefault(name, []).append(stmt)
                    self.self_class[id(stmt)] = inner_self
                elif tp is cst.ClassDef:
                    self.classes.setdefault(stmt.name.value, stmt)
                    inner_def = stmt
                elif tp is cst.For or tp is cst.While:
                    self.loops.append(stmt)
                    self.self_class[id(stmt)] = self_cls
                for sub in statement_blocks(stmt):
                    self.owner[id(sub)] = stmt
                    stack.append((sub, inner_self, inner_def))
        # source order (the stack visits blocks out of order)
        self.loops.sort(key=self._order_key)

    def _order_key(self, stmt: cst.CSTNode) -> Tuple[int, ...]:
        path: List[int] = []
        current: Optional[cst.CSTNode] = stmt
        while current is not None:
            pos = self.stmt_pos.get(id(current))
            if pos is None:
                break
            path.append(pos[1])
            current = self.owner.get(id(pos[0]))
        path.reverse()
        return tuple(path)

    def _small(self, small: cst.CSTNode, block: cst.CSTNode, i: int) -> None:
        tp = type(small)
        if tp is cst.Assign:
            plain: List[str] = []
            for target in small.targets:
                t = target.target
                name = dotted_name(t)
                if name is not None:
                    self.assigned.setdefault(name, []).append(small.value)
                    if type(t) is cst.Name:
                        plain.append(name)
                elif type(t) in (cst.Tuple, cst.List):
                    for n in assigned_names(t):
                        self.assigned.setdefault(n, []).append(small.value)
            if plain and len(plain) == len(small.targets) and neutral_kind(small.value) is not None:
                self.neutral_inits.setdefault(id(block), []).append((i, plain, small))
        elif tp is cst.AnnAssign and small.value is not None:
            name = dotted_name(small.target)
            if name is not None:
                self.assigned.setdefault(name, []).append(small.value)
        elif tp is cst.Global or tp is cst.Nonlocal:
            for item in small.names:
                self.global_names.add(item.name.value)

    def unit_names(self, unit: cst.CSTNode) -> Tuple[Set[str], Set[str]]:
        """names_of(unit), cached."""
        found = self._unit_names.get(id(unit))
        if found is None:
            found = names_of(unit)
            self._unit_names[id(unit)] = found
        return found

    def path(self, stmt: cst.CSTNode) -> List[Tuple[cst.CSTNode, int]]:
        """(block, index) of `stmt` and of each statement around it, up to the enclosing def."""
        out: List[Tuple[cst.CSTNode, int]] = []
        current: Optional[cst.CSTNode] = stmt
        while current is not None:
            pos = self.stmt_pos.get(id(current))
            if pos is None:
                break
            out.append(pos)
            owner = self.owner.get(id(pos[0]))
            if owner is None or type(owner) in (cst.FunctionDef, cst.ClassDef):
                break
            current = owner
        return out

    # -- navigation -----------------------------------------------------

    def enclosing(self, stmt: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The compound statement whose block holds `stmt` (None at module level)."""
        pos = self.stmt_pos.get(id(stmt))
        if pos is None:
            return None
        return self.owner.get(id(pos[0]))

    def enclosing_loops(self, stmt: cst.CSTNode) -> Iterator[cst.CSTNode]:
        """Loops around `stmt`, innermost first, up to the enclosing def."""
        current = self.enclosing(stmt)
        while current is not None and not isinstance(current, (cst.FunctionDef, cst.ClassDef)):
            if isinstance(current, LOOPS):
                yield current
            current = self.enclosing(current)

    # -- evidence -------------------------------------------------------

    def _qualified_tail(self, call: cst.Call) -> Tuple[str, str]:
        # written names, not import-resolved: `torch.optim.SGD`, `optim.SGD`, `SGD` all end the same
        return dotted_name(call.func) or "", call_tail(call) or ""

    def is_optimizer(self, expr: cst.CSTNode) -> bool:
        name = dotted_name(expr)
        if name is None:
            return False
        values = self.assigned.get(name, ())
        for value in values:
            if isinstance(value, cst.Call):
                qual, tail = self._qualified_tail(value)
                low = qual.lower()
                if "sched" in low or "swa_utils" in low or "scaler" in low:
                    return False
        if looks_like_optimizer_name(_last(name)):
            return True
        for value in values:
            if isinstance(value, cst.Call):
                qual, tail = self._qualified_tail(value)
                if qual.startswith(("torch.optim.", "optim.")) or tail in KNOWN_OPTIMIZERS:
                    return True
                if "optimizer" in tail.lower() or tail == "optimizers":
                    return True
        return False

    def is_scaler(self, expr: cst.CSTNode) -> bool:
        name = dotted_name(expr)
        if name is None:
            return False
        if "scaler" in _last(name).lower():
            return True
        for value in self.assigned.get(name, ()):
            if isinstance(value, cst.Call) and (call_tail(value) or "").endswith("GradScaler"):
                return True
        return False


def file_index(ctx) -> Optional[FileIndex]:
    """The index of the file, built once and shared by the CNL2xx rules."""
    cached = getattr(ctx, "_cnl2_index", None)
    if cached is not None:
        return cached
    if ctx.module is None:
        return None
    index = FileIndex(ctx.module)
    ctx._cnl2_index = index
    return index


# ---------------------------------------------------------------------------
# CNL201: events of a loop body
# ---------------------------------------------------------------------------

BACKWARD, STEP, CLOSURE_STEP, CLEAR, SETGRAD, PRODUCE, CONTINUE, OPAQUE, OPAQUE_SELF, OPAQUE_ALL = range(10)


class Event:
    __slots__ = ("kind", "node", "key", "site", "loops", "conds", "straight", "order", "names", "text", "by_name")

    def __init__(self, kind: int, node: cst.CSTNode, state: "_State", order: int) -> None:
        self.kind = kind
        self.node = node
        self.site = state.site  # the call in the loop body that led here (None: in the body itself)
        self.loops = state.loops
        self.conds = state.conds
        self.straight = state.straight
        self.order = order
        self.key: Optional[str] = None  # the optimizer, as written
        self.names: FrozenSet[str] = frozenset()
        self.text = ""
        self.by_name = False  # CLEAR through `optimizer.zero_grad()` rather than model-wide

    @property
    def at(self) -> cst.CSTNode:
        return self.site if self.site is not None else self.node


class _State:
    __slots__ = ("loops", "conds", "straight", "site", "depth", "stack", "cls")

    def __init__(self, loops, conds, straight, site, depth, stack, cls) -> None:
        self.loops: Tuple[cst.CSTNode, ...] = loops
        self.conds: Tuple[Tuple[int, object], ...] = conds
        self.straight: bool = straight
        self.site: Optional[cst.CSTNode] = site
        self.depth: int = depth
        self.stack: FrozenSet[int] = stack
        self.cls: Optional[cst.ClassDef] = cls

    def loop(self, node: cst.CSTNode) -> "_State":
        return _State(self.loops + (node,), self.conds, False, self.site, self.depth, self.stack, self.cls)

    def branch(self, owner: cst.CSTNode, which: object) -> "_State":
        return _State(self.loops, self.conds + ((id(owner), which),), False, self.site, self.depth, self.stack, self.cls)

    def call(self, call: cst.Call, fn: cst.FunctionDef, cls: Optional[cst.ClassDef]) -> "_State":
        site = self.site if self.site is not None else call
        return _State(self.loops, self.conds, self.straight, site, self.depth + 1, self.stack | {id(fn)}, cls)


def _mentions_grad(expr: cst.CSTNode) -> bool:
    """`p.grad`, `p.grad.data`, `param.grad[...]`: an expression on a `.grad` attribute."""
    while True:
        if isinstance(expr, cst.Attribute):
            if expr.attr.value == "grad":
                return True
            expr = expr.value
        elif isinstance(expr, cst.Subscript):
            expr = expr.value
        else:
            return False


class LoopScanner:
    """Lists what one loop body does to gradients, following calls into the file's functions."""

    def __init__(self, index: FileIndex) -> None:
        self.index = index
        self.events: List[Event] = []
        self.expansions = 0

    def emit(self, kind: int, node: cst.CSTNode, st: _State) -> Event:
        ev = Event(kind, node, st, len(self.events))
        self.events.append(ev)
        return ev

    # -- statements -----------------------------------------------------

    def scan_loop(self, loop: cst.CSTNode) -> List[Event]:
        st = _State((), (), True, None, 0, frozenset(), self.index.self_class.get(id(loop)))
        if isinstance(loop, cst.While):
            self.expr(loop.test, st)
        self.block(loop.body, st)
        return self.events

    def block(self, block: cst.CSTNode, st: _State) -> None:
        for stmt in block_statements(block):
            self.stmt(stmt, st)

    def stmt(self, stmt: cst.CSTNode, st: _State) -> None:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self.small(small, st)
        elif isinstance(stmt, cst.BaseSmallStatement):
            self.small(stmt, st)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return
        elif isinstance(stmt, cst.For):
            self.expr(stmt.iter, st)
            self.block(stmt.body, st.loop(stmt))
            if stmt.orelse is not None:
                self.block(stmt.orelse.body, st.branch(stmt, "else"))
        elif isinstance(stmt, cst.While):
            inner = st.loop(stmt)
            self.expr(stmt.test, inner)
            self.block(stmt.body, inner)
            if stmt.orelse is not None:
                self.block(stmt.orelse.body, st.branch(stmt, "else"))
        elif isinstance(stmt, cst.If):
            self.expr(stmt.test, st)
            self.block(stmt.body, st.branch(stmt, 0))
            orelse = stmt.orelse
            if isinstance(orelse, cst.If):
                self.stmt(orelse, st.branch(stmt, 1))
            elif isinstance(orelse, cst.Else):
                self.block(orelse.body, st.branch(stmt, 1))
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                self.expr(item.item, st)
            self.block(stmt.body, st)
        elif type(stmt) in TRY_TYPES:
            self.block(stmt.body, st)
            for i, handler in enumerate(stmt.handlers):
                self.block(handler.body, st.branch(stmt, i))
            if stmt.orelse is not None:
                self.block(stmt.orelse.body, st)
            if stmt.finalbody is not None:
                self.block(stmt.finalbody.body, st)
        elif type(stmt) in MATCH_TYPES:
            self.expr(stmt.subject, st)
            for i, case in enumerate(stmt.cases):
                self.block(case.body, st.branch(stmt, i))
        else:  # future compound statements: conditional, to be safe
            for child in children(stmt):
                if isinstance(child, BLOCKS):
                    self.block(child, st.branch(stmt, "?"))
                elif isinstance(child, cst.BaseExpression):
                    self.expr(child, st)

    def small(self, small: cst.CSTNode, st: _State) -> None:
        if isinstance(small, cst.Assign):
            self.expr(small.value, st)
            for target in small.targets:
                self._store(target.target, small, small.value, st)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.expr(small.value, st)
                self._store(small.target, small, small.value, st)
        elif isinstance(small, cst.AugAssign):
            self.expr(small.value, st)
            if _mentions_grad(small.target):
                zeroing = isinstance(small.operator, cst.MultiplyAssign) and _is_zero(small.value)
                self.emit(CLEAR if zeroing else PRODUCE, small, st)
            else:
                self.expr(small.target, st)
        elif isinstance(small, cst.Del):
            for target in _del_targets(small.target):
                if isinstance(target, cst.Attribute) and target.attr.value == "grad":
                    self.emit(CLEAR, small, st)
        elif isinstance(small, cst.Continue):
            if not st.loops and st.site is None:
                self.emit(CONTINUE, small, st)
        else:
            for child in children(small):
                self.expr(child, st)

    def _store(self, target: cst.CSTNode, stmt: cst.CSTNode, value: cst.CSTNode, st: _State) -> None:
        if isinstance(target, cst.Attribute) and target.attr.value == "grad":
            if _is_none(value) or _is_zero(value) or _is_zeros_call(value):
                self.emit(CLEAR, stmt, st)
            else:
                self.emit(SETGRAD, stmt, st)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._store(el.value, stmt, value, st)
        elif isinstance(target, (cst.Subscript, cst.Attribute)):
            self.expr(target, st)

    # -- expressions ----------------------------------------------------

    def expr(self, root: cst.CSTNode, st: _State) -> None:
        """Events of an expression, in evaluation order (iterative: chains can be deep)."""
        stack: List[Tuple[cst.CSTNode, _State, bool]] = [(root, st, False)]
        while stack:
            node, s, done = stack.pop()
            if done:
                self.call(node, s)  # type: ignore[arg-type]
                continue
            tp = type(node)
            if tp is cst.Lambda:
                continue
            if tp in _COMPREHENSION_TYPES:
                inner = s.loop(node)
                stack.extend((child, inner, False) for child in reversed(children(node)))
            elif tp is cst.IfExp:
                stack.append((node.orelse, s.branch(node, 1), False))
                stack.append((node.body, s.branch(node, 0), False))
                stack.append((node.test, s, False))
            elif tp is cst.BooleanOperation:
                stack.append((node.right, s.branch(node, 1), False))
                stack.append((node.left, s, False))
            elif tp is cst.Call:
                stack.append((node, s, True))
                stack.extend((arg.value, s, False) for arg in reversed(node.args))
                stack.append((node.func, s, False))
            else:
                stack.extend((child, s, False) for child in reversed(children(node)))

    def call(self, call: cst.Call, st: _State) -> None:
        index = self.index
        func = call.func
        tail = call_tail(call)
        if tail is None:
            return
        recv = func.value if isinstance(func, cst.Attribute) else None
        if tail in ("backward", "manual_backward"):
            if not self._expand(call, st):
                self.emit(BACKWARD, call, st)
            return
        if tail == "step" and recv is not None:
            if index.is_scaler(recv):
                if call.args and call.args[0].keyword is None and not call.args[0].star:
                    key = _optimizer_key(call.args[0].value, index, any_name=True)
                    if key is not None:
                        ev = self.emit(STEP, call, st)
                        ev.key = key
                return
            key = _optimizer_key(recv, index)
            if key is not None:
                ev = self.emit(CLOSURE_STEP if call.args else STEP, call, st)
                ev.key = key
                return
            self._expand(call, st)
            return
        if _is_clear_tail(tail):
            self._expand(call, st)
            ev = self.emit(CLEAR, call, st)
            if recv is not None:
                key = _optimizer_key(recv, index)
                if key is not None:
                    ev.key = key
                    ev.by_name = True
            ev.text = short_code(index.module, call)
            return
        if recv is not None and _mentions_grad(recv):
            if tail == "zero_" or (tail in ("fill_", "mul_") and call.args and _is_zero(call.args[0].value)):
                self.emit(CLEAR, call, st)
            elif tail in ("copy_", "set_"):
                self.emit(SETGRAD, call, st)
            elif tail in ("add_", "sub_"):
                self.emit(PRODUCE, call, st)
            return
        if self._expand(call, st):
            return
        # not defined in this file
        if _unknown_clear_name(tail):
            self.emit(CLEAR, call, st)
            return
        low = tail.lower()
        if tail in _SAFE_TAILS or "lr" in low or "learning_rate" in low or "sched" in low:
            return
        if recv is not None and index.is_scaler(recv):
            return
        names = set()
        for arg in call.args:
            name = dotted_name(arg.value)
            if name is not None:
                names.add(name)
                names.add(_last(name))
        if names:
            ev = self.emit(OPAQUE, call, st)
            ev.names = frozenset(names)
        if (
            type(recv) is cst.Name
            and recv.value == "self"
            and tail not in _SAFE_SELF
            and f"self.{tail}" not in index.assigned  # an attribute (`self.criterion = ...`), not a method
            and _has_unseen_base(index, st.cls)
        ):
            self.emit(OPAQUE_SELF, call, st)

    def _resolve(self, call: cst.Call, st: _State) -> List[cst.FunctionDef]:
        index = self.index
        func = call.func
        if isinstance(func, cst.Name):
            return list(index.functions.get(func.value, ()))
        if not isinstance(func, cst.Attribute):
            return []
        name = func.attr.value
        recv = func.value
        if isinstance(recv, cst.Name) and recv.value in ("self", "cls"):
            return _class_method(index, st.cls, name, include_self=True)
        if isinstance(recv, cst.Call) and isinstance(recv.func, cst.Name) and recv.func.value == "super":
            return _class_method(index, st.cls, name, include_self=False)
        root = dotted_name(recv)
        if root is not None:
            # `trainer.fit()` where `trainer = Trainer(...)` and the class is in this file
            for value in index.assigned.get(root, ()):
                if isinstance(value, cst.Call) and isinstance(value.func, cst.Name):
                    cls = index.classes.get(value.func.value)
                    if cls is not None:
                        found = _class_method(index, cls, name, include_self=True)
                        if found:
                            return found
        return []

    def _expand(self, call: cst.Call, st: _State) -> bool:
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
            self.block(fn.body, st.call(call, fn, self.index.self_class.get(id(fn))))
        return True


def _del_targets(target: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from _del_targets(el.value)
    else:
        yield target


def _class_method(index: FileIndex, cls: Optional[cst.ClassDef], name: str, include_self: bool) -> List[cst.FunctionDef]:
    """`name` looked up in `cls` and its bases defined in this file."""
    seen: Set[int] = set()
    todo: List[Tuple[cst.ClassDef, bool]] = [(cls, include_self)] if cls is not None else []
    while todo:
        current, look = todo.pop(0)
        if id(current) in seen or len(seen) > 8:
            continue
        seen.add(id(current))
        if look:
            found = index.class_methods.get(id(current), {}).get(name)
            if found:
                return list(found)
        for base in current.bases:
            base_name = dotted_name(base.value)
            if base_name is not None:
                base_cls = index.classes.get(_last(base_name))
                if base_cls is not None:
                    todo.append((base_cls, True))
    return []


def _has_unseen_base(index: FileIndex, cls: Optional[cst.ClassDef]) -> bool:
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
        for base in current.bases:
            name = dotted_name(base.value)
            if name is None:
                return True
            if name == "object":
                continue
            found = index.classes.get(_last(name))
            if found is None:
                return True
            todo.append(found)
    return False


def _optimizer_key(expr: cst.CSTNode, index: FileIndex, any_name: bool = False) -> Optional[str]:
    """The optimizer an expression names, as written (`optimizer`, `self.opt_d`), or None."""
    if isinstance(expr, cst.Call):
        tail = call_tail(expr)
        if tail in ("optimizers", "optimizer", "get_optimizer"):
            return (dotted_name(expr.func) or tail) + "()"
        return None
    if isinstance(expr, cst.Subscript):
        base = dotted_name(expr.value)
        if base is not None and (any_name or looks_like_optimizer_name(_last(base)) or index.is_optimizer(expr.value)):
            return base + "[]"
        return None
    name = dotted_name(expr)
    if name is None:
        return None
    if any_name or index.is_optimizer(expr):
        return name
    return None


def _match_key(key: str) -> str:
    """Identity for matching a clear with a step: the last name (`self.opt` is `opt`)."""
    return _last(key.replace("()", "").replace("[]", ""))


def _ambiguous(key: str) -> bool:
    """`optimizers[i]`, `self.optimizers()`: which optimizer is not known."""
    return key.endswith("[]") or key.endswith("()")


class GradientsNeverCleared(Rule):
    code = "CNL201"
    name = "gradients-never-cleared"
    severity = Severity.ERROR
    autofix = True
    summary = "Training loop never clears gradients, or clears them between backward() and step()"

    @classmethod
    def applies(cls, source) -> bool:
        return "backward" in source.text and "step(" in source.text

    def finish(self) -> None:
        ctx = self.ctx
        index = file_index(ctx)
        if index is None:
            return
        cache: Dict[int, List[Event]] = {}
        self.found: List[Tuple[cst.CSTNode, str, str, Optional[FixPlan]]] = []
        try:
            for loop in index.loops:
                self.check_loop(loop, index, cache)
        except RecursionError:
            pass
        fixes = plan_fixes(self.ctx, [plan for _, _, _, plan in self.found if plan is not None])
        for target, message, hint, plan in self.found:
            self.report(target, message, hint, fix=fixes.get(id(plan)) if plan is not None else None)

    def events(self, loop: cst.CSTNode, index: FileIndex, cache: Dict[int, List[Event]]) -> List[Event]:
        found = cache.get(id(loop))
        if found is None:
            found = LoopScanner(index).scan_loop(loop)
            cache[id(loop)] = found
        return found

    def check_loop(self, loop: cst.CSTNode, index: FileIndex, cache: Dict[int, List[Event]]) -> None:
        events = self.events(loop, index, cache)
        backs = [e for e in events if e.kind == BACKWARD]
        steps = [e for e in events if e.kind == STEP]
        if not backs or not steps:
            return
        # the training loop is the innermost loop holding both backward and step
        back_loops = {id(l) for e in backs for l in e.loops}
        if any(id(l) in back_loops for e in steps for l in e.loops):
            return
        keys: List[str] = []
        for e in steps:
            if e.key not in keys:
                keys.append(e.key)
        step_matches = {_match_key(k) for k in keys}
        module = index.module
        for key in keys:
            key_steps = [e for e in steps if e.key == key]
            misplaced = self.misplaced_clear(events, key, key_steps, len(keys) == 1)
            if misplaced is not None:
                clear, back, step = misplaced
                step_text = short_code(module, step.node)
                self.found.append((
                    clear.node,
                    f"`{clear.text}` runs after `{short_code(module, back.node)}` and before `{step_text}` "
                    f"in the same iteration, so it discards the gradients just computed and the step has nothing to apply",
                    f"move `{clear.text}` to the top of the loop body, before the forward pass (or after `{step_text}`)",
                    move_plan(self.ctx, clear, events),
                ))
                continue
            if self.cleared(events, key, step_matches):
                continue
            if all(self.gated(e, events, backs) for e in key_steps):
                continue
            if self.opaque(events, key):
                continue
            step = key_steps[0]
            back = max((b for b in backs if b.order < step.order), key=lambda b: b.order, default=backs[0])
            opt = key[:-2] if key.endswith("()") else key
            step_text = short_code(module, step.node)
            outer = self.cleared_in_enclosing_loop(loop, key, index, cache)
            if outer:
                message = (
                    f"`{step_text}` runs every iteration of this loop, but `{opt}`'s gradients are cleared only "
                    f"in the enclosing loop, so they pile up across the steps of this loop"
                )
                hint = f"move `{opt}.zero_grad()` into this loop, at the top of its body"
            else:
                message = (
                    f"`{step_text}` runs every iteration of this loop, but `{opt}`'s gradients are never cleared, "
                    f"so each `backward()` adds to the gradients of all earlier iterations"
                )
                hint = f"call `{opt}.zero_grad()` at the top of the loop body (or right before `{short_code(module, back.node)}`)"
            self.found.append((back.at, message, hint, insert_plan(loop, key, key_steps)))

    @staticmethod
    def cleared(events: List[Event], key: str, step_matches: Set[str]) -> bool:
        want = _match_key(key)
        for e in events:
            if e.kind == SETGRAD:
                return True
            if e.kind == CLOSURE_STEP and (e.key is None or _match_key(e.key) == want or _ambiguous(e.key)):
                return True
            if e.kind != CLEAR:
                continue
            if e.key is None or _ambiguous(key) or _ambiguous(e.key):
                return True
            match = _match_key(e.key)
            if match == want or match not in step_matches:
                return True
        return False

    @staticmethod
    def gated(step: Event, events: List[Event], backs: List[Event]) -> bool:
        """The step is skipped on some iterations that do run backward (accumulation)."""
        for owner, which in step.conds:
            if any((owner, which) in b.conds for b in backs):
                continue
            alternative = any(
                e.kind == STEP and e.key == step.key and any(o == owner and w != which for o, w in e.conds)
                for e in events
            )
            if not alternative:
                return True
        first_back = min(b.order for b in backs)
        return any(e.kind == CONTINUE and first_back < e.order < step.order for e in events)

    @staticmethod
    def opaque(events: List[Event], key: str) -> bool:
        """A call this file cannot see into may clear the optimizer's gradients."""
        names = {key, _last(key), _match_key(key)}
        for e in events:
            if e.kind == OPAQUE_ALL:
                return True
            if e.kind == OPAQUE:
                if e.names & names or any(looks_like_optimizer_name(_last(n)) for n in e.names):
                    return True
            if e.kind == OPAQUE_SELF and key.startswith("self."):
                return True
        return False

    @staticmethod
    def misplaced_clear(
        events: List[Event], key: str, key_steps: List[Event], single: bool
    ) -> Optional[Tuple[Event, Event, Event]]:
        """An unconditional clear after backward() and before this optimizer's step."""
        for clear in events:
            if clear.kind != CLEAR or not clear.straight or clear.loops or clear.site is not None:
                continue
            if not clear.text:
                continue  # `p.grad = None` and friends may touch some parameters only
            if clear.by_name:
                if clear.key != key:
                    continue
            elif not single:
                continue
            before = [e for e in events if e.kind == BACKWARD and e.order < clear.order]
            if not before:
                continue
            after = [s for s in key_steps if s.order > clear.order]
            if not after:
                continue
            step = after[0]
            if any(e.kind in (BACKWARD, SETGRAD, PRODUCE) and clear.order < e.order < step.order for e in events):
                continue
            return clear, before[-1], step
        return None

    def cleared_in_enclosing_loop(self, loop: cst.CSTNode, key: str, index: FileIndex, cache: Dict[int, List[Event]]) -> bool:
        for outer in index.enclosing_loops(loop):
            events = self.events(outer, index, cache)
            steps = {_match_key(e.key) for e in events if e.kind == STEP}
            if self.cleared(events, key, steps):
                return True
        return False


# ---------------------------------------------------------------------------
# CNL201: fixes
# ---------------------------------------------------------------------------


class FixPlan:
    """A fix to build once positions are known: insert a zero_grad() at the top of a
    loop body (`insert`), or move a misplaced one before the backward statement (`move`)."""

    __slots__ = ("kind", "anchor", "moved", "text")

    def __init__(self, kind: str, anchor: cst.CSTNode, moved: Optional[cst.CSTNode], text: str) -> None:
        self.kind = kind
        self.anchor = anchor  # the statement the new or moved line goes before
        self.moved = moved  # the statement moved (`move`)
        self.text = text  # the call inserted (`insert`), the call moved (`move`)


def _rebinds(block: cst.CSTNode, key: str) -> bool:
    """Whether the block binds the optimizer's name (or assigns the attribute) itself."""
    root = key.split(".", 1)[0]
    if root in names_of(block)[0]:
        return True
    for n in walk(block):
        tp = type(n)
        if tp is cst.Global or tp is cst.Nonlocal:
            if any(item.name.value == root for item in n.names):
                return True  # a statement before it would use the name before its declaration
            continue
        if "." not in key:
            continue
        if tp is cst.Assign:
            targets = [t.target for t in n.targets]
        elif tp is cst.AnnAssign or tp is cst.AugAssign:
            targets = [n.target]
        else:
            continue
        for target in targets:
            if any(dotted_name(t) == key for t in walk(target)):
                return True
    return False


def insert_plan(loop: cst.CSTNode, key: str, key_steps: List[Event]) -> Optional[FixPlan]:
    """`<optimizer>.zero_grad()` as the first statement of the loop body, when that is safe:
    the body is an indented block, every step of this optimizer is in the body itself (not
    in a helper, where the name may differ, nor in a nested loop or comprehension), and the
    body does not bind the optimizer's name."""
    if _ambiguous(key):
        return None
    body = loop.body
    if type(body) is not cst.IndentedBlock or not body.body:
        return None
    if any(e.site is not None or e.loops for e in key_steps):
        return None
    if _rebinds(body, key):
        return None
    return FixPlan("insert", body.body[0], None, f"{key}.zero_grad()")


def move_plan(ctx, clear: Event, events: List[Event]) -> Optional[FixPlan]:
    """Move the statement `optimizer.zero_grad()` to just before the statement holding the
    one backward() that runs before it, when both are statements of one block."""
    backs = [e for e in events if e.kind == BACKWARD and e.order < clear.order]
    if len(backs) != 1:
        return None  # with several backward() calls the right place is not clear
    expr = ctx.parent(clear.node)
    line = ctx.parent(expr) if expr is not None else None
    if type(expr) is not cst.Expr or type(line) is not cst.SimpleStatementLine or len(line.body) != 1:
        return None
    block = ctx.parent(line)
    if type(block) is not cst.IndentedBlock:
        return None
    stmt: Optional[cst.CSTNode] = backs[0].at
    while stmt is not None and ctx.parent(stmt) is not block:
        stmt = ctx.parent(stmt)
    if stmt is None:
        return None
    order = [id(s) for s in block.body]
    if order.index(id(stmt)) >= order.index(id(line)):
        return None
    return FixPlan("move", stmt, line, clear.text)


def _attached_comments(stmt: cst.CSTNode) -> int:
    """How many comment lines sit right above the statement (they move and insert with it)."""
    count = 0
    for empty in reversed(getattr(stmt, "leading_lines", ())):
        if empty.comment is None:
            break
        count += 1
    return count


def plan_fixes(ctx, plans: List[FixPlan]) -> Dict[int, Fix]:
    """The Fix of each plan (by id), from the positions of the statements involved."""
    if not plans:
        return {}
    nodes = [p.anchor for p in plans] + [p.moved for p in plans if p.moved is not None]
    ranges = ctx.ranges(nodes)
    raw_line = _raw_lines(ctx)
    fixes: Dict[int, Fix] = {}
    for plan in plans:
        span = ranges.get(id(plan.anchor))
        if span is None:
            continue
        line, column = span[0], span[1]
        indent = raw_line(line)[: column - 1]
        if indent.strip():
            continue
        if plan.kind == "insert":
            at = line - len(plan.anchor.leading_lines)  # type: ignore[attr-defined]
            fixes[id(plan)] = Fix(
                at, 1, at, 1, f"{indent}{plan.text}\n",
                description=f"insert `{plan.text}` at the top of the loop body",
            )
            continue
        moved = ranges.get(id(plan.moved))
        if moved is None:
            continue
        first = moved[0] - _attached_comments(plan.moved)  # type: ignore[arg-type]
        text = "".join(raw_line(n).rstrip("\r") + "\n" for n in range(first, moved[2] + 1))
        at = line - _attached_comments(plan.anchor)
        fixes[id(plan)] = Fix(
            at, 1, at, 1, text,
            description=f"move `{plan.text}` before the backward() call",
            edits=((first, 1, moved[2] + 1, 1, ""),),
        )
    return fixes


def _raw_lines(ctx):
    """Line number -> the line as written (a notebook cell's own text, magics included)."""
    source = ctx.source
    if getattr(source, "cells", None) is not None:
        return source.raw_line
    lines = source.text.split("\n")
    return lambda n: lines[n - 1] if 0 < n <= len(lines) else ""


# ---------------------------------------------------------------------------
# CNL202: accumulators that are overwritten
# ---------------------------------------------------------------------------

WRITE, AUG, BIND, READ = range(4)


def name_uses(node: cst.CSTNode, name: str, out: List[Tuple[int, cst.CSTNode]]) -> None:
    """Every use of the plain name `name` under `node`: written, augmented, bound otherwise, read."""
    stack: List[cst.CSTNode] = [node]
    while stack:
        cur = stack.pop()
        if isinstance(cur, cst.Name):
            if cur.value == name:
                out.append((READ, cur))
            continue
        if isinstance(cur, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in cur.targets] if isinstance(cur, cst.Assign) else [cur.target]
            for t in targets:
                _target_uses(t, name, cur, out, stack)
            if cur.value is not None:
                stack.append(cur.value)
            continue
        if isinstance(cur, cst.AugAssign):
            if isinstance(cur.target, cst.Name) and cur.target.value == name:
                out.append((AUG, cur))
            else:
                stack.append(cur.target)
            stack.append(cur.value)
            continue
        if isinstance(cur, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            # a closure or nested def that mentions the name: anything may happen
            if any(isinstance(n, cst.Name) and n.value == name for n in walk(cur)):
                out.append((BIND, cur))
            continue
        if isinstance(cur, (cst.Global, cst.Nonlocal)):
            if any(item.name.value == name for item in cur.names):
                out.append((BIND, cur))
            continue
        if isinstance(cur, cst.Attribute):
            stack.append(cur.value)
            continue
        if isinstance(cur, cst.Arg):
            stack.append(cur.value)
            continue
        if isinstance(cur, (cst.For, cst.CompFor)):
            if name in set(assigned_names(cur.target)) or _binds_in(cur.target, name):
                out.append((BIND, cur))
        elif isinstance(cur, cst.NamedExpr):
            if isinstance(cur.target, cst.Name) and cur.target.value == name:
                out.append((BIND, cur))
                stack.append(cur.value)
                continue
        elif isinstance(cur, cst.AsName):
            if isinstance(cur.name, cst.Name) and cur.name.value == name:
                out.append((BIND, cur))
            continue
        elif isinstance(cur, cst.Del):
            if any(isinstance(n, cst.Name) and n.value == name for n in walk(cur)):
                out.append((BIND, cur))
            continue
        kids = children(cur)
        kids.reverse()
        stack.extend(kids)


def _binds_in(target: cst.CSTNode, name: str) -> bool:
    return any(isinstance(n, cst.Name) and n.value == name for n in walk(target))


def _target_uses(target, name, stmt, out, stack) -> None:
    if isinstance(target, cst.Name):
        if target.value == name:
            out.append((WRITE, stmt))
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            _target_uses(el.value, name, stmt, out, stack)
    elif isinstance(target, cst.StarredElement):
        _target_uses(target.value, name, stmt, out, stack)
    else:  # `acc[i] = ...`, `acc.x = ...`: reads the accumulator
        stack.append(target)


def _reads(node: cst.CSTNode, names: Set[str]) -> bool:
    for n in walk(node):
        if isinstance(n, cst.Name) and n.value in names:
            return True
    return False


_LOSS_WORDS = ("loss", "criterion", "entropy", "mse", "nll")


def _is_grad_or_loss_expr(expr: cst.CSTNode) -> bool:
    for n in walk(expr):
        if isinstance(n, cst.Call):
            tail = (call_tail(n) or "").lower()
            if tail in ("gradient", "grad", "gradients", "compute_gradients") or any(w in tail for w in _LOSS_WORDS):
                return True
        elif isinstance(n, cst.Name):
            low = n.value.lower()
            if "grad" in low or "loss" in low or "criterion" in low:
                return True
    return False


def _loop_flat_units(loop: cst.CSTNode) -> List[Tuple[cst.CSTNode, bool]]:
    """The loop body in execution order as (unit, straight): `with` blocks opened up."""
    units: List[Tuple[cst.CSTNode, bool]] = []
    if isinstance(loop, cst.While):
        units.append((loop.test, False))

    def add(stmts: Sequence[cst.CSTNode]) -> None:
        for unit in _small_units(stmts):
            if isinstance(unit, cst.With):
                for item in unit.items:
                    units.append((item, False))
                add(block_statements(unit.body))
            else:
                units.append((unit, isinstance(unit, cst.BaseSmallStatement)))

    add(block_statements(loop.body))
    return units


class AccumulatorNeverAccumulated(Rule):
    code = "CNL202"
    name = "accumulator-never-accumulated"
    severity = Severity.ERROR
    summary = "Gradient/loss accumulator is overwritten in the micro-batch loop instead of summed"

    @classmethod
    def applies(cls, source) -> bool:
        text = source.text
        return "apply_gradients" in text or "backward" in text or ".grad" in text

    def finish(self) -> None:
        ctx = self.ctx
        index = file_index(ctx)
        if index is None or not index.neutral_inits:
            return
        try:
            for loop in index.loops:
                self.check_loop(loop, index)
        except RecursionError:
            return

    def check_loop(self, loop: cst.CSTNode, index: FileIndex) -> None:
        if _single_pass(loop):
            return
        path = index.path(loop)
        # the closest `name = <neutral>` before the loop, for each name: (level, index, assignment)
        inits: Dict[str, Tuple[int, int, cst.Assign]] = {}
        for level, (block, i) in enumerate(path):
            for j, names, assign in reversed(index.neutral_inits.get(id(block), ())):
                if j < i:
                    for name in names:
                        inits.setdefault(name, (level, j, assign))
        if not inits:
            return
        written, mentioned = index.unit_names(loop)
        units: Optional[List[Tuple[cst.CSTNode, bool]]] = None
        for name, (level, j, assign) in inits.items():
            if name in index.global_names:
                continue
            if name in mentioned:
                if name not in written:
                    continue  # read only: not what this rule is about
            elif not _is_grad_or_loss_name(name):
                continue
            if units is None:
                units = _loop_flat_units(loop)
            self.check_name(loop, units, name, assign, (level, j), path, index)

    def between(self, name: str, start: Tuple[int, int], path, index: FileIndex) -> Optional[bool]:
        """Statements between the initialisation and the loop: None if one rebinds `name`,
        else whether any mentions it (an alias may accumulate into it)."""
        level, j = start
        seen = False
        for lvl, (block, i) in enumerate(path[: level + 1]):
            stmts = block_statements(block)
            lo = j + 1 if lvl == level else 0
            for stmt in stmts[lo:i]:
                w, m = index.unit_names(stmt)
                if name in w:
                    return None
                seen = seen or name in m
        return seen

    def check_name(self, loop, units, name: str, init: cst.Assign, start, path, index: FileIndex) -> None:
        module = index.module
        kind = neutral_kind(init.value) or "zeros"
        per_unit: List[List[Tuple[int, cst.CSTNode]]] = []
        for unit, _ in units:
            uses: List[Tuple[int, cst.CSTNode]] = []
            name_uses(unit, name, uses)
            per_unit.append(uses)
        flat = [u for uses in per_unit for u in uses]
        if any(k in (AUG, BIND) for k, _ in flat):
            return
        writes = [n for k, n in flat if k == WRITE]
        reads = [n for k, n in flat if k == READ]
        kill_at: Optional[int] = None
        if writes:
            # the first unconditional overwrite that does not read the old value
            for i, ((_unit, straight), uses) in enumerate(zip(units, per_unit)):
                if straight and any(k == WRITE for k, _ in uses) and not any(k == READ for k, _ in uses):
                    kill_at = i
                    break
            if kill_at is None:
                if reads:
                    return
            elif any(k == READ for uses in per_unit[:kill_at] for k, _ in uses):
                return
            values = [w.value for w in writes if isinstance(w, (cst.Assign, cst.AnnAssign)) and w.value is not None]
            if not _is_grad_or_loss_name(name) and not any(_is_grad_or_loss_expr(v) for v in values):
                return
        elif reads or not self.computes_gradients(loop):
            return
        if any(type(n) is cst.Break for n in _loop_own_nodes(loop)):
            return  # a search or retry loop: the last value is the one wanted
        if self.helper_touches(loop, name, index):
            return
        update = self.update_after(loop, name, index)
        if update is None:
            return
        aliased = self.between(name, start, path, index)
        if aliased is None or (aliased and not writes):
            return
        if not writes:
            self.report(
                init,
                f"`{name}` is {_neutral_text(kind)} before the loop but the loop never adds to it; "
                f"`{update}` receives the initial value, not the micro-batches' gradients",
                f"add each micro-batch's result into `{name}` inside the loop (e.g. `{name}[i].assign_add(g)` or `{name} += ...`)",
            )
            return
        first = units[kill_at][0] if kill_at is not None else writes[0]
        value = first.value if isinstance(first, (cst.Assign, cst.AnnAssign)) and first.value is not None else None
        rhs = short_code(module, value, 40) if value is not None else name
        where = "in every iteration" if kill_at is not None else "inside the loop"
        message = (
            f"`{name}` is {_neutral_text(kind)} before the loop and overwritten by `{rhs}` {where}; "
            f"only the last micro-batch reaches `{update}`"
        )
        if value is not None and _is_loss_value(name, value):
            hint = f"accumulate instead of overwriting: `{name} += {rhs}` (or `{name} = {name} + ...`)"
        elif kind == "None":
            hint = f"accumulate: `{name} = g if {name} is None else [a + b for a, b in zip({name}, g)]` (or `{name}[i].assign_add(g)`)"
        else:
            hint = f"accumulate: `{name} = [a + b for a, b in zip({name}, g)]` (or `{name}[i].assign_add(g)`)"
        self.report(first, message, hint)

    @staticmethod
    def computes_gradients(loop: cst.CSTNode) -> bool:
        for n in walk(loop.body):
            if type(n) is cst.Call:
                tail = (call_tail(n) or "").lower()
                if tail in ("gradient", "backward", "grad") or "loss" in tail:
                    return True
        return False

    @staticmethod
    def helper_touches(loop: cst.CSTNode, name: str, index: FileIndex) -> bool:
        """The loop calls a function of this file whose body mentions the accumulator."""
        for n in walk(loop.body):
            if type(n) is not cst.Call:
                continue
            func = n.func
            called = func.value if type(func) is cst.Name else func.attr.value if type(func) is cst.Attribute else None
            if called is None:
                continue
            for fn in index.functions.get(called, []) + index.methods.get(called, []):
                if name in index.unit_names(fn)[1]:
                    return True
        return False

    def update_after(self, loop: cst.CSTNode, name: str, index: FileIndex) -> Optional[str]:
        """How the statements after the loop feed `name` into a model update, if they do."""
        module = index.module
        tracked = {name}
        stmt: Optional[cst.CSTNode] = loop
        while stmt is not None:
            pos = index.stmt_pos.get(id(stmt))
            if pos is None:
                return None
            block, i = pos
            for nxt in block_statements(block)[i + 1 :]:
                for unit in _small_units([nxt]):
                    written, mentioned = index.unit_names(unit)
                    if not mentioned & tracked:
                        continue
                    found = _update_use(unit, tracked, module)
                    if found is not None:
                        return found
                    derives = type(unit) is cst.Assign and _reads(unit.value, tracked)
                    if name in written and not derives:
                        return None
                    if derives:
                        tracked |= written
            owner = index.owner.get(id(block))
            if owner is None or not (type(owner) in (cst.If, cst.With) or type(owner) in TRY_TYPES):
                return None
            stmt = owner
        return None


def _is_loss_value(name: str, value: cst.CSTNode) -> bool:
    if "loss" in name.lower():
        return True
    if "grad" in name.lower():
        return False
    for n in walk(value):
        if isinstance(n, cst.Call):
            tail = (call_tail(n) or "").lower()
            if "grad" in tail:
                return False
            if any(w in tail for w in _LOSS_WORDS):
                return True
    return False


def _single_pass(loop: cst.CSTNode) -> bool:
    """`for x, y in ds.take(1)`, `for _ in range(1)`: a loop that grabs one batch."""
    if not isinstance(loop, cst.For):
        return False
    it = loop.iter
    if isinstance(it, cst.Call) and call_tail(it) in ("take", "range", "islice") and it.args:
        last = it.args[-1].value
        return isinstance(last, cst.Integer) and last.value == "1" and (call_tail(it) != "range" or len(it.args) == 1)
    return False


def _loop_own_nodes(loop: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Nodes of the loop body outside nested loops and defs (to find its own `break`)."""
    stop = LOOPS + (cst.FunctionDef, cst.ClassDef, cst.Lambda) + COMPREHENSIONS
    for child in children(loop.body):
        yield from walk(child, stop)


def _update_use(unit: cst.CSTNode, tracked: Set[str], module: cst.Module) -> Optional[str]:
    """`apply_gradients(zip(acc, ...))`, `acc.backward()`, `p.grad = acc[i]` in this statement."""
    for n in walk(unit):
        if isinstance(n, cst.Call):
            tail = call_tail(n)
            if tail == "apply_gradients" and any(_reads(a.value, tracked) for a in n.args):
                func = dotted_name(n.func) or "apply_gradients"
                return f"{func}(...)"
            if tail in ("backward", "manual_backward"):
                recv = n.func.value if isinstance(n.func, cst.Attribute) else None
                if (recv is not None and _reads(recv, tracked)) or any(_reads(a.value, tracked) for a in n.args):
                    return short_code(module, n, 40)
        elif isinstance(n, cst.Assign):
            if any(isinstance(t.target, cst.Attribute) and t.target.attr.value == "grad" for t in n.targets):
                if _reads(n.value, tracked):
                    return "the `.grad` assignment"
        elif isinstance(n, cst.For):
            if _reads(n.iter, tracked):
                for m in walk(n.body):
                    if isinstance(m, cst.Assign) and any(
                        isinstance(t.target, cst.Attribute) and t.target.attr.value == "grad" for t in m.targets
                    ):
                        return "the `.grad` assignment"
    return None


RULES = [GradientsNeverCleared, AccumulatorNeverAccumulated]
