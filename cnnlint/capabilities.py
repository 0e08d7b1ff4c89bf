"""The checks beside the code walk, each through the one interface of `runstate.Capability`:
the runtime probe (CNL7xx), the dataset scan (CNL5xx) and the cross-check of code against data
(CNL6xx). `CAPABILITIES` is their order: each runs on what the lint and those before it found."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence

from cnnlint.catalog import load_table
from cnnlint.config import ConfigError
from cnnlint.findings import Finding
from cnnlint.runstate import Capability, RunState

if TYPE_CHECKING:
    from cnnlint.sources.walk import Target


class Probe(Capability):
    """--probe: dry-run each script or notebook named on the command line (never the files of a
    walked folder) to its first training steps."""

    name = "probe"

    def prepare(self, state: RunState) -> None:
        """The scripts --probe runs, checked before any linting."""
        request = state.request
        if not request.probe:
            return
        from cnnlint.sources.read import classify

        if os.environ.get("PRE_COMMIT"):
            raise ConfigError("--probe does not run in the pre-commit hook (it executes the script); "
                              "run `cnnlint --probe SCRIPT` by hand")
        if not sys.platform.startswith("linux"):
            raise ConfigError("--probe needs Linux (it reads the child's peak memory from /proc and runs it "
                              "in its own process group)")
        if request.diff:
            raise ConfigError("--probe and --diff cannot be used together (--diff only shows the fixes)")
        scripts = [p for p in state.paths if os.path.isfile(p) and classify(p) in ("python", "notebook")]
        if not scripts:
            raise ConfigError("--probe needs a script or notebook named on the command line (folders are not probed)")
        state.probe_scripts = scripts if state.wants(load_table("cnnlint.probe.codes:CODES")) else []

    def run(self, state: RunState) -> List[Finding]:
        if not state.probe_scripts:
            return []
        from cnnlint.probe.runner import Options, probe, render_section
        from cnnlint.sources.walk import display_path

        request = state.request
        options = Options(gpu_memory=request.gpu_memory, allow_network=request.allow_network)
        if request.probe_timeout is not None:
            options.timeout = request.probe_timeout
        findings: List[Finding] = []
        results = []
        for script in state.probe_scripts:
            shown = display_path(script)
            print(f"cnnlint: --probe executes {shown} in a child process, in its folder: the code before training "
                  "(and its first training steps) runs for real", file=sys.stderr)
            result = probe(script, options, display=shown)
            findings.extend(result.findings)
            results.append(result.to_json())
            state.sections.append(render_section(result))
        state.extras["probe"] = results
        return findings


DATASET_CODES = "cnnlint.dataset.codes:CODES"
CROSSCHECK_CODES = "cnnlint.crosscheck.codes:CODES"


def wants_script_facts(state: RunState) -> bool:
    """Whether the lint extracts the scripts' pipeline facts: the cross-check holds them against
    the data, and the dataset scan reads which loaders the code uses. A selection of static rules
    alone (`--select CNL201`) needs none."""
    return state.wants(load_table(CROSSCHECK_CODES)) or state.wants(load_table(DATASET_CODES))


class Datasets(Capability):
    """The image folders and buckets: found before the lint (the lint places the cross-check's facts
    only when there are some), scanned after it (the code beside a dataset says which loaders count)."""

    name = "datasets"

    def prepare(self, state: RunState) -> None:
        if not state.wants(load_table(DATASET_CODES)):
            return
        from cnnlint.dataset.layout import find_datasets
        from cnnlint.sources.walk import excluder

        config = state.config
        state.found_datasets = find_datasets(state.paths, state.forced, excluder(config.exclude, config.root))
        if state.urls or state.forced_urls:  # buckets: listed once here, scanned with the folders
            from cnnlint.dataset.remote import StorageOptions, find_buckets

            buckets, listing_errors = find_buckets(state.urls, state.forced_urls, StorageOptions(config.storage_endpoint))
            state.found_datasets += buckets
            state.errors = state.errors + listing_errors

    def run(self, state: RunState) -> List[Finding]:
        if state.found_datasets is None:
            return []
        assert state.found is not None
        if not state.found_datasets and not state.found.images and not state.forced:
            return []  # nothing to scan (and numpy, which the scan imports, stays unloaded)
        from cnnlint.dataset.run import forced_errors, in_any, scan_datasets, scan_named_images
        from cnnlint.sources.walk import excluder

        config, request = state.config, state.request
        options = dict(quick=request.quick, use_cache=not request.no_cache)
        datasets = scan_datasets(state.paths, state.forced, config, progress=_progress(request.quiet),
                                 found=state.found_datasets, excluded=excluder(config.exclude, config.root),
                                 counted=_counted_loaders(state), **options)
        state.datasets = datasets
        # inside a dataset, an unreadable path is the scan's CNL514, not the code walk's CNL001
        state.errors = [e for e in state.errors if not in_any(datasets, e.path)] + forced_errors(state.forced)
        # an image named beside the folder that holds it is scanned once, with its dataset
        state.found.images = [(shown, real) for shown, real in state.found.images if not in_any(datasets, real)]
        image_findings = scan_named_images(state.found.images, config, **options)
        return [f for r in datasets for f in r.findings] + image_findings


class CrossCheck(Capability):
    """Code against data (CNL6xx): each script's pipeline facts against the datasets of this run."""

    name = "crosscheck"

    def run(self, state: RunState) -> List[Finding]:
        if not state.wants(load_table(CROSSCHECK_CODES)):
            return []
        assert state.lint is not None
        config, lint = state.config, state.lint
        named = {os.path.realpath(p) for p in state.paths if os.path.isfile(p)}
        facts_of = lint.facts
        if not state.datasets and not named and state.request.format != "json":
            # nothing to hold the facts against: only the code-only CNL602 (a loader and a model shape)
            facts_of = [(t, f) for t, f in facts_of if f.get("input_shapes") and f.get("loaders")]
        state.extras["crosscheck"] = []
        if not facts_of:
            return []  # no script to check (and the checker, with NumPy, is not imported)
        from cnnlint.crosscheck.check import Script, crosscheck
        from cnnlint.crosscheck.facts import ScriptFacts

        scripts = [
            Script(target.path, target.real_path, ScriptFacts.from_dict(facts),
                   bool(named) and os.path.realpath(target.real_path) in named)
            for target, facts in facts_of
        ]
        given = given_datasets(state.datasets, state.paths, [t for t, _ in lint.facts])
        pre_commit = bool(os.environ.get("PRE_COMMIT"))
        outcome = crosscheck(scripts, state.datasets, config.runtime_memory, pre_commit=pre_commit, given=given)
        if outcome.unplaced:  # facts extracted without their places: place those scripts' and check them again
            from cnnlint.lint.runner import lint_targets

            targets = [t for t, _ in lint.facts if t.path in outcome.unplaced]
            placed = lint_targets(targets, config.fingerprint(), config.max_file_size, None, jobs=1)
            again = crosscheck([Script(t.path, t.real_path, ScriptFacts.from_dict(f), os.path.realpath(t.real_path) in named)
                                for t, f in placed.facts], state.datasets, config.runtime_memory, pre_commit=pre_commit,
                               given=given)
            outcome.findings = [f for f in outcome.findings if f.path not in outcome.unplaced] + again.findings
            outcome.superseded |= again.superseded
        state.extras["crosscheck"] = outcome.records
        state.superseded = set(outcome.superseded)
        return outcome.findings


