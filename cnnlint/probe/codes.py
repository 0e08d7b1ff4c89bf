"""The codes this capability reports, for `cnnlint rules`, `explain` and --select."""

from __future__ import annotations

from typing import List

from cnnlint.findings import Severity
from cnnlint.catalog import RuleInfo

CODES: List[RuleInfo] = [
    RuleInfo("CNL701", "probe-crashed", Severity.ERROR,
             "The dry run of the script (--probe) raised an exception before or at its first training steps"),
    RuleInfo("CNL702", "probe-out-of-memory", Severity.ERROR,
             "The dry run ran out of memory, or its measured memory does not fit the target GPU at the script's batch size"),
    RuleInfo("CNL703", "probe-no-training-step", Severity.WARNING,
             "The dry run finished or timed out without reaching a training step"),
]
