#!/usr/bin/env python3
"""Lint-speed benchmark: cnnlint against libcst parsing, Fixit, Ruff and pylint+dslinter.

One run generates (or reuses, ``--keep``) a deterministic corpus of realistic
CNN training scripts and notebooks (bench/corpus.py), then times every tool
over the same files and prints a table, the ratios and the acceptance targets:

* cnnlint cold  <= libcst parsing alone in one process (subprocess figure);
* cnnlint cold  at least 5x faster than Fixit 2 with its default rules;
* cnnlint warm  <= 2x Ruff ``--select ALL`` (without and with Ruff's cache).

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
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
VENVS = OUT / "venvs"
sys.path.insert(0, str(HERE))

import corpus as corpus_mod  # noqa: E402  (bench/corpus.py)

ALL_TOOLS = ("cnnlint", "libcst", "fixit", "ruff", "pylint")
FAST_RUNS = 3  # cnnlint, libcst, ruff: best of 3
SLOW_RUNS = 1  # fixit, pylint: one run
TOOL_TIMEOUT = 1800  # seconds, any single tool run except pylint

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
t1 = time.perf_counter()
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
t2 = time.perf_counter()
from importlib.metadata import version
print(json.dumps({"files": n, "parse_seconds": t2 - t1, "import_seconds": t_import,
                  "libcst_version": version("libcst")}))
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


def log(msg: str = "") -> None:
    print(msg, flush=True)


def tail(text: str, n: int = 20) -> str:
    lines = (text or "").rstrip().splitlines()
    return "\n".join(lines[-n:])


def run_cmd(cmd: Sequence[str], cwd: Path, env: Optional[dict] = None, timeout: Optional[float] = None) -> dict:
    """Run a command in its own process group; wall-clock seconds, exit code, output."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(map(str, cmd)), cwd=str(cwd), env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group this call created
        except ProcessLookupError:
            pass
        out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "rc": proc.returncode, "timed_out": timed_out,
            "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace")}


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


# --------------------------------------------------------------------------- measurements


def best_of(results: List[dict]) -> float:
    return min(r["seconds"] for r in results)


def summary(label: str, command: str, runs: List[dict], files: int, note: str = "", **extra) -> dict:
    best = best_of(runs)
    d = {"tool": label, "command": command, "n_runs": len(runs), "runs_s": [round(r["seconds"], 3) for r in runs],
         "best_s": round(best, 3), "files": files, "files_per_s": round(files / best, 1) if best else None,
         "rc": [r["rc"] for r in runs], "status": "ok", "note": note}
    d.update(extra)
    return d


def failed(label: str, command: str, reason: str, **extra) -> dict:
    d = {"tool": label, "command": command, "status": "would not run", "reason": reason}
    d.update(extra)
    return d


def cnnlint_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def cnnlint_available(python: str, cwd: Path) -> Optional[str]:
    try:
        r = run_cmd([python, "-m", "cnnlint", "--help"], cwd=cwd, env=cnnlint_env(), timeout=120)
    except OSError as exc:
        return str(exc)
    if r["rc"] != 0:
        return f"`{python} -m cnnlint --help` exited {r['rc']}: " + tail(r["stderr"] or r["stdout"], 6)
    return None


def run_cnnlint(python: str, target: Path, args: Sequence[str], n: int, cache_dir: Path,
                clear_cache_each_run: bool) -> List[dict]:
    runs = []
    for _ in range(n):
        if clear_cache_each_run and cache_dir.exists():
            shutil.rmtree(cache_dir)
        r = run_cmd([python, "-m", "cnnlint", *args, str(target)], cwd=target, env=cnnlint_env(),
                    timeout=TOOL_TIMEOUT)
        if r["timed_out"] or r["rc"] not in (0, 1):
            log(f"cnnlint {' '.join(args)} failed (exit {r['rc']}); stderr:\n{tail(r['stderr'], 40)}")
            raise RuntimeError(f"cnnlint exited {r['rc']}: " + tail(r["stderr"], 10))
        runs.append(r)
    return runs


