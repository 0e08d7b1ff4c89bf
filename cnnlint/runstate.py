"""The records one run passes along: the request, the state its steps share, what it checked.
(cnnlint/run.py drives the run; cnnlint/capabilities.py holds the steps beside the code walk.)"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

from cnnlint.catalog import RuleInfo, wants
from cnnlint.config import Config
from cnnlint.findings import Finding

if TYPE_CHECKING:
    from cnnlint.lint.runner import LintRun
    from cnnlint.sources.walk import Discovery, Target

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@dataclass
class Request:
    """What the command line asks for (cli.py fills it from its arguments)."""

    paths: List[str] = field(default_factory=list)
    data: List[str] = field(default_factory=list)  # --data: folders scanned as datasets
    stdin_filename: Optional[str] = None
    config: Optional[str] = None
    select: Optional[List[str]] = None
    ignore: Optional[List[str]] = None
    extend_select: Optional[List[str]] = None  # added to the configuration's select
    extend_ignore: Optional[List[str]] = None  # added to the configuration's ignore
    fail_on: Optional[str] = None
    scheduler: Optional[str] = None
    quick: bool = False
    format: str = "text"
    output: Optional[str] = None
    no_cache: bool = False
    fix: bool = False
    diff: bool = False
    baseline: Optional[str] = None
    write_baseline: Optional[str] = None
    probe: bool = False
    probe_timeout: Optional[float] = None
    gpu_memory: Optional[int] = None
    allow_network: bool = False
    quiet: bool = False
    statistics: bool = False  # a count per code instead of the findings
    exit_zero: bool = False  # findings do not make the exit status 1


@dataclass
class RunState:
    """What the steps of one run hand each other."""

    request: Request
    config: Config
    paths: List[str]  # named local paths (no `-`, no bucket URL)
    forced: List[str]  # --data local folders
    urls: List[str]  # named bucket URLs
    forced_urls: List[str]  # --data bucket URLs
    reads_stdin: bool
    errors: List[Finding] = field(default_factory=list)  # paths that could not be read
    found: Optional["Discovery"] = None
    stdin: Optional["Target"] = None
    targets: List["Target"] = field(default_factory=list)
    lint: Optional["LintRun"] = None
    found_datasets: Optional[list] = None  # dataset.layout.Dataset, before the scan
    datasets: list = field(default_factory=list)  # dataset.run.DatasetResult
    probe_scripts: List[str] = field(default_factory=list)  # what --probe runs
    superseded: set = field(default_factory=set)  # (path, line, cell, code) of lint findings restated
    extras: Dict[str, object] = field(default_factory=dict)  # each capability's top-level JSON key
    sections: List[str] = field(default_factory=list)  # each capability's text section

    def wants(self, codes: Sequence[RuleInfo]) -> bool:
        return wants(codes, self.config.select, self.config.ignore)


class Capability:
    """A check beside the code walk. `prepare` runs before any file is linted (check the request,
    find the inputs: raise ConfigError for a bad request); `run` after the lint and the
    capabilities before it, and returns the capability's findings."""

    name = ""

    def prepare(self, state: RunState) -> None:
        """Nothing to prepare, by default."""

    def run(self, state: RunState) -> List[Finding]:
        raise NotImplementedError


@dataclass
class Checked:
    """What one command line checked: everything the report and the exit status need."""

    findings: List[Finding]
    files: int  # for "in 3 of N files"
    code_files: int
    images: int  # images named on the command line
    datasets: list
    extras: Dict[str, object]
    sections: List[str]
    internal_errors: List[str]
    refused: List[str]  # named paths cnnlint does not check, one line each
    kinds: Dict[str, str]  # shown path -> kind of each file linted, for --fix and --diff
    stdin: Optional["Target"]
