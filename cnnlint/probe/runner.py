"""The parent side of the probe: one child per batch size, the time limit, the findings."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from cnnlint.findings import Finding, Severity
from cnnlint.probe import scaling
from cnnlint.probe.scaling import T4_BYTES, human

DEFAULT_TIMEOUT = 300.0
TERM_GRACE = 3.0  # seconds between SIGTERM (the child reports where it was) and SIGKILL
ASSUMED_CUDA_CONTEXT = 512 * scaling.MIB  # when the framework cannot tell
RSS_RESOLUTION = 4 * scaling.MIB


@dataclass
class Options:
    timeout: float = DEFAULT_TIMEOUT
    gpu_memory: Optional[int] = None  # bytes; None: the detected device's total
    allow_network: bool = False
    python: str = sys.executable


@dataclass
class ChildRun:
    batch_size: Optional[int]  # asked for; None: the script's own
    status: str  # reading | crashed | finished | timeout | killed | no-report
    report: Dict[str, Any] = field(default_factory=dict)
    returncode: Optional[int] = None
    rss_peak: Optional[int] = None  # bytes, from os.wait4
    seconds: float = 0.0
    log_tail: str = ""

    @property
    def reading(self) -> Optional[Dict[str, Any]]:
        """The largest reading of the run (every `fit` of the script is probed, the maximum kept)."""
        readings = self.report.get("readings") or []
        if not readings:
            return None
        return max(readings, key=lambda r: (r.get("gpu_peak") or 0, r.get("vm_hwm") or 0))


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PRE_COMMIT", None)
    # `python -m cnnlint.probe.harness` must find this cnnlint also when it runs from a source checkout;
    # appended, so it never shadows the script's own modules
    import cnnlint

    home = os.path.dirname(os.path.dirname(os.path.abspath(cnnlint.__file__)))
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if home not in parts:
        env["PYTHONPATH"] = os.pathsep.join(parts + [home])
    return env


def run_child(script: str, batch_size: Optional[int], options: Options) -> ChildRun:
    """Run the harness on `script` in its own directory and process group; wait with the time limit."""
    script = os.path.abspath(script)
    with tempfile.TemporaryDirectory(prefix="cnnlint-probe-") as tmp:
        report = os.path.join(tmp, "report.json")
        log_path = os.path.join(tmp, "output.log")
        cmd = [options.python, "-m", "cnnlint.probe.harness", script, "--report", report]
        if batch_size:
            cmd += ["--batch-size", str(batch_size)]
        if options.allow_network:
            cmd.append("--allow-network")
        started = time.monotonic()
        parent_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(cmd, cwd=os.path.dirname(script), stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
        try:
            status, rusage, timed_out = _wait(proc, options.timeout)
        except BaseException:  # Ctrl-C in cnnlint: the child is in its own session and would run on
            _kill_group(proc.pid)
            try:
                os.waitpid(proc.pid, 0)
            except ChildProcessError:
                pass
            proc.returncode = -signal.SIGKILL
            raise
        seconds = time.monotonic() - started
        run = ChildRun(batch_size, "no-report", returncode=_exit_code(status), seconds=seconds)
        try:
            with open(report, encoding="utf-8") as fh:
                run.report = json.load(fh)
        except (OSError, ValueError):
            run.report = {}
        run.rss_peak = _peak_rss(run.report, rusage, parent_peak)
        run.log_tail = _tail(log_path)
    reported = run.report.get("status")
    if timed_out:
        run.status = "reading" if run.report.get("readings") else "timeout"
        if not (run.report.get("error") or {}).get("timeout"):
            run.report["error"] = {"type": "Timeout", "timeout": True, "line": None, "cell": None}
    elif reported in ("reading", "crashed", "finished"):
        run.status = reported
    elif run.returncode == -signal.SIGKILL:
        run.status = "killed"
    else:
        run.status = "no-report"
    return run


def _peak_rss(report: Dict[str, Any], rusage: Any, parent_peak: int) -> Optional[int]:
    """The child's peak resident memory: os.wait4's figure, unless it is only the size the kernel carried
    over from this process at fork/exec (then the child's own VmHWM at its reading, when it reported one)."""
    waited = rusage.ru_maxrss * 1024 if rusage is not None and rusage.ru_maxrss > 0 else None
    own = max((int(r.get("vm_hwm") or 0) for r in report.get("readings") or []), default=0) or None
    if waited is not None and waited > parent_peak * 1.02:
        return max(waited, own or 0)
    return own


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _wait(proc: subprocess.Popen, timeout: float):
    """os.wait4 on the child (its own peak RSS, never RUSAGE_CHILDREN), killing its group past the limit."""
    deadline = time.monotonic() + timeout
    termed_at: Optional[float] = None
    timed_out = False
    delay = 0.02
    while True:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = _exit_code(status)  # keep Popen from waiting on a reaped pid
            _kill_group(proc.pid)  # anything the script left running
            return status, rusage, timed_out
        now = time.monotonic()
        if termed_at is None and now >= deadline:
            timed_out = True
            termed_at = now
            try:
                os.kill(proc.pid, signal.SIGTERM)  # the harness writes where the script was, then leaves
            except ProcessLookupError:
                pass
        elif termed_at is not None and now >= termed_at + TERM_GRACE:
            _kill_group(proc.pid)
            termed_at = float("inf")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.2)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: str, size: int = 4000) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


