"""Statements in their blocks: which block holds each statement, the loops, the functions and
classes of the file by name, and what each dotted name is assigned (CNL203, CNL204).

A block is the list of statements of a body (ast's own list). An `elif` is not a statement of
its own here: its test belongs to the `if`, its body is one more block of that `if`.

(Overlaps the training-loop rules' statement index, cnnlint.lint.index.loops / statements,
written at the same time; to be merged.)
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Tuple

from cnnlint.lint.index.names import assigned_names, dotted_name
from cnnlint.lint.index.syntax import Syntax, walk

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

Block = List[ast.stmt]
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
LOOPS = (ast.For, ast.AsyncFor, ast.While)
WITHS = (ast.With, ast.AsyncWith)
_TRY = tuple(t for t in (ast.Try, getattr(ast, "TryStar", None)) if t is not None)
_MATCH = getattr(ast, "Match", None)


def is_elif(syntax: Syntax, node: ast.AST) -> bool:
    """Whether an `if` is the `elif` clause of the `if` whose `orelse` holds it."""
    if not isinstance(node, ast.If) or node.lineno > len(syntax.lines):
        return False
    line = syntax.lines[node.lineno - 1]
    start = syntax.column(node.lineno, node.col_offset) - 1
    return line.startswith("elif", start)


def statement_blocks(syntax: Syntax, stmt: ast.AST) -> Iterator[Block]:
    """The blocks directly inside a compound statement (clauses included, `elif` flattened)."""
    if isinstance(stmt, ast.If):
        yield stmt.body
        orelse = stmt.orelse
        if len(orelse) == 1 and is_elif(syntax, orelse[0]):
            yield from statement_blocks(syntax, orelse[0])
        elif orelse:
            yield orelse
    elif isinstance(stmt, _TRY):
        yield stmt.body  # type: ignore[attr-defined]
        for handler in stmt.handlers:  # type: ignore[attr-defined]
            yield handler.body
        for block in (stmt.orelse, stmt.finalbody):  # type: ignore[attr-defined]
            if block:
                yield block
    elif _MATCH is not None and isinstance(stmt, _MATCH):
        for case in stmt.cases:  # type: ignore[attr-defined]
            yield case.body
    else:
        body = getattr(stmt, "body", None)
        if isinstance(body, list):
            yield body
        tail: Optional[Block] = getattr(stmt, "orelse", None)
        if tail:
            yield tail


def expr_nodes(nodes: "ast.AST | Block") -> Iterator[ast.AST]:
    """Every node under a node (or a block), not entering nested functions, classes or lambdas."""
    if isinstance(nodes, list):
        for stmt in nodes:
            if not isinstance(stmt, NESTED_SCOPES):
                yield from expr_nodes(stmt)
        return
    for n in walk(nodes, NESTED_SCOPES):
        if n is nodes or not isinstance(n, NESTED_SCOPES):
            yield n


def _own_roots(stmt: ast.AST) -> List[ast.AST]:
    """Where a statement's own expressions start (a compound statement's header only)."""
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.iter]
    if isinstance(stmt, WITHS):
        return [item.context_expr for item in stmt.items]
    if not isinstance(stmt, (*_TRY, *FUNCTIONS, ast.ClassDef)) and not hasattr(stmt, "body"):
        return [stmt]
    return []


def own_nodes(stmt: ast.AST) -> Iterator[ast.AST]:
    """The expression nodes of a statement itself (a compound statement's header only)."""
    for root in _own_roots(stmt):
        yield from expr_nodes(root)


def own_calls(stmt: ast.AST) -> List[ast.Call]:
    """The calls among own_nodes(stmt), in the same order, from one walk per root rather than the
    generators own_nodes stacks on each node: the loop scans of CNL203 and CNL204 look at every
    statement of every loop. (A nested function, class or lambda is not entered, and is no call.)"""
    return [n for root in _own_roots(stmt) for n in walk(root, NESTED_SCOPES) if type(n) is ast.Call]


class Blocks:
    """An analysis: `ctx.get(Blocks)`."""

    def __init__(self, ctx: "FileContext") -> None:
        assert ctx.syntax is not None
        self.syntax = ctx.syntax
        self.tree = ctx.syntax.tree
        self.loops: List[ast.stmt] = []  # for/while loops, in source order
        # statement -> (block, index in block); block -> owning statement
        self.stmt_pos: Dict[int, Tuple[Block, int]] = {}
        self.owner: Dict[int, ast.stmt] = {}
        self.functions: Dict[str, List[ast.stmt]] = {}  # functions that are not methods, by name
        self.classes: Dict[str, ast.ClassDef] = {}
        # dotted assignment target -> assigned values
        self.assigned: Dict[str, List[ast.expr]] = {}
        self._build()

    def _build(self) -> None:
        # (block, class being defined directly)
        stack: List[Tuple[Block, Optional[ast.ClassDef]]] = [(self.tree.body, None)]
        while stack:
            block, def_cls = stack.pop()
            for i, stmt in enumerate(block):
                self.stmt_pos[id(stmt)] = (block, i)
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                    self._assignment(stmt)
                    continue
                inner_def = None
                if isinstance(stmt, FUNCTIONS):
                    if def_cls is None:
                        self.functions.setdefault(stmt.name, []).append(stmt)
                elif isinstance(stmt, ast.ClassDef):
                    self.classes.setdefault(stmt.name, stmt)
                    inner_def = stmt
                elif isinstance(stmt, LOOPS):
                    self.loops.append(stmt)
                for sub in statement_blocks(self.syntax, stmt):
                    self.owner[id(sub)] = stmt
                    stack.append((sub, inner_def))
        self.loops.sort(key=lambda s: (s.lineno, s.col_offset))

    def _assignment(self, stmt: "ast.Assign | ast.AnnAssign") -> None:
        if isinstance(stmt, ast.AnnAssign):
            name = dotted_name(stmt.target)
            if name is not None and stmt.value is not None:
                self.assigned.setdefault(name, []).append(stmt.value)
            return
        for target in stmt.targets:
            name = dotted_name(target)
            if name is not None:
                self.assigned.setdefault(name, []).append(stmt.value)
            elif isinstance(target, (ast.Tuple, ast.List)):
                for n in assigned_names(target):
                    self.assigned.setdefault(n, []).append(stmt.value)

    def path(self, stmt: ast.AST) -> List[Tuple[Block, int]]:
        """(block, index) of `stmt` and of each statement around it, up to the enclosing def."""
        out: List[Tuple[Block, int]] = []
        current: Optional[ast.AST] = stmt
        while current is not None:
            pos = self.stmt_pos.get(id(current))
            if pos is None:
                break
            out.append(pos)
            owner = self.owner.get(id(pos[0]))
            if owner is None or isinstance(owner, (*FUNCTIONS, ast.ClassDef)):
                break
            current = owner
        return out

    def enclosing(self, stmt: ast.AST) -> Optional[ast.stmt]:
        """The compound statement whose block holds `stmt` (None at module level)."""
        pos = self.stmt_pos.get(id(stmt))
        if pos is None:
            return None
        return self.owner.get(id(pos[0]))

    def flat(self, block: Block, enter_loops: bool = False) -> Iterator[ast.stmt]:
        """Statements of a block in order, entering if/with/try bodies (and loops when asked)."""
        for stmt in block:
            yield stmt
            if isinstance(stmt, NESTED_SCOPES) or (isinstance(stmt, LOOPS) and not enter_loops):
                continue
            for sub in statement_blocks(self.syntax, stmt):
                yield from self.flat(sub, enter_loops)
