#!/usr/bin/env python3
"""cnnlint's per-loader verdicts against the real loaders on the odd-image corpus: confusion tables.

The truth comes from fixtures/loader_truth.py: every file of fixtures/odd_images.py decoded by
TensorFlow 2.x (`tf.io.decode_image(channels=3, expand_animations=False)`), Keras's load_img and
torchvision's loader, each in child processes (or, with --table, from the table that script wrote).
For each loader, over the files it picks up (not skipped):

* fails:   flagged = cnnlint says the loader fails;  positive = the loader raises;
* altered: flagged = cnnlint says it reads altered pixels; positive = the pixels differ;

with precision = flagged and right / flagged, recall = flagged and right / positive. Then the
agreement of the four-valued outcome over all files, and every disagreement.

    python bench/loader_confusion.py            # live: needs TensorFlow, Keras and torchvision
    python bench/loader_confusion.py --table    # from fixtures/loader_outcomes.json
    python bench/loader_confusion.py --old /tmp/base   # also the scanner at another checkout (its findings)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from fixtures.loader_truth import LOADERS, TABLE, cnnlint_outcomes, disagreements, truth  # noqa: E402
from fixtures.odd_images import write_corpus  # noqa: E402

Table = Dict[str, Dict[str, str]]


def confusion(expected: Table, got: Table, loader: str, outcome: str) -> Tuple[int, int, int, int, int]:
    """(files picked up, flagged and right, flagged but not, silent but it is, positives)."""
    tp = fp = fn = picked = positives = 0
    for name, row in expected.items():
        if row[loader] == "skipped":
            continue
        picked += 1
        real, said = row[loader] == outcome, got[name][loader] == outcome
        positives += real
        tp += real and said
        fp += said and not real
        fn += real and not said
    return picked, tp, fp, fn, positives


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def print_tables(expected: Table, got: Table, title: str, listed: bool = True) -> None:
    print(f"\n### {title}\n")
    for outcome in ("fails", "altered"):
        print(f"| loader (files it picks up) | flagged, {outcome} | flagged, not {outcome} | silent, {outcome} "
              f"| precision | recall |")
        print("|---|---|---|---|---|---|")
        for loader in LOADERS:
            picked, tp, fp, fn, _ = confusion(expected, got, loader, outcome)
            print(f"| {loader} ({picked}) | {tp} | {fp} | {fn} | {_ratio(tp, tp + fp)} | {_ratio(tp, tp + fn)} |")
        print()
    print("| loader | files | outcome agrees | agreement |")
    print("|---|---|---|---|")
    for loader in LOADERS:
        same = sum(got[n][loader] == row[loader] for n, row in expected.items())
        print(f"| {loader} | {len(expected)} | {same} | {same / len(expected):.2%} |")
    wrong = disagreements(expected, got)
    print(f"\n{len(wrong)} disagreements" + (":" if wrong and listed else "."))
    for name, loader, real, said in wrong if listed else []:
        print(f"  {name}: {loader}: real {real}, cnnlint {said}")


OLD = r"""
import json, os, sys
from cnnlint.dataset.inspect import inspect_file
from cnnlint.dataset.scan import ScanOptions
folder = sys.argv[1]
out = {}
for name in sys.argv[2:]:
    p = os.path.join(folder, name)
    rec = inspect_file(p, os.path.abspath(p), ScanOptions())
    out[name] = [[f.code, f.severity.value, f.message] for f in rec.findings]
print(json.dumps(out))
"""


def old_outcomes(checkout: str, folder: str, names: List[str], expected: Table) -> Table:
    """Another checkout's verdicts, read from its findings: CNL501 fails every loader that lists the file;
    an error CNL503 fails the TensorFlow loaders; CNL511/CNL512 and a CNL504 '16-bit' alter; listing as the
    truth has it (it was right about every skip)."""
    env = dict(os.environ, PYTHONPATH=checkout)
    done = subprocess.run([sys.executable, "-c", OLD, folder, *names], capture_output=True, text=True, env=env,
                          cwd=checkout, check=True)
    findings = json.loads(done.stdout)
    got: Table = {}
    for name in names:
        codes = {(c, s) for c, s, _ in findings[name]}
        row = {}
        for loader in LOADERS:
            if expected[name][loader] == "skipped":
                row[loader] = "skipped"
            elif ("CNL501", "error") in codes or (("CNL503", "error") in codes and loader.startswith(
                    ("keras_image", "tf_"))):
                row[loader] = "fails"
            elif any(c in ("CNL511", "CNL512") for c, _ in codes):
                row[loader] = "altered"
            else:
                row[loader] = "ok"
        got[name] = row
    return got


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", action="store_true", help="take the truth from fixtures/loader_outcomes.json")
    ap.add_argument("--old", help="a checkout of cnnlint to compare as well (e.g. a git worktree of an older commit)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = os.path.join(tmp, "odd")
        if args.table:
            variants = write_corpus(folder)
            with open(TABLE, encoding="utf-8") as fh:
                expected = json.load(fh)["outcomes"]
            source = "the recorded table " + os.path.relpath(TABLE, ROOT)
        else:
            variants, expected, _ = truth(folder)
            source = "the live libraries"
        names = [v.name for v in variants]
        print(f"{len(names)} files; truth from {source}")
        print_tables(expected, cnnlint_outcomes(folder, names), "cnnlint (this checkout)")
        if args.old:
            print_tables(expected, old_outcomes(os.path.abspath(args.old), folder, names, expected),
                         f"cnnlint at {args.old} (verdicts read from its findings)", listed=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