# ------------------------------------------------------------------ the whole probe of one script

@dataclass
class ProbeResult:
    path: str  # as displayed
    runs: List[ChildRun]
    findings: List[Finding]
    line: Optional[scaling.Line]
    measure: Optional[str]  # which figure the line was fitted to
    device: str
    device_name: Optional[str]
    target: Optional[int]
    target_label: str
    largest: Optional[int]
    t4_largest: Optional[int]
    context: int
    notes: List[str]
    skipped: List[Dict[str, Any]]
    seconds: float

    def to_json(self) -> Dict[str, Any]:
        return {
            "path": self.path,
            "device": self.device,
            "device_name": self.device_name,
            "memory": "gpu" if self.device == "gpu" else "host",
            "seconds": round(self.seconds, 2),
            "runs": [
                {
                    "batch_size": (r.reading or {}).get("batch_size") or r.batch_size,
                    "requested_batch_size": r.batch_size,
                    "status": r.status,
                    "seconds": round(r.seconds, 2),
                    "peak_rss": r.rss_peak,
                    "gpu_peak": (r.reading or {}).get("gpu_peak"),
                    "tf_host_peak": (r.reading or {}).get("tf_host_peak"),
                    "torch_allocated_peak": (r.reading or {}).get("torch_allocated_peak"),
                    "kind": (r.reading or {}).get("kind"),
                    "line": (r.reading or {}).get("line"),
                    "cell": (r.reading or {}).get("cell"),
                }
                for r in self.runs
            ],
            "fit": None if self.line is None else {
                "measure": self.measure, "fixed_bytes": int(self.line.fixed), "per_sample_bytes": int(self.line.per_sample)},
            "target_bytes": self.target,
            "target": self.target_label,
            "cuda_context_bytes": self.context,
            "margin": scaling.DEFAULT_MARGIN,
            "largest_batch_size": self.largest,
            "colab_t4_largest_batch_size": self.t4_largest,
            "skipped": self.skipped,
            "notes": self.notes,
        }


def _finding(code: str, severity: Severity, message: str, path: str, line: Optional[int], cell: Optional[int],
             hint: str) -> Finding:
    return Finding(code, severity, message, path, line=line or 0, column=1 if line else 0, hint=hint, cell=cell)


def _series(runs: Sequence[ChildRun], gpu: bool) -> tuple:
    """The figure to fit: the GPU peak; with no GPU, the child's peak resident memory."""
    points = []
    for run in runs:
        r = run.reading
        if r is None or not r.get("batch_size"):
            continue
        value = r.get("gpu_peak") if gpu else run.rss_peak
        if value:
            points.append((r["batch_size"], float(value)))
    return points, ("gpu_peak" if gpu else "peak_rss")


def _resolution(points: Sequence[tuple]) -> float:
    """Host memory moves by a few MiB between identical runs: growth below this is noise."""
    return max(RSS_RESOLUTION, 0.005 * max(m for _, m in points))


