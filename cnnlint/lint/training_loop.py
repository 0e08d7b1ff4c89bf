"""The libcst index of the training-loop rules, kept for cnnlint.lint.training_hygiene.

CNL201 and CNL202 moved to CPython's ast (cnnlint/lint/rules/cnl201_*.py, cnl202_*.py, on
cnnlint.lint.index.statements and cnnlint.lint.index.loops; issue 13). CNL203/CNL204 still read
libcst and this `FileIndex` (`file_index(ctx)`); this module goes when they move to ast too.
"""

from __future__ import annotations

import re
from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst

from cnnlint.lint.tree import assigned_names, call_tail, children, dotted_name, walk

LOOPS = (cst.For, cst.While)
# clauses that hold a block but are not statements themselves
# node types that older libcst releases lack are left out rather than failing at import
def _types(*names: str) -> Tuple[type, ...]:
    return tuple(t for t in (getattr(cst, n, None) for n in names) if isinstance(t, type))


CLAUSES = _types("Else", "Finally", "ExceptHandler", "ExceptStarHandler", "MatchCase")
TRY_TYPES = _types("Try", "TryStar")
MATCH_TYPES = _types("Match")


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
