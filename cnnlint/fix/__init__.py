"""--fix and --diff: apply the text edits that findings carry (placeholder until the fixes land)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from cnnlint.findings import Finding


@dataclass
class FixOutcome:
    fixed: List[Finding] = field(default_factory=list)  # findings whose fix was applied (or would be)
    diffs: Dict[str, str] = field(default_factory=dict)  # path -> unified diff
    errors: List[str] = field(default_factory=list)  # one line each: a fix that could not be applied


def apply_fixes(findings: Sequence[Finding], write: bool) -> FixOutcome:
    return FixOutcome()
