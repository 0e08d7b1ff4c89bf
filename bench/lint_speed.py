#!/usr/bin/env python3
"""Lint-speed benchmark: cnnlint against libcst parsing, Fixit, Ruff and pylint+dslinter.

One run generates (or reuses, ``--keep``) a deterministic corpus of realistic
CNN training scripts and notebooks (bench/corpus.py), then measures every tool
over the same files: CPU seconds (user + system of the whole process tree,
workers and fork server included; see bench/proctree.py) and wall seconds.
It prints a table, the ratios, issue 13's speed targets and the earlier ones:

issue 13 (CPU seconds):
* cnnlint cold <= 0.5x libcst's parse alone over the same files (aim 0.25x);
* ``--select CNL201`` <= 0.7x all rules, cold;
* peak RSS of a lint worker <= the libcst parse alone;
* single files of 1k, 10k and 100k lines: CPU per line (start-up subtracted) varies < 25%;
* the first warm run right after a cache-filling run re-lints nothing (<= 2x the best warm run).

earlier (wall seconds):
* cnnlint cold  <= libcst parsing alone in one process (subprocess figure);
* cnnlint cold  at least 5x faster than Fixit 2 with its default rules;
* cnnlint warm  <= 2x Ruff ``--select ALL`` (without and with Ruff's cache).

cnnlint runs from the source tree (PYTHONPATH), its modules compiled to bytecode first as
``pip install`` compiles them (``compile_bytecode``).

Results go to bench/out/lint_speed.json.  Tool virtual environments are
created on first use under bench/out/venvs/ (idempotent; ``--skip-install``
uses whatever is there).  See bench/README.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
VENVS = OUT / "venvs"
sys.path.insert(0, str(HERE))

import corpus as corpus_mod  # noqa: E402  (bench/corpus.py)
import proctree  # noqa: E402  (bench/proctree.py)
from lint_report import (  # noqa: E402  (bench/lint_report.py)
    RATIOS, earlier_targets, fmt_ratio, issue13_targets, loadavg, log, ok, print_issue13, print_table, ratio,
    tool_versions, write_json,
)

ALL_TOOLS = ("cnnlint", "libcst", "fixit", "ruff", "pylint")
FAST_RUNS = 3  # cnnlint, libcst, ruff: best of 3
SLOW_RUNS = 1  # fixit, pylint: one run
TOOL_TIMEOUT = 1800  # seconds, any single tool run except pylint
SAMPLE_S = 0.05  # peak-RSS sampling interval for cnnlint and the libcst parse
SIZES = (1000, 10000, 100000)  # lines of the single-file runs
CNNLINT_ROOT = ROOT  # what PYTHONPATH points at for `python -m cnnlint` (--cnnlint-root)

# The checkers listed in dslinter's README "Usage" section (its documented invocation).
DSLINTER_CHECKERS = (
    "import,unnecessary-iteration-pandas,unnecessary-iteration-tensorflow,nan-numpy,chain-indexing-pandas,"
    "datatype-pandas,column-selection-pandas,merge-parameter-pandas,inplace-pandas,dataframe-conversion-pandas,"
    "scaler-missing-scikitlearn,hyperparameters-scikitlearn,hyperparameters-tensorflow,hyperparameters-pytorch,"
    "memory-release-tensorflow,deterministic-pytorch,randomness-control-numpy,randomness-control-scikitlearn,"
    "randomness-control-tensorflow,randomness-control-pytorch,randomness-control-dataloader-pytorch,"
    "missing-mask-tensorflow,missing-mask-pytorch,tensor-array-tensorflow,forward-pytorch,gradient-clear-pytorch,"
    "pipeline-not-used-scikitlearn,dependent-threshold-scikitlearn,dependent-threshold-tensorflow,"
    "dependent-threshold-pytorch"
)

# Tool environments.  "deps" are installed normally, then "nodeps" with --no-deps.
# pylint+dslinter: dslinter 2.0.9 pins pylint 2.12.x / astroid 2.9.x / mypy 0.931 and
# pyspark/data-science-types stubs; its full pin set does not install on Python 3.11
# (astroid 2.9 wants wrapt<1.14, which has no 3.11 build), so the pinned pylint and astroid
# go in with --no-deps next to wrapt>=1.14.  pylint 2.17.7 + astroid 2.15.8 also load the
# plugin, but there its inplace-pandas and unnecessary-iteration-pandas checkers crash on
# every module (astroid API change), so the plugin's own pins are used.
TOOL_SPECS: Dict[str, dict] = {
    "fixit": {"deps": ["fixit==2.2.1"], "nodeps": [], "bin": "fixit"},
    "ruff": {"deps": ["ruff==0.17.6"], "nodeps": [], "bin": "ruff"},
    "pylint": {
        "deps": ["wrapt>=1.14,<2", "lazy-object-proxy>=1.4", "typing-extensions>=3.10", "isort>=4.2.5,<6",
                 "mccabe>=0.6,<0.7", "platformdirs>=2.2.0", "toml>=0.10,<0.11", "mypy==0.931", "setuptools<81"],
        "nodeps": ["pylint==2.12.2", "astroid==2.9.3", "dslinter==2.0.9", "data-science-types==0.2.23"],
        "bin": "pylint",
    },
}

LIBCST_SCRIPT = r'''
import gc, json, re, sys, time
if "--gc-tuned" in sys.argv:
    gc.set_threshold(200_000, 50, 1000)  # the setting cnnlint's workers use
t0 = time.perf_counter()
import libcst
t_import = time.perf_counter() - t0
files = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines() if l]
MAGIC = re.compile(r"^(\s*)[!%]")
t1, c1 = time.perf_counter(), time.process_time()
n = 0
for path in files:
    with open(path, "rb") as fh:
        data = fh.read()
    if path.endswith(".ipynb"):
        nb = json.loads(data.decode("utf-8"))
        chunks = []
        for cell in nb.get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            src = cell.get("source", "")
            text = "".join(src) if isinstance(src, list) else src
            out = []
            for ln in text.split("\n"):
                m = MAGIC.match(ln)
                out.append(m.group(1) + "pass" if m else ln)
            chunks.append("\n".join(out))
        code = "\n".join(chunks) + "\n"
    else:
        code = data.decode("utf-8")
    libcst.parse_module(code)
    n += 1
t2, c2 = time.perf_counter(), time.process_time()
hwm = 0
try:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
except OSError:
    import resource
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
from importlib.metadata import version
print(json.dumps({"files": n, "parse_seconds": t2 - t1, "parse_cpu_s": c2 - c1, "import_seconds": t_import,
                  "vmhwm_kb": hwm, "libcst_version": version("libcst")}))
'''

PYLINT_SMOKE = """\
import torch

