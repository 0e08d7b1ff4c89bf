"""The parsed file: CPython's ast tree, its lines, parents and positions in characters."""

from __future__ import annotations

import ast
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

Range = Tuple[int, int, int, int]  # line, column, end_line, end_column (1-based columns, end exclusive)

# fields whose children come before the others in the source (ast lists decorators after the body)
_FIRST = {ast.FunctionDef: "decorator_list", ast.AsyncFunctionDef: "decorator_list", ast.ClassDef: "decorator_list"}


# fields that hold no child worth visiting: expression contexts, operators, type comments
_NOT_CHILDREN = frozenset({"ctx", "op", "ops", "type_comment", "type_ignores"})
_CHILD_FIELDS: Dict[type, Tuple[str, ...]] = {}


_NAME, _CONSTANT, _ATTRIBUTE, _KEYWORD, _EXPR = ast.Name, ast.Constant, ast.Attribute, ast.keyword, ast.Expr
_STARRED = ast.Starred


def _present(*nodes: Optional[ast.AST]) -> List[ast.AST]:
    return [n for n in nodes if n is not None]


# the children of common nodes, field by field as the generic path below reads them (a fresh list:
# walkers reverse it in place)
_FAST: Dict[type, Callable[[Any], List[ast.AST]]] = {
    ast.Assign: lambda n: [*n.targets, n.value],
    ast.AugAssign: lambda n: [n.target, n.value],
    ast.AnnAssign: lambda n: _present(n.target, n.annotation, n.value),
    ast.BinOp: lambda n: [n.left, n.right],
    ast.BoolOp: lambda n: list(n.values),
    ast.UnaryOp: lambda n: [n.operand],
    ast.Compare: lambda n: [n.left, *n.comparators],
    ast.Subscript: lambda n: [n.value, n.slice],
    ast.Starred: lambda n: [n.value],
    ast.Tuple: lambda n: list(n.elts),
    ast.List: lambda n: list(n.elts),
    ast.Set: lambda n: list(n.elts),
    ast.Return: lambda n: _present(n.value),
    ast.arg: lambda n: _present(n.annotation),
    ast.If: lambda n: [n.test, *n.body, *n.orelse],
    ast.For: lambda n: [n.target, n.iter, *n.body, *n.orelse],
    ast.While: lambda n: [n.test, *n.body, *n.orelse],
    ast.JoinedStr: lambda n: list(n.values),
    ast.FormattedValue: lambda n: _present(n.value, n.format_spec),
    ast.Slice: lambda n: _present(n.lower, n.upper, n.step),
    ast.comprehension: lambda n: [n.target, n.iter, *n.ifs],
    ast.ListComp: lambda n: [n.elt, *n.generators],
    ast.SetComp: lambda n: [n.elt, *n.generators],
    ast.GeneratorExp: lambda n: [n.elt, *n.generators],
    ast.Lambda: lambda n: [n.args, n.body],
}


