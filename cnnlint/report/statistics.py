"""--statistics: how many findings of each code, the most frequent first (as Ruff prints them)."""

from __future__ import annotations

from collections import Counter
from typing import Dict, List

from cnnlint.findings import Finding


def statistics(findings: List[Finding]) -> List[tuple]:
    """(count, code, name, fixable) per code: by count, most first, then by code."""
    from cnnlint.catalog import catalog

    infos: Dict[str, object] = {info.code: info for info in catalog()}
    counts = Counter(f.code for f in findings)
    fixable = {f.code for f in findings if f.fix is not None}
    rows = []
    for code, count in counts.items():
        info = infos.get(code)
        rows.append((count, code, getattr(info, "name", ""), code in fixable))
    return sorted(rows, key=lambda row: (-row[0], row[1]))


def render_statistics(findings: List[Finding]) -> str:
    """One line per code: `count  CODE  [*] name` (`[*]`: some of them have a --fix)."""
    rows = statistics(findings)
    if not rows:
        return ""
    width = len(str(rows[0][0]))
    return "".join(f"{count:>{width}}  {code}  {'[*]' if fix else '   '} {name}\n" for count, code, name, fix in rows)