def bench_cnnlint(python: str, corpus: dict, n: int, results: dict) -> None:
    cdir, pydir = corpus["dir"], corpus["py_dir"]
    nfiles, npy = len(corpus["files"]), len(corpus["py_files"])
    reason = cnnlint_available(python, cdir)
    cmd_cold = f"{python} -m cnnlint --no-cache -q <corpus>"
    cmd_warm = f"{python} -m cnnlint -q <corpus>"
    if reason:
        log(f"cnnlint would not run: {reason}")
        for key, label, cmd in (("cnnlint_cold", "cnnlint cold", cmd_cold), ("cnnlint_warm", "cnnlint warm", cmd_warm),
                                ("cnnlint_cold_py", "cnnlint cold (.py only)", cmd_cold)):
            results[key] = failed(label, cmd, reason)
        return
    cache = cdir / ".cnnlint_cache"
    # three independent measurements: a failure in one still lets the others run
    try:
        log(f"cnnlint cold x{n} ...")
        cold = run_cnnlint(python, cdir, ["--no-cache", "-q"], n, cache, True)
        results["cnnlint_cold"] = summary("cnnlint cold", cmd_cold, cold, nfiles,
                                          findings_lines=len(cold[-1]["stdout"].splitlines()))
    except RuntimeError as exc:
        results["cnnlint_cold"] = failed("cnnlint cold", cmd_cold, str(exc))
    try:
        if cache.exists():
            shutil.rmtree(cache)
        log("cnnlint cache fill ...")
        fill = run_cnnlint(python, cdir, ["-q"], 1, cache, False)
        log(f"cnnlint warm x{n} ...")
        warm = run_cnnlint(python, cdir, ["-q"], n, cache, False)
        where = str(cache) if cache.exists() else "not found in the corpus folder"
        results["cnnlint_warm"] = summary("cnnlint warm", cmd_warm, warm, nfiles,
                                          note="after one cache-filling run", cache_fill_s=round(fill[0]["seconds"], 3),
                                          cache_dir=where, findings_lines=len(warm[-1]["stdout"].splitlines()))
    except RuntimeError as exc:
        results["cnnlint_warm"] = failed("cnnlint warm", cmd_warm, str(exc))
    cmd_py = cmd_cold.replace("<corpus>", "<corpus_py>")
    try:
        log(f"cnnlint cold on the .py subset x{n} ...")
        pycache = pydir / ".cnnlint_cache"
        coldpy = run_cnnlint(python, pydir, ["--no-cache", "-q"], n, pycache, True)
        results["cnnlint_cold_py"] = summary("cnnlint cold (.py only)", cmd_py, coldpy, npy,
                                             note=".py files only, for like-for-like with Fixit/pylint")
    except RuntimeError as exc:
        results["cnnlint_cold_py"] = failed("cnnlint cold (.py only)", cmd_py, str(exc))


def bench_libcst(python: str, corpus: dict, n: int, results: dict) -> None:
    files = corpus["files"]
    listing = OUT / "libcst_files.txt"
    listing.write_text("\n".join(str(p) for p in files) + "\n", encoding="utf-8")
    script = OUT / "libcst_parse.py"
    script.write_text(LIBCST_SCRIPT.lstrip(), encoding="utf-8")
    for suffix, extra, label in (("", [], ""), ("_gc", ["--gc-tuned"], ", GC tuned like cnnlint")):
        cmd = f"{python} libcst_parse.py <file list>{' --gc-tuned' if extra else ''}"
        runs, inproc = [], []
        log(f"libcst parse{label} x{n} ...")
        failure = None
        for _ in range(n):
            r = run_cmd([python, str(script), str(listing), *extra], cwd=OUT, timeout=TOOL_TIMEOUT)
            if r["rc"] != 0:
                failure = f"exit {r['rc']}: " + tail(r["stderr"], 10)
                break
            runs.append(r)
            inproc.append(json.loads(r["stdout"].strip().splitlines()[-1]))
        if failure:
            results["libcst_subprocess" + suffix] = failed(f"libcst parse (subprocess{label})", cmd, failure)
            results["libcst_inprocess" + suffix] = failed(f"libcst parse (in-process{label})", cmd, failure)
            continue
        meta = inproc[0]
        results["libcst_subprocess" + suffix] = summary(
            f"libcst parse (subprocess{label})", cmd, runs, meta["files"],
            note="interpreter start + import libcst + read/join + parse_module, one process",
            libcst_version=meta["libcst_version"], import_libcst_s=round(min(i["import_seconds"] for i in inproc), 3))
        fake = [{"seconds": i["parse_seconds"], "rc": 0} for i in inproc]
        results["libcst_inprocess" + suffix] = summary(f"libcst parse (in-process{label})", "timed inside the same process",
                                                       fake, meta["files"], note="read/join + parse_module only")


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


# --------------------------------------------------------------------------- report


def fmt_s(d: Optional[dict]) -> str:
    if not d:
        return "-"
    if d.get("status") == "ok":
        return f"{d['best_s']:.2f}"
    if d.get("status") == "timed out":
        return f">{d['lower_bound_s']:.0f}"
    return "n/a"


def ratio(a: Optional[dict], b: Optional[dict]) -> Optional[dict]:
    """a / b with the bound direction when one side timed out."""
    if not a or not b:
        return None
    if a.get("status") == "ok" and b.get("status") == "ok":
        return {"value": a["best_s"] / b["best_s"], "bound": "="}
    if a.get("status") == "timed out" and b.get("status") == "ok":
        return {"value": a["lower_bound_s"] / b["best_s"], "bound": ">"}
    return None


