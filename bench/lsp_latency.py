"""Latency of `cnnlint server`: the time from a `didChange` to the `publishDiagnostics` that answers
it, warm, on the largest scripts of the 500-file corpus (bench/corpus.py, generated in memory).

For each file: open it, wait for its first diagnostics, make `--warmup` edits, then `--edits`
measured ones. An edit alternately inserts a line (`_cnnlint_bench = N`) after the file's first
line and removes it again, as incremental changes, and waits for the diagnostics that answer it.
The server runs as an editor starts it (`python -m cnnlint server`), spoken to by pygls's client
(tests/lsp_session.py), with the server's default debounce unless `--debounce` says otherwise.
Also printed: the server's CPU per lint (from /proc, the open and warm-up lints included), each
file's lint alone in this process (CPU and wall ms, median), to tell the lint's cost from the
protocol's, and the load average (wall figures are only comparable on a quiet machine).

    python bench/lsp_latency.py                     # the 5 largest scripts, 40 edits each
    python bench/lsp_latency.py --files 3 --edits 20 --json bench/out/lsp_latency.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parent / "tests")]

import corpus as corpus_mod  # noqa: E402  (bench/corpus.py)
from lsp_session import Session  # noqa: E402  (tests/lsp_session.py)
from lsprotocol import types  # noqa: E402


def largest_scripts(n_files: int, seed: int, count: int) -> List["corpus_mod.GeneratedFile"]:
    files = [corpus_mod.generate_file(i, seed) for i in range(n_files)]
    scripts = [f for f in files if f.kind == "script"]
    return sorted(scripts, key=lambda f: (-f.lines, f.relpath))[:count]


def percentile(values: List[float], share: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(share * (len(ordered) - 1)))))
    return ordered[k]


async def measure_file(session: Session, name: str, text: str, warmup: int, edits: int) -> List[float]:
    uri = session.open(name, text)
    await session.wait_for(uri, lambda d: True, timeout=120)
    at_line_2 = types.Range(types.Position(1, 0), types.Position(1, 0))
    times: List[float] = []
    version = 1
    for i in range(warmup + edits):
        version += 1
        before = session.counts.get(uri, 0)
        inserted = i % 2 == 0
        start = time.perf_counter()
        if inserted:
            session.change(uri, version, f"_cnnlint_bench = {i}\n", at_line_2)
        else:
            session.change(uri, version, "", types.Range(types.Position(1, 0), types.Position(2, 0)))
        await session.wait_for(uri, lambda d: True, timeout=120, after=before)
        if i >= warmup:
            times.append((session.published[uri] - start) * 1000)
    return times


def server_cpu(session: Session) -> float:
    """Seconds of CPU the server process has used (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{session.client._server.pid}/stat") as fh:  # type: ignore[union-attr]
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, AttributeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def lint_alone(text: str, path: str, runs: int = 5) -> Dict[str, float]:
    from cnnlint.config import Config
    from cnnlint.server.analysis import lint_buffer

    config = Config()
    lint_buffer(path, text, config)
    cpu, wall = [], []
    for _ in range(runs):
        c, w = time.process_time(), time.perf_counter()
        lint_buffer(path, text, config)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return {"cpu_ms": statistics.median(cpu), "wall_ms": statistics.median(wall)}


async def run(args: argparse.Namespace, folder: str) -> dict:
    picked = largest_scripts(args.corpus_files, args.seed, args.files)
    options = {} if args.debounce is None else {"debounce": args.debounce}
    session = Session(folder, options)
    session.options = options  # the server's own default debounce unless --debounce
    await session.start()
    results = []
    try:
        for gf in picked:
            name = os.path.basename(gf.relpath)
            Path(folder, name).write_text(gf.content, encoding="utf-8")
            cpu_before = server_cpu(session)
            times = await measure_file(session, name, gf.content, args.warmup, args.edits)
            server_ms = (server_cpu(session) - cpu_before) * 1000 / (1 + args.warmup + args.edits)
            alone = lint_alone(gf.content, os.path.join(folder, name))
            results.append({"file": gf.relpath, "lines": gf.lines, "edits": len(times),
                            "median_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
                            "server_cpu_ms_per_lint": server_ms, "lint_alone": alone,
                            "times_ms": [round(t, 2) for t in times]})
            print(f"{gf.relpath:45} {gf.lines:5} lines  median {results[-1]['median_ms']:6.1f} ms  "
                  f"p95 {results[-1]['p95_ms']:6.1f} ms  server CPU {server_ms:5.1f} ms/lint  (lint alone: "
                  f"{alone['cpu_ms']:.0f} ms CPU, {alone['wall_ms']:.0f} ms wall)", flush=True)
    finally:
        await session.stop()
    every = [t for r in results for t in r["times_ms"]]
    return {"files": results, "all": {"edits": len(every), "median_ms": statistics.median(every),
                                      "p95_ms": percentile(every, 0.95)},
            "load_average": os.getloadavg(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "debounce_ms": args.debounce}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=5, help="how many of the largest scripts (default 5)")
    p.add_argument("--edits", type=int, default=40, help="measured edits per file (default 40)")
    p.add_argument("--warmup", type=int, default=4, help="edits before measuring (default 4)")
    p.add_argument("--corpus-files", type=int, default=corpus_mod.DEFAULT_FILES)
    p.add_argument("--seed", type=int, default=corpus_mod.DEFAULT_SEED)
    p.add_argument("--debounce", type=float, default=None, help="milliseconds (default: the server's)")
    p.add_argument("--json", metavar="PATH", help="write the results there too")
    args = p.parse_args(argv)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs", flush=True)
    with tempfile.TemporaryDirectory(prefix="cnnlint-lsp-bench-") as folder:
        results = asyncio.run(run(args, folder))
    every = results["all"]
    print(f"all {every['edits']} edits: median {every['median_ms']:.1f} ms, p95 {every['p95_ms']:.1f} ms "
          f"(didChange -> publishDiagnostics, warm); load average after: "
          f"{' '.join(f'{x:.2f}' for x in results['load_average'])}")
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
