"""Every code cnnlint reports (`RuleInfo`), the catalog of them, and selection by code or prefix.

The bottom of the house, beside `findings.py`: `config.py`, `report/`, `dataset/`, `crosscheck/`,
`probe/` and `lint/` depend on this module, and it imports none of them. Each capability keeps its
own table of codes and plugs it in by name in `CODE_TABLES` (as a package names its entry points):
the tables are loaded on first use, so no import, at module or function level, points back up.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Sequence, Union

from cnnlint.findings import Severity


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    summary: str
    autofix: bool = False


# Findings cnnlint makes itself rather than through a rule or a capability.
BUILTIN = [
    RuleInfo("CNL001", "unreadable-file", Severity.ERROR, "File cannot be read or parsed"),
]

# the families of codes, by the digit after CNL (`cnnlint rules`, the pages' Family field)
FAMILIES = {"0": "cnnlint itself", "1": "input pipeline", "2": "training loop",
            "3": "model, loss and optimizer", "4": "environment and dependencies",
            "5": "dataset", "6": "code versus data", "7": "runtime probe"}

# "module:attribute": a list of RuleInfo, or a function returning one. The static rules' entry is
# their discovery (cnnlint.lint.discovery), which finds the rule classes rather than listing them.
CODE_TABLES = (
    "cnnlint.dataset.codes:CODES",
    "cnnlint.crosscheck.codes:CODES",
    "cnnlint.probe.codes:CODES",
    "cnnlint.lint.discovery:rule_infos",
)

Table = Union[Sequence[RuleInfo], Callable[[], Sequence[RuleInfo]]]

_CATALOG: Optional[List[RuleInfo]] = None


def load_table(entry: str) -> List[RuleInfo]:
    """The codes one CODE_TABLES entry names."""
    module_name, _, attribute = entry.partition(":")
    table: Table = getattr(importlib.import_module(module_name), attribute)
    return list(table() if callable(table) else table)


def catalog() -> List[RuleInfo]:
    """Every code, sorted; an error when two tables claim the same code."""
    global _CATALOG
    if _CATALOG is None:
        infos = list(BUILTIN)
        for entry in CODE_TABLES:
            infos.extend(load_table(entry))
        codes = [info.code for info in infos]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise RuntimeError(f"codes claimed twice: {', '.join(twice)}")
        _CATALOG = sorted(infos, key=lambda i: i.code)
    return list(_CATALOG)


def known_codes() -> List[str]:
    return [info.code for info in catalog()]


def check_selectors(selectors: Iterable[str]) -> List[str]:
    """Selectors that match no known code (so the caller can report them)."""
    codes = known_codes()
    return [s for s in selectors if s.upper() != "ALL" and not any(c.startswith(s.upper()) for c in codes)]


def matches(code: str, selectors: Sequence[str]) -> bool:
    return any(s.upper() == "ALL" or code.startswith(s.upper()) for s in selectors)


def is_enabled(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Ruff's logic, simplified: the longest matching selector wins; ties go to ignore."""
    best_select = max((len(s) for s in select if matches(code, [s])), default=-1)
    best_ignore = max((len(s) for s in ignore if matches(code, [s])), default=-1)
    if best_select < 0:
        return False
    return best_select > best_ignore


def wants(codes: Iterable[RuleInfo], select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Whether any of a capability's codes is selected (a scan whose findings would all be dropped
    is not run)."""
    return any(is_enabled(info.code, select, ignore) for info in codes)
