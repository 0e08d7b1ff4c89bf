#!/usr/bin/env python3
"""Dataset-scan benchmark: cnnlint's scan against cleanvision and a bare Pillow decode loop.

One run generates (or reuses, ``--keep``) a deterministic image set under
bench/out/dataset/ (mixed JPEG/PNG, 64-512 px, train/val class folders, a few
planted faults), then times, each in its own child process:

* cnnlint through its CLI: cold without the cache, cold filling the cache,
  warm (the same again), ``--quick``, and cold on a 2,000-image subset;
* cleanvision's ``Imagelab(data_path).find_issues()`` on a copy of the subset
  without the planted faults (and on the subset with them, where it crashes);
* a bare single-process Pillow loop: ``Image.open(path).load()`` per file.

It prints images/second, the peak resident memory of each child (its largest
process, from os.wait4) and the ratios against the targets:

* cold >= 10x cleanvision's images/s;
* cold >= 80% of (bare Pillow images/s x cores);
* --quick >= 5x cold;  warm >= 20x faster than cold (the cache-filling run);
* peak memory on the full set within 50 MB of the peak on the 2,000 subset.

Results also go to bench/out/dataset_speed.json. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DATA = OUT / "dataset"
VENV = OUT / "venvs" / "cleanvision"
sys.path.insert(0, str(ROOT))

from fixtures.benchmark_set import FAULTS, plan, write_set  # noqa: E402

BARE_LOOP = r"""
import os, sys, time
from PIL import Image
files = [l.rstrip("\n") for l in open(sys.argv[1], encoding="utf-8")]
start = time.perf_counter()
failed = 0
for p in files:
    try:
        with Image.open(p) as im:
            im.load()
    except Exception:
        failed += 1
print("RESULT", time.perf_counter() - start, len(files), failed)
"""

CLEANVISION = r"""
import sys, time
from cleanvision import Imagelab
start = time.perf_counter()
lab = Imagelab(data_path=sys.argv[1])
lab.find_issues()
print("RESULT", time.perf_counter() - start, len(lab.issues), 0)
"""


# ---- the image set (fixtures/benchmark_set.py) -----------------------------------------------------

def generate(images: int, subset: int, seed: int, keep: bool) -> Dict[str, Path]:
    base = DATA / f"{images}-{subset}-{seed}"  # one folder per set: a small trial run keeps the big set
    manifest = base / "manifest.json"
    want = {"images": images, "subset": subset, "seed": seed, "faults": [list(f) for f in FAULTS]}
    dirs = {"full": base / "full", "subset": base / "subset", "clean_subset": base / "clean_subset",
            "clean_full": base / "clean_full"}
    if keep and manifest.is_file():
        try:
            if json.loads(manifest.read_text()) == want:
                print(f"reusing the image set in {base}")
                return dirs
        except ValueError:
            pass
    if base.exists():
        shutil.rmtree(base)
    items = plan(images, seed)
    print(f"generating {len(items):,} files in {dirs['full']} ...", flush=True)
    start = time.perf_counter()
    write_set(str(dirs["full"]), items)
    # the subset: the first `subset` clean images and every fault, hard-linked (same bytes)
    faults = [r for r, k, _ in items if k not in ("jpeg", "png")]
    clean = [r for r, k, _ in items if k in ("jpeg", "png")][:subset - len(faults)]
    for name, rels in (("subset", clean + faults), ("clean_subset", clean)):
        for rel in rels:
            target = dirs[name] / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(dirs["full"] / rel, target)
    manifest.write_text(json.dumps(want))
    print(f"generated in {time.perf_counter() - start:.0f} s "
          f"({_du(dirs['full']) / 1e6:,.0f} MB)", flush=True)
    return dirs


def _du(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _files(folder: Path) -> List[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file())


# ---- running a child and measuring it -------------------------------------------------------------

# A small fresh process forks and execs the measured command and reports its rusage. Linux keeps
# a process's peak RSS across fork and exec, so a command started straight from this (bigger)
# script would report at least this script's own size.
LAUNCHER = r"""
import ctypes, os, resource, sys, time
try:  # PR_SET_CHILD_SUBREAPER: the pools' workers are the fork server's children, and it is orphaned
    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # at the end: reaped here, their CPU counts too
