"""--format github: one GitHub Actions workflow command per finding, nothing else.

`::error file=train.py,line=5,col=5,endLine=5,endColumn=20,title=CNL201::message`
(`warning` for warnings, `notice` for info), escaped as @actions/core escapes
them. A range over several lines gives `line` and `endLine` only: the toolkit
takes no `col`/`endColumn` when the lines differ. A file name's bytes that are not UTF-8
are written as octal escapes (`bad\\377.py`, see report/paths.py). A notebook finding names the
`.ipynb` file without a line (its line is a line of a cell, not of the JSON file): the cell and line
go in the message.
"""

from __future__ import annotations

import os
from typing import List, Optional, Tuple

from cnnlint.findings import Finding, Severity
from cnnlint.report.formats import Report, register
from cnnlint.report.paths import escape_text
from cnnlint.report.sarif import message_text

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotation_path(path: str) -> str:
    """The path as GitHub matches it: relative to the workspace (the current directory), with slashes."""
    if os.path.isabs(path):
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            rel = None
        if rel is not None and rel != os.pardir and not rel.startswith(os.pardir + os.sep):
            path = rel
    return path.replace(os.sep, "/") if os.sep != "/" else path


def _position(f: Finding) -> List[Tuple[str, Optional[int]]]:
    """line, col, endLine, endColumn as the Actions toolkit takes them: `col` and `endColumn` only
    on a range within one line (the toolkit's rule: neither may be sent when the lines differ)."""
    if f.cell is not None or not isinstance(f.line, int) or f.line < 1:
        return []
    props: List[Tuple[str, Optional[int]]] = [("line", f.line)]
    end_line = f.end_line if isinstance(f.end_line, int) and f.end_line >= f.line else None
    if end_line is not None and end_line > f.line:
        return props + [("endLine", end_line)]
    column = f.column if isinstance(f.column, int) and f.column >= 1 else None
    props.append(("col", column))
    if end_line is not None:
        props.append(("endLine", end_line))
        end_column = f.end_column
        if column is not None and isinstance(end_column, int) and end_column >= column:
            props.append(("endColumn", end_column))
    return props


def annotation(f: Finding) -> str:
    props = [("file", escape_text(_annotation_path(f.path)))]
    props += [(k, str(v)) for k, v in _position(f) if v is not None]
    props.append(("title", f.code))
    joined = ",".join(f"{k}={escape_property(v)}" for k, v in props if v != "")
    command = COMMANDS.get(f.severity, "warning")
    return f"::{command} {joined}::{escape_data(escape_text(message_text(f)))}"


def render_github(findings: List[Finding]) -> str:
    return "".join(annotation(f) + "\n" for f in findings)


@register
class GithubFormat:
    name = "github"
    help = "workflow annotations"

    def render(self, report: Report) -> str:
        return render_github(report.findings)
