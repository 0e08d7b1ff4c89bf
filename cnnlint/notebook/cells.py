"""The executed cells of a kernel as one notebook source, linted with the static rules, the
cross-check facts extracted, cached by the cells' text.

Cells are numbered by position while linting (so a rerun of the same code hits the cache) and the
findings and facts are given the execution counts the user sees (`In [3]`) afterwards. A cell run
several times counts once, at its last run.
"""

from __future__ import annotations

import copy
import json
import os
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any, List, Optional, Sequence, Tuple, Type

from cnnlint.crosscheck.facts import ScriptFacts
from cnnlint.crosscheck.live_code import CodeUses, cell_uses
from cnnlint.findings import Finding
from cnnlint.lint.engine import lint_source
from cnnlint.sources.model import SourceError, SourceFile
from cnnlint.sources.notebook import read_notebook

PATH = "In"  # how the kernel's cells are named in findings: `In [3] line 2`
CACHE_SIZE = 64

Cell = Tuple[int, str]  # (execution count, raw text)


def executed_cells(history: Sequence[Any], before: Optional[int] = None) -> List[Cell]:
    """The cells of IPython's input history (`input_hist_raw`: index = execution count), in
    execution order, before `before`; a text run again counts at its last run only."""
    cells = [(i, text) for i, text in enumerate(history)
             if i > 0 and isinstance(text, str) and text.strip() and (before is None or i < before)]
    last = {text: i for i, text in cells}
    return [(i, text) for i, text in cells if last[text] == i]


def with_pending(cells: List[Cell], number: int, text: str) -> List[Cell]:
    """The executed cells and the cell about to run, last (an earlier run of its text dropped)."""
    return [c for c in cells if c[1] != text] + ([(number, text)] if text.strip() else [])


def _source(texts: Sequence[str]) -> SourceFile:
    cells = [{"cell_type": "code", "source": text, "metadata": {}, "outputs": []} for text in texts]
    data = json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode("utf-8")
    source = read_notebook(PATH, data)
    assert source is not None
    return source


@dataclass
class Linted:
    """One lint of the cells, cells numbered by position (1 = the first cell given)."""

    findings: List[Finding]
    facts: Optional[ScriptFacts]
    uses: CodeUses
    pending_line: Optional[int] = None  # first joined line of the last cell, when it is about to run
    internal_errors: List[str] = field(default_factory=list)


class CellLinter:
    """Lints lists of cells; the last CACHE_SIZE results are kept, by the cells' text and rules."""

    def __init__(self) -> None:
        self._cache: "OrderedDict[tuple, Linted]" = OrderedDict()

    def lint(self, cells: Sequence[Cell], rules: Sequence[Type], fact_rules: Sequence[Type] = (),
             pending: bool = False) -> Linted:
        texts = tuple(text for _, text in cells)
        key = (texts, tuple(r.code for r in rules), pending)
        hit = self._cache.get(key)
        if hit is None:
            hit = _lint(texts, rules, fact_rules, pending)
            self._cache[key] = hit
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return numbered(hit, [n for n, _ in cells])


def _lint(texts: Sequence[str], rules: Sequence[Type], fact_rules: Sequence[Type], pending: bool) -> Linted:
    real = os.path.join(os.getcwd(), PATH)
    try:
        source = _source(texts)
    except SourceError as exc:  # cannot happen for text cells; said as a finding rather than raised
        from cnnlint.lint.engine import source_error

        return Linted([source_error(PATH, exc)], None, CodeUses())
    result = lint_source(source, list(rules), real, True, list(fact_rules))
    facts = ScriptFacts.from_dict(result.facts) if result.facts else None
    uses, pending_line = _uses(source, len(texts), pending)
    return Linted(result.findings, facts, uses, pending_line, result.internal_errors)


def _uses(source: SourceFile, cells: int, pending: bool) -> Tuple[CodeUses, Optional[int]]:
    """The cells' uses, each cell read on its own (cached), and the first joined line of the last cell
    when it is about to run."""
    lines = source.text.split("\n")
    spans: dict = {}
    for index, (cell, _) in enumerate(source.line_map or ()):
        first, _last = spans.get(cell, (index, index))
        spans[cell] = (first, index)
    uses = CodeUses()
    pending_line = None
    for cell, (first, last) in sorted(spans.items()):
        part = cell_uses("\n".join(lines[first:last + 1]), pending and cell == cells)
        if part is not None:
            uses.add(part, cell, first)
        if pending and cell == cells:
            pending_line = first + 1
    return uses, pending_line


def numbered(linted: Linted, numbers: Sequence[int]) -> Linted:
    """A copy of a positional lint with each cell given its execution count."""

    def count(position: Optional[int]) -> Optional[int]:
        return numbers[position - 1] if position is not None and 0 < position <= len(numbers) else position

    findings = [replace(f, cell=count(f.cell)) for f in linted.findings]
    facts = copy.deepcopy(linted.facts)
    uses = copy.deepcopy(linted.uses)
    every = []
    if facts is not None:
        every += [getattr(facts, name) for name in ("input_shapes", "outputs", "losses", "weighting", "training",
                                                    "readers", "in_memory")]
        for loader in facts.loaders:
            every.append([f for f in (loader.call, loader.target_size, loader.color_mode, loader.class_mode,
                                      loader.classes, loader.batch_size) if f is not None])
    every.append([fit.fact for fit in uses.fits])
    every.append(list(uses.places.values()))
    every.append([c.fact for c in uses.conversions])
    for group in every:
        for fact in group:
            fact.cell = count(fact.cell)
    return Linted(findings, facts, uses, linted.pending_line, list(linted.internal_errors))
