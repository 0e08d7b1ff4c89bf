"""Command line: `cnnlint [PATH ...]`, `cnnlint rules`, `cnnlint explain CODE`, `cnnlint demo [DIR]`.

Exit status: 0 nothing at or above the failing severity, 1 findings,
2 usage, configuration or internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple

from cnnlint import __version__
from cnnlint.config import Config, ConfigError, load_config
from cnnlint.findings import Finding, Severity

if TYPE_CHECKING:
    from cnnlint.sources.walk import Target

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SUBCOMMANDS = ("rules", "explain", "demo")


def _codes(text: str) -> List[str]:
    return [c.strip().upper() for c in text.split(",") if c.strip()]


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _size(text: str) -> int:
    from cnnlint.probe.scaling import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lint_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cnnlint",
        description="Pre-flight checks for CNN training code and image datasets: scripts, notebooks, "
        "requirements, image folders.",
        epilog="Other commands: `cnnlint rules`, `cnnlint explain CODE`, `cnnlint demo [DIR]`. "
        "Exit status: 0 clean, 1 findings at or above --fail-on, 2 usage or internal error.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders (default: .); a named file is checked by its content when its name "
                   "does not say what it is; `-` reads standard input")
    p.add_argument("--stdin-filename", metavar="NAME",
                   help="the name of the file piped to `-`: findings name it and its name decides the kind "
                   "(script, notebook, requirements); with --fix the fixed text goes to stdout")
    p.add_argument("--data", action="append", default=[], metavar="DIR",
                   help="scan DIR (a folder, or a bucket URL: s3://, gs://, az://) as an image dataset even if it "
                   "does not look like one (repeatable)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dataset scan: inspect the images on the Dask cluster at ADDRESS (tcp://HOST:8786; "
                   "needs cnnlint[dask]) instead of local processes")
    p.add_argument("--quick", action="store_true",
                   help="dataset scan: check headers, PNG CRCs and JPEG end markers only, no full decode (on a "
                   "bucket: a big JPEG, PNG or BMP's first 64 KiB and last 4 KiB; see the README)")
    p.add_argument("--select", type=_codes, metavar="CODES", help="comma-separated codes or prefixes, e.g. CNL2,CNL401")
    p.add_argument("--ignore", type=_codes, metavar="CODES", help="codes or prefixes to skip")
    p.add_argument("--format", choices=("text", "json", "sarif", "github", "html"), default="text",
                   help="output format (default: text; github: workflow annotations; sarif: SARIF 2.1.0; "
                        "html: one self-contained page with charts and thumbnails, for -o report.html)")
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    p.add_argument("--config", metavar="FILE", help="settings file (default: nearest pyproject.toml with [tool.cnnlint])")
    p.add_argument("--fail-on", choices=("error", "warning", "info"), help="lowest severity that exits 1 (default: warning)")
    p.add_argument("--no-cache", action="store_true",
                   help="lint and scan every file afresh, without reading or writing the cache")
    p.add_argument("--fix", action="store_true", help="apply the safe fixes (files are rewritten atomically) and report what is left")
    p.add_argument("--diff", action="store_true", help="print the safe fixes as a unified diff; write nothing")
    p.add_argument("--baseline", metavar="FILE", help="report only findings not recorded in this baseline file")
    p.add_argument("--write-baseline", metavar="FILE", help="record the current findings as accepted, in FILE, and exit 0")
    probe = p.add_argument_group("runtime probe (executes the script)")
    probe.add_argument("--probe", action="store_true",
                       help="dry-run the scripts and notebooks named on the command line to their first training "
                       "steps in a child process; report crashes, peak memory and the batch size that fits")
    probe.add_argument("--probe-timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="wall-clock limit of each probe run (default: 300)")
    probe.add_argument("--gpu-memory", type=_size, metavar="SIZE",
                       help="target GPU memory for the batch-size estimate, e.g. 15GiB (default: the detected GPU)")
    probe.add_argument("--allow-network", action="store_true",
                       help="let the probed script open network connections (refused by default)")
    p.add_argument("-q", "--quiet", action="store_true", help="print findings only: no hints, snippets or summary")
    p.add_argument("--version", action="version", version=f"cnnlint {__version__}")
    return p


def _error(message: str) -> int:
    print(f"cnnlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _apply_flags(config: Config, args: argparse.Namespace) -> None:
    from cnnlint.lint.registry import check_selectors

    for name in ("select", "ignore"):
        values = getattr(args, name)
        if values is not None:
            unknown = check_selectors(values)
            if unknown:
                raise ConfigError(f"--{name}: unknown rule code or prefix {', '.join(unknown)}")
            setattr(config, name, values)
    if args.fail_on:
        config.fail_on = Severity.parse(args.fail_on)
    if getattr(args, "scheduler", None):
        config.dask_scheduler = args.scheduler
    if args.fix and args.diff:
        raise ConfigError("--fix and --diff cannot be used together (--diff only shows the fixes)")


def _keep(finding: Finding, config: Config) -> bool:
    from cnnlint.lint.registry import is_enabled, matches
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


def _wants(config: Config, codes: Sequence[object]) -> bool:
    """Whether any of a capability's codes is selected: a scan or a probe whose findings would all
    be dropped is not run."""
    from cnnlint.lint.registry import is_enabled

    return any(is_enabled(info.code, config.select, config.ignore) for info in codes)  # type: ignore[attr-defined]


def _wants_datasets(config: Config) -> bool:
    from cnnlint.dataset.codes import CODES

    return _wants(config, CODES)


def _probe_scripts(args: argparse.Namespace, paths: Sequence[str], config: Config) -> List[str]:
    """The scripts and notebooks --probe runs, checked before any linting; [] without --probe."""
    if not getattr(args, "probe", False):
        return []
    from cnnlint.probe.codes import CODES
    from cnnlint.sources.read import classify

    if os.environ.get("PRE_COMMIT"):
        raise ConfigError("--probe does not run in the pre-commit hook (it executes the script); "
                          "run `cnnlint --probe SCRIPT` by hand")
    if not sys.platform.startswith("linux"):
        raise ConfigError("--probe needs Linux (it reads the child's peak memory from /proc and runs it "
                          "in its own process group)")
    if args.diff:
        raise ConfigError("--probe and --diff cannot be used together (--diff only shows the fixes)")
    scripts = [p for p in paths if os.path.isfile(p) and classify(p) in ("python", "notebook")]
    if not scripts:
        raise ConfigError("--probe needs a script or notebook named on the command line (folders are not probed)")
    return scripts if _wants(config, CODES) else []


def _progress(args: argparse.Namespace) -> bool:
    from cnnlint.dataset.scan import Progress

    return not args.quiet and Progress.wanted(sys.stderr)


@dataclass
class _Checked:
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
    stdin: Optional[Target]


def _command_paths(args: argparse.Namespace) -> Tuple[List[str], List[str], bool]:
    """(paths without `-`, --data folders, whether standard input is read)."""
    forced = list(getattr(args, "data", None) or [])
    given = list(args.paths)
    name = getattr(args, "stdin_filename", None)
    if given.count("-") > 1:
        raise ConfigError("`-` (standard input) can be named only once")
    reads_stdin = "-" in given or (name is not None and not given)
    if name is not None and not reads_stdin:
        raise ConfigError("--stdin-filename names standard input: add `-` to the paths")
    paths = [p for p in given if p != "-"]
    if not paths and not forced and not reads_stdin:
        paths = ["."]
    return paths, forced, reads_stdin


def _read_stdin(name: Optional[str]) -> Tuple[Optional[Target], str]:
    from cnnlint.lint.runner import READ_LIMIT
    from cnnlint.named import stdin_target

    data = sys.stdin.buffer.read(READ_LIMIT + 1)
    if len(data) > READ_LIMIT:
        return None, f"{name or '-'} (standard input): more than {READ_LIMIT // 2**20} MiB, too large to lint"
    return stdin_target(data, name)


def run_lint(args: argparse.Namespace, out=None) -> int:
    paths, forced, reads_stdin = _command_paths(args)
    name = getattr(args, "stdin_filename", None)
    config = load_config(paths or forced or [name or "."], args.config)
    _apply_flags(config, args)
    checked = _check(args, config, paths, forced, reads_stdin)
    return _report(args, config, checked, out)


def _check(args: argparse.Namespace, config: Config, paths: List[str], forced: List[str], reads_stdin: bool) -> _Checked:
    from cnnlint.dataset.urls import is_url
    from cnnlint.lint.cache import LintCache
    from cnnlint.lint.runner import lint_targets
    from cnnlint.named import resolve_named
    from cnnlint.sources.walk import discover, excluder, with_included

    urls, forced_urls = [p for p in paths if is_url(p)], [p for p in forced if is_url(p)]
    paths, forced = [p for p in paths if not is_url(p)], [p for p in forced if not is_url(p)]
    probe_scripts = _probe_scripts(args, paths, config)
    found = discover(paths, config.exclude, config.root, config.respect_gitignore)
    resolve_named(found)
    stdin = None
    if reads_stdin:
        stdin, refusal = _read_stdin(getattr(args, "stdin_filename", None))
        found.refused += [refusal] if refusal else []
        found.targets += [stdin] if stdin is not None else []
    targets = with_included(found.targets)
    errors = found.errors
    cache = None if args.no_cache else LintCache(config.cache_folder())
    found_datasets = None
    if _wants_datasets(config):
        from cnnlint.dataset.layout import find_datasets

        found_datasets = find_datasets(paths, forced, excluder(config.exclude, config.root))
        if urls or forced_urls:  # buckets: listed once here, scanned with the folders
            from cnnlint.dataset.remote import StorageOptions, find_buckets

            buckets, listing_errors = find_buckets(urls, forced_urls, StorageOptions(config.storage_endpoint))
            found_datasets += buckets
            errors = errors + listing_errors
    # the cross-check's facts are placed (a code generation pass) only when something may be judged
    # against data or the JSON lists them; otherwise the rare finding's script is placed afterwards
    fact_positions = bool(found_datasets) or args.format == "json" or any(os.path.isfile(p) for p in paths)
    run = lint_targets(targets, config.fingerprint(), config.max_file_size, cache, fact_positions=fact_positions)
    extras: Dict[str, object] = {}
    sections: List[str] = []
    probed = _probe(args, probe_scripts, extras, sections) if probe_scripts else []
    datasets: list = []
    image_findings: List[Finding] = []
    if _wants_datasets(config):
        from cnnlint.dataset.run import forced_errors, in_any, scan_datasets, scan_named_images

        options = dict(quick=getattr(args, "quick", False), use_cache=not args.no_cache)
        datasets = scan_datasets(paths, forced, config, progress=_progress(args), found=found_datasets,
                                 excluded=excluder(config.exclude, config.root),
                                 counted=_counted_loaders(run, found_datasets, paths), **options)
        # inside a dataset, an unreadable path is the scan's CNL514, not the code walk's CNL001
        errors = [e for e in errors if not in_any(datasets, e.path)] + forced_errors(forced)
        # an image named beside the folder that holds it is scanned once, with its dataset
        found.images = [(shown, real) for shown, real in found.images if not in_any(datasets, real)]
        image_findings = scan_named_images(found.images, config, **options)
    dataset_findings = [f for r in datasets for f in r.findings] + image_findings
    crossed = _crosscheck(run, datasets, paths, config, extras, as_json=args.format == "json")
    lint_findings = run.findings
    if crossed.superseded:  # a CNL302 that a CNL604 restates with the dataset's facts
        lint_findings = [f for f in lint_findings if (f.path, f.line, f.cell, f.code) not in crossed.superseded]
    findings = sorted(
        (f for f in errors + lint_findings + dataset_findings + crossed.findings + probed if _keep(f, config)),
        key=Finding.sort_key,
    )
    code_files = run.files + len({f.path for f in errors})
    files = code_files + sum(r.images for r in datasets) + len(found.images)
    # folders and stray files have findings too: "in 3 of N files" never has 3 > N
    files = max(files, len({f.path for f in findings}))
    return _Checked(findings, files, code_files, len(found.images), datasets, extras, sections, run.internal_errors,
                    found.refused, {t.path: t.kind for t in targets}, stdin)


def _report(args: argparse.Namespace, config: Config, checked: _Checked, out) -> int:
    """Baselines, fixes, the report and the exit status."""
    findings = checked.findings
    for message in checked.refused:
        print(f"cnnlint: error: {message}", file=sys.stderr)
    if args.write_baseline:
        from cnnlint.baseline import write_baseline

        count = write_baseline(args.write_baseline, findings)
        print(f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {args.write_baseline}.", file=sys.stderr)
        return EXIT_ERROR if checked.refused else EXIT_OK
    if args.baseline:
        from cnnlint.baseline import load_baseline

        findings = load_baseline(args.baseline).new_findings(findings)
    if args.diff:
        status = _diff(findings, out, checked)
        return EXIT_ERROR if checked.refused else status
    if args.fix:
        findings = _fix(findings, checked)
        if checked.stdin is not None and not args.output:
            out = sys.stderr  # the fixed text went to stdout: the report goes beside the messages
    # each capability (dataset scan, probe) adds a top-level JSON key and a text section
    datasets, sections, extras = checked.datasets, checked.sections, checked.extras
    if datasets:
        from cnnlint.dataset.report import render_section, terminal_width, to_json

        extras["datasets"] = to_json(datasets, findings)
        sections.insert(0, render_section(datasets, findings, terminal_width(out or sys.stdout)))
    report = _render(findings, checked.files, args, out, extras, sections, datasets)
    _write(report, args.output, out)
    if not findings and not args.quiet and args.format == "text" and not checked.refused:
        print(f"All checks passed ({_counted(checked.code_files, datasets, checked.images)}).", file=sys.stderr)
    for message in checked.internal_errors:
        print(f"cnnlint: {message}", file=sys.stderr)
    if checked.internal_errors or checked.refused:
        return EXIT_ERROR
    if any(f.severity.rank >= config.fail_on.rank for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


def _crosscheck(run, datasets: list, paths: Sequence[str], config: Config, extras: Dict[str, object],
                as_json: bool = False):
    """Code against data (CNL6xx): each script's pipeline facts against the datasets of this run."""
    from cnnlint.crosscheck.check import Outcome, Script, crosscheck
    from cnnlint.crosscheck.codes import CODES
    from cnnlint.crosscheck.facts import ScriptFacts

    if not _wants(config, CODES):
        return Outcome()
    named = {os.path.realpath(p) for p in paths if os.path.isfile(p)}
    facts_of = run.facts
    if not datasets and not named and not as_json:
        # nothing to hold the facts against: only the code-only CNL602 (a loader and a model shape)
        facts_of = [(t, f) for t, f in facts_of if f.get("input_shapes") and f.get("loaders")]
    scripts = [
        Script(target.path, target.real_path, ScriptFacts.from_dict(facts),
               bool(named) and os.path.realpath(target.real_path) in named)
        for target, facts in facts_of
    ]
    given = _given_datasets(datasets, paths, [t for t, _ in run.facts])
    pre_commit = bool(os.environ.get("PRE_COMMIT"))
    outcome = crosscheck(scripts, datasets, config.runtime_memory, pre_commit=pre_commit, given=given)
    if outcome.unplaced:  # facts extracted without their places: place those scripts' and check them again
        from cnnlint.lint.runner import lint_targets

        targets = [t for t, _ in run.facts if t.path in outcome.unplaced]
        placed = lint_targets(targets, config.fingerprint(), config.max_file_size, None, jobs=1)
        again = crosscheck([Script(t.path, t.real_path, ScriptFacts.from_dict(f), os.path.realpath(t.real_path) in named)
                            for t, f in placed.facts], datasets, config.runtime_memory, pre_commit=pre_commit, given=given)
        outcome.findings = [f for f in outcome.findings if f.path not in outcome.unplaced] + again.findings
        outcome.superseded |= again.superseded
    extras["crosscheck"] = outcome.records
    return outcome


