"""A call's arguments as written, in source order: positional, `*args`, `name=value`, `**kwargs`.

`ast.Call` keeps positional arguments and keywords in two lists; rules that reason about "the
last argument", "the first argument that is not a keyword" or "every argument but the starred
ones" need them in the order they were written.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import List, Optional, Sequence


@dataclass(frozen=True)
class Argument:
    """One argument of a call: `keyword` is None for positional ones; `star` is "", "*" or "**"."""

    value: ast.expr
    keyword: Optional[str] = None
    star: str = ""


def arguments(call: ast.Call) -> List[Argument]:
    """Every argument of the call, in source order."""
    out = [
        Argument(arg.value, None, "*") if isinstance(arg, ast.Starred) else Argument(arg)
        for arg in call.args
    ]
    if not call.keywords:
        return out
    out += [Argument(kw.value, kw.arg, "**" if kw.arg is None else "") for kw in call.keywords]
    if call.args:
        out.sort(key=lambda a: (a.value.lineno, a.value.col_offset))
    return out


def plain_positional(call: ast.Call) -> List[ast.expr]:
    """The positional arguments that are not `*args`, skipping any `*args` between them."""
    return [arg for arg in call.args if not isinstance(arg, ast.Starred)]


def nth_positional(call: ast.Call, index: int) -> Optional[ast.expr]:
    """The index-th positional argument, counting past any `*args` (`f(*a, b)`: b is the 0th)."""
    plain = plain_positional(call)
    return plain[index] if index < len(plain) else None


def unstarred(expr: ast.expr) -> ast.expr:
    """`x` for `*x`, the expression itself otherwise (an element of a list or tuple display)."""
    return expr.value if isinstance(expr, ast.Starred) else expr


def argument_for(call: ast.Call, params: Sequence[str], name: str) -> Optional[ast.expr]:
    """The argument a call passes for the parameter `name` (None: left to its default, or by *args)."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    index = params.index(name)
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    if len(positional) < len(call.args) and index >= len(positional):
        return None
    return positional[index] if index < len(positional) else None
