"""Classifier heads defined in the project's modules, for the cross-check (CNL601): the units of
the last Linear layer of a model class the script instantiates (`model = Net()` with
`self.fc = nn.Linear(128, 10)` ending Net.forward in model.py), placed at the instantiation; the
output layer of a Keras model a function of the project builds, placed at its compile call."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any, Dict, List, Set, Tuple

from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.project_index.imported import ImportedSummaries
from cnnlint.lint.project_index.verdicts import imported_keras_output, is_torch_class

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.lint.index.models import Compiled


def imported_heads(ctx: "FileContext", f: Bindings) -> List[Tuple[ast.AST, Dict[str, Any], str]]:
    """(the instantiation, the fact's value, its text) for each project model class the script builds."""
    summaries = ctx.get(ImportedSummaries)
    if not summaries.active:
        return []
    out: List[Tuple[ast.AST, Dict[str, Any], str]] = []
    seen: Set[str] = set()
    for c in f.calls:
        found = summaries.definition(c.node.func)
        if not is_torch_class(found):
            continue
        assert found is not None
        head = found.definition.output
        if head is None or head.kind != "linear" or head.units is None or found.module + found.definition.name in seen:
            continue
        seen.add(found.module + found.definition.name)
        out.append((c.node, {"units": head.units, "activation": "linear"},
                    f"{found.module}:{head.line} {found.definition.name}: {head.text}"))
    return out


def imported_keras_head(ctx: "FileContext", f: Bindings, comp: "Compiled") -> List[Tuple[ast.AST, Dict[str, Any], str]]:
    """The output layer of a compiled Keras model built by a function of the project's modules
    (`model = build_model(); model.compile(...)`), placed at the compile call."""
    found = imported_keras_output(f, ctx.get(ImportedSummaries), comp)
    if found is None or found.definition.output is None or found.definition.output.units is None:
        return []
    head = found.definition.output
    text = f"{found.module}:{head.line} {found.definition.name}(): {head.text}"
    return [(comp.compile_call, {"units": head.units, "activation": head.kind}, text)]
