"""One kernel's cnnlint: the report of `%cnnlint [PATH ...]` and the check of each cell before it runs
(`%cnnlint on`), both from the executed cells, the named paths and the live facts of the namespace.
Knows nothing of IPython's classes: the extension (cnnlint.notebook.extension) hands it the history,
the namespace and each cell's text."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Container, List, Mapping, Optional, Sequence, Set, Tuple

from cnnlint.catalog import is_enabled
from cnnlint.config import Config, load_config
from cnnlint.crosscheck.check import Script, crosscheck
from cnnlint.crosscheck.live import live_check
from cnnlint.crosscheck.live_facts import LiveFacts
from cnnlint.findings import Finding, Severity
from cnnlint.notebook.cells import PATH, Cell, CellLinter, Linted, executed_cells, with_pending
from cnnlint.notebook.namespace import read_namespace
from cnnlint.notebook.render import Shown, title
from cnnlint.run import apply_flags, check, keep
from cnnlint.runstate import Request

# flags of the command line that make no sense in a notebook
REFUSED = {"probe": "--probe", "fix": "--fix", "diff": "--diff", "stdin_filename": "--stdin-filename",
           "write_baseline": "--write-baseline", "baseline": "--baseline", "output": "--output"}


class UsageProblem(Exception):
    """A `%cnnlint` line that cannot be run; the extension shows it as IPython's UsageError."""


def refused(request: Request) -> Optional[str]:
    for name, flag in REFUSED.items():
        if getattr(request, name, None):
            return f"{flag} is not available in the notebook; run `cnnlint` on the command line for it"
    if request.format != "text":
        return "--format: the notebook shows its own report; run `cnnlint --format ...` on the command line"
    if "-" in request.paths:
        return "`-` (standard input) is not available in the notebook"
    return None


@dataclass
class Kernel:
    """What the session reads from the running kernel (the extension fills these from the shell)."""

    history: Callable[[], Sequence[Any]]  # IPython's input_hist_raw: index = execution count
    namespace: Callable[[], Mapping[str, Any]]
    hidden: Callable[[], Container[str]] = lambda: ()


@dataclass
class Session:
    kernel: Kernel
    enabled: bool = False
    strict: bool = False
    config: Config = field(default_factory=Config)
    live: LiveFacts = field(default_factory=LiveFacts)
    shown: Set[Tuple[str, Optional[int], int, str]] = field(default_factory=set)
    blocked: Optional[str] = None  # the message that stops the cell about to run (--strict)
    linter: CellLinter = field(default_factory=CellLinter)
    reports: List[Shown] = field(default_factory=list)  # what `%cnnlint` showed, latest last (the last 8)

    # ---- settings

    def configure(self, request: Request) -> Config:
        problem = refused(request)
        if problem:
            raise UsageProblem(problem)
        from cnnlint.config import ConfigError

        try:
            config = load_config(request.paths or request.data or [os.getcwd()], request.config)
            apply_flags(config, request)
        except ConfigError as exc:
            raise UsageProblem(str(exc)) from None
        return config

    def turn_on(self, request: Request, strict: bool) -> Shown:
        if request.paths or request.data:
            raise UsageProblem("`%cnnlint on` checks the cells as they run; name paths with `%cnnlint PATH ...`")
        self.config = self.configure(request)
        self.enabled, self.strict = True, strict
        self.after_cell()
        cells = executed_cells(self.kernel.history())
        self.shown = {_key(f) for f in self._cell_findings(cells, False, self.config)}
        mode = " (--strict: a cell with an error-level finding does not run)" if strict else ""
        return Shown(f"cnnlint: on{mode}; each cell is checked before it runs")

    def turn_off(self) -> Shown:
        self.enabled = self.strict = False
        self.blocked = None
        return Shown("cnnlint: off")

    # ---- the live facts, after each cell

    def after_cell(self, number: Optional[int] = None) -> None:
        self.live = read_namespace(self.kernel.namespace(), self.kernel.hidden(), number)

    # ---- before each cell

    def before_cell(self, text: str, number: int) -> Optional[Shown]:
        """The new findings of the cell about to run (None: nothing new); sets `blocked` under --strict."""
        self.blocked = None
        if not self.enabled or not text.strip():
            return None
        cells = with_pending(executed_cells(self.kernel.history(), number), number, text)
        found = [f for f in self._cell_findings(cells, True, self.config) if _key(f) not in self.shown]
        self.shown.update(_key(f) for f in found)
        if not found:
            return None
        errors = [f for f in found if f.severity == Severity.ERROR and f.path == PATH and f.cell == number]
        if self.strict and errors:
            self.blocked = (f"cnnlint --strict: In [{number}] not run: "
                            + "; ".join(f"{f.code} line {f.line}: {f.message}" for f in errors))
        return Shown(title(found, f"In [{number}] (before it runs)"), found)

    def _rules(self, config: Config) -> Tuple[list, list]:
        from cnnlint.lint.discovery import rule_classes

        rules = [cls for cls in rule_classes() if is_enabled(cls.code, config.select, config.ignore)]
        return rules, [cls for cls in rule_classes() if cls.feeds_facts and cls not in rules]

    def _cell_findings(self, cells: List[Cell], pending: bool, config: Config, datasets: Sequence[Any] = (),
                       live: Optional[LiveFacts] = None) -> List[Finding]:
        """The static findings, the cross-check's and the live ones of the cells, kept by the selection."""
        rules, fact_rules = self._rules(config)
        linted: Linted = self.linter.lint(cells, rules, fact_rules, pending)
        findings = list(linted.findings)
        if linted.facts is not None:
            script = Script(PATH, os.path.join(os.getcwd(), PATH), linted.facts, named=bool(datasets))
            cross = crosscheck([script], list(datasets), config.runtime_memory, given=list(datasets))
            findings = [f for f in findings if (f.path, f.line, f.cell, f.code) not in cross.superseded]
            findings += cross.findings
        outcome = live_check(PATH, linted.facts, linted.uses, live if live is not None else self.live,
                             config.runtime_memory, linted.pending_line)
        merged = outcome.merge(findings, PATH)
        return sorted((f for f in merged if keep(f, config)), key=Finding.sort_key)

    # ---- %cnnlint [PATH ...]

    def report(self, request: Request) -> Shown:
        config = self.configure(request)
        named: List[Finding] = []
        datasets: list = []
        notes: List[str] = []
        if request.paths or request.data:
            _, checked = check(request)
            named, datasets = checked.findings, checked.datasets
            notes += [f"scanned {r.dataset.path} ({r.images:,} images)" for r in datasets]
            notes += checked.refused + [f"internal error: {e}" for e in checked.internal_errors]
        cells = executed_cells(self.kernel.history())
        live = read_namespace(self.kernel.namespace(), self.kernel.hidden())
        found = self._cell_findings(cells, False, config, datasets, live) + named
        what = f"{len(cells)} executed cell{'s' if len(cells) != 1 else ''}"
        if request.paths or request.data:
            what += " and " + ", ".join(request.paths + request.data)
        shown = Shown(title(found, what), sorted(found, key=Finding.sort_key), notes)
        self.reports = self.reports[-7:] + [shown]
        return shown


def _key(f: Finding) -> Tuple[str, Optional[int], int, str]:
    return (f.code, f.cell, f.line, f.message)
