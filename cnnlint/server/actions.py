"""Code actions for cnnlint's diagnostics: the fix the finding carries (zero_grad(), pins, .item(),
removed-API rewrites: whatever `--fix` would apply), and "suppress with noqa" for every finding."""

from __future__ import annotations

import re
from typing import List, Sequence

from lsprotocol import types

from cnnlint.server.convert import SOURCE, Positions, fix_of, text_edits

_NOQA_CODES = re.compile(r"#\s*noqa\s*:\s*[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*", re.IGNORECASE)


def fix_action(uri: str, diag: types.Diagnostic, positions: Positions) -> List[types.CodeAction]:
    fix = fix_of(diag)
    if fix is None:
        return []
    title = f"cnnlint: {fix.description or 'apply the fix'} ({diag.code})"
    edit = types.WorkspaceEdit(changes={uri: text_edits(fix, positions)})
    return [types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diag], edit=edit,
                             is_preferred=True)]


def noqa_edit(line_text: str, line: int, code: str) -> types.TextEdit:
    """The edit that makes `line` (1-based) suppress `code`: the code added to a `# noqa: ...` list
    already there, else `  # noqa: CODE` at the line's end."""
    text = line_text.rstrip("\r\n")
    found = _NOQA_CODES.search(text)
    if found is not None:
        at = found.end() + 1
        return types.TextEdit(range=_point(line, at), new_text=f", {code}")
    stripped = len(text.rstrip())
    return types.TextEdit(range=types.Range(types.Position(line - 1, stripped), types.Position(line - 1, len(text))),
                          new_text=f"  # noqa: {code}")


def _point(line: int, column: int) -> types.Range:
    position = types.Position(line - 1, column - 1)
    return types.Range(position, position)


def noqa_action(uri: str, diag: types.Diagnostic, positions: Positions) -> List[types.CodeAction]:
    line = diag.range.start.line + 1
    if not 1 <= line <= len(positions.lines):
        return []
    edit = noqa_edit(positions.lines[line - 1], line, str(diag.code))
    if positions.codec is not None:
        edit.range = positions.codec.range_to_client_units(positions.lines, edit.range)
    return [types.CodeAction(title=f"cnnlint: suppress {diag.code} on this line (# noqa)",
                             kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                             edit=types.WorkspaceEdit(changes={uri: [edit]}))]


def code_actions(uri: str, diags: Sequence[types.Diagnostic], positions: Positions) -> List[types.CodeAction]:
    """For each of our diagnostics in the request: its fix (when it has one), then the noqa action."""
    actions: List[types.CodeAction] = []
    for diag in diags:
        if diag.source != SOURCE or diag.code is None:
            continue
        actions += fix_action(uri, diag, positions)
        if diag.code != "CNL001":
            actions += noqa_action(uri, diag, positions)
    return actions
