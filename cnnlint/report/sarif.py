"""--format sarif: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

One run. `tool.driver.rules` lists every rule of the catalog (with its page as
help), `results` one entry per finding. Relative paths are URIs relative to
`%SRCROOT%` (the current directory, declared in `originalUriBaseIds`); absolute
paths become `file://` URIs. URIs are percent-encoded from the file name's bytes,
so a name that is not valid UTF-8 is written exactly (`bad%FF.py`); texts escape
its bytes as `\\udcXX`. A notebook finding points at the `.ipynb` file
without a region (its line is a line of a cell, not of the JSON file): the cell
and line go in the message and in the result's property bag.
"""

from __future__ import annotations

import json
import os
import pathlib
import posixpath
import re
from typing import Dict, List, Optional
from urllib.parse import quote

from cnnlint import __version__
from cnnlint.dataset.urls import is_url
from cnnlint.findings import Finding, Severity
from cnnlint.report.formats import Report, register

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/cnnlint/cnnlint"
PAGE_URI = INFORMATION_URI + "/blob/main/rules/{code}.md"
SRCROOT = "%SRCROOT%"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

_SECTION = re.compile(r"^## +What it does[ \t]*\n(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def level(severity: Severity) -> str:
    return LEVELS.get(severity, "warning")


def message_text(finding: Finding) -> str:
    """The finding's message, its notebook cell in front, and the hint on a second line.

    Shared with --format github.
    """
    text = finding.message.strip()
    if finding.cell is not None:
        text = f"cell {finding.cell}, line {finding.line}: {text}"
    hint = finding.hint.strip()
    if hint:
        if text and text[-1] not in ".!?:":
            text += "."
        text += "\nHint: " + hint
    return text


def _what_it_does(page: str) -> str:
    m = _SECTION.search(page)
    return m.group("body").strip() if m else ""


def _read_page(code: str) -> Optional[str]:
    from cnnlint.lint.pages import read_page

    return read_page(code)


def _descriptor(code: str, name: str, severity: Severity, summary: str) -> Dict[str, object]:
    rule: Dict[str, object] = {"id": code}
    if name:
        rule["name"] = name
    if summary:
        rule["shortDescription"] = {"text": summary}
    page = _read_page(code)
    if page:
        full = _what_it_does(page) or summary
        if full:
            rule["fullDescription"] = {"text": full}
        rule["help"] = {"text": page, "markdown": page}
    rule["helpUri"] = PAGE_URI.format(code=code)
    rule["defaultConfiguration"] = {"level": level(severity)}
    return rule


def _rules(findings: List[Finding]) -> List[Dict[str, object]]:
    from cnnlint.catalog import catalog

    rules = [_descriptor(i.code, i.name, i.severity, i.summary) for i in catalog()]
    known = {r["id"] for r in rules}
    # a finding whose code is not in the catalog still needs a descriptor for its ruleIndex
    for f in findings:
        if f.code not in known:
            known.add(f.code)
            rules.append({"id": f.code, "defaultConfiguration": {"level": level(f.severity)}})
    return rules


def artifact_location(path: str) -> Dict[str, str]:
    """A relative path as a POSIX URI under %SRCROOT%; an absolute one as a file:// URI; a bucket URL as it is."""
    if is_url(path):
        return {"uri": path}
    if os.path.isabs(path):
        try:
            return {"uri": pathlib.Path(os.path.normpath(path)).as_uri()}
        except ValueError:
            pass
    posix = path.replace(os.sep, "/") if os.sep != "/" else path
    posix = posixpath.normpath(posix) if posix else "."
    return {"uri": quote(os.fsencode(posix), safe="/"), "uriBaseId": SRCROOT}


def _srcroot_uri() -> str:
    uri = pathlib.Path(os.path.abspath(os.getcwd())).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _region(f: Finding) -> Optional[Dict[str, int]]:
    """Line/column region (1-based, end column exclusive), or None when the line is unknown."""
    if not isinstance(f.line, int) or f.line < 1:
        return None
    region = {"startLine": f.line}
    column = f.column if isinstance(f.column, int) and f.column >= 1 else None
    if column is not None:
        region["startColumn"] = column
    end_line, end_column = f.end_line, f.end_column
    if isinstance(end_line, int) and end_line >= f.line:
        region["endLine"] = end_line
        if isinstance(end_column, int) and end_column >= 1 and column is not None:
            if end_line > f.line or end_column >= column:
                region["endColumn"] = end_column
    return region


def _result(f: Finding, index: int) -> Dict[str, object]:
    physical: Dict[str, object] = {"artifactLocation": artifact_location(f.path)}
    result: Dict[str, object] = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": level(f.severity),
        "message": {"text": message_text(f)},
        "locations": [{"physicalLocation": physical}],
    }
    if f.cell is None:
        region = _region(f)
        if region is not None:
            physical["region"] = region
    else:
        props: Dict[str, int] = {"cell": f.cell, "line": f.line, "column": f.column}
        if f.end_line is not None:
            props["endLine"] = f.end_line
        if f.end_column is not None:
            props["endColumn"] = f.end_column
        result["properties"] = {"notebookCell": props}
    return result


def render_sarif(findings: List[Finding], files: int = 0) -> str:
    rules = _rules(findings)
    index = {r["id"]: i for i, r in enumerate(rules)}
    run: Dict[str, object] = {
        "tool": {
            "driver": {
                "name": "cnnlint",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": _srcroot_uri()}},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code]) for f in findings],
    }
    doc = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(doc, indent=2) + "\n"


@register
class SarifFormat:
    name = "sarif"
    help = "SARIF 2.1.0"

    def render(self, report: Report) -> str:
        return render_sarif(report.findings, report.files)
