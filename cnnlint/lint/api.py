"""Lint a piece of code given as text: for tests, rule pages and tools."""

from __future__ import annotations

from typing import List, Optional, Sequence

from cnnlint.findings import Finding
from cnnlint.lint.engine import lint_source, source_error
from cnnlint.lint.discovery import active_rules
from cnnlint.sources.model import SourceError


def lint_text(
    text: str,
    path: str = "example.py",
    select: Sequence[str] = ("ALL",),
    ignore: Sequence[str] = (),
    real_path: Optional[str] = None,
) -> List[Finding]:
    """Findings for `text` as if it were the file `path` (kind chosen by its name).

    A rule that raises is an error here (RuntimeError), so tests see rule bugs.
    """
    from cnnlint.sources.read import read_source

    rules = active_rules(select, ignore)
    try:
        source = read_source(path, text.encode("utf-8"))
    except SourceError as exc:
        return [source_error(path, exc)]
    if source is None:
        return []
    result = lint_source(source, rules, real_path or path)
    if result.internal_errors:
        raise RuntimeError("; ".join(result.internal_errors))
    return sorted(result.findings, key=Finding.sort_key)
