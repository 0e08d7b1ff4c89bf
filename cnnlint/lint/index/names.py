"""Small helpers on ast expressions that every rule needs."""

from __future__ import annotations

import ast
from typing import Iterator, List, Optional


_NAME, _ATTRIBUTE = ast.Name, ast.Attribute


def dotted_name(expr: ast.AST) -> Optional[str]:
    """`a.b.c` for Name/Attribute chains, None for anything else."""
    tp = type(expr)
    if tp is _NAME:  # most often
        return expr.id  # type: ignore[attr-defined, no-any-return]
    parts = []
    while tp is _ATTRIBUTE or isinstance(expr, ast.Attribute):
        parts.append(expr.attr)  # type: ignore[attr-defined]
        expr = expr.value  # type: ignore[attr-defined]
        tp = type(expr)
    if tp is _NAME or isinstance(expr, ast.Name):
        parts.append(expr.id)  # type: ignore[attr-defined]
        return ".".join(reversed(parts))
    return None


def call_tail(call: ast.Call) -> Optional[str]:
    """The last name of the callee: `fit` for `model.fit(...)`, `f` for `f(...)`."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def keyword(call: ast.Call, name: str) -> Optional[ast.keyword]:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def has_star_kwargs(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def positional(call: ast.Call, index: int) -> Optional[ast.expr]:
    """The index-th positional argument before any `*args`, or None."""
    for i, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            return None
        if i == index:
            return arg
    return None


def assigned_names(target: ast.AST) -> Iterator[str]:
    """Plain names bound by an assignment target (tuples unpacked)."""
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, (ast.Tuple, ast.List)):
        for el in target.elts:
            yield from assigned_names(el)
    elif isinstance(target, ast.Starred):
        yield from assigned_names(target.value)


def string_value(expr: Optional[ast.AST]) -> Optional[str]:
    """The value of a plain (non-f) string literal, or None."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    return None


def number_value(expr: Optional[ast.AST]) -> Optional[float]:
    """The value of an int or float literal (not bool), with a leading minus sign; None otherwise."""
    sign = 1.0
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(expr.op, ast.USub) else 1.0
        expr = expr.operand
    if isinstance(expr, ast.Constant) and isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool):
        try:
            return sign * float(expr.value)
        except OverflowError:
            return None
    return None


def is_falsy_literal(expr: Optional[ast.AST]) -> bool:
    """A literal that switches an option off: False, None, 0, 0.0."""
    if isinstance(expr, ast.Constant):
        value = expr.value
        if value is None or value is False:
            return True
        if type(value) in (int, float):
            return value == 0
    return False


def all_args(args: ast.arguments) -> List[ast.arg]:
    """Every parameter of a def or lambda: positional-only, regular, keyword-only, *args, **kwargs."""
    out = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    out += [star for star in (args.vararg, args.kwarg) if star is not None]
    return out