def _counted_loaders(run, found: Optional[list], paths: Sequence[str]) -> Optional[Dict[str, tuple]]:
    """The training loaders the code beside each dataset uses: its findings speak of those only."""
    if not found or not run.facts:
        return None
    from cnnlint.crosscheck.facts import ScriptFacts
    from cnnlint.crosscheck.loaders_used import loaders_used
    from cnnlint.dataset.run import DatasetResult

    scripts = [t for t, _ in run.facts]
    given = [r.dataset for r in _given_datasets([DatasetResult(ds, None, 0.0) for ds in found], paths, scripts)]
    return loaders_used([(t.real_path, ScriptFacts.from_dict(f)) for t, f in run.facts], found, given)


def _given_datasets(datasets: list, paths: Sequence[str], scripts: Sequence[object]) -> list:
    """The datasets the command line gives as data: --data folders, folders named, and datasets inside
    a named folder that holds no script (`cnnlint train.py data/`, not `cnnlint .`)."""
    script_reals = [os.path.realpath(t.real_path) for t in scripts]  # type: ignore[attr-defined]
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


def _probe(args: argparse.Namespace, scripts: Sequence[str], extras: Dict[str, object], sections: List[str]) -> List[Finding]:
    """--probe: dry-run each script or notebook named on the command line (never the files of a walked folder)."""
    from cnnlint.probe.runner import Options, probe, render_section
    from cnnlint.sources.walk import display_path

    options = Options(gpu_memory=args.gpu_memory, allow_network=args.allow_network)
    if args.probe_timeout is not None:
        options.timeout = args.probe_timeout
    findings: List[Finding] = []
    results = []
    for script in scripts:
        shown = display_path(script)
        print(f"cnnlint: --probe executes {shown} in a child process, in its folder: the code before training "
              "(and its first training steps) runs for real", file=sys.stderr)
        result = probe(script, options, display=shown)
        findings.extend(result.findings)
        results.append(result.to_json())
        sections.append(render_section(result))
    extras["probe"] = results
    return findings


