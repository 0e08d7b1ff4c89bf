"""The README's rules table, from the catalog: `python -m cnnlint.dev rules-table [CODE ...]`.

A row is `| CODE | name: description | severity | yes |`. The description after `name:` is the
README's own words (tests/test_readme_rules.py holds the rest of each row to the catalog); a row
printed here starts from the rule's summary.
"""

from __future__ import annotations

import re
from typing import Dict, List, Sequence, Tuple

from cnnlint.catalog import FAMILIES, RuleInfo, catalog

HEADER = "| code | name | severity | `--fix` |\n|---|---|---|---|"
ROW = re.compile(r"^\| (?P<code>CNL\d{3}) \| (?P<name>[a-z0-9-]+): (?P<what>.+?) \| (?P<severity>\w+) \| (?P<fix>yes)? ?\|$")
# the dataset, cross-check and probe codes are one row per family: `| CNL501-CNL519 | ... | | |`
RANGE = re.compile(r"^\| (?P<first>CNL\d{3})-(?P<last>CNL\d{3}) \| (?P<what>.+?) \| \| \|$")
ONE_ROW_FAMILIES = ("5", "6", "7")


def row(info: RuleInfo) -> str:
    return f"| {info.code} | {info.name}: {info.summary} | {info.severity.value} | {'yes ' if info.autofix else ''}|"


def _ranges(infos: Sequence[RuleInfo]) -> Dict[str, str]:
    """First code -> last code of each family that has one row."""
    ranges: Dict[str, str] = {}
    for family in ONE_ROW_FAMILIES:
        codes = [i.code for i in infos if i.code[3] == family]
        if codes:
            ranges[codes[0]] = codes[-1]
    return ranges


def table(codes: Sequence[str] = ()) -> str:
    """The header and one row per code of the catalog (or of `codes`), one per family for the
    dataset, cross-check and probe codes."""
    wanted = {c.upper() for c in codes}
    infos = catalog()
    rows = [row(info) for info in infos if info.code[3] not in ONE_ROW_FAMILIES and (not wanted or info.code in wanted)]
    if not wanted:
        rows += [f"| {first}-{last} | {FAMILIES[first[3]]}: see `cnnlint rules` | | |"
                 for first, last in _ranges(infos).items()]
    return "\n".join([HEADER] + rows) + "\n"


def readme_rows(readme: str) -> Tuple[Dict[str, Dict[str, str]], Dict[str, str]]:
    """The README's rules table: its rows by code, and its family rows (first code -> last); raises
    ValueError on a line of the table that is neither."""
    start = readme.index(HEADER)
    rows: Dict[str, Dict[str, str]] = {}
    ranges: Dict[str, str] = {}
    for line in readme[start + len(HEADER):].lstrip("\n").splitlines():
        if not line.startswith("|"):
            break
        m, r = ROW.match(line), RANGE.match(line)
        if m is not None:
            rows[m.group("code")] = m.groupdict()
        elif r is not None:
            ranges[r.group("first")] = r.group("last")
        else:
            raise ValueError(f"not a rules-table row: {line}")
    return rows, ranges


def mismatches(readme: str) -> List[str]:
    """How the README's table differs from the catalog, one line each ([] when it matches)."""
    rows, ranges = readme_rows(readme)
    infos = [i for i in catalog() if i.code[3] not in ONE_ROW_FAMILIES]
    problems = [f"{info.code}: no row (`python -m cnnlint.dev rules-table {info.code}` prints one)"
                for info in infos if info.code not in rows]
    problems += [f"{code}: not in the catalog" for code in rows if code not in {i.code for i in infos}]
    for info in infos:
        r = rows.get(info.code)
        if r is None:
            continue
        expected = {"name": info.name, "severity": info.severity.value, "fix": "yes" if info.autofix else None}
        problems += [f"{info.code}: {key} is {r[key]!r} in the README, {value!r} in the catalog"
                     for key, value in expected.items() if r[key] != value]
    if list(rows) != sorted(rows):
        problems.append("rows are not in code order")
    if ranges != _ranges(catalog()):
        problems.append(f"family rows {ranges} in the README, {_ranges(catalog())} in the catalog")
    return problems