except (AttributeError, OSError):
    pass
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
_, status, _ = os.wait4(pid, 0)
wall = time.perf_counter() - start
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.write("\nRUSAGE %d %f %f\n" % (usage.ru_maxrss, usage.ru_utime + usage.ru_stime, wall))
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_measured(argv: Sequence[str], cwd: Optional[Path] = None, env=None, timeout: float = 3600) -> dict:
    """Wall time, exit status, output, CPU seconds and peak RSS (MB) of a command; the RSS is its
    largest process (main or a reaped child), as wait4 reports it."""
    argv = list(argv)
    if not os.path.isabs(argv[0]):
        argv[0] = shutil.which(argv[0]) or argv[0]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, *argv], cwd=cwd, env=env, capture_output=True,
                          timeout=timeout)
    wall = time.perf_counter() - start
    err = proc.stderr.decode("utf-8", "replace")
    rss = cpu = None
    lines = err.rstrip().splitlines()
    if lines and lines[-1].startswith("RUSAGE "):
        _, kb, cpu_s, inner = lines[-1].split()
        rss, cpu, wall = int(kb) / 1024, float(cpu_s), float(inner)
        err = "\n".join(lines[:-1])
    return {"wall": wall, "rc": proc.returncode, "out": proc.stdout.decode("utf-8", "replace"),
            "err": err, "rss_mb": rss, "cpu": cpu}


def _result_line(res: dict) -> Optional[Tuple[float, int, int]]:
    for line in res["out"].splitlines():
        if line.startswith("RESULT "):
            _, secs, n, failed = line.split()
            return float(secs), int(n), int(failed)
    return None


def _loadavg() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


# ---- the tools ------------------------------------------------------------------------------------

def cnnlint_run(python: str, folder: Path, work: Path, extra: Sequence[str]) -> dict:
    report = work / "report.json"
    argv = [python, "-m", "cnnlint", str(folder), "--format", "json", "--output", str(report), *extra]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("CI", None)
    res = run_measured(argv, cwd=work, env=env)
    res["argv"] = argv
    try:
        data = json.loads(report.read_text())
        counts: Dict[str, int] = {}
        for f in data.get("findings", []):
            counts[f["code"]] = counts.get(f["code"], 0) + 1
        res["codes"] = counts
    except (OSError, ValueError):
        res["codes"] = None
    return res


