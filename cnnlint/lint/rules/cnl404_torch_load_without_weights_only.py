"""CNL404: `torch.load` without `weights_only=`."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, List

from packaging.version import Version

from cnnlint.findings import Severity
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import has_star_kwargs, keyword
from cnnlint.lint.index.pins import FilePins
from cnnlint.lint.index.syntax import walk
from cnnlint.lint.context import FileContext
from cnnlint.lint.project import allowed_minors
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile


_FIRST_WITH_FLAG = Version("1.13")  # `weights_only=` arrived
_DEFAULT_SAFE = Version("2.6")  # `weights_only=True` became the default


class TorchLoadWithoutWeightsOnly(Rule):
    code = "CNL404"
    name = "torch-load-without-weights-only"
    severity = Severity.WARNING
    summary = "`torch.load` without `weights_only=`: unpickles anything before PyTorch 2.6, refuses whole models after"
    uses = (ImportTable, FilePins)

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.calls: List[ast.Call] = []
        self.rebound = False  # the file assigns `torch.load` itself (a patched default)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        return "load" in source.text and "torch" in source.text

    def visit_Call(self, node: ast.Call) -> None:
        if not self._is_torch_load(node.func) or not self.ctx.get(ImportTable).imports_any("torch"):
            return
        if keyword(node, "weights_only") is None and not has_star_kwargs(node) and not self._is_fallback():
            self.calls.append(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(self._is_torch_load(target) for target in node.targets):
            self.rebound = True

    def check(self) -> None:
        if self.rebound or not self.calls or self._version_settles_it():
            return
        for node in self.calls:
            self.report(
                node,
                "`torch.load()` without `weights_only=`: before PyTorch 2.6 it unpickles whatever the file holds "
                "(a downloaded checkpoint can run code); from 2.6 on it loads weights only, and a checkpoint that "
                "holds a whole model fails to load",
                "save and load a state_dict with `torch.load(path, weights_only=True)`; pass `weights_only=False` "
                "only for checkpoints you made yourself",
            )

    def _version_settles_it(self) -> bool:
        """The project pins PyTorch to releases where the call is safe as written (2.6 on: weights
        only by default) or where `weights_only` does not exist yet (before 1.13)."""
        pin = self.ctx.get(FilePins).pins.first_versioned("torch")
        minors = allowed_minors("torch", pin.specifier) if pin is not None else []
        return bool(minors) and (all(m >= _DEFAULT_SAFE for m in minors) or all(m < _FIRST_WITH_FLAG for m in minors))

    def _is_torch_load(self, func: ast.AST) -> bool:
        return self.ctx.get(ImportTable).qualify(func) == "torch.load"

    def _is_fallback(self) -> bool:
        """In the except clause of a try whose body loads with `weights_only=` (old-PyTorch fallback)."""
        ancestors = self.ctx.ancestors
        for i in range(len(ancestors) - 1, 0, -1):
            handler, outer = ancestors[i], ancestors[i - 1]
            if isinstance(handler, ast.ExceptHandler) and isinstance(outer, ast.Try):
                for stmt in outer.body:
                    for inner in walk(stmt):
                        if isinstance(inner, ast.Call) and self._is_torch_load(inner.func) \
                                and keyword(inner, "weights_only") is not None:
                            return True
        return False
