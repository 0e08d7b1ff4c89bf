"""The README's rules table, generated from the catalog: `python -m cnnlint.dev rules-table [CODE ...]`
prints it, `--write` rewrites it in the README (tests/test_dev.py checks the README holds exactly
the generated table, so it is never edited by hand and a new rule needs no README edit of its own).

A row is `| CODE | name: summary | severity | yes |`, from the rule class (or code table) alone.
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


# what the README says of the families that have one row (sections of the README it points to)
FAMILY_ROWS = {
    "5": 'the dataset scan: see "Image datasets" below and `cnnlint rules`',
    "6": 'code versus data: the script\'s expectations against the dataset, see "Code versus data" below',
    "7": 'the runtime probe (`--probe` only): see "Runtime probe" below',
}


def _sentence_part(summary: str) -> str:
    """The summary as it reads after `name:` (a capital dropped unless it starts an acronym)."""
    word = summary.split(" ", 1)[0]
    if word[:1].isupper() and (len(word) == 1 or word[1:].isalpha() and word[1:].islower()):
        return summary[0].lower() + summary[1:]
    return summary


def row(info: RuleInfo) -> str:
    fix = "yes " if info.autofix else ""
    return f"| {info.code} | {info.name}: {_sentence_part(info.summary)} | {info.severity.value} | {fix}|"


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
        rows += [f"| {first}-{last} | {FAMILY_ROWS.get(first[3], FAMILIES[first[3]] + ': see `cnnlint rules`')} | | |"
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


def _block(readme: str) -> Tuple[int, int]:
    """Where the README's table starts and ends (the header and every row after it)."""
    start = readme.index(HEADER)
    end = start + len(HEADER) + 1
    for line in readme[end:].splitlines(keepends=True):
        if not line.startswith("|"):
            break
        end += len(line)
    return start, end


def regenerated(readme: str) -> str:
    """The README with its rules table replaced by the one generated from the catalog."""
    start, end = _block(readme)
    return readme[:start] + table() + readme[end:]


def write_readme(path: str) -> bool:
    """Rewrite the table in the README at `path`; whether anything changed."""
    with open(path, encoding="utf-8") as fh:
        readme = fh.read()
    new = regenerated(readme)
    if new != readme:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(new)
    return new != readme


def mismatches(readme: str) -> List[str]:
    """How the README's table differs from the catalog, one line each ([] when it matches)."""
    problems = _row_mismatches(readme)
    if not problems and regenerated(readme) != readme:
        start, end = _block(readme)
        stale = sorted(set(readme[start:end].splitlines()) - set(table().splitlines()))
        problems = [f"not the generated row (run `python -m cnnlint.dev rules-table --write`): {line}" for line in stale]
    return problems


def _row_mismatches(readme: str) -> List[str]:
    rows, ranges = readme_rows(readme)
    infos = [i for i in catalog() if i.code[3] not in ONE_ROW_FAMILIES]
    problems = [f"{info.code}: no row (`python -m cnnlint.dev rules-table --write` writes it)"
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
