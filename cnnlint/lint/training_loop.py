"""The libcst index of the training-loop rules, kept for cnnlint.lint.training_hygiene.

CNL201 and CNL202 moved to CPython's ast (cnnlint/lint/rules/cnl201_*.py, cnl202_*.py, on
cnnlint.lint.index.statements and cnnlint.lint.index.loops; issue 13). CNL203/CNL204 still read
libcst and this `FileIndex` (`file_index(ctx)`); this module goes when they move to ast too.
"""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Sequence, Set, Tuple

import libcst as cst

from cnnlint.lint.tree import assigned_names, children, dotted_name


# clauses that hold a block but are not statements themselves
# node types that older libcst releases lack are left out rather than failing at import
def _types(*names: str) -> Tuple[type, ...]:
    return tuple(t for t in (getattr(cst, n, None) for n in names) if isinstance(t, type))


CLAUSES = _types("Else", "Finally", "ExceptHandler", "ExceptStarHandler", "MatchCase")
TRY_TYPES = _types("Try", "TryStar")
MATCH_TYPES = _types("Match")


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
            for target in small.targets:
                t = target.target
                name = dotted_name(t)
                if name is not None:
                    self.assigned.setdefault(name, []).append(small.value)
                elif type(t) in (cst.Tuple, cst.List):
                    for n in assigned_names(t):
                        self.assigned.setdefault(n, []).append(small.value)
        elif tp is cst.AnnAssign and small.value is not None:
            name = dotted_name(small.target)
            if name is not None:
                self.assigned.setdefault(name, []).append(small.value)
        elif tp is cst.Global or tp is cst.Nonlocal:
            for item in small.names:
                self.global_names.add(item.name.value)

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


def file_index(ctx) -> Optional[FileIndex]:
    """The index of the file, built once and shared by CNL203 and CNL204."""
    cached = getattr(ctx, "_cnl2_index", None)
    if cached is not None:
        return cached
    if ctx.module is None:
        return None
    index = FileIndex(ctx.module)
    ctx._cnl2_index = index
    return index
