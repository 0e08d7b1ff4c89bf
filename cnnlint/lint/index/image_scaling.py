"""Expressions that scale pixel values, and the walks the input-pipeline analyses share.

`is_scale_op` / `pixel_scale_op` judge a binary operation (`x / 255`, `x * (1/255)`, `x - mean`);
`literal_number` reads a decimal number literal; `source_walk` walks a tree in the order the code
is written (a conditional expression's `body` before its `test`); `spelled_names` lists every
identifier an expression spells (variables, attribute names, keyword names, lambda parameters).
"""

from __future__ import annotations

import ast
from typing import Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from cnnlint.lint.index.syntax import children

# fields that hold no child to walk: expression contexts and operators
def source_walk(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under the given ones (themselves included), depth first, in source order."""
    stack = list(nodes)
    stack.reverse()
    pop = stack.pop
    extend = stack.extend
    while stack:
        current = pop()
        yield current
        kids = children(current)
        kids.reverse()
        extend(kids)


def body_of(fn: ast.AST) -> Sequence[ast.AST]:
    """What a function or lambda runs: its statements, or a lambda's expression."""
    if isinstance(fn, ast.Lambda):
        return [fn.body]
    return list(getattr(fn, "body", ()))


def literal_number(expr: Optional[ast.AST], lines: Sequence[str]) -> Optional[float]:
    """The value of a decimal int or float literal (`255`, `1_000`, `0.5`, `1e3`); None for any
    other expression, booleans, and hexadecimal, octal or binary integers."""
    if not isinstance(expr, ast.Constant) or type(expr.value) not in (int, float):
        return None
    value: float = expr.value  # type: ignore[assignment]
    if type(expr.value) is int and 0 < expr.lineno <= len(lines):
        prefix = lines[expr.lineno - 1].encode("utf-8")[expr.col_offset : expr.col_offset + 2].lower()
        if prefix in (b"0x", b"0o", b"0b"):
            return None
    try:
        return float(value)
    except OverflowError:
        return None


def is_int_literal(expr: Optional[ast.AST]) -> bool:
    return isinstance(expr, ast.Constant) and type(expr.value) is int


def is_scale_op(node: ast.BinOp, lines: Sequence[str]) -> bool:
    """`x / k`, `x * (1/255)`, `x * 0.0039`: an operation that scales."""
    op = node.op
    if isinstance(op, ast.Div):
        return True
    if isinstance(op, ast.Mult):
        for side in (node.left, node.right):
            n = literal_number(side, lines)
            if n is not None and 0 < n < 1:
                return True
            if isinstance(side, ast.BinOp) and isinstance(side.op, ast.Div):
                return True
    return False


def pixel_scale_op(node: ast.BinOp, lines: Sequence[str]) -> bool:
    """A division or multiplication that reads like pixel scaling: `/ 255`, `* (1/255)`, `(x - m) / s`."""
    op = node.op
    if isinstance(op, ast.Div):
        n = literal_number(node.right, lines)
        if n is not None and n >= 100:
            return True
        left = node.left
        return isinstance(left, ast.BinOp) and isinstance(left.op, ast.Sub)
    if isinstance(op, ast.Mult):
        for side in (node.left, node.right):
            n = literal_number(side, lines)
            if n is not None and 0 < n < 0.1:
                return True
            if isinstance(side, ast.BinOp) and isinstance(side.op, ast.Div):
                d = literal_number(side.right, lines)
                if d is not None and d >= 100:
                    return True
    return False


def spelled_names(expr: ast.AST) -> Iterator[Tuple[str, ast.AST]]:
    """Each identifier the expression spells, in walk order, with the node that holds it: a
    variable (`ast.Name`), an attribute's name (after its object), a keyword argument's name
    (after its value), a lambda's parameters (before its body)."""
    stack: List[object] = [expr]
    while stack:
        current = stack.pop()
        if isinstance(current, tuple):  # a name deferred until its node's children are done
            yield current  # type: ignore[misc]
            continue
        node: ast.AST = current  # type: ignore[assignment]
        tp = type(node)
        if tp is ast.Name:
            yield node.id, node  # type: ignore[attr-defined]
            continue
        later: List[object] = []
        if tp is ast.Attribute:
            later.append((node.attr, node))  # type: ignore[attr-defined]
        elif tp is ast.keyword and node.arg is not None:  # type: ignore[attr-defined]
            later.append((node.arg, node))  # type: ignore[attr-defined]
        elif tp is ast.Lambda:
            stack.append(node.body)  # type: ignore[attr-defined]
            params: List[object] = [(a.arg, a) for a in _lambda_params(node.args)]  # type: ignore[attr-defined]
            params.reverse()
            stack.extend(params)
            continue
        stack.extend(later)
        kids = children(node)
        kids.reverse()
        stack.extend(kids)


def _lambda_params(args: ast.arguments) -> List[ast.arg]:
    out = list(args.args)
    if args.vararg is not None:
        out.append(args.vararg)
    out.extend(args.kwonlyargs)
    if args.kwarg is not None:
        out.append(args.kwarg)
    out.extend(args.posonlyargs)
    return out


def names_in(expr: ast.AST) -> Set[str]:
    return {name for name, _ in spelled_names(expr)}