def install_cleanvision(skip: bool) -> Optional[str]:
    python = VENV / "bin" / "python"
    if python.exists():
        ok = subprocess.run([str(python), "-c", "import cleanvision"], capture_output=True).returncode == 0
        if ok:
            return str(python)
    if skip:
        return None
    print("installing cleanvision into", VENV, flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    r = subprocess.run([str(python), "-m", "pip", "install", "-q", "cleanvision"], capture_output=True, text=True)
    if r.returncode != 0:
        print("cleanvision did not install:", r.stderr.strip().splitlines()[-1:], flush=True)
        return None
    return str(python)


def _last_error(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line:
            return line.strip()[:200]
    return lines[-1].strip()[:200] if lines else ""


# ---- main -----------------------------------------------------------------------------------------

def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20_000, help="clean images in the full set (default 20000)")
    ap.add_argument("--subset", type=int, default=2_000, help="images in the subset (default 2000)")
    ap.add_argument("--seed", type=int, default=20240611)
    ap.add_argument("--keep", action="store_true", help="reuse bench/out/dataset when its manifest matches")
    ap.add_argument("--skip-install", action="store_true", help="never install cleanvision")
    ap.add_argument("--cleanvision-full", action="store_true",
                    help="time cleanvision on a clean copy of the full set (slow) instead of the subset")
    ap.add_argument("--python", default=sys.executable, help="interpreter that runs cnnlint")
    ap.add_argument("--json", default=str(OUT / "dataset_speed.json"))
    args = ap.parse_args(argv)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    print(f"cores: {cores}; load average at start: {_loadavg()}", flush=True)
    dirs = generate(args.images, args.subset, args.seed, args.keep)
    full_files = _files(dirs["full"])
    n_full, n_sub = len(full_files), len(_files(dirs["subset"]))
    work = OUT / "dataset_work"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    cache_dir = work / "cache"
    (work / "pyproject.toml").write_text(f'[tool.cnnlint]\ncache-dir = "{cache_dir}"\n')
    rows: List[dict] = []

    def row(name, res, n, note=""):
        rate = n / res["wall"] if res and res.get("wall") else None
        cpu = res.get("cpu") if res else None
        rows.append({"name": name, "seconds": res["wall"] if res else None, "images": n, "rate": rate,
                     "rss_mb": res.get("rss_mb") if res else None, "cpu_s": cpu,
                     "rc": res.get("rc") if res else None, "note": note})
        print(f"  {name:<40} {res['wall']:8.2f} s  {rate or 0:9,.0f} img/s  "
              f"cpu {cpu if cpu is not None else float('nan'):7.2f} s  "
              f"peak {res.get('rss_mb') or 0:6.0f} MB  rc={res.get('rc')} {note}", flush=True)

    # (c) the bare Pillow loop, one process
    listing = work / "files.txt"
    listing.write_text("\n".join(full_files) + "\n")
    bare = run_measured([args.python, "-c", BARE_LOOP, str(listing)])
    parsed = _result_line(bare)
    if parsed:  # the loop's own timer (no interpreter start-up) for the rate
        bare["wall"] = parsed[0]
    row("bare Pillow open+load (1 process)", bare, n_full, f"{parsed[2] if parsed else '?'} files failed")

    # the same loop in `cores` processes at once, each over its share: the decode ceiling this
    # machine really offers at the moment (other load included)
    parts = []
    for k in range(cores):
        part = work / f"files{k}.txt"
        part.write_text("\n".join(full_files[k::cores]) + "\n")
        parts.append(part)
    start = time.perf_counter()
    procs = [subprocess.Popen([args.python, "-c", BARE_LOOP, str(p)], stdout=subprocess.PIPE) for p in parts]
    walls = []
    for proc in procs:
        out, _ = proc.communicate()
        for line in out.decode().splitlines():
            if line.startswith("RESULT "):
                walls.append(float(line.split()[1]))
    parallel = {"wall": max(walls) if walls else time.perf_counter() - start, "rc": 0, "rss_mb": None,
                "cpu": None}
    row(f"bare Pillow loop, {cores} processes at once", parallel, n_full, "(the real parallel ceiling)")

    # (a) cnnlint through the CLI
    cold = cnnlint_run(args.python, dirs["full"], work, ["--no-cache"])
    row("cnnlint cold (--no-cache)", cold, n_full)
    fill = cnnlint_run(args.python, dirs["full"], work, [])
    row("cnnlint cold, filling the cache", fill, n_full)
    warm = cnnlint_run(args.python, dirs["full"], work, [])
    row("cnnlint warm (cache)", warm, n_full)
    quick = cnnlint_run(args.python, dirs["full"], work, ["--quick", "--no-cache"])
    row("cnnlint --quick (--no-cache)", quick, n_full)
    small = cnnlint_run(args.python, dirs["subset"], work, ["--no-cache"])
    row(f"cnnlint cold, {n_sub:,}-image subset", small, n_sub)

    # (b) cleanvision
    cv_python = install_cleanvision(args.skip_install)
    cv = cv_crash = None
    if cv_python:
        target = dirs["clean_subset"]
        if args.cleanvision_full:
            target = dirs["clean_full"]
            if not target.exists():
                for p in full_files:
                    rel = os.path.relpath(p, dirs["full"])
                    if os.path.basename(rel).startswith("img_"):
                        (target / rel).parent.mkdir(parents=True, exist_ok=True)
                        os.link(p, target / rel)
        n_cv = len(_files(target))
        cv = run_measured([cv_python, "-c", CLEANVISION, str(target)], cwd=work)
        parsed = _result_line(cv)
        if parsed:
            cv["wall"] = parsed[0]
            row("cleanvision find_issues (clean copy)", cv, n_cv)
        else:
            row("cleanvision find_issues (clean copy)", cv, n_cv, "FAILED: " + _last_error(cv["err"]))
            cv = None
        cv_crash = run_measured([cv_python, "-c", CLEANVISION, str(dirs["subset"])], cwd=work)
        crashed = _result_line(cv_crash) is None
        cv_crash["error"] = _last_error(cv_crash["err"]) if crashed else ""
        print(f"  cleanvision on the subset with the planted faults: "
              f"{'CRASHED: ' + cv_crash['error'] if crashed else 'finished'}", flush=True)

    # ratios and targets
    def rate(res, n):
        return n / res["wall"] if res and res.get("wall") else None

    r_cold, r_bare = rate(cold, n_full), rate(bare, n_full)
    r_quick = rate(quick, n_full)
    r_cv = rate(cv, len(_files(dirs["clean_full"] if args.cleanvision_full else dirs["clean_subset"]))) if cv else None
    checks = []

    def target(name, value, goal, fmt="{:.1f}x"):
        ok = value is not None and value >= goal
        checks.append({"target": name, "value": value, "goal": goal, "met": ok})
        shown = fmt.format(value) if value is not None else "n/a"
        print(f"  {'OK  ' if ok else 'MISS'} {name:<52} {shown:>9}  (goal {fmt.format(goal)})")

    print(f"\nload average at end: {_loadavg()}")
    print("targets:")
    target("cold / cleanvision images/s", r_cold / r_cv if r_cv else None, 10.0)
    target("cold / (bare Pillow images/s x cores)", r_cold / (r_bare * cores) if r_bare else None, 0.8, "{:.0%}")
    r_par = rate(parallel, n_full)
    target(f"cold / bare loop in {cores} processes at once (info)", r_cold / r_par if r_par else None, 0.8, "{:.0%}")
    target("--quick / cold images/s", r_quick / r_cold if r_cold else None, 5.0)
    target("cold (cache-filling) time / warm time", fill["wall"] / warm["wall"], 20.0)
    if cold.get("cpu") and bare.get("cpu"):
        print(f"  (info) CPU seconds, cnnlint cold (main + workers) / bare loop: "
              f"{cold['cpu']:.1f} / {bare['cpu']:.1f} = {cold['cpu'] / bare['cpu']:.0%}: load-independent; "
              f"on {cores} idle cores cold would reach about "
              f"{min(cores, cores * bare['cpu'] / cold['cpu']):.1f}x the one-process loop")
    growth = (cold["rss_mb"] - small["rss_mb"]) if cold.get("rss_mb") and small.get("rss_mb") else None
    ok = growth is not None and growth <= 50
    checks.append({"target": "peak RSS full - subset (MB)", "value": growth, "goal": 50, "met": ok})
    print(f"  {'OK  ' if ok else 'MISS'} {'peak RSS growth, full set vs subset':<52} {growth or 0:>7.1f} MB  (goal <= 50 MB)")
    for name, res in (("cold", cold), ("quick", quick)):
        print(f"  cnnlint {name} findings by code: {res.get('codes')}")

    Path(args.json).write_text(json.dumps({
        "cores": cores, "images": n_full, "subset": n_sub, "rows": rows, "targets": checks,
        "cleanvision_on_faults": (cv_crash or {}).get("error"), "load_end": _loadavg(),
    }, indent=2))
    print(f"results: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
