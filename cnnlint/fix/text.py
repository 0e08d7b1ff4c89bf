"""Text edits: positions to offsets, choosing edits that do not overlap, applying them.

A fix's positions are 1-based lines and 1-based columns counting characters,
in the text the finding was computed on: the file for scripts and manifests,
the cell's own source for notebooks. A fix writes line breaks as "\\n"; they are
written with the line ending of the line the edit starts on.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import List, Sequence, Tuple

from cnnlint.findings import Edit, Finding


class FixError(Exception):
    """A fix that cannot be applied; the message is one line."""


@dataclass(frozen=True)
class Span:
    start: int  # offset of the first replaced character
    end: int  # offset after the last replaced character (== start: an insertion)
    text: str


_CELL_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class Lines:
    """Line starts of a text, for turning (line, column) into offsets.

    Scripts and manifests break lines at LF, CRLF and a lone CR, as Python's
    tokenizer does (and the readers count lines); notebook cells break where
    str.splitlines() does, as the notebook reader counts their lines.
    """

    def __init__(self, text: str, cell: bool = False) -> None:
        self.text = text
        self.starts: List[int] = []
        self.ends: List[int] = []  # where each line's text ends, before its line break
        self.breaks: List[str] = []
        offset = 0
        for piece in text.splitlines(keepends=True) if cell else _split_universal(text):
            brk = _break_of(piece, cell)
            self.starts.append(offset)
            self.ends.append(offset + len(piece) - len(brk))
            self.breaks.append(brk)
            offset += len(piece)
        if not self.breaks or self.breaks[-1]:
            # after a final line break: an empty last line (where an insertion at the very end goes)
            self.starts.append(offset)
            self.ends.append(offset)
            self.breaks.append("")

    def offset(self, line: int, column: int) -> int:
        if line < 1 or column < 1:
            raise FixError(f"position {line}:{column} is not in the file")
        if line > len(self.starts):
            raise FixError(f"line {line} is past the end of the file (was it edited since it was linted?)")
        offset = self.starts[line - 1] + column - 1
        if offset > self.ends[line - 1]:
            raise FixError(f"column {column} is past the end of line {line} (was the file edited since it was linted?)")
        return offset

    def newline_at(self, offset: int) -> str:
        """The line break of the line holding `offset` (on a last line without one: the line before's):
        LF, CRLF or a lone CR, the file's own; other breaks (in notebook cells) give LF."""
        index = bisect.bisect_right(self.starts, offset) - 1
        for i in (index, index - 1):
            if 0 <= i < len(self.breaks) and self.breaks[i]:
                return self.breaks[i] if self.breaks[i] in ("\r\n", "\r") else "\n"
        return "\n"


def _break_of(piece: str, cell: bool) -> str:
    if piece.endswith("\r\n"):
        return "\r\n"
    if piece and (piece[-1] in "\n\r" or (cell and piece[-1] in _CELL_BREAKS)):
        return piece[-1]
    return ""


_UNIVERSAL_BREAK = re.compile(r"\r\n?|\n")


def _split_universal(text: str) -> List[str]:
    """Lines broken at LF, CRLF or a lone CR, each with its break kept."""
    out = []
    start = 0
    for m in _UNIVERSAL_BREAK.finditer(text):
        out.append(text[start : m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def _split_n(text: str) -> List[str]:
    """Lines broken at LF, each with its LF kept."""
    out = []
    start = 0
    while start < len(text):
        i = text.find("\n", start)
        if i < 0:
            out.append(text[start:])
            break
        out.append(text[start : i + 1])
        start = i + 1
    return out


def to_spans(edits: Sequence[Edit], lines: Lines) -> List[Span]:
    """A fix's edits as offsets; raises FixError for positions outside the text or edits that overlap."""
    spans = []
    for line, column, end_line, end_column, text in edits:
        start = lines.offset(line, column)
        end = lines.offset(end_line, end_column)
        if end < start:
            raise FixError(f"edit ends before it starts ({line}:{column}-{end_line}:{end_column})")
        text = text.replace("\r\n", "\n")
        if "\n" in text:
            text = text.replace("\n", lines.newline_at(start))
        spans.append(Span(start, end, text))
    for i, a in enumerate(spans):
        for b in spans[i + 1 :]:
            if overlaps(a, b) or a == b:
                raise FixError("the fix's own edits overlap")
    return spans


def overlaps(a: Span, b: Span) -> bool:
    """Whether two edits touch the same characters (insertions at one point do not overlap)."""
    if a.start == a.end and b.start == b.end:
        return False
    return a.start < b.end and b.start < a.end


def choose(candidates: Sequence[Tuple[Finding, List[Span]]]) -> Tuple[List[Tuple[Finding, List[Span]]], List[Finding]]:
    """The fixes to apply, in order (the first wins an overlap), and the ones left out.

    A fix identical to one already chosen counts as applied (two findings, one edit).
    """
    chosen: List[Tuple[Finding, List[Span]]] = []
    left: List[Finding] = []
    taken: List[Span] = []
    seen: List[List[Span]] = []
    for finding, spans in candidates:
        if spans in seen:
            chosen.append((finding, []))
            continue
        if any(overlaps(s, t) for s in spans for t in taken):
            left.append(finding)
            continue
        chosen.append((finding, spans))
        taken.extend(spans)
        seen.append(spans)
    return chosen, left


def apply_spans(text: str, spans: Sequence[Span]) -> str:
    """The text with the (non-overlapping) edits applied, working from the end backwards.

    Insertions at one point keep their order; an insertion at the start of a
    replaced range goes before the replacement.
    """
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end > spans[i].start, i))
    for i in reversed(order):
        span = spans[i]
        text = text[: span.start] + span.text + text[span.end :]
    return text


def apply_to(
    text: str, fixes: Sequence[Tuple[Finding, List[Edit]]], cell: bool = False
) -> Tuple[str, List[Finding], List[Finding], List[str]]:
    """Apply fixes to one text: (new text, findings fixed, findings left over, error lines)."""
    lines = Lines(text, cell)
    candidates: List[Tuple[Finding, List[Span]]] = []
    errors: List[str] = []
    for finding, edits in fixes:
        try:
            candidates.append((finding, to_spans(edits, lines)))
        except FixError as exc:
            errors.append(f"{finding.location()}: {finding.code} fix not applied: {exc}")
    chosen, left = choose(candidates)
    spans = [s for _, group in chosen for s in group]
    return apply_spans(text, spans), [f for f, _ in chosen], left, errors
