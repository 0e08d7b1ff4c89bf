"""--format json: one object; later capabilities add top-level keys beside findings.

Valid UTF-8 JSON whatever the file names: bytes that are not UTF-8 are `\\udcXX` escapes (report/paths.py).
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional

from cnnlint import __version__
from cnnlint.findings import Finding
from cnnlint.report.formats import Report, register
from cnnlint.report.paths import json_safe
from cnnlint.report.summary import summarize

FINDING_KEYS = ("code", "severity", "message", "hint", "path", "line", "column", "end_line", "end_column", "cell")


def render_json(findings: List[Finding], files: int, extra: Optional[Dict[str, object]] = None) -> str:
    doc: Dict[str, object] = {
        "version": __version__,
        "findings": [{k: f.to_dict()[k] for k in FINDING_KEYS} for f in findings],
        "summary": summarize(findings, files),
    }
    if extra:
        doc.update(extra)
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


@register
class JsonFormat:
    name = "json"
    help = ""

    def render(self, report: Report) -> str:
        return render_json(report.findings, report.files, report.extras)
