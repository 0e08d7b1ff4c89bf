"""The codes this capability reports, for `cnnlint rules`, `explain` and --select."""

from __future__ import annotations

from typing import List

from cnnlint.lint.registry import RuleInfo

CODES: List[RuleInfo] = []
