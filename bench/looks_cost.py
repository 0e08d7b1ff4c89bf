#!/usr/bin/env python3
"""What the perceptual hash and the quality statistics cost in a cold dataset scan.

Two measures on the same image set (by default the 20k set of bench/dataset_speed.py):

* whole runs: `python -m cnnlint --no-cache --format json DIR` with the code of this checkout and
  with the code of another tree (`--base-tree`, e.g. `git archive 7f43327 | tar -x -C /tmp/base`),
  alternated, `--runs` each; the CPU time is user + system of the run and of the worker processes it
  waited for (os.wait4), the wall time from the launcher;
* in process, one file after another: the share of inspect_file's time spent in pixel_facts (the
  thumbnail, hash and statistics), on every k-th file (`--sample` files).

    python bench/looks_cost.py --data bench/out/dataset/20000-2000-20240611/full --base-tree /tmp/base
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataset_speed import run_measured  # noqa: E402  (fork, exec, os.wait4: the run's and its workers' rusage)


def run_once(tree: str, data: str, python: str) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, PYTHONDONTWRITEBYTECODE="1")
    res = run_measured([python, "-m", "cnnlint", "--no-cache", "--format", "json", "-o", os.devnull, data],
                       cwd=Path(tree), env=env)
    return {"wall": round(res["wall"], 2), "cpu": res["cpu"], "rss_mb": res["rss_mb"], "rc": res["rc"]}


def in_process_share(data: str, sample: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from cnnlint.dataset import inspect as inspect_mod
    from cnnlint.dataset.scan import ScanOptions

    files = sorted(str(p) for p in Path(data).rglob("*") if p.is_file())
    step = max(1, len(files) // sample)
    spent = [0.0]
    real = inspect_mod.pixel_facts

    def timed(im):
        t = time.process_time()
        try:
            return real(im)
        finally:
            spent[0] += time.process_time() - t

    inspect_mod.pixel_facts = timed
    options = ScanOptions()
    t0 = time.process_time()
    n = 0
    for path in files[::step]:
        inspect_mod.inspect_file(path, path, options)
        n += 1
    total = time.process_time() - t0
    inspect_mod.pixel_facts = real
    return {"files": n, "inspect_cpu": round(total, 3), "pixel_facts_cpu": round(spent[0], 3),
            "share": round(spent[0] / total, 4) if total else None}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--base-tree", required=True, help="a tree of the code before (e.g. git archive of 7f43327)")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--sample", type=int, default=3000)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--json")
    args = ap.parse_args()
    args.data = os.path.abspath(args.data)
    result = {"data": args.data, "base": [], "head": []}
    for _ in range(args.runs):
        for name, tree in (("base", args.base_tree), ("head", str(ROOT))):
            r = run_once(tree, args.data, args.python)
            result[name].append(r)
            print(name, json.dumps(r), flush=True)
    best = {k: min(r["cpu"] for r in result[k]) for k in ("base", "head")}
    result["cold_cpu_best"] = best
    result["cold_cpu_added_share"] = round((best["head"] - best["base"]) / best["head"], 4)
    result["in_process"] = in_process_share(args.data, args.sample)
    print(json.dumps({k: result[k] for k in ("cold_cpu_best", "cold_cpu_added_share", "in_process")}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
