"""Kept while issue 13's port lands: the names that lived here, from their new homes.

New code imports `cnnlint.catalog` (RuleInfo, the catalog, selectors) and
`cnnlint.lint.discovery` (the static rule classes).
"""

from __future__ import annotations

from cnnlint.catalog import BUILTIN, RuleInfo, catalog, check_selectors, is_enabled, known_codes, matches
from cnnlint.lint.discovery import active_rules, rule_classes

__all__ = ["BUILTIN", "RuleInfo", "active_rules", "catalog", "check_selectors", "is_enabled", "known_codes",
           "matches", "rule_classes"]
