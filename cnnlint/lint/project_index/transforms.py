"""torchvision transforms bound at module level in the project's modules (`val_tf` in dataset.py),
for CNL103: the names of their steps, and where they are."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Optional, Tuple

from cnnlint.lint.project_index.imported import ImportedSummaries

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext


def imported_steps(ctx: "FileContext", expr: ast.AST, key: str = "") -> Optional[Tuple[str, Tuple[str, ...]]]:
    """(`dataset.py:12 val_tf`, its step names) for an imported transform (`key`: of a dict of them)."""
    summaries = ctx.get(ImportedSummaries)
    if not summaries.active or not isinstance(expr, (ast.Name, ast.Attribute)):
        return None
    found = summaries.definition(expr)
    if found is None or found.definition.kind != "transform" or key not in found.definition.steps:
        return None
    shown = found.definition.name + (f'["{key}"]' if key else "")
    return f"{found.module}:{found.definition.line} {shown}", found.definition.steps[key]
