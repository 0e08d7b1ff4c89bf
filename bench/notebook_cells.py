#!/usr/bin/env python3
"""Cell-lint latency of `%cnnlint on`: the check each cell gets before it runs, over the benchmark
corpus (bench/corpus.py, 500 files) split into cells.

Notebooks keep their code cells; scripts are cut at top-level blank lines into cells of a few
statements, as people paste them into a notebook. Each file is fed cell by cell to one notebook
session (cnnlint.notebook.session) as a kernel would run it; the time of `before_cell` (the lint
of the cell in the context of the cells before it, the cross-check and the live checks) is recorded
per cell. No IPython and no framework is needed: the session is given the history itself, and the
namespace is empty (nothing runs). The first cell of the run, which imports the rules, is left out.

    python bench/notebook_cells.py [--files 500] [--corpus bench/out/corpus] [--rerun]

--rerun also times each cell a second time with the same text and history (the cache's hit).
Prints the median, p90, p99 and max per cell, wall-clock and CPU time of this process (the CPU
figures hold better on a loaded machine; the load average is printed), and writes
bench/out/notebook_cells.json.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import sys
import time
from typing import List

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from bench.corpus import DEFAULT_FILES, generate_corpus, load_manifest  # noqa: E402
from cnnlint.notebook.session import Kernel, Session  # noqa: E402


def script_cells(text: str) -> List[str]:
    """A script cut before each top-level statement that follows a blank line."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [text]
    lines = text.split("\n")
    starts = [0]
    for node in tree.body:
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
        if first > 0 and not lines[first - 1].strip() and first > starts[-1]:
            starts.append(first)
    bounds = starts + [len(lines)]
    cells = ["\n".join(lines[a:b]).strip("\n") for a, b in zip(bounds, bounds[1:])]
    return [c for c in cells if c.strip()]


def file_cells(path: str) -> List[str]:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith(".ipynb"):
        nb = json.loads(text)
        return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                for c in nb["cells"] if c.get("cell_type") == "code" and "".join(c["source"]).strip()]
    return script_cells(text)


def corpus_files(folder: str, n: int) -> List[str]:
    manifest = load_manifest(folder)
    if manifest is None or manifest.get("n_files", 0) < n:
        generate_corpus(folder, n_files=n)
    found = []
    for root, _, names in os.walk(folder):
        found += [os.path.join(root, name) for name in names if name.endswith((".py", ".ipynb"))]
    return sorted(found)[:n]


def run_file(path: str, rerun: bool) -> List[tuple]:
    history: List[str] = [""]
    session = Session(Kernel(history=lambda: history, namespace=lambda: {}))
    session.enabled = True
    out = []
    for text in file_cells(path):
        number = len(history)
        start, cpu = time.perf_counter(), time.process_time()
        session.before_cell(text, number)
        first, first_cpu = time.perf_counter() - start, time.process_time() - cpu
        again = None
        if rerun:
            start = time.perf_counter()
            session.before_cell(text, number)
            again = time.perf_counter() - start
        history.append(text)
        out.append((first, first_cpu, again, text.count("\n") + 1, sum(t.count("\n") + 1 for t in history[1:])))
    return out


def pct(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=DEFAULT_FILES)
    parser.add_argument("--corpus", default=os.path.join(HERE, "out", "corpus"))
    parser.add_argument("--rerun", action="store_true")
    args = parser.parse_args(argv)
    files = corpus_files(args.corpus, args.files)
    run_file(files[0], False)  # warm-up: the rule modules' imports
    times, cpu, hits, sizes, contexts = [], [], [], [], []
    for path in files:
        for first, first_cpu, again, lines, context in run_file(path, args.rerun):
            times.append(first * 1000)
            cpu.append(first_cpu * 1000)
            sizes.append(lines)
            contexts.append(context)
            if again is not None:
                hits.append(again * 1000)
    result = {
        "files": len(files), "cells": len(times),
        "median_ms": statistics.median(times), "p90_ms": pct(times, 90), "p99_ms": pct(times, 99), "max_ms": max(times),
        "mean_ms": statistics.fmean(times), "cpu_median_ms": statistics.median(cpu), "cpu_p90_ms": pct(cpu, 90),
        "cpu_p99_ms": pct(cpu, 99), "load_average": os.getloadavg()[0], "median_cell_lines": statistics.median(sizes),
        "median_context_lines": statistics.median(contexts),
    }
    if hits:
        result["cache_hit_median_ms"] = statistics.median(hits)
    os.makedirs(os.path.join(HERE, "out"), exist_ok=True)
    with open(os.path.join(HERE, "out", "notebook_cells.json"), "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=2)
    for key, value in result.items():
        print(f"{key:>22}: {value:.1f}" if isinstance(value, float) else f"{key:>22}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
