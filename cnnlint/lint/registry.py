"""Every rule cnnlint knows, and selection by code or prefix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Sequence

from cnnlint.findings import Severity


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    severity: Severity
    summary: str
    autofix: bool = False


# Findings cnnlint makes itself rather than through a rule class.
BUILTIN = [
    RuleInfo("CNL001", "unreadable-file", Severity.ERROR, "File cannot be read or parsed"),
]


def rule_classes() -> List[type]:
    from cnnlint.lint import (
        augmentation,
        dependencies,
        input_pipeline,
        model_config,
        removed_api,
        training_hygiene,
    )
    from cnnlint.lint.rules import cnl201_gradients_never_cleared, cnl202_accumulator_never_accumulated

    classes: List[type] = []
    modules = (input_pipeline, augmentation, cnl201_gradients_never_cleared, cnl202_accumulator_never_accumulated,
               training_hygiene, model_config, dependencies, removed_api)
    for module in modules:
        classes.extend(module.RULES)
    return sorted(classes, key=lambda c: c.code)


def other_infos() -> List[RuleInfo]:
    """Codes found outside the static rules: the dataset scan, the cross-checks, the probe."""
    from cnnlint.crosscheck.codes import CODES as crosscheck_codes
    from cnnlint.dataset.codes import CODES as dataset_codes
    from cnnlint.probe.codes import CODES as probe_codes

    return [*dataset_codes, *crosscheck_codes, *probe_codes]


def catalog() -> List[RuleInfo]:
    infos = list(BUILTIN) + other_infos()
    for cls in rule_classes():
        infos.append(RuleInfo(cls.code, cls.name, cls.severity, cls.summary, cls.autofix))
    return sorted(infos, key=lambda i: i.code)


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


def active_rules(select: Sequence[str], ignore: Sequence[str]) -> List[type]:
    return [cls for cls in rule_classes() if is_enabled(cls.code, select, ignore)]
