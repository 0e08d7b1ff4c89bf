#!/usr/bin/env python3
"""imagededup's perceptual hashing on an image set, for comparison with cnnlint's scan (bench/looks_cost.py).

Run with an interpreter that has imagededup (installed into its own virtual environment, not the
project's: `python3 -m venv v && v/bin/pip install imagededup`):

    v/bin/python bench/imagededup_compare.py DIR [--timeout 1800]

Prints images/s of PHash.encode_images (recursive) and the time of find_duplicates at a Hamming
distance of 8, each in a child process with a time limit, and whether each finished.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, sys, time, resource, logging
logging.disable(logging.CRITICAL)
from imagededup.methods import PHash
ph = PHash(verbose=False)
t = time.perf_counter(); c = time.process_time()
enc = ph.encode_images(image_dir=sys.argv[1], recursive=True)
t_enc, c_enc = time.perf_counter() - t, time.process_time() - c
print(json.dumps({"stage": "encoded", "images": len(enc), "wall": t_enc}), flush=True)
t = time.perf_counter()
dups = ph.find_duplicates(encoding_map=enc, max_distance_threshold=8, scores=False)
t_find = time.perf_counter() - t
pairs = sum(len(v) for v in dups.values()) // 2
print(json.dumps({"stage": "found", "wall": t_find, "pairs": pairs,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--timeout", type=int, default=1800)
    args = ap.parse_args()
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, args.data], capture_output=True, text=True,
                              timeout=args.timeout)
        out, finished, err = proc.stdout, proc.returncode == 0, proc.stderr[-800:]
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        finished, err = False, f"stopped after {args.timeout} s"
    stages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    result = {"finished": finished, "stages": stages, "error": None if finished else err}
    for s in stages:
        if s["stage"] == "encoded" and s["wall"] > 0:
            result["images_per_second"] = round(s["images"] / s["wall"], 1)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