def probe(script: str, options: Options, display: Optional[str] = None,
          factors: Sequence[int] = (1, 2)) -> ProbeResult:
    display = display or script
    started = time.monotonic()
    first = run_child(script, None, options)
    runs = [first]
    findings: List[Finding] = []
    notes: List[str] = []
    reading = first.reading
    script_bs = (reading or {}).get("script_batch_size") or (reading or {}).get("batch_size")
    if first.status == "reading" and script_bs:
        for factor in factors[1:]:
            runs.append(run_child(script, script_bs * factor, options))
    findings.extend(_run_findings(first, display, options))
    for extra in runs[1:]:
        if extra.status != "reading":
            notes.append(f"the run at batch size {extra.batch_size} did not reach a training step "
                         f"({_status_words(extra, options)}); no batch-size estimate")
    ok = [r for r in runs if r.status == "reading" and r.reading]
    gpu = any((r.reading or {}).get("device") == "gpu" for r in ok)
    device_name = next(((r.reading or {}).get("device_name") for r in ok if (r.reading or {}).get("device_name")), None)
    points, measure = _series(ok, gpu)
    used = {b for b, _ in points}
    for r in ok[1:]:
        rb = (r.reading or {}).get("batch_size")
        if r.batch_size and rb != r.batch_size:
            notes.append(f"the script's batch size could not be changed to {r.batch_size} (it ran at {rb}): "
                         "no batch-size estimate")
    line = scaling.fit_line(points) if len(used) >= 2 else None
    if len(used) >= 2 and not gpu:
        growth = 0.0 if line is None else line.per_sample * (max(used) - min(used))
        if growth < _resolution(points):
            notes.append(f"host memory grew by {human(growth)} between batch sizes {min(used)} and "
                         f"{max(used)}, within the measurement's noise: memory is not what limits the batch "
                         "size here; no batch-size estimate")
            line = None
    elif len(used) >= 2 and line is None:
        notes.append("memory did not grow with the batch size: no batch-size estimate")
    context = 0
    if gpu:
        context = max((int((r.reading or {}).get("cuda_context") or 0) for r in ok), default=0) or ASSUMED_CUDA_CONTEXT
    detected_total = next(((r.reading or {}).get("gpu_total") for r in ok if (r.reading or {}).get("gpu_total")), None)
    if gpu and detected_total is None:
        detected_total = _nvidia_smi_total()
    target = options.gpu_memory or (detected_total if gpu else None)
    if options.gpu_memory:
        label = f"{human(options.gpu_memory)} (--gpu-memory)"
    elif gpu and target:
        label = f"{human(target)} ({device_name or 'detected GPU'})"
    else:
        label = ""
    largest = t4 = None
    if line is not None:
        if target:
            largest = scaling.largest_batch(line, target, context if gpu else ASSUMED_CUDA_CONTEXT, scaling.DEFAULT_MARGIN)
        if not gpu:
            t4 = scaling.largest_batch(line, T4_BYTES, ASSUMED_CUDA_CONTEXT, scaling.DEFAULT_MARGIN)
    # CNL702: the script's own batch size does not fit the target
    if first.status == "reading" and reading and target and (gpu or options.gpu_memory):
        peak = _figure(first, measure)
        ctx = context if gpu else ASSUMED_CUDA_CONTEXT
        if peak is not None and peak + ctx > target:
            where = "measured" if gpu else "estimated from host memory"
            ctx_words = f"{human(ctx)} of CUDA context" if gpu else f"an assumed {human(ctx)} of CUDA context"
            fits = f"; the largest batch size that fits is {largest}" if largest else ""
            findings.append(_finding(
                "CNL702", Severity.ERROR,
                f"batch size {reading.get('batch_size')} needs {human(peak)} ({where}) plus {ctx_words}, "
                f"more than the {label} target{fits}",
                display, reading.get("line"), reading.get("cell"),
                f"lower the batch size to {largest}" if largest else "lower the batch size or the input size"))
    return ProbeResult(display, runs, findings, line, measure if line else None,
                       "gpu" if gpu else "cpu", device_name, target, label, largest, t4, context, notes,
                       first.report.get("skipped") or [], time.monotonic() - started)


def _figure(run: ChildRun, measure: Optional[str]) -> Optional[float]:
    r = run.reading or {}
    if measure == "peak_rss":
        return float(run.rss_peak) if run.rss_peak else None
    value = r.get(measure or "") or r.get("gpu_peak")
    return float(value) if value else None


def _nvidia_smi_total() -> Optional[int]:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10)
        return int(out.stdout.split()[0]) * scaling.MIB if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


def _status_words(run: ChildRun, options: Options) -> str:
    if run.status == "timeout":
        return f"timed out after {options.timeout:g} s"
    if run.status == "killed":
        return "killed by SIGKILL, most likely the kernel's out-of-memory killer"
    if run.status == "crashed":
        err = run.report.get("error") or {}
        return f"raised {err.get('type')}"
    if run.status == "finished":
        return "finished"
    return f"exited with status {run.returncode} without a report"


