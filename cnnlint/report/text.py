"""--format text: `path:line:col: CODE [severity] message`, a hint, and on a terminal a snippet.

A path that is not valid UTF-8 (or holds control characters or quotes) is quoted as git quotes it
(report/paths.py).
"""

from __future__ import annotations

import dataclasses
import os
from typing import List

from cnnlint.findings import Finding
from cnnlint.report.formats import Report, register
from cnnlint.report.paths import escape_text, quote_path
from cnnlint.report.summary import summarize
from cnnlint.sources.lines import SourceLines

_COLORS = {"error": "31", "warning": "33", "info": "36", "bold": "1", "dim": "2", "code": "1;35"}


def use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"


def render_text(
    findings: List[Finding],
    files: int,
    *,
    color: bool = False,
    snippets: bool = False,
    quiet: bool = False,
) -> str:
    def paint(text: str, style: str) -> str:
        return f"\x1b[{_COLORS[style]}m{text}\x1b[0m" if color else text

    out: List[str] = []
    lines = SourceLines()
    for f in findings:
        sev = f.severity.value
        location = dataclasses.replace(f, path=quote_path(f.path)).location()
        out.append(
            f"{paint(location, 'bold')}: {paint(f.code, 'code')} "
            f"{paint('[' + sev + ']', sev)} {escape_text(f.message)}"
        )
        if quiet:
            continue
        if f.hint:
            out.append(f"  {paint('hint:', 'dim')} {escape_text(f.hint)}")
        if snippets:
            src = lines.get(f)
            if src is not None and src.strip():
                gutter = f"{f.line:>5} | "
                out.append(paint(gutter, "dim") + src.rstrip())
                start = max(f.column - 1, 0)
                if f.end_line == f.line and f.end_column and f.end_column > f.column:
                    width = f.end_column - f.column
                else:
                    width = max(len(src.rstrip()) - start, 1)
                pad = " " * (len(gutter) - 2)
                out.append(paint(pad + "| ", "dim") + " " * start + paint("^" * width, sev))
    if not quiet and findings:
        s = summarize(findings, files)
        parts = [f"{s[k]} {name}" for k, name in (("errors", "error"), ("warnings", "warning"), ("info", "info")) if s[k]]
        parts = [p + ("s" if not p.startswith("1 ") and not p.endswith("info") else "") for p in parts]
        noun = "finding" if len(findings) == 1 else "findings"
        out.append(
            f"Found {len(findings)} {noun} ({', '.join(parts)}) in {s['files_with_findings']} of {files} "
            f"file{'s' if files != 1 else ''}."
        )
    return "\n".join(out) + ("\n" if out else "")


@register
class TextFormat:
    name = "text"
    help = ""

    def render(self, report: Report) -> str:
        tty = report.stream is not None and use_color(report.stream)
        text = render_text(report.findings, report.files, color=tty, snippets=tty, quiet=report.quiet)
        if report.quiet or not report.sections:
            return text
        # the sections may name files too: their bytes that are not UTF-8 are escaped as in the findings
        return escape_text("".join(section.rstrip("\n") + "\n\n" for section in report.sections)) + text