model = torch.nn.Linear(3, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for step in range(10):
    loss = model(torch.randn(4, 3)).sum()
    loss.backward()
    optimizer.step()
"""


# --------------------------------------------------------------------------- small utilities


def tail(text: str, n: int = 20) -> str:
    lines = (text or "").rstrip().splitlines()
    return "\n".join(lines[-n:])


def run_cmd(cmd: Sequence[object], cwd: Path, env: Optional[dict] = None, timeout: Optional[float] = None,
            sample: bool = False) -> dict:
    """Run a command in its own session; wall and CPU seconds of its process tree, exit code, output.
    sample: also the peak RSS of each of its processes (``procs``, ``peak_kb`` by role)."""
    m = proctree.run(cmd, cwd=str(cwd), env=env, timeout=timeout, sample_interval=SAMPLE_S if sample else None)
    d = m.brief()
    d.update(stdout=m.stdout, stderr=m.stderr,
             peak_kb={role: m.peak_kb(role) for role in ("main", "forkserver", "worker") if m.count(role)},
             workers=m.count("worker"))
    return d


def venv_bin(name: str, exe: str) -> Path:
    return VENVS / name / "bin" / exe


def corpus_files(root: Path) -> List[Path]:
    """The .py and .ipynb files of the corpus, sorted (tool caches are skipped)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if f.endswith((".py", ".ipynb")):
                found.append(Path(dirpath) / f)
    return found


# --------------------------------------------------------------------------- corpus


def prepare_corpus(n_files: int, seed: int, keep: bool) -> dict:
    corpus_dir = OUT / "corpus"
    manifest = corpus_mod.load_manifest(str(corpus_dir)) if keep else None
    if manifest and manifest.get("n_files") == n_files and manifest.get("seed") == seed:
        log(f"reusing corpus {corpus_dir} (--keep)")
        regenerated = False
        corpus_mod.mark_project_root(str(corpus_dir))
    else:
        if keep:
            log("no matching corpus to keep; generating")
        t = time.perf_counter()
        manifest = corpus_mod.generate_corpus(str(corpus_dir), n_files, seed)
        log(f"generated {n_files} files in {corpus_dir} ({time.perf_counter() - t:.1f}s)")
        regenerated = True
    # every file must be valid Python: scripts as they are, notebooks with their code cells joined
    t = time.perf_counter()
    files = corpus_files(corpus_dir)
    for p in files:
        text = p.read_text(encoding="utf-8")
        if p.suffix == ".ipynb":
            text = corpus_mod.notebook_python(json.loads(text))
        try:
            ast.parse(text, filename=str(p))
        except SyntaxError as exc:
            raise SystemExit(f"corpus file does not parse: {p}:{exc.lineno}: {exc.msg}") from None
    if len(files) != n_files:
        raise SystemExit(f"corpus has {len(files)} code files, expected {n_files}; rerun without --keep")
    log(f"checked {len(files)} files with ast.parse ({time.perf_counter() - t:.1f}s)")
    # the .py-only mirror, for like-for-like comparisons with Fixit and pylint
    py_dir = OUT / "corpus_py"
    py_files = [p for p in files if p.suffix == ".py"]
    if regenerated or not py_dir.is_dir() or len(corpus_files(py_dir)) != len(py_files):
        if py_dir.exists():
            shutil.rmtree(py_dir)
        for p in py_files:
            dst = py_dir / p.relative_to(corpus_dir)
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(p, dst)
        corpus_mod.mark_project_root(str(py_dir))
    return {"dir": corpus_dir, "py_dir": py_dir, "files": files, "py_files": py_files,
            "manifest": manifest}


# --------------------------------------------------------------------------- tool environments


def ensure_venv(name: str, skip_install: bool) -> Optional[str]:
    """Create/refresh bench/out/venvs/<name>; None when ready, else the reason it is not."""
    spec = TOOL_SPECS[name]
    venv = VENVS / name
    marker = venv / ".bench-spec.json"
    want = {"deps": spec["deps"], "nodeps": spec["nodeps"]}
    exe = venv_bin(name, spec["bin"])
    if exe.exists() and marker.exists():
        try:
            if json.loads(marker.read_text()) == want:
                return None
        except ValueError:
            pass
    if exe.exists():
        # installed before (by hand or an older run): adopt it if the pinned versions match
        pinned = dict(x.split("==", 1) for x in spec["deps"] + spec["nodeps"] if "==" in x)
        have = pip_versions(name, list(pinned))
        if have and all(have.get(k) == v for k, v in pinned.items()):
            marker.write_text(json.dumps(want))
            return None
    if skip_install:
        if exe.exists():
            return None  # there, but not provisioned by this script: use as is
        return f"{exe} missing and --skip-install given"
    log(f"setting up {venv} ...")
    if venv.exists():
        shutil.rmtree(venv)
    python3 = shutil.which("python3") or sys.executable
    r = run_cmd([python3, "-m", "venv", str(venv)], cwd=OUT)
    if r["rc"] != 0:
        return "python3 -m venv failed: " + tail(r["stderr"], 5)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    if spec["deps"]:
        r = run_cmd(pip + spec["deps"], cwd=OUT, timeout=900)
        if r["rc"] != 0:
            return "pip install failed: " + tail(r["stderr"], 8)
    if spec["nodeps"]:
        r = run_cmd(pip + ["--no-deps"] + spec["nodeps"], cwd=OUT, timeout=900)
        if r["rc"] != 0:
            return "pip install --no-deps failed: " + tail(r["stderr"], 8)
    if not exe.exists():
        return f"{exe} not found after installation"
    marker.write_text(json.dumps(want))
    return None


def tool_version(cmd: Sequence[str]) -> str:
    try:
        r = run_cmd(cmd, cwd=OUT, timeout=120)
    except OSError as exc:
        return f"unknown ({exc})"
    return (r["stdout"] or r["stderr"]).strip().replace("\n", "; ")


def pip_versions(name: str, packages: Sequence[str]) -> dict:
    code = ("import json, importlib.metadata as m\nout = {}\nfor p in %r:\n    try:\n        out[p] = m.version(p)\n"
            "    except m.PackageNotFoundError:\n        out[p] = None\nprint(json.dumps(out))" % (list(packages),))
    r = run_cmd([str(VENVS / name / "bin" / "python"), "-c", code], cwd=OUT, timeout=120)
    try:
        return json.loads(r["stdout"])
    except ValueError:
        return {}


# --------------------------------------------------------------------------- single files of 1k, 10k, 100k lines


def size_modules(sizes: Sequence[int], seed: int) -> Dict[int, str]:
    """For each n, one valid module of at most n lines: the Python of corpus files 0, 1, 2, ...
    (notebooks: their joined code cells) one after the other, cut after the last top-level statement
    that ends within n lines. `from __future__` lines are dropped (legal only at the top). So the 1k
    file is the start of the 10k file, which is the start of the 100k file."""
    parts: List[str] = []
    ends: List[int] = []  # lines up to the end of each part, joined by two blank lines
    while not ends or ends[-1] < max(sizes):
        text = corpus_mod.generate_file(len(parts), seed).python
        body = "".join(ln for ln in text.splitlines(True) if not ln.startswith("from __future__"))
        parts.append(body.rstrip("\n") + "\n")
        ends.append((ends[-1] + 2 if ends else 0) + corpus_mod.count_lines(parts[-1]))
    out = {}
    for n in sizes:
        k = next(i for i, end in enumerate(ends) if end >= n) + 1
        text = "\n\n".join(parts[:k])
        cut = max(node.end_lineno or 0 for node in ast.parse(text).body if (node.end_lineno or 0) <= n)
        out[n] = "".join(text.splitlines(True)[:cut])
        ast.parse(out[n])  # still valid after the cut
    return out


# the 100k-line file is 3.6 MiB of code, over the default max-file-size (it would get CNL001 unlinted)
SIZES_PYPROJECT = corpus_mod.CORPUS_PYPROJECT.replace("[tool.cnnlint]\n", "[tool.cnnlint]\nmax-file-size = 67108864\n")


def prepare_sizes(sizes: Sequence[int], seed: int, keep: bool) -> Dict[str, dict]:
    """bench/out/sizes/L<n>/big_<n>.py for each size, and a one-line file for the start-up cost, each
    in a folder of its own that is a project root. keep: reuse the files a run with this seed wrote."""
    folder = OUT / "sizes"
    stamp = folder / "sizes.json"
    want = {"seed": seed, "sizes": sorted(sizes), "pyproject": SIZES_PYPROJECT}
    paths = {"startup": folder / "startup" / "one_line.py"}
    paths.update((str(n), folder / f"L{n}" / f"big_{n}.py") for n in sizes)
    fresh = keep and stamp.exists() and json.loads(stamp.read_text()) == want
    if not (fresh and all(p.exists() for p in paths.values())):
        t = time.perf_counter()
        texts = {str(n): text for n, text in size_modules(sizes, seed).items()}
        texts["startup"] = "x = 1\n"
        if folder.exists():
            shutil.rmtree(folder)
        for key, path in paths.items():
            path.parent.mkdir(parents=True)
            path.write_text(texts[key], encoding="utf-8")
            corpus_mod.mark_project_root(str(path.parent))
            (path.parent / "pyproject.toml").write_text(SIZES_PYPROJECT, encoding="utf-8")
        stamp.write_text(json.dumps(want))
        log(f"generated the single files of {', '.join(map(str, sizes))} lines ({time.perf_counter() - t:.1f}s)")
    return {key: {"path": path, "lines": corpus_mod.count_lines(path.read_text(encoding="utf-8"))}
            for key, path in paths.items()}


# --------------------------------------------------------------------------- measurements


def best_of(results: List[dict], key: str = "seconds") -> float:
    return min(r[key] for r in results)


def summary(label: str, command: str, runs: List[dict], files: int, note: str = "", **extra) -> dict:
    best, best_cpu = best_of(runs), best_of(runs, "cpu_s")
    d = {"tool": label, "command": command, "n_runs": len(runs), "runs_s": [round(r["seconds"], 3) for r in runs],
         "runs_cpu_s": [round(r["cpu_s"], 3) for r in runs], "best_s": round(best, 3), "best_cpu_s": round(best_cpu, 3),
         "files": files, "files_per_s": round(files / best, 1) if best else None,
         "files_per_cpu_s": round(files / best_cpu, 1) if best_cpu else None,
         "cpu_main_tree_s": [round(r["cpu_main_tree_s"], 3) for r in runs],
         "rc": [r["rc"] for r in runs], "status": "ok", "note": note}
    peaks = [r["peak_kb"] for r in runs if r.get("peak_kb")]
    if peaks:  # the largest over the runs, per role
        d["peak_rss_kb"] = {role: max(p.get(role, 0) for p in peaks) for role in peaks[0]}
        d["workers_seen"] = max(r["workers"] for r in runs)
        d["procs"] = [r["procs"] for r in runs]
    d.update(extra)
    return d


def failed(label: str, command: str, reason: str, **extra) -> dict:
    d = {"tool": label, "command": command, "status": "would not run", "reason": reason}
    d.update(extra)
    return d


def cnnlint_env() -> dict:
    env = dict(os.environ)
    root = str(CNNLINT_ROOT)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def compile_bytecode(python: str) -> None:
    """Compile cnnlint's modules to bytecode, as `pip install` does. Run from the source tree with
    PYTHONDONTWRITEBYTECODE set (it is on these machines), every run would compile every module
    again in the main process and in the fork server (~1 CPU s a run), which no installed copy
    does, while libcst is measured as installed, with its bytecode."""
    r = run_cmd([python, "-m", "compileall", "-q", str(CNNLINT_ROOT / "cnnlint")], cwd=CNNLINT_ROOT,
                env=cnnlint_env(), timeout=300)
    if r["rc"] != 0:
        log(f"compileall exited {r['rc']}: cnnlint's modules are compiled on every run\n{tail(r['stderr'], 6)}")


def cnnlint_available(python: str, cwd: Path) -> Optional[str]:
    try:
        r = run_cmd([python, "-m", "cnnlint", "--help"], cwd=cwd, env=cnnlint_env(), timeout=120)
    except OSError as exc:
        return str(exc)
    if r["rc"] != 0:
        return f"`{python} -m cnnlint --help` exited {r['rc']}: " + tail(r["stderr"] or r["stdout"], 6)
    return None


def lint_once(python: str, target: Path, args: Sequence[str], clear_cache: bool = True) -> dict:
    """One `python -m cnnlint ARGS target` in target's folder (sampled); RuntimeError unless it exits 0 or 1.
    clear_cache: delete the folder's .cnnlint_cache first."""
    cwd = target if target.is_dir() else target.parent
    if clear_cache and (cwd / ".cnnlint_cache").exists():
        shutil.rmtree(cwd / ".cnnlint_cache")
    r = run_cmd([python, "-m", "cnnlint", *args, str(target)], cwd=cwd, env=cnnlint_env(), timeout=TOOL_TIMEOUT,
                sample=True)
    if r["timed_out"] or r["rc"] not in (0, 1):
        log(f"cnnlint {' '.join(args)} failed (exit {r['rc']}); stderr:\n{tail(r['stderr'], 40)}")
        raise RuntimeError(f"cnnlint exited {r['rc']}: " + tail(r["stderr"], 10))
    return r


def parse_once(python: str, script: Path, listing: Path, extra: Sequence[str]) -> dict:
    r = run_cmd([python, str(script), str(listing), *extra], cwd=OUT, timeout=TOOL_TIMEOUT, sample=True)
    if r["rc"] != 0:
        raise RuntimeError(f"exit {r['rc']}: " + tail(r["stderr"], 10))
    r["inproc"] = json.loads(r["stdout"].strip().splitlines()[-1])
    r["peak_kb"] = {"main": r["inproc"]["vmhwm_kb"] or r["peak_kb"].get("main", 0)}  # its own exact figure
    return r


def interleaved(plans: Dict[str, Callable[[], dict]], n: int) -> Dict[str, object]:
    """Run each plan once per round, n rounds (so load drifts hit every series alike);
    key -> list of runs, or the error string of the run that failed (that series stops)."""
    series: Dict[str, object] = {key: [] for key in plans}
    for i in range(n if plans else 0):
        log(f"round {i + 1}/{n}: {', '.join(k for k in plans if isinstance(series[k], list))} ...")
        for key, fn in plans.items():
            if isinstance(series[key], list):
                try:
                    series[key].append(fn())  # type: ignore[union-attr]
                except RuntimeError as exc:
                    series[key] = str(exc)
    return series


CORPUS_ROWS = {  # key: (label, command)
    "cnnlint_cold": ("cnnlint cold (all rules)", "{py} -m cnnlint --no-cache -q <corpus>"),
    "cnnlint_select": ("cnnlint cold --select CNL201", "{py} -m cnnlint --no-cache -q --select CNL201 <corpus>"),
    "libcst_subprocess": ("libcst parse alone", "{py} libcst_parse.py <file list>"),
    "libcst_subprocess_gc": ("libcst parse alone, GC tuned like cnnlint",
                             "{py} libcst_parse.py <file list> --gc-tuned"),
}


def bench_corpus(python: str, corpus: dict, n: int, tools: Sequence[str], results: dict) -> None:
    """cnnlint cold, cnnlint --select CNL201 and the two libcst parses, interleaved round by round."""
    cdir, nfiles = corpus["dir"], len(corpus["files"])
    plans: Dict[str, Callable[[], dict]] = {}
    if "cnnlint" in tools:
        reason = cnnlint_available(python, cdir)
        if reason:
            log(f"cnnlint would not run: {reason}")
            for key in ("cnnlint_cold", "cnnlint_select", "cnnlint_warm", "cnnlint_cold_py"):
                results[key] = failed(key.replace("_", " "), "python -m cnnlint", reason)
            results["sizes"] = {"status": "would not run", "reason": reason}
        else:
            plans["cnnlint_cold"] = lambda: lint_once(python, cdir, ["--no-cache", "-q"])
            plans["cnnlint_select"] = lambda: lint_once(python, cdir, ["--no-cache", "-q", "--select", "CNL201"])
    if "libcst" in tools:
        listing = OUT / "libcst_files.txt"
        listing.write_text("\n".join(str(p) for p in corpus["files"]) + "\n", encoding="utf-8")
        script = OUT / "libcst_parse.py"
        script.write_text(LIBCST_SCRIPT.lstrip(), encoding="utf-8")
        plans["libcst_subprocess"] = lambda: parse_once(python, script, listing, [])
        plans["libcst_subprocess_gc"] = lambda: parse_once(python, script, listing, ["--gc-tuned"])
    for key, runs in interleaved(plans, n).items():
        label, cmd = CORPUS_ROWS[key]
        cmd = cmd.format(py=python)
        if isinstance(runs, str):
            results[key] = failed(label, cmd, runs)
        elif key.startswith("cnnlint"):
            results[key] = summary(label, cmd, runs, nfiles, findings_lines=len(runs[-1]["stdout"].splitlines()))
        else:
            meta = runs[0]["inproc"]
            results[key] = summary(
                label, cmd, runs, meta["files"], libcst_version=meta["libcst_version"],
                note="interpreter start + import libcst + read/join + parse_module, one process",
                import_libcst_s=round(min(r["inproc"]["import_seconds"] for r in runs), 3),
                inprocess_best_s=round(min(r["inproc"]["parse_seconds"] for r in runs), 3),
                inprocess_best_cpu_s=round(min(r["inproc"]["parse_cpu_s"] for r in runs), 3))


def bench_warm(python: str, corpus: dict, n: int, results: dict) -> None:
    """One cache-filling run from an empty cache, the first warm run right after it, then n more."""
    cdir, cmd = corpus["dir"], f"{python} -m cnnlint -q <corpus>"
    try:
        log("cnnlint cache fill, first warm run ...")
        fill = lint_once(python, cdir, ["-q"], clear_cache=True)
        first = lint_once(python, cdir, ["-q"], clear_cache=False)
        log(f"cnnlint warm x{n} ...")
        warm = [lint_once(python, cdir, ["-q"], clear_cache=False) for _ in range(n)]
    except RuntimeError as exc:
        results["cnnlint_warm"] = failed("cnnlint warm", cmd, str(exc))
        return
    cache = cdir / ".cnnlint_cache"
    cold = results.get("cnnlint_cold", {})
    same = sorted(fill["stdout"].splitlines()) == sorted(first["stdout"].splitlines())
    results["cnnlint_warm"] = summary(
        "cnnlint warm", cmd, warm, len(corpus["files"]), note="best of the runs after the first warm run",
        cache_fill={"s": round(fill["seconds"], 3), "cpu_s": round(fill["cpu_s"], 3)},
        first_warm={"s": round(first["seconds"], 3), "cpu_s": round(first["cpu_s"], 3),
                    "same_findings_as_fill": same},
        cache_dir=str(cache) if cache.exists() else "not found in the corpus folder",
        findings_lines=len(warm[-1]["stdout"].splitlines()),
        findings_lines_cold=cold.get("findings_lines"))


def bench_cold_py(python: str, corpus: dict, n: int, results: dict) -> None:
    """cnnlint cold on the .py files only (like-for-like with Fixit and pylint, which skip notebooks)."""
    cmd = f"{python} -m cnnlint --no-cache -q <corpus_py>"
    try:
        log(f"cnnlint cold on the .py subset x{n} ...")
        runs = [lint_once(python, corpus["py_dir"], ["--no-cache", "-q"]) for _ in range(n)]
        results["cnnlint_cold_py"] = summary("cnnlint cold (.py only)", cmd, runs, len(corpus["py_files"]),
                                             note=".py files only, for like-for-like with Fixit/pylint")
    except RuntimeError as exc:
        results["cnnlint_cold_py"] = failed("cnnlint cold (.py only)", cmd, str(exc))


SHORT_RUN_CPU_S = 1.0  # single-file runs shorter than this (in CPU seconds) ...
SHORT_ROUNDS = 9  # ... run this many rounds in all, the start-up among them, best of them kept


def bench_sizes(python: str, sizes: Sequence[int], seed: int, keep: bool, n: int, results: dict) -> None:
    """cnnlint cold on each single file alone, and on a one-line file (start-up), interleaved."""
    files = prepare_sizes(sizes, seed, keep)
    def once(path: Path) -> dict:
        r = lint_once(python, path, ["--no-cache", "-q"])
        if " CNL001 " in r["stdout"]:  # too large, or does not parse: not linted, so not a measurement
            raise RuntimeError("not linted: " + next(ln for ln in r["stdout"].splitlines() if " CNL001 " in ln))
        return r

    plans = {key: (lambda p=f["path"]: once(p)) for key, f in files.items()}
    series = interleaved(plans, n)
    # the short runs (the start-up, 1,000 lines) get more rounds: their per-line figure is the
    # difference of two runs a few tenths of a second long, which a few hundredths of noise swing
    short = {key: plans[key] for key, runs in series.items()
             if isinstance(runs, list) and runs and min(r["cpu_s"] for r in runs) < SHORT_RUN_CPU_S}
    if "startup" in short and len(short) > 1 and n < SHORT_ROUNDS:
        for key, more in interleaved(short, SHORT_ROUNDS - n).items():
            series[key] = more if isinstance(more, str) else series[key] + more  # type: ignore[operator]
    out: dict = {}
    for key, runs in series.items():
        lines = files[key]["lines"]
        cmd = f"{python} -m cnnlint --no-cache -q {files[key]['path'].relative_to(HERE)}"
        out[key] = (failed(key, cmd, runs) if isinstance(runs, str)
                    else summary(f"{int(key):,}: {lines:,} lines" if key != "startup" else "start-up: 1 line", cmd,
                                 runs, 1, lines=lines))
    base = out.get("startup", {})
    for key in map(str, sizes):
        d = out[key]
        if d.get("status") == "ok" and base.get("status") == "ok":
            d["lint_cpu_s"] = round(d["best_cpu_s"] - base["best_cpu_s"], 3)
            d["cpu_us_per_line"] = round(1e6 * d["lint_cpu_s"] / (d["lines"] - 1), 2)
            d["wall_us_per_line"] = round(1e6 * (d["best_s"] - base["best_s"]) / (d["lines"] - 1), 2)
    results["sizes"] = out


def bench_fixit(corpus: dict, n: int, results: dict, skip_install: bool) -> None:
    cmd = "fixit lint <corpus>"
    reason = ensure_venv("fixit", skip_install)
    if reason:
        results["fixit"] = failed("Fixit", cmd, reason)
        return
    exe = venv_bin("fixit", "fixit")
    runs = []
    log(f"fixit x{n} ...")
    for _ in range(n):
        r = run_cmd([exe, "lint", corpus["dir"]], cwd=corpus["dir"], timeout=TOOL_TIMEOUT)
        if r["timed_out"] or r["rc"] not in (0, 1):
            results["fixit"] = failed("Fixit", cmd, f"exit {r['rc']}: " + tail(r["stderr"], 10))
            return
        runs.append(r)
    last = runs[-1]
    results["fixit"] = summary(
        "Fixit 2 (default rules)", cmd, runs, len(corpus["py_files"]),
        note=f"lints .py only: {len(corpus['files']) - len(corpus['py_files'])} notebooks skipped",
        version=tool_version([exe, "--version"]), findings_lines=len(last["stdout"].splitlines()),
        summary_line=tail(last["stderr"] or last["stdout"], 1))


def bench_ruff(corpus: dict, n: int, results: dict, skip_install: bool) -> None:
    cmd_cold = "ruff check --select ALL --no-cache --exit-zero <corpus>"
    cmd_warm = "ruff check --select ALL --exit-zero <corpus>"
    reason = ensure_venv("ruff", skip_install)
    if reason:
        results["ruff_nocache"] = failed("Ruff", cmd_cold, reason)
        results["ruff_cached"] = failed("Ruff (cache)", cmd_warm, reason)
        return
    exe = venv_bin("ruff", "ruff")
    cdir = corpus["dir"]
    version = tool_version([exe, "--version"])

    def once(extra):
        r = run_cmd([exe, "check", "--select", "ALL", *extra, "--exit-zero", cdir], cwd=cdir, timeout=TOOL_TIMEOUT)
        if r["timed_out"] or r["rc"] != 0:
            raise RuntimeError(f"exit {r['rc']}: " + tail(r["stderr"], 10))
        return r

    try:
        log(f"ruff --no-cache x{n} ...")
        cold = [once(["--no-cache"]) for _ in range(n)]
        results["ruff_nocache"] = summary("Ruff --select ALL --no-cache", cmd_cold, cold, len(corpus["files"]),
                                          note="notebooks included", version=version,
                                          findings_lines=len(cold[-1]["stdout"].splitlines()))
        cache = cdir / ".ruff_cache"
        if cache.exists():
            shutil.rmtree(cache)
        once([])  # warm-up fills .ruff_cache
        log(f"ruff cached x{n} ...")
        warm = [once([]) for _ in range(n)]
        results["ruff_cached"] = summary("Ruff --select ALL (cache)", cmd_warm, warm, len(corpus["files"]),
                                         note="after one cache-filling run", version=version,
                                         cache_dir=str(cache) if cache.exists() else "not found in the corpus folder")
    except RuntimeError as exc:
        results.setdefault("ruff_nocache", failed("Ruff", cmd_cold, str(exc)))
        results.setdefault("ruff_cached", failed("Ruff (cache)", cmd_warm, str(exc)))


def bench_pylint(corpus: dict, results: dict, skip_install: bool, limit: float, jobs: int) -> None:
    cmd = (f"pylint --load-plugins=dslinter --disable=all --enable=<dslinter README checkers> -j {jobs} "
           "--reports=n --score=n <the corpus .py files>")
    reason = ensure_venv("pylint", skip_install)
    if reason:
        results["pylint"] = failed("pylint + dslinter", cmd, reason)
        return
    exe = venv_bin("pylint", "pylint")
    work = OUT / "work" / "pylint"  # dslinter runs mypy on temporary copies in the working directory
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    base = [str(exe), "--load-plugins=dslinter", "--disable=all", f"--enable={DSLINTER_CHECKERS}",
            "--reports=n", "--score=n"]
    # smoke test: it must load and report the missing zero_grad of a 9-line script
    smoke = work / "smoke_zero_grad.py"
    smoke.write_text(PYLINT_SMOKE)
    r = run_cmd(base + [str(smoke)], cwd=work, timeout=300)
    smoke.unlink()
    if "W5517" not in r["stdout"] or (r["rc"] & 1) or (r["rc"] & 32) or "Could not finish" in r["stdout"]:
        results["pylint"] = failed("pylint + dslinter", cmd,
                                   f"smoke test failed (exit {r['rc']}): " + tail(r["stdout"] + r["stderr"], 10))
        return
    shutil.rmtree(work / ".mypy_cache", ignore_errors=True)
    versions = pip_versions("pylint", ["pylint", "astroid", "dslinter", "mypy", "wrapt", "data-science-types"])
    log(f"pylint + dslinter x1 (-j {jobs}, limit {limit:.0f}s) ...")
    r = run_cmd(base + [f"-j{jobs}"] + [str(p) for p in corpus["py_files"]], cwd=work, timeout=limit)
    npy = len(corpus["py_files"])
    skipped = len(corpus["files"]) - npy
    if r["timed_out"]:
        modules = len(re.findall(r"^\*{13} Module ", r["stdout"], flags=re.M))
        results["pylint"] = {"tool": "pylint + dslinter", "command": cmd, "status": "timed out", "n_runs": 1,
                             "lower_bound_s": round(limit, 1), "best_s": None, "files": npy,
                             "files_per_s_upper_bound": round(npy / limit, 2),
                             "note": f"stopped after {limit:.0f}s; {skipped} notebooks skipped (pylint lints .py only)",
                             "modules_with_messages_before_stop": modules, "versions": versions}
        return
    if (r["rc"] & 1) or (r["rc"] & 32):
        results["pylint"] = failed("pylint + dslinter", cmd, f"exit {r['rc']}: " + tail(r["stderr"] or r["stdout"], 10))
        return
    errors = r["stdout"].count("ERROR: Could not finish processing")
    results["pylint"] = summary(
        "pylint + dslinter", cmd, [r], npy,
        note=f"lints .py only: {skipped} notebooks skipped; pylint -j {jobs}", versions=versions,
        findings_lines=len(re.findall(r"^\S+:\d+:\d+: [A-Z]\d{4}", r["stdout"], flags=re.M)),
        dslinter_checker_errors=errors)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=corpus_mod.DEFAULT_FILES, help="corpus size (default 500)")
    ap.add_argument("--seed", type=int, default=corpus_mod.DEFAULT_SEED, help="corpus seed")
    ap.add_argument("--keep", action="store_true", help="reuse bench/out/corpus if it matches --files/--seed")
    ap.add_argument("--skip-install", action="store_true", help="do not create or update tool venvs")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help="subset of " + ",".join(ALL_TOOLS))
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for cnnlint and the libcst parse (the repo's environment; default: this one)")
    ap.add_argument("--cnnlint-root", default=str(ROOT),
                    help="the folder holding the cnnlint package to measure (PYTHONPATH; default: this checkout)")
    ap.add_argument("--runs", type=int, default=FAST_RUNS,
                    help="best-of-N for cnnlint, libcst, the single files and Ruff (default 3)")
    ap.add_argument("--slow-runs", type=int, default=SLOW_RUNS, help="runs for Fixit (default 1)")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)),
                    help="line counts of the single-file runs (default 1000,10000,100000; 'none' skips them)")
    ap.add_argument("--pylint-timeout", type=float, default=900.0,
                    help="seconds before pylint is stopped (default 900)")
    ap.add_argument("--pylint-jobs", type=int, default=2, help="pylint -j (default 2)")
    ap.add_argument("--json", default=str(OUT / "lint_speed.json"), help="where to write the results")
    a = ap.parse_args(argv)
    a.tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    bad = [t for t in a.tools if t not in ALL_TOOLS]
    if bad:
        ap.error(f"unknown tool(s): {', '.join(bad)}")
    try:
        a.sizes = [] if a.sizes.strip().lower() in ("", "none") else [int(x) for x in a.sizes.split(",") if x.strip()]
    except ValueError:
        ap.error(f"--sizes: expected comma-separated line counts, got {a.sizes!r}")
    if any(n < 2 for n in a.sizes):
        ap.error("--sizes: each file needs at least 2 lines")
    return a


