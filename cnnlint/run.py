"""One run of `cnnlint [PATH ...]`: the code walk, then each capability, then the report.

The pipeline: every capability (`CAPABILITIES`: the runtime probe, the dataset scan, the
cross-check) first `prepare`s (checks the request, finds its inputs), then the code is found and
linted, then each capability `run`s, in order, on what the lint and the earlier capabilities left in
the `RunState`, and returns its findings. The selection and per-file ignores filter them all; the
report (baselines, fixes, one registered format) and the exit status follow. `cli.py` only turns
the command line into a `Request`.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, List, Optional, TextIO, Tuple

from cnnlint.capabilities import CAPABILITIES, wants_script_facts
from cnnlint.catalog import check_selectors, is_enabled, matches
from cnnlint.config import Config, ConfigError, load_config
from cnnlint.findings import Finding, Severity
from cnnlint.reporting import report
from cnnlint.runstate import Checked, Request, RunState

if TYPE_CHECKING:
    from cnnlint.sources.walk import Target


def _checked_selectors(flag: str, values: List[str]) -> List[str]:
    unknown = check_selectors(values)
    if unknown:
        raise ConfigError(f"{flag}: unknown rule code or prefix {', '.join(unknown)}")
    return values


def apply_flags(config: Config, request: Request) -> None:
    """The command line's settings over the configuration file's (--extend-* add to its lists)."""
    for name in ("select", "ignore"):
        values = getattr(request, name)
        if values is not None:
            setattr(config, name, _checked_selectors(f"--{name}", values))
        extra = _checked_selectors(f"--extend-{name}", getattr(request, f"extend_{name}") or [])
        current = getattr(config, name)
        setattr(config, name, current + [c for c in extra if c not in current])
    if request.fail_on:
        config.fail_on = Severity.parse(request.fail_on)
    if request.scheduler:
        config.dask_scheduler = request.scheduler
    if request.fix and request.diff:
        raise ConfigError("--fix and --diff cannot be used together (--diff only shows the fixes)")


def keep(finding: Finding, config: Config) -> bool:
    """Whether the selection and the per-file ignores let a finding through."""
    from cnnlint.sources.walk import glob_matches

    if finding.code == "CNL001":
        enabled = not matches(finding.code, config.ignore)
    else:
        enabled = is_enabled(finding.code, config.select, config.ignore)
    if not enabled:
        return False
    if config.per_file_ignores:
        rel = os.path.relpath(os.path.abspath(finding.path), config.root)
        for pattern, codes in config.per_file_ignores.items():
            if glob_matches(rel, pattern) and matches(finding.code, codes):
                return False
    return True


def command_paths(request: Request) -> Tuple[List[str], List[str], bool]:
    """(paths without `-`, --data folders, whether standard input is read)."""
    forced = list(request.data or [])
    given = list(request.paths)
    name = request.stdin_filename
    if given.count("-") > 1:
        raise ConfigError("`-` (standard input) can be named only once")
    reads_stdin = "-" in given or (name is not None and not given)
    if name is not None and not reads_stdin:
        raise ConfigError("--stdin-filename names standard input: add `-` to the paths")
    paths = [p for p in given if p != "-"]
    if not paths and not forced and not reads_stdin:
        paths = ["."]
    return paths, forced, reads_stdin


def _read_stdin(name: Optional[str]) -> Tuple[Optional["Target"], str]:
    from cnnlint.lint.runner import READ_LIMIT
    from cnnlint.named import stdin_target

    data = sys.stdin.buffer.read(READ_LIMIT + 1)
    if len(data) > READ_LIMIT:
        return None, f"{name or '-'} (standard input): more than {READ_LIMIT // 2**20} MiB, too large to lint"
    return stdin_target(data, name)


def start(request: Request) -> RunState:
    """The configuration and the named paths, sorted into local paths and bucket URLs."""
    from cnnlint.dataset.urls import is_url

    paths, forced, reads_stdin = command_paths(request)
    config = load_config(paths or forced or [request.stdin_filename or "."], request.config)
    apply_flags(config, request)
    return RunState(request, config, [p for p in paths if not is_url(p)], [p for p in forced if not is_url(p)],
                    [p for p in paths if is_url(p)], [p for p in forced if is_url(p)], reads_stdin)


def discover_code(state: RunState) -> None:
    """The files to lint: the named paths walked, standard input, the files they include."""
    from cnnlint.named import resolve_named
    from cnnlint.sources.walk import discover, with_included

    config = state.config
    found = discover(state.paths, config.exclude, config.root, config.respect_gitignore)
    resolve_named(found)
    if state.reads_stdin:
        state.stdin, refusal = _read_stdin(state.request.stdin_filename)
        found.refused += [refusal] if refusal else []
        found.targets += [state.stdin] if state.stdin is not None else []
    state.found = found
    state.targets = with_included(found.targets)
    state.errors = found.errors + state.errors


def lint_code(state: RunState) -> None:
    from cnnlint.lint.cache import LintCache
    from cnnlint.lint.discovery import rule_classes
    from cnnlint.lint.runner import lint_targets

    config = state.config
    cache = None if state.request.no_cache else LintCache(config.cache_folder())
    # the cross-check's facts are placed (a code generation pass) only when something may be judged
    # against data or the JSON lists them; otherwise the rare finding's script is placed afterwards
    fact_positions = (bool(state.found_datasets) or state.request.format == "json"
                      or any(os.path.isfile(p) for p in state.paths))
    codes = [cls.code for cls in rule_classes() if is_enabled(cls.code, config.select, config.ignore)]
    state.lint = lint_targets(state.targets, config.fingerprint(), config.max_file_size, cache,
                              fact_positions=fact_positions, codes=codes, with_facts=wants_script_facts(state))


def check(request: Request) -> Tuple[Config, Checked]:
    """Every check the request asks for; the findings kept by the selection, sorted."""
    state = start(request)
    for capability in CAPABILITIES:
        capability.prepare(state)
    discover_code(state)
    lint_code(state)
    found: List[Finding] = []
    for capability in CAPABILITIES:
        found += capability.run(state)
    return state.config, _checked(state, found)


def _checked(state: RunState, found: List[Finding]) -> Checked:
    assert state.lint is not None and state.found is not None
    lint_findings = state.lint.findings
    if state.superseded:  # a CNL302 that a CNL604 restates with the dataset's facts
        lint_findings = [f for f in lint_findings if (f.path, f.line, f.cell, f.code) not in state.superseded]
    findings = sorted((f for f in state.errors + lint_findings + found if keep(f, state.config)), key=Finding.sort_key)
    code_files = state.lint.files + len({f.path for f in state.errors})
    images = len(state.found.images)
    files = code_files + sum(r.images for r in state.datasets) + images
    # folders and stray files have findings too: "in 3 of N files" never has 3 > N
    files = max(files, len({f.path for f in findings}))
    return Checked(findings, files, code_files, images, state.datasets, state.extras, state.sections,
                   state.lint.internal_errors, state.found.refused, {t.path: t.kind for t in state.targets},
                   state.stdin)


def run(request: Request, out: Optional[TextIO] = None) -> int:
    """The whole run: checks, report, exit status."""
    config, checked = check(request)
    return report(request, config, checked, out)