def _counted(code_files: int, datasets: Sequence[object], images: int = 0) -> str:
    """`3 files`, `3 files, 1 dataset of 240 images`, `1 dataset of 240 images`, `1 image`."""
    from cnnlint.dataset.report import describe

    parts = []
    if code_files or not (datasets or images):
        parts.append(f"{code_files} file{'s' if code_files != 1 else ''}")
    described = describe(datasets)  # type: ignore[arg-type]
    if described:
        parts.append(described)
    if images:
        parts.append(f"{images} image{'s' if images != 1 else ''}")
    return ", ".join(parts)


def _fix_sources(checked: _Checked) -> Tuple[Dict[str, str], Dict[str, bytes]]:
    """The kinds of the linted files and the content of standard input, for apply_fixes."""
    contents = {checked.stdin.path: checked.stdin.data or b""} if checked.stdin is not None else {}
    return checked.kinds, contents


def _diff(findings: List[Finding], out, checked: _Checked) -> int:
    """--diff: the fixes as a unified diff, nothing written; exit 1 when there is something to fix."""
    from cnnlint.fix import apply_fixes

    kinds, contents = _fix_sources(checked)
    outcome = apply_fixes(findings, write=False, kinds=kinds, contents=contents)
    for message in outcome.errors:
        print(f"cnnlint: {message}", file=sys.stderr)
    (out or sys.stdout).write("".join(outcome.diffs[path] for path in sorted(outcome.diffs)))
    return EXIT_FINDINGS if outcome.diffs else EXIT_OK


