"""Which static rules exist: found, not listed.

Every module of the package `cnnlint.lint.rules` (one rule per file) is imported and the `Rule`
subclasses it defines are taken.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TYPE_CHECKING, List, Optional, Sequence, Type

from cnnlint.catalog import RuleInfo, is_enabled

if TYPE_CHECKING:
    from cnnlint.lint.rule import Rule

RULES_PACKAGE = "cnnlint.lint.rules"

_CLASSES: Optional[List[Type["Rule"]]] = None


def package_modules(package: str = RULES_PACKAGE) -> List[str]:
    """The rule modules of the package, by name; none when it is absent or empty. Modules whose
    name starts with `_` are helpers, not rules."""
    try:
        pkg = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name != package:
            raise
        return []
    paths = getattr(pkg, "__path__", None)
    if paths is None:
        return []
    return sorted(f"{package}.{m.name}" for m in pkgutil.iter_modules(paths) if not m.name.startswith("_"))


def rule_module_names() -> List[str]:
    """Every module that holds static rules."""
    return package_modules()


def classes_in(module: ModuleType) -> List[Type["Rule"]]:
    """The rules a module defines: each Rule subclass defined in it that has a code."""
    from cnnlint.lint.rule import Rule

    return [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Rule) and obj.__module__ == module.__name__
        and isinstance(getattr(obj, "code", None), str)
    ]


def discover(module_names: Sequence[str]) -> List[Type["Rule"]]:
    """The rule classes of these modules, sorted by code; an error when two share a code."""
    classes: List[Type["Rule"]] = []
    for name in module_names:
        classes.extend(classes_in(importlib.import_module(name)))
    codes = [cls.code for cls in classes]
    twice = sorted({c for c in codes if codes.count(c) > 1})
    if twice:
        raise RuntimeError(f"rule codes defined twice: {', '.join(twice)}")
    return sorted(classes, key=lambda c: c.code)


def rule_classes() -> List[Type["Rule"]]:
    """Every static rule class, sorted by code (found once per process)."""
    global _CLASSES
    if _CLASSES is None:
        _CLASSES = discover(rule_module_names())
    return list(_CLASSES)


def rule_infos() -> List[RuleInfo]:
    """The static rules' entries in the catalog."""
    return [RuleInfo(cls.code, cls.name, cls.severity, cls.summary, cls.autofix) for cls in rule_classes()]


def active_rules(select: Sequence[str], ignore: Sequence[str]) -> List[Type["Rule"]]:
    return [cls for cls in rule_classes() if is_enabled(cls.code, select, ignore)]
