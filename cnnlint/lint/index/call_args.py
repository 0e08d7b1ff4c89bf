"""A call's arguments as libcst listed them, in source order: the rules were written against that
list (`f(*xs, y)` has `y` as its first plain positional argument, `f(key=v)` has `v` first)."""

from __future__ import annotations

import ast
from typing import List, Optional


def arguments(call: ast.Call) -> List[ast.expr]:
    """The argument values in source order, positional and keyword (`*x` and `**x` as `x`)."""
    args = [a.value if isinstance(a, ast.Starred) else a for a in call.args]
    if not call.keywords:
        return args
    kws = [kw.value for kw in call.keywords]
    if not args:
        return kws
    pairs = [(a.lineno, a.col_offset, a) for a in call.args] + [(k.lineno, k.col_offset, k.value) for k in call.keywords]
    pairs.sort(key=lambda p: (p[0], p[1]))
    return [v.value if isinstance(v, ast.Starred) else v for _, _, v in pairs]


def plain_positional(call: ast.Call, index: int) -> Optional[ast.expr]:
    """The index-th positional argument that is not `*x` (those are skipped, not a stop), or None."""
    plain = [a for a in call.args if not isinstance(a, ast.Starred)]
    return plain[index] if index < len(plain) else None