def _fix(findings: List[Finding], checked: _Checked) -> List[Finding]:
    """--fix: apply the findings' fixes; the findings left to report. Standard input is not written
    back: its fixed text (or the text as it came, when nothing was fixed) goes to stdout."""
    from cnnlint.fix import apply_fixes

    kinds, contents = _fix_sources(checked)
    outcome = apply_fixes(findings, write=True, kinds=kinds, contents=contents)
    for message in outcome.errors:
        print(f"cnnlint: {message}", file=sys.stderr)
    if outcome.fixed:
        for f in sorted(outcome.fixed, key=Finding.sort_key):
            what = f.fix.description if f.fix is not None and f.fix.description else "fixed"
            print(f"{f.location()}: {f.code} fixed: {what}", file=sys.stderr)
        files = len({f.path for f in outcome.fixed})
        n = len(outcome.fixed)
        print(f"Fixed {n} finding{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}.", file=sys.stderr)
    for path, data in contents.items():
        sys.stdout.flush()
        sys.stdout.buffer.write(outcome.texts.get(path, data))
        sys.stdout.buffer.flush()
    fixed = {id(f) for f in outcome.fixed}
    return [f for f in findings if id(f) not in fixed]


def _render(
    findings: List[Finding],
    files: int,
    args: argparse.Namespace,
    out,
    extras: Optional[Dict[str, object]] = None,
    sections: Sequence[str] = (),
    datasets: Sequence = (),
) -> str:
    if args.format == "html":
        from cnnlint.report.html import render_html

        return render_html(findings, files, datasets)
    if args.format == "json":
        from cnnlint.report.json_format import render_json

        return render_json(findings, files, extras)
    if args.format == "sarif":
        from cnnlint.report.sarif import render_sarif

        return render_sarif(findings, files)
    if args.format == "github":
        from cnnlint.report.github import render_github

        return render_github(findings)
    from cnnlint.report.paths import escape_text
    from cnnlint.report.text import render_text, use_color

    stream = out or sys.stdout
    tty = args.output is None and use_color(stream)
    text = render_text(findings, files, color=tty, snippets=tty, quiet=args.quiet)
    if args.quiet or not sections:
        return text
    # the sections may name files too: their bytes that are not UTF-8 are escaped as in the findings
    return escape_text("".join(section.rstrip("\n") + "\n\n" for section in sections)) + text


