#!/usr/bin/env python3
"""The near-duplicate index at scale: every pair within the radius among N synthetic 64-bit hashes.

N uniformly random hashes (default 1,000,000), with P planted near pairs (a copy of a
random hash with 1..radius random bits flipped). Prints the CPU seconds of the search
(user + system, from resource.getrusage), the process's peak resident memory (ru_maxrss,
which includes the interpreter and NumPy), whether every planted pair was found, and how
many pairs were reported (the planted ones plus the random hashes that happen to lie within
the radius; each reported distance is re-checked here).

    python bench/neardup_scale.py [--n 1000000] [--planted 1000] [--radius 8] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cnnlint.dataset.neardup import choose_bands, near_pairs, popcount64  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--planted", type=int, default=1000)
    ap.add_argument("--radius", type=int, default=8)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    h = rng.integers(0, np.iinfo(np.uint64).max, size=args.n, dtype=np.uint64, endpoint=True)
    chosen = rng.choice(args.n, size=2 * args.planted, replace=False)
    src, dst = chosen[:args.planted], chosen[args.planted:]
    for a, b in zip(src, dst):
        k = int(rng.integers(1, args.radius + 1))
        flip = 0
        for bit in rng.choice(64, size=k, replace=False):
            flip |= 1 << int(bit)
        h[b] = h[a] ^ np.uint64(flip)
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    c0, w0 = cpu(), time.perf_counter()
    pairs = near_pairs(h, args.radius)
    c1, w1 = cpu(), time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    got = {(int(i), int(j)) for i, j, _ in pairs}
    planted = {(int(min(a, b)), int(max(a, b))) for a, b in zip(src, dst)}
    verified = bool(np.all(popcount64(h[pairs[:, 0]] ^ h[pairs[:, 1]]) == pairs[:, 2])) and bool(
        np.all(pairs[:, 2] <= args.radius))
    result = {
        "n": args.n, "radius": args.radius, "bands": choose_bands(args.n, args.radius),
        "cpu_seconds": round(c1 - c0, 2), "wall_seconds": round(w1 - w0, 2),
        "peak_rss_mb": round(peak, 1), "rss_before_search_mb": round(before_rss, 1),
        "pairs_reported": len(got), "planted": len(planted), "planted_found": len(planted & got),
        "distances_verified": verified,
    }
    print(json.dumps(result, indent=1))
    return 0 if planted <= got and verified else 1


if __name__ == "__main__":
    sys.exit(main())
