"""Counts shared by every output format."""

from __future__ import annotations

from collections import Counter
from typing import Dict, List

from cnnlint.findings import Finding


def summarize(findings: List[Finding], files: int) -> Dict[str, object]:
    by_severity = Counter(f.severity.value for f in findings)
    return {
        "files": files,
        "findings": len(findings),
        "errors": by_severity.get("error", 0),
        "warnings": by_severity.get("warning", 0),
        "info": by_severity.get("info", 0),
        "by_code": dict(sorted(Counter(f.code for f in findings).items())),
        "files_with_findings": len({f.path for f in findings}),
    }