def _write(report: str, output: Optional[str], out) -> None:
    """The report to stdout, or to FILE (-o) atomically: a failed write leaves an existing FILE as it was."""
    if output:
        from cnnlint.atomic import write_file

        try:
            write_file(output, report.encode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"--output {output}: {exc.strerror or exc}") from None
    else:
        (out or sys.stdout).write(report)


def cmd_rules(argv: Sequence[str]) -> int:
    from cnnlint.lint.registry import catalog

    p = argparse.ArgumentParser(prog="cnnlint rules", description="List the rules.")
    p.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
    infos = catalog()
    if args.format == "json":
        import json

        print(json.dumps([{"code": i.code, "name": i.name, "severity": i.severity.value,
                           "autofix": i.autofix, "summary": i.summary} for i in infos], indent=2))
        return EXIT_OK
    families = {"0": "cnnlint itself", "1": "input pipeline", "2": "training loop",
                "3": "model, loss and optimizer", "4": "environment and dependencies",
                "5": "dataset", "6": "code versus data", "7": "runtime probe"}
    current = None
    width = max(len(info.name) for info in infos)
    for info in infos:
        family = info.code[3]
        if family != current:
            current = family
            print(f"{'' if info is infos[0] else chr(10)}CNL{family}xx {families.get(family, '')}")
        fix = "fix" if info.autofix else "   "
        print(f"  {info.code}  {info.severity.value:<7}  {fix}  {info.name:<{width}} {info.summary}")
    return EXIT_OK


