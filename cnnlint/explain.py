"""`cnnlint explain WHAT`: a rule's page by code (CNL201), by name (gradients-never-cleared), or a
family's pages (CNL2, CNL2xx)."""

from __future__ import annotations

import re
from typing import List

from cnnlint.catalog import FAMILIES, catalog

_FAMILY = re.compile(r"^CNL(?P<digit>[0-9])(?:XX)?$")


class UnknownRule(ValueError):
    """Nothing in the catalog answers to the name."""


def resolve(what: str) -> List[str]:
    """The codes `what` names, in order: one for a code or a rule's name, the family's for a family."""
    query = what.strip()
    infos = catalog()
    upper = query.upper()
    for info in infos:
        if info.code == upper or info.name == query.lower():
            return [info.code]
    family = _FAMILY.match(upper)
    if family and family.group("digit") in FAMILIES:
        codes = [info.code for info in infos if info.code[3] == family.group("digit")]
        if codes:
            return codes
    close = sorted(info.name for info in infos if query.lower() in info.name)[:3]
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise UnknownRule(f"unknown rule {what!r}{hint}; `cnnlint rules` lists the codes and names")
