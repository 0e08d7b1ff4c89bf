"""Local name -> fully qualified name, from every import in the module."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, List, Optional, Set

from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.index.syntax import iter_statements

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext


_UNKNOWN = object()  # not qualified yet


class ImportTable:
    """An analysis: `ctx.get(ImportTable)`; `ImportTable.of_tree(tree)` outside a lint."""

    def __init__(self, ctx: "FileContext") -> None:
        assert ctx.syntax is not None
        self._read(ctx.syntax.tree)

    @classmethod
    def of_tree(cls, tree: ast.Module) -> "ImportTable":
        table = cls.__new__(cls)
        table._read(tree)
        return table

    def _read(self, tree: ast.Module) -> None:
        self.aliases: Dict[str, str] = {}
        self.modules: Set[str] = set()
        self.star_modules: List[str] = []  # `from keras.layers import *`, in the order written
        self.statements: List[ast.stmt] = []  # the import statements, in the order written
        # expr -> its qualified name: the analyses and rules ask about the same callees again and
        # again (keyed by the node itself, hashed by identity, which also holds it alive)
        self._qualified: Dict[ast.AST, Optional[str]] = {}
        for node in iter_statements(tree):
            if isinstance(node, ast.Import):
                self.statements.append(node)
                for alias in node.names:
                    full = alias.name
                    self.modules.add(full)
                    if alias.asname is not None:
                        self.aliases[alias.asname] = full
                    else:
                        head = full.split(".")[0]
                        self.aliases.setdefault(head, head)
            elif isinstance(node, ast.ImportFrom):
                self.statements.append(node)
                if node.level or node.module is None:
                    continue
                base = node.module
                self.modules.add(base)
                for alias in node.names:
                    if alias.name == "*":
                        self.star_modules.append(base)
                        continue
                    self.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"

    def qualify(self, expr: ast.AST) -> Optional[str]:
        """The qualified dotted name of a Name/Attribute chain, resolved through imports."""
        known = self._qualified.get(expr, _UNKNOWN)
        if known is not _UNKNOWN:
            return known  # type: ignore[return-value]
        name = dotted_name(expr)
        if name is not None:
            head, _, rest = name.partition(".")
            full = self.aliases.get(head)
            if full is not None:
                name = f"{full}.{rest}" if rest else full
        self._qualified[expr] = name
        return name

    def imports_any(self, *prefixes: str) -> bool:
        return any(m == p or m.startswith(p + ".") for m in self.modules for p in prefixes)
