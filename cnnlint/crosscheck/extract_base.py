"""The state the cross-check's fact extraction shares: the file's analyses, the facts found, their places."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from cnnlint.crosscheck.facts import Fact, ScriptFacts
from cnnlint.crosscheck.values import Values
from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.index.source_text import short_code

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext


class ScriptReader:
    """One script's facts in the making: `fact(node, value)` records a fact placed at the node."""

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx
        self.f = ctx.get(Bindings)
        self.syntax = self.f.syntax
        self.values = Values(self.f)
        self.text: str = ctx.source.text
        self.out = ScriptFacts()
        self._placed: List[Tuple[ast.AST, Fact]] = []

    def release(self) -> None:
        """Forget everything but what `run` returned: the readers' helpers refer back to the reader,
        a cycle that would keep the file's analyses alive until a full collection."""
        self.__dict__.clear()

    def fact(self, node: ast.AST, value: Any, default: bool = False, text: Optional[str] = None) -> Fact:
        fact = Fact(value=value, text=text if text is not None else short_code(self.syntax, node, 60), default=default)
        self._placed.append((node, fact))
        return fact

    def place_all(self) -> None:
        """Give every fact its line, column, cell and raw line."""
        source = self.ctx.source
        for node, fact in self._placed:
            line, column = self.syntax.span(node)[:2]
            fact.raw = source.raw_line(line)[:400] if hasattr(source, "raw_line") else ""
            fact.cell, fact.line = source.locate(line) if hasattr(source, "locate") else (None, line)
            fact.column = column

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        return self.f.parent(node)

    def value(self, expr: Optional[ast.AST]) -> Any:
        return self.values.value(expr)

    def assigned_to(self, node: ast.AST) -> Optional[str]:
        """The name (or dotted target) a call's result is assigned to, through calls and attributes
        (at most four levels up, counted as libcst counted them: an argument is a level of its own)."""
        child, parent = node, self.parent(node)
        budget = 4
        while budget > 0:
            if parent is None:
                return None
            budget -= levels(child, parent)
            if budget < 0:
                return None
            if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
                return dotted_name(parent.targets[0])
            if isinstance(parent, (ast.Call, ast.keyword, ast.Attribute)) or (
                isinstance(parent, ast.Starred) and isinstance(self.parent(parent), ast.Call)
            ):
                child, parent = parent, self.parent(parent)
                continue
            return None
        return None

    def with_name(self, node: ast.AST) -> Optional[str]:
        """`with open(p) as name:` -> name."""
        parent = self.parent(node)
        if isinstance(parent, ast.withitem) and parent.context_expr is node and parent.optional_vars is not None:
            return dotted_name(parent.optional_vars)
        return None


def levels(child: ast.AST, parent: ast.AST) -> int:
    """How many levels libcst's tree has from `child` up to `parent`: 2 where it wraps the child in
    an argument or element node (`f(x)`, `[x]`), else 1."""
    if isinstance(child, (ast.keyword, ast.Starred)):
        return 1
    if isinstance(parent, ast.Call):
        return 1 if child is parent.func else 2
    if isinstance(parent, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return 2
    return 1
