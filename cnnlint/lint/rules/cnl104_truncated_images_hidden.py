"""CNL104 truncated-images-hidden: `ImageFile.LOAD_TRUNCATED_IMAGES = True` makes Pillow load
corrupt images without an error."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from cnnlint.findings import Severity
from cnnlint.lint.index.call_args import arguments
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import dotted_name, string_value
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile


class TruncatedImagesHidden(Rule):
    code = "CNL104"
    name = "truncated-images-hidden"
    severity = Severity.WARNING
    summary = "ImageFile.LOAD_TRUNCATED_IMAGES = True hides corrupt images"
    uses = (ImportTable,)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        return "LOAD_TRUNCATED_IMAGES" in source.text

    def _truthy(self, expr: ast.AST) -> bool:
        """`True`, or an integer literal other than zero (as written: `0_0` is zero)."""
        if isinstance(expr, ast.Constant) and expr.value is True:
            return True
        if isinstance(expr, ast.Constant) and type(expr.value) is int and self.ctx.syntax is not None:
            return self.ctx.syntax.segment(expr).replace("_", "").lstrip("0") != ""
        return False

    def _is_imagefile(self, expr: ast.AST) -> bool:
        imports = self.ctx.get(ImportTable)
        return imports.qualify(expr) == "PIL.ImageFile" and (dotted_name(expr) or "").split(".")[0] in imports.aliases

    def visit_Assign(self, node: ast.Assign) -> None:
        if not self._truthy(node.value):
            return
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "LOAD_TRUNCATED_IMAGES"
                and self._is_imagefile(target.value)
            ):
                self._flag(node, dotted_name(target) or "ImageFile.LOAD_TRUNCATED_IMAGES")

    def visit_Call(self, node: ast.Call) -> None:
        if not (isinstance(node.func, ast.Name) and node.func.id == "setattr") or len(node.args) + len(node.keywords) != 3:
            return
        obj, attr, value = arguments(node)
        if string_value(attr) == "LOAD_TRUNCATED_IMAGES" and self._truthy(value) and self._is_imagefile(obj):
            self._flag(node, f"{dotted_name(obj)}.LOAD_TRUNCATED_IMAGES")

    def _flag(self, node: ast.AST, name: str) -> None:
        self.report(
            node,
            f"`{name} = True` makes Pillow load truncated or corrupt image files without an error, filling "
            f"the missing pixels with grey, so broken images train silently",
            "remove it and find the broken files with the dataset scan (`cnnlint data/`), then delete or "
            "re-download them",
        )
