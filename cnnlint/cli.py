"""Command line: `cnnlint [PATH ...]`, `cnnlint rules`, `cnnlint explain CODE`, `cnnlint demo [DIR]`,
`cnnlint server` (the language server).

Exit status: 0 nothing at or above the failing severity, 1 findings,
2 usage, configuration or internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import List, Optional, Sequence, TextIO

from cnnlint import __version__
from cnnlint.config import ConfigError
from cnnlint.report.formats import DEFAULT, choices_help, formats
from cnnlint.run import run
from cnnlint.runstate import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, Request

SUBCOMMANDS = ("rules", "explain", "demo", "server")


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
    from cnnlint.sizes import parse_size

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
    p.add_argument("--format", "--output-format", dest="format", choices=tuple(formats()), default=DEFAULT,
                   help=choices_help())
    p.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE")
    p.add_argument("--config", metavar="FILE", help="settings file (default: nearest pyproject.toml with [tool.cnnlint])")
    p.add_argument("--fail-on", choices=("error", "warning", "info"), help="lowest severity that exits 1 (default: warning)")
    p.add_argument("--no-cache", action="store_true",
                   help="lint and scan every file afresh, without reading or writing the cache")
    p.add_argument("--fix", action="store_true",
                   help="apply the safe fixes (files are rewritten atomically) and report what is left")
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
    _habits(p)
    p.add_argument("--version", action="version", version=f"cnnlint {__version__}")
    return p


def _habits(p: argparse.ArgumentParser) -> None:
    """The flags Ruff's and Black's users reach for."""
    p.add_argument("--extend-select", type=_codes, metavar="CODES",
                   help="codes or prefixes added to the configuration's select (--select replaces it)")
    p.add_argument("--extend-ignore", type=_codes, metavar="CODES",
                   help="codes or prefixes added to the configuration's ignore (--ignore replaces it)")
    p.add_argument("--statistics", action="store_true",
                   help="print how many findings of each code, the most frequent first, instead of the findings")
    p.add_argument("--exit-zero", action="store_true",
                   help="exit 0 even when there are findings (2 still means an error)")
    p.add_argument("--show-settings", action="store_true",
                   help="print the resolved configuration, each value with where it came from, and exit")
    p.add_argument("--watch", action="store_true",
                   help="check, then check again each time a file changes (Ctrl-C stops)")


def _error(message: str) -> int:
    print(f"cnnlint: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _request(args: argparse.Namespace) -> Request:
    """The command line's arguments as the run's Request."""
    return Request(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Request) if hasattr(args, f.name)})


def parse_request(argv: Sequence[str]) -> Request:
    """The lint command line's flags and paths as a Request, for other front ends (the notebook's
    `%cnnlint`); argparse's usage errors end in SystemExit as on the command line."""
    return _request(_lint_parser().parse_args(list(argv)))


def run_lint(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    if getattr(args, "show_settings", False):
        return show_settings(_request(args), out)
    if getattr(args, "watch", False):
        return watch_lint(args)
    return run(_request(args), out)


def show_settings(request: Request, out: Optional[TextIO] = None) -> int:
    from cnnlint.run import start
    from cnnlint.settings_view import render_settings

    state = start(request)
    (out or sys.stdout).write(render_settings(state.config, request))
    return EXIT_OK


def watch_lint(args: argparse.Namespace) -> int:
    """--watch: each run's errors are printed and the watch goes on; Ctrl-C ends it (exit 130)."""
    from cnnlint.watch import watch

    request = _request(args)
    if "-" in request.paths or request.stdin_filename or request.fix or request.probe:
        return _error("--watch checks files on disk: not with `-`, --fix or --probe")

    def once() -> int:
        try:
            return run(dataclasses.replace(request), None)
        except ConfigError as exc:
            return _error(str(exc))

    return watch(once, list(request.paths) + list(request.data) or ["."])


def cmd_rules(argv: Sequence[str]) -> int:
    from cnnlint.catalog import FAMILIES, catalog

    p = argparse.ArgumentParser(prog="cnnlint rules", description="List the rules.")
    p.add_argument("--format", choices=("text", "json"), default="text")
    args = p.parse_args(argv)
    infos = catalog()
    if args.format == "json":
        import json

        print(json.dumps([{"code": i.code, "name": i.name, "severity": i.severity.value,
                           "autofix": i.autofix, "summary": i.summary} for i in infos], indent=2))
        return EXIT_OK
    current = None
    width = max(len(info.name) for info in infos)
    for info in infos:
        family = info.code[3]
        if family != current:
            current = family
            print(f"{'' if info is infos[0] else chr(10)}CNL{family}xx {FAMILIES.get(family, '')}")
        fix = "fix" if info.autofix else "   "
        print(f"  {info.code}  {info.severity.value:<7}  {fix}  {info.name:<{width}} {info.summary}")
    return EXIT_OK


def cmd_explain(argv: Sequence[str]) -> int:
    from cnnlint.explain import UnknownRule, resolve
    from cnnlint.lint.pages import read_page

    p = argparse.ArgumentParser(prog="cnnlint explain",
                                description="Print a rule's documentation: by code (CNL201), by name "
                                "(gradients-never-cleared), or a family's pages (CNL2 or CNL2xx).")
    p.add_argument("rule", metavar="CODE|NAME|FAMILY")
    args = p.parse_args(argv)
    try:
        codes = resolve(args.rule)
    except UnknownRule as exc:
        return _error(str(exc))
    pages = []
    for code in codes:
        page = read_page(code)
        if page is None:
            return _error(f"the page for {code} is missing from this installation")
        pages.append(page)
    sys.stdout.write("\n".join(pages))
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


def cmd_server(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="cnnlint server",
                                description="The Language Server Protocol over stdio, for editors (see the README's "
                                "\"In your editor\"); needs the server extra: pip install 'cnnlint[server]'.")
    p.parse_args(argv)
    try:
        from cnnlint.server.lsp import serve
    except ImportError as exc:
        return _error(f"`cnnlint server` needs pygls and lsprotocol ({exc}): pip install 'cnnlint[server]'")
    serve()
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in SUBCOMMANDS:
            commands = {"rules": cmd_rules, "explain": cmd_explain, "demo": cmd_demo, "server": cmd_server}
            return commands[argv[0]](argv[1:])
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