def children(node: ast.AST) -> List[ast.AST]:
    """Direct child nodes in the order they are written: decorators first, dict keys beside their
    values, keyword arguments in their place among the positional ones, a conditional expression's
    body before its test; no expression contexts or operators. Read from the fields directly."""
    tp = type(node)
    if tp is _NAME or tp is _CONSTANT:  # leaves: 45% of the nodes of training code
        return []
    if tp is _ATTRIBUTE or tp is _KEYWORD or tp is _EXPR:
        return [node.value]  # type: ignore[attr-defined]
    if tp is ast.Call:
        args = node.args  # type: ignore[attr-defined]
        # keywords follow the positional arguments unless a `*args` comes after one (`f(k=1, *a)`)
        if args and node.keywords and any(type(a) is _STARRED for a in args):  # type: ignore[attr-defined]
            rest = sorted([*args, *node.keywords], key=lambda n: (n.lineno, n.col_offset))  # type: ignore[attr-defined]
            return [node.func, *rest]  # type: ignore[attr-defined]
        return [node.func, *args, *node.keywords]  # type: ignore[attr-defined]
    if tp is ast.Dict:
        out: List[ast.AST] = []
        for key, value in zip(node.keys, node.values):  # type: ignore[attr-defined]
            if key is not None:
                out.append(key)
            out.append(value)
        return out
    if tp is ast.IfExp:
        return [node.body, node.test, node.orelse]  # type: ignore[attr-defined]
    fast = _FAST.get(tp)
    if fast is not None:
        return fast(node)
    fields = _CHILD_FIELDS.get(tp)
    if fields is None:
        fields = _CHILD_FIELDS[tp] = tuple(f for f in tp._fields if f not in _NOT_CHILDREN)
    out = []
    for name in fields:
        value = getattr(node, name, None)
        if type(value) is list:
            out.extend(item for item in value if isinstance(item, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    first = _FIRST.get(tp)
    if first is not None:  # decorators before the rest
        decorators = getattr(node, first)
        out = [*decorators, *(kid for kid in out if not any(kid is d for d in decorators))]
    return out


def walk(node: ast.AST, stop: Tuple[type, ...] = (),
         kids_of: Callable[[ast.AST], List[ast.AST]] = children) -> Iterator[ast.AST]:
    """Every node under `node` (itself included), depth first, in source order (or the order of
    `kids_of`); nodes of a `stop` type are yielded but not entered (nested functions, say)."""
    stack = [node]
    pop = stack.pop
    extend = stack.extend
    own_kids = kids_of is children
    while stack:
        current = pop()
        yield current
        tp = type(current)
        if own_kids and (tp is _NAME or tp is _CONSTANT):  # leaves, half of the nodes
            continue
        if stop and isinstance(current, stop):
            continue
        kids = kids_of(current)
        kids.reverse()
        extend(kids)


class Syntax:
    """One file's tree. Positions and parents are computed on first use."""

    def __init__(self, tree: ast.Module, text: str) -> None:
        self.tree = tree
        self.text = text
        self.lines = text.split("\n")
        self._parents: Optional[Dict[int, ast.AST]] = None

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        if self._parents is None:
            parents: Dict[int, ast.AST] = {}
            for current in ast.walk(self.tree):
                for child in ast.iter_child_nodes(current):
                    parents[id(child)] = current
            self._parents = parents
        return self._parents.get(id(node))

    def column(self, line: int, byte_offset: int) -> int:
        """The 1-based character column of a byte offset (ast's col_offset) on a 1-based line."""
        if not 0 < line <= len(self.lines):
            return byte_offset + 1
        text = self.lines[line - 1]
        if text.isascii():
            return byte_offset + 1
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1

    def span(self, node: ast.AST) -> Range:
        line = getattr(node, "lineno", None)
        if line is None:
            return (1, 1, 1, 1)
        end_line = getattr(node, "end_lineno", None) or line
        end_offset = getattr(node, "end_col_offset", None)
        column = self.column(line, node.col_offset)  # type: ignore[attr-defined]
        end_column = self.column(end_line, end_offset) if end_offset is not None else column
        return (line, column, end_line, end_column)

    def segment(self, node: ast.AST) -> str:
        """The node's source text."""
        line, column, end_line, end_column = self.span(node)
        if line == end_line:
            return self.lines[line - 1][column - 1 : end_column - 1] if line <= len(self.lines) else ""
        parts = [self.lines[line - 1][column - 1 :], *self.lines[line : end_line - 1], self.lines[end_line - 1][: end_column - 1]]
        return "\n".join(parts)


_BODIES = ("body", "handlers", "orelse", "finalbody", "cases")


def block_statements(node: ast.AST) -> List[ast.AST]:
    """The statements directly inside a compound statement (bodies, except clauses, else,
    finally, match cases), in source order."""
    out: List[ast.AST] = []
    for name in _BODIES:
        for part in getattr(node, name, None) or ():
            if isinstance(part, ast.stmt):
                out.append(part)
            else:  # an except handler or a match case holds statements
                out.extend(getattr(part, "body", ()))
    return out


def iter_statements(node: ast.AST) -> Iterator[ast.AST]:
    """Every statement under `node`, depth first in source order; never looks into expressions."""
    stack = block_statements(node)
    stack.reverse()
    while stack:
        stmt = stack.pop()
        yield stmt
        inner = block_statements(stmt)
        inner.reverse()
        stack.extend(inner)
