"""Line suppressions: `# noqa`, `# noqa: CNL201`, `# cnnlint: ignore[CNL201]`."""

from __future__ import annotations

import re

_SUPPRESSION = re.compile(
    r"#\s*(?:noqa(?P<colon>\s*:\s*(?P<codes>[A-Za-z]+[0-9]+(?:[\s,]+[A-Za-z]+[0-9]+)*))?"
    r"|cnnlint\s*:\s*ignore\[(?P<ignored>[^\]]*)\])",
    re.IGNORECASE,
)


def is_suppressed(line: str, code: str) -> bool:
    if "#" not in line:
        return False
    for m in _SUPPRESSION.finditer(line):
        listed = m.group("codes") or m.group("ignored")
        if listed is None:
            if m.group("ignored") is None and m.group("colon") is None:
                return True  # a bare noqa comment
            continue
        codes = {c.upper() for c in re.split(r"[\s,]+", listed.strip()) if c}
        if code.upper() in codes:
            return True
    return False