def git_state(root: Path) -> dict:
    """HEAD of the measured code and whether its cnnlint/ had uncommitted changes when the run started."""
    head = run_cmd(["git", "rev-parse", "--short", "HEAD"], cwd=root, timeout=30)
    dirty = run_cmd(["git", "status", "--porcelain", "--", "cnnlint"], cwd=root, timeout=30)
    return {"cnnlint_root": str(root), "head": head["stdout"].strip() if head["rc"] == 0 else None,
            "cnnlint_uncommitted_changes": bool(dirty["stdout"].strip()) if dirty["rc"] == 0 else None}


def main(argv=None) -> int:
    global CNNLINT_ROOT
    a = parse_args(argv)
    CNNLINT_ROOT = Path(a.cnnlint_root).resolve()
    tools = a.tools
    t_start = time.perf_counter()
    load_start = loadavg()
    if not proctree.enable_subreaper():
        log("note: cannot become a child subreaper (not Linux?): CPU of orphaned worker processes is not counted")
    git_at_start = git_state(CNNLINT_ROOT)
    OUT.mkdir(parents=True, exist_ok=True)
    if "cnnlint" in tools:
        compile_bytecode(a.python)
    corpus = prepare_corpus(a.files, a.seed, a.keep)
    s = corpus["manifest"]["summary"]
    log(f"corpus: {s['files']} files ({s['scripts']} .py, {s['notebooks']} .ipynb; {s['keras']} Keras, "
        f"{s['torch']} PyTorch), {s['lines_total']} lines, per file min {s['lines_min']} / median "
        f"{s['lines_median']} / p90 {s['lines_p90']} / max {s['lines_max']}; planted {s['planted']}")
    results: dict = {}
    bench_corpus(a.python, corpus, a.runs, tools, results)
    if "cnnlint" in tools and ok(results.get("cnnlint_cold")):
        bench_warm(a.python, corpus, a.runs, results)
        if a.sizes:
            bench_sizes(a.python, a.sizes, a.seed, a.keep, a.runs, results)
        if "fixit" in tools or "pylint" in tools:
            bench_cold_py(a.python, corpus, a.runs, results)
    if "fixit" in tools:
        bench_fixit(corpus, a.slow_runs, results, a.skip_install)
    if "ruff" in tools:
        bench_ruff(corpus, a.runs, results, a.skip_install)
    if "pylint" in tools:
        bench_pylint(corpus, results, a.skip_install, a.pylint_timeout, a.pylint_jobs)

    R = results.get
    ratios = {name: ratio(R(x), R(y)) for name, (x, y) in RATIOS.items()}
    ratios_cpu = {name: ratio(R(x), R(y), "best_cpu_s") for name, (x, y) in RATIOS.items()}
    earlier = earlier_targets(ratios)
    issue13 = issue13_targets(results, a.sizes)

    log("")
    log(f"Corpus {s['files']} files, {s['lines_total']} lines; cnnlint from {CNNLINT_ROOT} (HEAD "
        f"{git_at_start['head']}, uncommitted changes in cnnlint/: {git_at_start['cnnlint_uncommitted_changes']})")
    print_issue13(results)
    log("")
    log("All tools (CPU s of the whole process tree and wall s, best of N)")
    print_table(results, ["cnnlint_cold", "cnnlint_select", "cnnlint_warm", "cnnlint_cold_py", "libcst_subprocess",
                          "libcst_subprocess_gc", "fixit", "ruff_nocache", "ruff_cached", "pylint"])
    log("")
    log("Ratios                                                   wall      CPU")
    for k in RATIOS:
        log(f"  {k:<55} {fmt_ratio(ratios[k]):<9} {fmt_ratio(ratios_cpu[k])}")
    log("")
    log("Earlier acceptance targets (wall time)")
    for t in earlier:
        log(f"  {t['result']:<4}  {t['target']}  ({t['detail']})")
    for key in ("fixit", "pylint", "libcst_subprocess", "ruff_nocache"):
        d = R(key)
        if d and d.get("status") not in ("ok",):
            log(f"  note: {d['tool']}: {d.get('status')}: {d.get('reason') or d.get('note', '')}")
    log("")
    log("issue 13 targets (CPU seconds of the whole process tree)")
    for t in issue13:
        log(f"  {t['result']:<4}  {t['n']}. {t['target']}: {t['shown']}")
        log(f"          {t['detail']}")
    elapsed = time.perf_counter() - t_start
    log(f"\nbenchmark wall time: {elapsed:.0f}s (load average at start {load_start}, at end {loadavg()}; "
        f"{os.cpu_count()} CPUs)")
    cv = run_cmd([a.python, "-c", "import cnnlint, sys; print(getattr(cnnlint, '__version__', '?'))"], cwd=OUT,
                 env=cnnlint_env(), timeout=60)
    head = {"generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "git_at_start": git_at_start,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor(),
                        "loadavg_at_start": load_start, "loadavg_at_end": loadavg(),
                        "child_subreaper": proctree.enable_subreaper()},
            "versions": tool_versions(results, a.python, cv["stdout"].strip() if cv["rc"] == 0 else "not importable"),
            "corpus": {"dir": str(corpus["dir"]), "seed": a.seed, **corpus["manifest"]["summary"]}}
    write_json(a.json, head, results, ratios, ratios_cpu, earlier, issue13, elapsed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
