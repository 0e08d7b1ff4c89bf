"""Hover on a diagnostic: the rule's page (what `cnnlint explain CODE` prints)."""

from __future__ import annotations

from typing import List, Optional, Sequence

from lsprotocol import types

from cnnlint.server.convert import SOURCE


def page_text(code: str) -> Optional[str]:
    from cnnlint.lint.pages import read_page

    return read_page(code)


def _covers(rng: types.Range, position: types.Position) -> bool:
    start, end = rng.start, rng.end
    if not start.line <= position.line <= end.line:
        return False
    if position.line == start.line and position.character < start.character:
        return False
    return not (position.line == end.line and position.character > end.character)


def hover(diags: Sequence[types.Diagnostic], position: types.Position) -> Optional[types.Hover]:
    """The pages of our diagnostics under `position` (each code once), or None."""
    codes: List[str] = []
    for diag in diags:
        if diag.source == SOURCE and diag.code and _covers(diag.range, position) and str(diag.code) not in codes:
            codes.append(str(diag.code))
    pages = [text for text in (page_text(code) for code in codes) if text]
    if not pages:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n---\n".join(pages)))
