#!/usr/bin/env python3
"""The long fuzz run: tens of thousands of hostile images through the dataset scanner.

Generates (or reuses, ``--keep``) bench/out/fuzz/<files>-<seed>/ with
fixtures/hostile_images.py: one hand-made bomb of each kind plus ``--files``
mutants of every seed format, then:

* runs ``python -m cnnlint <folder> --no-cache --format json`` under an
  address-space cap, sampling every process of its tree for its peak RSS;
* inspects every file again in this process, one at a time (the scanner's
  in-process path, under its own memory cap), timing each one.

It checks what tests/test_fuzz_corpus.py checks on a small corpus: exit
status 1, nothing on stderr (no traceback, no decoder line), no internal
error, no file with more than one finding of a code, every bomb flagged,
peak RSS of every process together under ``--max-rss`` and no file slower
than ``--per-file``. Exit status 0 when all hold, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from cnnlint.dataset.scan import ScanOptions, scan_files  # noqa: E402
from fixtures import hostile_images as hostile  # noqa: E402
from fixtures.measure import run_tree  # noqa: E402

GIB = 1024 ** 3
PER_FILE = {"CNL501", "CNL502", "CNL503", "CNL511", "CNL512", "CNL513"}


def corpus(files: int, seed: int, keep: bool) -> Path:
    folder = HERE / "out" / "fuzz" / f"{files}-{seed}"
    manifest = folder / "manifest.json"
    want = {"files": files, "seed": seed, "bombs": sorted(hostile.bombs())}
    if keep and manifest.is_file() and json.loads(manifest.read_text()) == want:
        print(f"reusing {folder}")
        return folder
    if folder.exists():
        shutil.rmtree(folder)
    start = time.perf_counter()
    hostile.write_corpus(str(folder / "images"), files, seed)
    manifest.write_text(json.dumps(want))
    print(f"generated {files:,} mutants and {len(want['bombs'])} bombs in {time.perf_counter() - start:.1f} s")
    return folder


def check_cli(folder: Path, timeout: float, max_rss: float) -> List[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("CI", None)
    report = folder / "report.json"
    run = run_tree([sys.executable, "-m", "cnnlint", "images", "--no-cache", "--format", "json", "-o", str(report)],
                   env=env, cwd=str(folder), timeout=timeout)
    print(f"cli: exit {run.rc} in {run.seconds:.1f} s; peak RSS: largest process {run.peak_max / 2**20:,.0f} MiB, "
          f"all {len(run.peaks)} processes together {run.peak_sum / 2**20:,.0f} MiB")
    problems = []
    if run.timed_out:
        problems.append(f"the run took more than {timeout} s")
    if run.rc != 1:
        problems.append(f"exit status {run.rc}, not 1")
    if run.err:
        problems.append(f"stderr is not empty: {run.err[:500]!r}")
    if run.peak_sum > max_rss * GIB:
        problems.append(f"peak RSS {run.peak_sum / GIB:.2f} GiB over {max_rss} GiB")
    try:
        doc = json.loads(report.read_text())
    except (OSError, ValueError) as exc:
        return problems + [f"no report: {exc}"]
    per_file: Dict[str, List[str]] = {}
    for f in doc["findings"]:
        if "internal error" in f["message"] or f["code"] == "CNL514":
            problems.append(f"{f['path']}: {f['code']} {f['message']}")
        if f["code"] in PER_FILE and f["path"] != "images":
            per_file.setdefault(os.path.basename(f["path"]), []).append(f["code"])
    for name, codes in per_file.items():
        if len(codes) != len(set(codes)):
            problems.append(f"{name}: {codes}")
    for kind, (ext, _) in hostile.bombs().items():
        name = f"bomb_{kind}{'.png' if ext == '.ico' else ext}"
        if not set(per_file.get(name, [])) & {"CNL501", "CNL513"}:
            problems.append(f"{name}: not flagged ({per_file.get(name)})")
    print("findings by code:", dict(sorted(Counter(f["code"] for f in doc["findings"]).items())))
    return problems


def check_each(folder: Path, per_file: float) -> List[str]:
    paths = sorted(str(p) for p in (folder / "images").iterdir())
    times = []
    start = time.perf_counter()
    for rec in scan_files([(p, p) for p in paths], ScanOptions(jobs=1)):
        now = time.perf_counter()
        times.append((now - start, rec.path))
        start = now
    times.sort(reverse=True)
    total = sum(t for t, _ in times)
    print(f"in-process: {len(times):,} files in {total:.1f} s; slowest: "
          + ", ".join(f"{os.path.basename(p)} {t:.2f} s" for t, p in times[:3]))
    return [f"{p}: {t:.1f} s" for t, p in times if t > per_file]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=20_000, help="mutants (default 20000)")
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--keep", action="store_true", help="reuse the corpus when its manifest matches")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds for the CLI run")
    ap.add_argument("--max-rss", type=float, default=2.0, help="GiB, every process together")
    ap.add_argument("--per-file", type=float, default=2.0, help="seconds one inspection may take")
    ap.add_argument("--skip-each", action="store_true", help="no one-by-one in-process pass")
    args = ap.parse_args(argv)
    folder = corpus(args.files, args.seed, args.keep)
    problems = check_cli(folder, args.timeout, args.max_rss)
    if not args.skip_each:
        problems += check_each(folder, args.per_file)
    for p in problems[:50]:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
