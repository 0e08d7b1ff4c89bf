"""The probed child: `python -m cnnlint.probe.harness --report FILE [--batch-size N] SCRIPT`.

It runs the user's script (or notebook) as `__main__` with the framework patches of
cnnlint.probe.patches, takes a memory reading at the first training steps, writes
the report (JSON) to FILE and leaves with os._exit, so nothing after training runs.
The script's own stdout and stderr are left alone: the parent sends them to a log.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import time
import traceback
from typing import Any, Dict, List, Optional, Tuple

from cnnlint.probe.guard import ColabStubFinder, NetworkGuard

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
OOM_TYPES = {"ResourceExhaustedError", "OutOfMemoryError", "MemoryError"}


class State:
    """Everything the patches share in the child."""

    def __init__(self, report: str, user_file: str, batch_size: Optional[int], notebook: Any = None) -> None:
        self.report_path = report
        self.user_file = user_file
        self.batch_size = batch_size  # the probe's batch size; None: the script's own
        self.notebook = notebook  # the SourceFile of a notebook
        self.started = time.monotonic()
        self.readings: List[Dict[str, Any]] = []
        self.skipped: List[Dict[str, Any]] = []
        self.fit_sites: int = 0  # `.fit(` call sites in the user's file
        self.probed_sites: set = set()
        self.in_fit = False
        self.saves_suppressed: List[str] = []
        self.tf_baseline = 0
        self.tf_batch: Optional[Tuple[int, int]] = None  # (script's, used) of the last Dataset.batch
        self.torch_batch: Optional[Tuple[Optional[int], Optional[int]]] = None
        self.network: Optional[NetworkGuard] = None
        self.error: Optional[Dict[str, Any]] = None

    # ---------------------------------------------------------------- locations
    def locate(self, line: int) -> Dict[str, Any]:
        if self.notebook is not None:
            cell, cell_line = self.notebook.locate(line)
            return {"line": cell_line, "cell": cell}
        return {"line": line, "cell": None}

    def user_site(self, frame: Any = None) -> Optional[Dict[str, Any]]:
        """The innermost frame of the user's file on the current stack."""
        frame = frame or sys._getframe(1)
        while frame is not None:
            if frame.f_code.co_filename == self.user_file:
                return self.locate(frame.f_lineno)
            frame = frame.f_back
        return None

    # ---------------------------------------------------------------- report
    def write(self, status: str) -> None:
        doc = {
            "status": status,
            "readings": self.readings,
            "error": self.error,
            "skipped": self.skipped,
            "saves_suppressed": self.saves_suppressed,
            "network_refused": self.network.refused if self.network else [],
            "seconds": round(time.monotonic() - self.started, 3),
        }
        tmp = self.report_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, default=str)
        os.replace(tmp, self.report_path)

    def finish(self, status: str) -> None:
        """Write the report and leave at once: no atexit, no finally, no later code of the script."""
        try:
            self.write(status)
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except Exception:
                    pass
            os._exit(0)

    def crash(self, exc: BaseException, site: Optional[Dict[str, Any]] = None) -> None:
        """Report the exception (at `site` when its traceback does not reach the user's file) and leave."""
        self.error = describe(exc, self)
        if self.error.get("line") is None and site:
            self.error.update(line=site.get("line"), cell=site.get("cell"))
        self.finish("reading" if self.readings else "crashed")

    def reading(self, kind: str, site: Optional[Dict[str, Any]], batch_size: Optional[int],
                script_batch_size: Optional[int]) -> Dict[str, Any]:
        from cnnlint.probe import measure

        r: Dict[str, Any] = {"kind": kind, "batch_size": batch_size, "script_batch_size": script_batch_size,
                             "line": (site or {}).get("line"), "cell": (site or {}).get("cell"),
                             "seconds": round(time.monotonic() - self.started, 3), "device": "cpu"}
        tf = sys.modules.get("tensorflow")
        if tf is not None and hasattr(tf, "config"):
            r.update({k: v for k, v in measure.tf_reading(tf, self.tf_baseline).items() if v is not None})
        torch = sys.modules.get("torch")
        if torch is not None and hasattr(torch, "cuda"):
            r.update({k: v for k, v in measure.torch_reading(torch).items() if v is not None})
            if r.get("device") == "gpu" and "gpu_total" not in r:
                total = measure.torch_gpu_total(torch)
                if total:
                    r["gpu_total"] = total
        hwm = peak_rss_self()
        if hwm:
            r["vm_hwm"] = hwm
        self.readings.append(r)
        return r


