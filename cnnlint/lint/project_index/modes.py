"""Train/eval mode effects of the project's helper functions, for CNL203: `evaluate(model, loader)`
in engine.py puts its `model` argument in eval mode; `train_one_epoch(...)` runs backward() and
puts the model back in training mode."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, List, Optional, Tuple

from cnnlint.lint.index.arguments import argument_for
from cnnlint.lint.project_index.imported import helper

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

# (kind, the caller's argument for a parameter, or None): kind is eval | model | train | back
Effect = Tuple[str, Optional[ast.AST]]


def effects(ctx: "FileContext", call: ast.Call) -> List[Effect]:
    """What calling a project helper does to modes, in the caller's terms."""
    found = helper(ctx, call)
    if found is None:
        return []
    d = found.definition
    out: List[Effect] = [("back", None)] if d.backward else []
    out += [("model", argument_for(call, d.params, p)) for p in d.calls]
    out += [("eval", argument_for(call, d.params, p)) for p in d.evals]
    if d.trains:
        out.append(("train", None))
    return [(kind, arg) for kind, arg in out if arg is not None or kind in ("back", "train")]


def evaluates_elsewhere(ctx: "FileContext", calls: List[ast.Call]) -> bool:
    """Some call of the file runs a project helper that puts a model in eval mode."""
    return any(kind == "eval" for call in calls for kind, _ in effects(ctx, call))
