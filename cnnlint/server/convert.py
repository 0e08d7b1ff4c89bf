"""Findings as LSP diagnostics, fixes as LSP text edits.

cnnlint counts lines and columns from 1, in characters (code points); LSP from 0, in the units the
client and server agreed on (UTF-16 unless the client offers another). A `codec` (pygls's
PositionCodec) makes that last conversion; without one, code points are sent."""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Sequence

from lsprotocol import types

from cnnlint.findings import Finding, Fix, Severity

SOURCE = "cnnlint"
_SEVERITY = {Severity.ERROR: types.DiagnosticSeverity.Error, Severity.WARNING: types.DiagnosticSeverity.Warning,
             Severity.INFO: types.DiagnosticSeverity.Information}


class Positions:
    """1-based character positions of one document (or cell) -> LSP ranges in the client's units."""

    def __init__(self, lines: Sequence[str], codec: Any = None) -> None:
        self.lines = lines
        self.codec = codec

    def line_length(self, line: int) -> int:
        """Characters of the 1-based `line`, its line break left out."""
        if 1 <= line <= len(self.lines):
            return len(self.lines[line - 1].rstrip("\r\n"))
        return 0

    def range(self, line: int, column: int, end_line: int, end_column: int) -> types.Range:
        rng = types.Range(types.Position(max(line - 1, 0), max(column - 1, 0)),
                          types.Position(max(end_line - 1, 0), max(end_column - 1, 0)))
        if self.codec is not None:
            rng = self.codec.range_to_client_units(self.lines, rng)
        return rng

    def finding_range(self, finding: Finding) -> types.Range:
        """The finding's span; a point finding (no end) spans the rest of its line, at least one
        character; a finding about the whole file (line 0) the start of the first line."""
        if finding.line < 1:
            return self.range(1, 1, 1, 1)
        if finding.end_line is not None and finding.end_column is not None:
            return self.range(finding.line, finding.column, finding.end_line, finding.end_column)
        end = max(self.line_length(finding.line) + 1, finding.column + 1)
        return self.range(finding.line, finding.column, finding.line, end)


def diagnostic(finding: Finding, positions: Positions) -> types.Diagnostic:
    """The finding as a diagnostic; `data` carries its fix (a dict), for the code action."""
    message = finding.message + (f"\nhint: {finding.hint}" if finding.hint else "")
    data: Dict[str, Any] = {"fix": dataclasses.asdict(finding.fix) if finding.fix is not None else None}
    return types.Diagnostic(range=positions.finding_range(finding), message=message, source=SOURCE,
                            code=finding.code, severity=_SEVERITY[finding.severity], data=data)


def diagnostics(findings: Sequence[Finding], positions: Positions) -> List[types.Diagnostic]:
    return [diagnostic(f, positions) for f in findings]


def fix_of(diag: types.Diagnostic) -> Optional[Fix]:
    """The fix a diagnostic of ours carries, if any (None for other tools' diagnostics)."""
    data = diag.data if isinstance(diag.data, dict) else None
    if diag.source != SOURCE or not data or not isinstance(data.get("fix"), dict):
        return None
    try:
        return Fix.from_dict(data["fix"])
    except (TypeError, ValueError):
        return None


def text_edits(fix: Fix, positions: Positions) -> List[types.TextEdit]:
    """Every edit of the fix; "\\n" in its text becomes the document's own line ending."""
    newline = "\r\n" if positions.lines and positions.lines[0].endswith("\r\n") else "\n"
    return [types.TextEdit(range=positions.range(line, column, end_line, end_column),
                           new_text=text.replace("\n", newline) if newline != "\n" else text)
            for line, column, end_line, end_column, text in fix.all_edits()]