def peak_rss_self() -> Optional[int]:
    """This process's peak resident memory since exec (Linux VmHWM). getrusage's ru_maxrss would not do:
    the kernel carries the parent's size over fork and exec into it."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def describe(exc: BaseException, state: State) -> Dict[str, Any]:
    """Exception type and message, at the deepest frame in the user's file."""
    where: Optional[Dict[str, Any]] = None
    if isinstance(exc, SyntaxError) and exc.filename == state.user_file and exc.lineno:
        where = state.locate(exc.lineno)
    else:
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == state.user_file:
                where = state.locate(lineno)
    message = _ANSI.sub("", str(exc)).strip()
    if isinstance(exc, SyntaxError):
        message = exc.msg
    first = message.splitlines()[0] if message else ""
    # TensorFlow puts the useful part ("Incompatible shapes", "expected shape=...") on later lines
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    detail = next((ln for ln in lines if "shape" in ln.lower() or "incompatible" in ln.lower()), None)
    if detail and detail != first:
        first = f"{first} {detail}"
    chain = [type(e).__name__ for e in _chain(exc)]
    return {
        "type": type(exc).__name__,
        "message": first[:500],
        "line": (where or {}).get("line"),
        "cell": (where or {}).get("cell"),
        "oom": any(name in OOM_TYPES for name in chain) or "out of memory" in message.lower(),
        "network": any(name == "NetworkRefused" for name in chain),
        "traceback_tail": "".join(traceback.format_exception_only(type(exc), exc))[-2000:],
    }


def _chain(exc: BaseException) -> List[BaseException]:
    seen: List[BaseException] = []
    current: Optional[BaseException] = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


# ------------------------------------------------------------------ running the user's code

def count_fit_sites(text: str) -> int:
    import ast

    try:
        tree = ast.parse(text)
    except SyntaxError:
        return 0
    return sum(
        1 for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("fit", "fit_generator")
    )


def skipped_notebook_lines(source: Any) -> List[Dict[str, Any]]:
    """The `!`/`%` lines (and non-Python cell magic bodies) the notebook reader replaced."""
    out = []
    converted = source.text.split("\n")
    for index, (cell, cell_line) in enumerate(source.line_map or []):
        raw = source.cells.get(cell, [])[cell_line - 1] if source.cells else ""
        new = converted[index] if index < len(converted) else ""
        if raw.strip() and raw.strip() != new.strip():
            out.append({"cell": cell, "line": cell_line, "text": raw.strip()[:200]})
    return out


def run_notebook(state: State, source: Any) -> None:
    import types

    module = types.ModuleType("__main__")
    module.__dict__["__builtins__"] = __builtins__
    sys.modules["__main__"] = module
    lines = source.text.split("\n")
    start = 0
    line_map = source.line_map or []
    while start < len(line_map):
        cell = line_map[start][0]
        end = start
        while end < len(line_map) and line_map[end][0] == cell:
            end += 1
        chunk = "\n" * start + "\n".join(lines[start:end]) + "\n"
        code = compile(chunk, state.user_file, "exec")
        exec(code, module.__dict__)
        start = end


def run_script(state: State) -> None:
    import runpy

    runpy.run_path(state.user_file, run_name="__main__")


def _on_term(state: State):
    def handler(signum: int, frame: Any) -> None:
        state.error = {"type": "Timeout", "message": "", "timeout": True, **(state.user_site(frame) or {})}
        state.finish("reading" if state.readings else "timeout")

    return handler


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(prog="python -m cnnlint.probe.harness")
    p.add_argument("script")
    p.add_argument("--report", required=True)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--allow-network", action="store_true")
    args = p.parse_args(argv)
    user_file = os.path.abspath(args.script)
    state = State(args.report, user_file, args.batch_size)
    signal.signal(signal.SIGTERM, _on_term(state))
    notebook = None
    try:
        if user_file.lower().endswith(".ipynb"):
            from cnnlint.sources.notebook import read_notebook

            with open(user_file, "rb") as fh:
                notebook = read_notebook(user_file, fh.read())
            if notebook is None:
                raise RuntimeError("the notebook's language is not Python")
            state.notebook = notebook
            state.skipped = skipped_notebook_lines(notebook)
            text = notebook.text
        else:
            with open(user_file, "rb") as fh:
                text = fh.read().decode("utf-8", "replace")
        state.fit_sites = count_fit_sites(text)
    except Exception as exc:
        state.crash(exc)
    from cnnlint.probe import patches

    sys.meta_path.insert(0, ColabStubFinder())
    if not args.allow_network:
        state.network = NetworkGuard()
        state.network.install()
    patches.install(state)
    sys.argv = [args.script]
    state.write("started")
    try:
        if notebook is not None:
            run_notebook(state, notebook)
        else:
            run_script(state)
    except SystemExit:
        pass
    except BaseException as exc:  # noqa: BLE001 - the user's script may raise anything
        state.crash(exc)
    state.finish("reading" if state.readings else "finished")


if __name__ == "__main__":
    main()