def cmd_explain(argv: Sequence[str]) -> int:
    from cnnlint.lint.pages import page_path
    from cnnlint.lint.registry import known_codes

    p = argparse.ArgumentParser(prog="cnnlint explain", description="Print a rule's documentation.")
    p.add_argument("code")
    args = p.parse_args(argv)
    code = args.code.upper()
    if code not in known_codes():
        return _error(f"unknown rule {args.code!r}; `cnnlint rules` lists them")
    path = page_path(code)
    if path is None:
        return _error(f"the page for {code} is missing from this installation")
    with open(path, encoding="utf-8") as fh:
        sys.stdout.write(fh.read())
    return EXIT_OK


def cmd_demo(argv: Sequence[str]) -> int:
    from cnnlint.demo import write_demo

    p = argparse.ArgumentParser(
        prog="cnnlint demo",
        description="Write a small flawed training project and lint it.",
    )
    p.add_argument("dir", nargs="?", help="where to write it (default: a new temporary folder)")
    args = p.parse_args(argv)
    try:
        folder = write_demo(args.dir)
    except OSError as exc:
        return _error(f"cannot write the demo project: {exc}")
    print(f"Demo project written to {folder}; linting it with `cnnlint {folder}`:\n")
    lint_args = _lint_parser().parse_args([folder, "--no-cache"])
    status = run_lint(lint_args)
    return EXIT_OK if status in (EXIT_OK, EXIT_FINDINGS) else status


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            return {"rules": cmd_rules, "explain": cmd_explain, "demo": cmd_demo}[argv[0]](argv[1:])
        args = _lint_parser().parse_args(argv)
        return run_lint(args)
    except ConfigError as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        print("cnnlint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a bug must end as one line and exit 2, not a traceback and 1
        return _internal_error(exc)


def _internal_error(exc: BaseException) -> int:
    """One line naming the error (CNNLINT_TRACEBACK=1 adds the traceback, for a bug report)."""
    if os.environ.get("CNNLINT_TRACEBACK"):
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        where = f" (in {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno})"
        tb = tb.tb_next
    text = " ".join(str(exc).split())
    message = f"internal error: {type(exc).__name__}{': ' + text if text else ''}{where}; please report it"
    return _error(message)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