CAPABILITIES: Sequence[Capability] = (Probe(), Datasets(), CrossCheck())


def _progress(quiet: bool) -> bool:
    from cnnlint.dataset.scan import Progress

    return not quiet and Progress.wanted(sys.stderr)


def _counted_loaders(state: RunState) -> Optional[Dict[str, tuple]]:
    """The training loaders the code beside each dataset uses: its findings speak of those only."""
    lint, found = state.lint, state.found_datasets
    if not found or lint is None or not lint.facts:
        return None
    from cnnlint.crosscheck.facts import ScriptFacts
    from cnnlint.crosscheck.loaders_used import loaders_used
    from cnnlint.dataset.run import DatasetResult

    scripts = [t for t, _ in lint.facts]
    # the datasets before their scan: results without an aggregate, for given_datasets
    unscanned = [DatasetResult(ds, None, 0.0) for ds in found]  # type: ignore[arg-type]
    given = [r.dataset for r in given_datasets(unscanned, state.paths, scripts)]
    return loaders_used([(t.real_path, ScriptFacts.from_dict(f)) for t, f in lint.facts], found, given)


def given_datasets(datasets: list, paths: Sequence[str], scripts: Sequence["Target"]) -> list:
    """The datasets the command line gives as data: --data folders, folders named, and datasets inside
    a named folder that holds no script (`cnnlint train.py data/`, not `cnnlint .`)."""
    script_reals = [os.path.realpath(t.real_path) for t in scripts]
    data_dirs = []
    for p in paths:
        if os.path.isdir(p):
            real = os.path.realpath(p)
            prefix = real.rstrip(os.sep) + os.sep
            if not any(s.startswith(prefix) for s in script_reals):
                data_dirs.append(prefix)
    given = []
    for r in datasets:
        real = os.path.realpath(r.dataset.real_path).rstrip(os.sep) + os.sep
        if r.dataset.forced or any(real.startswith(d) for d in data_dirs):
            given.append(r)
    return given
