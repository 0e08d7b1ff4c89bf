"""Findings as the notebook shows them: an HTML table where the front end renders HTML (Colab,
Jupyter, VS Code), plain text otherwise. A cell's finding is placed as `In [3] line 2`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Dict, List

from cnnlint.findings import Finding
from cnnlint.notebook.cells import PATH

_COLOURS = {"error": "#c62828", "warning": "#b26a00", "info": "#1565c0"}


def where(finding: Finding) -> str:
    if finding.path == PATH and finding.cell is not None:
        return f"In [{finding.cell}] line {finding.line}"
    if finding.line < 1:  # a folder or a whole file (dataset findings)
        return finding.path
    cell = f" cell {finding.cell}" if finding.cell is not None else ""
    return f"{finding.path}{cell}:{finding.line}:{finding.column}"


@dataclass
class Shown:
    """What one `%cnnlint` (or one checked cell) shows."""

    title: str
    findings: List[Finding] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)  # lines under the findings (datasets scanned, errors)

    def text(self) -> str:
        lines = [self.title]
        for f in self.findings:
            lines.append(f"{where(f)}: {f.code} {f.severity.value}: {f.message}")
            if f.hint:
                lines.append(f"    hint: {f.hint}")
        lines.extend(self.notes)
        return "\n".join(lines)

    def html(self) -> str:
        rows = []
        for f in self.findings:
            colour = _COLOURS.get(f.severity.value, "inherit")
            hint = f"<br><small>hint: {html.escape(f.hint)}</small>" if f.hint else ""
            rows.append(
                f"<tr><td style='white-space:nowrap'>{html.escape(where(f))}</td>"
                f"<td style='color:{colour};white-space:nowrap'><b>{html.escape(f.code)}</b> {html.escape(f.severity.value)}</td>"
                f"<td style='text-align:left'>{html.escape(f.message)}{hint}</td></tr>"
            )
        table = ("<table class='cnnlint'><thead><tr><th>where</th><th>code</th><th style='text-align:left'>finding</th>"
                 f"</tr></thead><tbody>{''.join(rows)}</tbody></table>") if rows else ""
        notes = "".join(f"<div><small>{html.escape(n)}</small></div>" for n in self.notes)
        return f"<div class='cnnlint-report'><b>{html.escape(self.title)}</b>{table}{notes}</div>"

    def bundle(self) -> Dict[str, str]:
        """The MIME bundle for IPython's display publisher."""
        return {"text/plain": self.text(), "text/html": self.html()}

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return self.text()


def title(findings: List[Finding], what: str) -> str:
    if not findings:
        return f"cnnlint: no findings in {what}"
    counts: Dict[str, int] = {}
    for f in findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    parts = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in sorted(counts.items(), key=lambda kv: kv[0]))
    return f"cnnlint: {len(findings)} finding{'s' if len(findings) != 1 else ''} in {what} ({parts})"
