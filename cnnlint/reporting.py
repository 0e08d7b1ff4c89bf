"""The end of a run: baselines, fixes, the report in its format, the messages and the exit status."""

from __future__ import annotations

import sys
from typing import Dict, List, Optional, Sequence, TextIO, Tuple

from cnnlint.config import Config, ConfigError
from cnnlint.findings import Finding
from cnnlint.report.formats import Report, render
from cnnlint.runstate import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Checked, Request


def report(request: Request, config: Config, checked: Checked, out: Optional[TextIO] = None) -> int:
    """Baselines, fixes, the report and the exit status."""
    findings = checked.findings
    for message in checked.refused:
        print(f"cnnlint: error: {message}", file=sys.stderr)
    if request.write_baseline:
        from cnnlint.baseline import write_baseline

        count = write_baseline(request.write_baseline, findings)
        print(f"Wrote {count} finding{'s' if count != 1 else ''} to the baseline {request.write_baseline}.",
              file=sys.stderr)
        return EXIT_ERROR if checked.refused else EXIT_OK
    if request.baseline:
        from cnnlint.baseline import load_baseline

        kept = load_baseline(request.baseline).new_findings(findings)
        if not request.quiet:
            hidden = len(findings) - len(kept)
            print(f"The baseline {request.baseline} hid {hidden} finding{'s' if hidden != 1 else ''}.", file=sys.stderr)
        findings = kept
    if request.diff:
        status = _diff(findings, out, checked)
        return EXIT_ERROR if checked.refused else status
    if request.fix:
        findings = _fix(findings, checked)
        if checked.stdin is not None and not request.output:
            out = sys.stderr  # the fixed text went to stdout: the report goes beside the messages
    # each capability (dataset scan, probe) adds a top-level JSON key and a text section
    datasets, sections, extras = checked.datasets, checked.sections, checked.extras
    if datasets:
        from cnnlint.dataset.report import render_section, terminal_width, to_json

        extras["datasets"] = to_json(datasets, findings)
        sections.insert(0, render_section(datasets, findings, terminal_width(out or sys.stdout)))
    stream = None if request.output else (out or sys.stdout)
    if request.statistics:
        from cnnlint.report.statistics import render_statistics

        text = render_statistics(findings)
    else:
        text = render(request.format, Report(findings, checked.files, extras, sections, datasets, request.quiet, stream))
    _write(text, request.output, out)
    if not findings and not request.quiet and request.format == "text" and not checked.refused:
        print(f"All checks passed ({counted(checked.code_files, datasets, checked.images)}).", file=sys.stderr)
    for message in checked.internal_errors:
        print(f"cnnlint: {message}", file=sys.stderr)
    if checked.internal_errors or checked.refused:
        return EXIT_ERROR
    if not request.exit_zero and any(f.severity.rank >= config.fail_on.rank for f in findings):
        return EXIT_FINDINGS
    return EXIT_OK


def counted(code_files: int, datasets: Sequence[object], images: int = 0) -> str:
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


def _fix_sources(checked: Checked) -> Tuple[Dict[str, str], Dict[str, bytes]]:
    """The kinds of the linted files and the content of standard input, for apply_fixes."""
    contents = {checked.stdin.path: checked.stdin.data or b""} if checked.stdin is not None else {}
    return checked.kinds, contents


def _diff(findings: List[Finding], out: Optional[TextIO], checked: Checked) -> int:
    """--diff: the fixes as a unified diff, nothing written; exit 1 when there is something to fix."""
    from cnnlint.fix import apply_fixes

    kinds, contents = _fix_sources(checked)
    outcome = apply_fixes(findings, write=False, kinds=kinds, contents=contents)
    for message in outcome.errors:
        print(f"cnnlint: {message}", file=sys.stderr)
    (out or sys.stdout).write("".join(outcome.diffs[path] for path in sorted(outcome.diffs)))
    return EXIT_FINDINGS if outcome.diffs else EXIT_OK


def _fix(findings: List[Finding], checked: Checked) -> List[Finding]:
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


def _write(text: str, output: Optional[str], out: Optional[TextIO]) -> None:
    """The report to stdout, or to FILE (-o) atomically: a failed write leaves an existing FILE as it was."""
    if output:
        from cnnlint.atomic import write_file

        try:
            write_file(output, text.encode("utf-8"))
        except OSError as exc:
            raise ConfigError(f"--output {output}: {exc.strerror or exc}") from None
    else:
        (out or sys.stdout).write(text)