def fmt_ratio(r: Optional[dict]) -> str:
    if not r:
        return "n/a"
    return f"{'>' if r['bound'] == '>' else ''}{r['value']:.2f}x"


def print_table(results: dict, order: Sequence[str]) -> None:
    rows = [("tool", "files", "N", "best s", "files/s", "runs s", "notes")]
    for key in order:
        d = results.get(key)
        if not d:
            continue
        if d.get("status") == "ok":
            rows.append((d["tool"], str(d["files"]), str(d["n_runs"]), fmt_s(d), f"{d['files_per_s']:.1f}",
                         " ".join(f"{x:.2f}" for x in d["runs_s"]), d.get("note", "")))
        elif d.get("status") == "timed out":
            rows.append((d["tool"], str(d["files"]), "1", fmt_s(d), f"<{d['files_per_s_upper_bound']:.2f}", "-",
                         d.get("note", "")))
        else:
            reason = " | ".join(x.strip() for x in d.get("reason", "").splitlines() if x.strip())
            rows.append((d["tool"], "-", "-", "n/a", "-", "-", "would not run: " + reason[:160]))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for i, r in enumerate(rows):
        log("  ".join(r[j].ljust(widths[j]) for j in range(6)) + "  " + r[6])
        if i == 0:
            log("-" * (sum(widths) + 2 * 6 + 10))