def _run_findings(run: ChildRun, path: str, options: Options) -> List[Finding]:
    err = run.report.get("error") or {}
    refused = run.report.get("network_refused") or []
    if run.status == "killed":
        return [_finding(
            "CNL702", Severity.ERROR,
            "the dry run was killed by SIGKILL without reporting, most likely by the kernel's out-of-memory killer"
            + (f" (peak resident memory {human(run.rss_peak)})" if run.rss_peak else ""),
            path, None, None, "lower the batch size, or load the images lazily (a generator, tf.data or a DataLoader)")]
    if run.status == "timeout":
        where = "" if err.get("line") else " (the script was inside library code when it was stopped)"
        return [_finding(
            "CNL703", Severity.WARNING,
            f"the dry run timed out after {options.timeout:g} s without reaching a training step{where}",
            path, err.get("line"), err.get("cell"),
            "the script is stuck or slow before training (a download, a loop, a large preprocessing step); "
            "raise --probe-timeout if it is only slow")]
    if run.status == "finished":
        return [_finding(
            "CNL703", Severity.WARNING,
            "the script finished without reaching a training step (no Keras fit, optimizer step or "
            "apply_gradients call ran)",
            path, None, None, "make sure the training code runs when the script is run as __main__")]
    if run.status == "no-report":
        tail = run.log_tail.strip().splitlines()[-1:] or [""]
        return [_finding(
            "CNL701", Severity.ERROR,
            f"the dry run exited with status {run.returncode} before reporting" + (f": {tail[0][:300]}" if tail[0] else ""),
            path, None, None, "run the script by hand to see why it stops")]
    if err and not err.get("timeout"):
        name, message = err.get("type") or "Exception", err.get("message") or ""
        text = f"{name}: {message}" if message else name
        if err.get("oom"):
            return [_finding("CNL702", Severity.ERROR,
                             f"the dry run ran out of memory at batch size {_batch_of(run)}: {text}",
                             path, err.get("line"), err.get("cell"), "lower the batch size or the input size")]
        hint = "fix the error; the dry run stops at the first one"
        if refused or err.get("network"):
            hint = "pass --allow-network to let the probe download, or download the file before probing"
            if refused and refused[0] not in text:
                text += f" (network access to {refused[0]} was refused)"
        return [_finding("CNL701", Severity.ERROR, f"the dry run raised {text}", path,
                         err.get("line"), err.get("cell"), hint)]
    return []


def _batch_of(run: ChildRun) -> str:
    return str(run.batch_size) if run.batch_size else "the script's own"


# ------------------------------------------------------------------ text section

_STATUS_TEXT = {
    "crashed": "the script raised an exception (CNL701)",
    "timeout": "timed out before a training step (CNL703)",
    "finished": "the script finished without a training step (CNL703)",
    "killed": "killed by SIGKILL, most likely the out-of-memory killer",
    "no-report": "the child exited without a report",
}

def render_section(result: ProbeResult) -> str:
    out = [f"Probe of {result.path} ({result.seconds:.1f} s):"]
    for run in result.runs:
        r = run.reading
        label = f"  batch size {(r or {}).get('batch_size') or run.batch_size or 'as in the script'}: "
        if run.status != "reading" or r is None:
            out.append(label + f"no reading: {_STATUS_TEXT.get(run.status, run.status)}")
            continue
        parts = []
        if r.get("gpu_peak"):
            parts.append(f"GPU peak {human(r['gpu_peak'])}")
        if r.get("tf_host_peak"):
            parts.append(f"TensorFlow host allocator peak {human(r['tf_host_peak'])}")
        if run.rss_peak:
            parts.append(f"peak resident memory {human(run.rss_peak)}")
        where = f" at line {r['line']}" if r.get("line") else ""
        if r.get("cell"):
            where = f" at cell {r['cell']}, line {r['line']}"
        out.append(label + ", ".join(parts or ["no memory figure"]) + f" ({r.get('kind')}{where}, {run.seconds:.1f} s)")
    if result.device != "gpu" and any(r.status == "reading" for r in result.runs):
        out.append("  No GPU: the figures are host memory.")
    if result.line is not None:
        out.append(f"  Fitted ({result.measure}): {human(result.line.fixed)} + {human(result.line.per_sample)} per sample")
        if result.largest is not None and result.target_label:
            out.append(f"  Largest batch size that fits {result.target_label}: {result.largest} "
                       f"(after the CUDA context and a {int(scaling.DEFAULT_MARGIN * 100)}% margin)")
        if result.t4_largest is not None:
            out.append(f"  Colab T4 (15 GiB) estimate from host memory: batch size {result.t4_largest}")
    for note in result.notes:
        out.append(f"  Note: {note}")
    if result.skipped:
        listed = "; ".join(f"cell {s['cell']} line {s['line']}: {s['text']}" for s in result.skipped[:10])
        more = f" and {len(result.skipped) - 10} more" if len(result.skipped) > 10 else ""
        out.append(f"  Skipped notebook lines: {listed}{more}")
    return "\n".join(out)


