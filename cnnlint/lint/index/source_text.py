"""A node's source text, on one line and shortened, for messages and the cross-check's facts."""

from __future__ import annotations

import ast

from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.index.syntax import Syntax


def short_code(syntax: Syntax, node: ast.AST, limit: int = 48) -> str:
    """The node's code on one line, calls with long arguments shortened to `f(...)`."""
    return shortened(full_code(syntax, node), node, limit)


def shortened(text: str, node: ast.AST, limit: int = 48) -> str:
    """A node's one-line code cut to `limit` characters: a call as `f(...)`, anything else with `...`."""
    if len(text) <= limit:
        return text
    if isinstance(node, ast.Call):
        func = dotted_name(node.func)
        if func is None and isinstance(node.func, ast.Attribute):
            func = "..." + "." + node.func.attr
        if func is not None:
            return f"{func}(...)"
    return text[: limit - 3] + "..."


def full_code(syntax: Syntax, node: ast.AST) -> str:
    """The node's whole code on one line."""
    return " ".join(syntax.segment(node).split())