def _loadavg() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=corpus_mod.DEFAULT_FILES, help="corpus size (default 500)")
    ap.add_argument("--seed", type=int, default=corpus_mod.DEFAULT_SEED, help="corpus seed")
    ap.add_argument("--keep", action="store_true", help="reuse bench/out/corpus if it matches --files/--seed")
    ap.add_argument("--skip-install", action="store_true", help="do not create or update tool venvs")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help="subset of " + ",".join(ALL_TOOLS))
    ap.add_argument("--python", default=sys.executable,
                    help="interpreter for cnnlint and the libcst parse (the repo's environment; default: this one)")
    ap.add_argument("--runs", type=int, default=FAST_RUNS, help="best-of-N for cnnlint, libcst and Ruff (default 3)")
    ap.add_argument("--slow-runs", type=int, default=SLOW_RUNS, help="runs for Fixit (default 1)")
    ap.add_argument("--pylint-timeout", type=float, default=900.0,
                    help="seconds before pylint is stopped (default 900)")
    ap.add_argument("--pylint-jobs", type=int, default=2, help="pylint -j (default 2)")
    ap.add_argument("--json", default=str(OUT / "lint_speed.json"), help="where to write the results")
    a = ap.parse_args(argv)
    tools = [t.strip() for t in a.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in ALL_TOOLS]
    if bad:
        ap.error(f"unknown tool(s): {', '.join(bad)}")
    t_start = time.perf_counter()
    load_start = _loadavg()
    # the cnnlint code measured: HEAD and whether cnnlint/ had uncommitted changes when the run started
    head = run_cmd(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, timeout=30)
    dirty = run_cmd(["git", "status", "--porcelain", "--", "cnnlint"], cwd=ROOT, timeout=30)
    git_state = {"head": head["stdout"].strip() if head["rc"] == 0 else None,
                 "cnnlint_uncommitted_changes": bool(dirty["stdout"].strip()) if dirty["rc"] == 0 else None}
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = prepare_corpus(a.files, a.seed, a.keep)
    s = corpus["manifest"]["summary"]
    log(f"corpus: {s['files']} files ({s['scripts']} .py, {s['notebooks']} .ipynb; {s['keras']} Keras, "
        f"{s['torch']} PyTorch), {s['lines_total']} lines, per file min {s['lines_min']} / median "
        f"{s['lines_median']} / p90 {s['lines_p90']} / max {s['lines_max']}; planted {s['planted']}")
    results: dict = {}
    if "cnnlint" in tools:
        bench_cnnlint(a.python, corpus, a.runs, results)
    if "libcst" in tools:
        bench_libcst(a.python, corpus, a.runs, results)
    if "fixit" in tools:
        bench_fixit(corpus, a.slow_runs, results, a.skip_install)
    if "ruff" in tools:
        bench_ruff(corpus, a.runs, results, a.skip_install)
    if "pylint" in tools:
        bench_pylint(corpus, results, a.skip_install, a.pylint_timeout, a.pylint_jobs)

    R = results.get
    ratios = {
        "cnnlint_cold / libcst_parse_subprocess": ratio(R("cnnlint_cold"), R("libcst_subprocess")),
        "cnnlint_cold / libcst_parse_inprocess": ratio(R("cnnlint_cold"), R("libcst_inprocess")),
        "cnnlint_cold / libcst_parse_subprocess_gc_tuned": ratio(R("cnnlint_cold"), R("libcst_subprocess_gc")),
        "fixit / cnnlint_cold": ratio(R("fixit"), R("cnnlint_cold")),
        "fixit / cnnlint_cold_py (like-for-like .py)": ratio(R("fixit"), R("cnnlint_cold_py")),
        "cnnlint_warm / ruff_nocache": ratio(R("cnnlint_warm"), R("ruff_nocache")),
        "cnnlint_warm / ruff_cached": ratio(R("cnnlint_warm"), R("ruff_cached")),
        "pylint_dslinter / cnnlint_cold_py (like-for-like .py)": ratio(R("pylint"), R("cnnlint_cold_py")),
        "pylint_dslinter / cnnlint_cold": ratio(R("pylint"), R("cnnlint_cold")),
    }

    def target(name, r, ok):
        if r is None:
            return {"target": name, "result": "SKIP", "detail": "missing measurement"}
        return {"target": name, "result": "PASS" if ok(r["value"]) else "FAIL", "detail": fmt_ratio(r)}

    targets = [
        target("cnnlint cold <= libcst parsing alone in one process (subprocess figure)",
               ratios["cnnlint_cold / libcst_parse_subprocess"], lambda v: v <= 1.0),
        target("  same, against libcst with cnnlint's GC setting",
               ratios["cnnlint_cold / libcst_parse_subprocess_gc_tuned"], lambda v: v <= 1.0),
        target("cnnlint cold at least 5x faster than Fixit (Fixit / cnnlint cold >= 5)",
               ratios["fixit / cnnlint_cold"], lambda v: v >= 5.0),
        target("  same, like-for-like on the .py files only",
               ratios["fixit / cnnlint_cold_py (like-for-like .py)"], lambda v: v >= 5.0),
        target("cnnlint warm <= 2x Ruff --select ALL --no-cache",
               ratios["cnnlint_warm / ruff_nocache"], lambda v: v <= 2.0),
        target("cnnlint warm <= 2x Ruff --select ALL with its cache",
               ratios["cnnlint_warm / ruff_cached"], lambda v: v <= 2.0),
    ]

    log("")
    log(f"Results (wall-clock seconds, best of N; corpus {s['files']} files, {s['lines_total']} lines)")
    print_table(results, ["cnnlint_cold", "cnnlint_warm", "cnnlint_cold_py", "libcst_subprocess", "libcst_inprocess",
                          "libcst_subprocess_gc", "libcst_inprocess_gc",
                          "fixit", "ruff_nocache", "ruff_cached", "pylint"])
    log("")
    log("Ratios")
    for k, r in ratios.items():
        log(f"  {k:<55} {fmt_ratio(r)}")
    log("")
    log("Acceptance targets")
    for t in targets:
        log(f"  {t['result']:<4}  {t['target']}  ({t['detail']})")
    for key in ("fixit", "pylint", "libcst_subprocess", "ruff_nocache"):
        d = R(key)
        if d and d.get("status") not in ("ok",):
            log(f"  note: {d['tool']}: {d.get('status')}: {d.get('reason') or d.get('note', '')}")
    elapsed = time.perf_counter() - t_start
    log(f"\nbenchmark wall time: {elapsed:.0f}s (load average at start {load_start}, at end {_loadavg()}; "
        f"{os.cpu_count()} CPUs)")

    versions = {"python": sys.version.split()[0], "cnnlint_python": a.python}
    if R("libcst_subprocess", {}).get("libcst_version"):
        versions["libcst"] = R("libcst_subprocess")["libcst_version"]
    if R("fixit", {}).get("version"):
        versions["fixit"] = R("fixit")["version"]
    if R("ruff_nocache", {}).get("version"):
        versions["ruff"] = R("ruff_nocache")["version"]
    if R("pylint", {}).get("versions"):
        versions["pylint_env"] = R("pylint")["versions"]
    cv = run_cmd([a.python, "-c", "import cnnlint, sys; print(getattr(cnnlint, '__version__', '?'))"], cwd=OUT,
                 env=cnnlint_env(), timeout=60)
    versions["cnnlint"] = cv["stdout"].strip() if cv["rc"] == 0 else "not importable"
    report = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_at_start": git_state,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor(),
                    "loadavg_at_start": load_start, "loadavg_at_end": _loadavg()},
        "versions": versions,
        "corpus": {"dir": str(corpus["dir"]), "seed": a.seed, **s},
        "results": results,
        "ratios": {k: (None if r is None else {"value": round(r["value"], 3), "bound": r["bound"]})
                   for k, r in ratios.items()},
        "targets": targets,
        "benchmark_wall_s": round(elapsed, 1),
    }
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    with open(a.json, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=1)
        fh.write("\n")
    log(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
