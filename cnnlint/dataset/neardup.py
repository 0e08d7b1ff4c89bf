"""Every pair of 64-bit hashes within a Hamming radius, exactly, in memory linear in their number.

Multi-index hashing (Norouzi, Punjani and Fleet, 2012): the 64 bits are split
into m bands. When two hashes differ in at most r bits, one band differs in at
most floor(r / m) of them (pigeonhole). So for each band every hash looks up
the hashes whose band equals its own band with up to s = floor(r / m) bits
flipped, in a table indexed by the band's value; each candidate pair is then
verified by a popcount of the whole 64 bits. No pair within the radius is
missed; no pair is compared unless it shares a band up to s bits.

m is chosen from a cost model (probes per band times the expected bucket
size); for a million hashes and r = 8 it is three bands of 21-22 bits with two
flips each. Memory: the hashes, one band's table (2^bits counts) and one
probe's candidates at a time. Everything is vectorised with NumPy.
"""

from __future__ import annotations

from itertools import combinations
from math import comb
from typing import List, Tuple

import numpy as np

MAX_BAND_BITS = 24  # a band's table holds 2^bits int32 entries (64 MB at 24 bits)
_CHUNK = 1 << 19  # candidate pairs verified at a time


def popcount64(x: np.ndarray) -> np.ndarray:
    """Bits set in each uint64."""
    if hasattr(np, "bitwise_count"):  # NumPy 2.0+
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)
    return table[np.ascontiguousarray(x, dtype=np.uint64).view(np.uint8).reshape(-1, 8)].sum(axis=1, dtype=np.int64)


def _bands(m: int) -> List[Tuple[int, int]]:
    """(shift, bits) of m bands covering 64 bits, the wider ones first."""
    base, extra = divmod(64, m)
    out, shift = [], 64
    for k in range(m):
        bits = base + (1 if k < extra else 0)
        shift -= bits
        out.append((shift, bits))
    return out


def _probes(bits: int, s: int) -> int:
    return sum(comb(bits, k) for k in range(s + 1))


def choose_bands(n: int, radius: int) -> int:
    """The number of bands with the lowest expected work for n hashes."""
    best, best_cost = 0, float("inf")
    for m in range(1, 65):
        bands = _bands(m)
        bits = min(b for _, b in bands)
        if max(b for _, b in bands) > MAX_BAND_BITS:
            continue
        s = radius // m
        cost = sum(_probes(b, s) * n * (1.0 + n / float(1 << b)) for _, b in bands)
        if cost < best_cost and bits >= 1:
            best, best_cost = m, cost
    return best


def _masks(bits: int, s: int) -> List[int]:
    out = []
    for k in range(s + 1):
        for flipped in combinations(range(bits), k):
            out.append(sum(1 << b for b in flipped))
    return out


def near_pairs(hashes: np.ndarray, radius: int) -> np.ndarray:
    """Rows (i, j, distance), i < j, of every pair with popcount(h[i] ^ h[j]) <= radius; sorted by (i, j)."""
    h = np.ascontiguousarray(hashes, dtype=np.uint64)
    n = len(h)
    if n < 2 or radius < 0:
        return np.zeros((0, 3), dtype=np.int64)
    radius = min(int(radius), 64)
    m = choose_bands(n, radius)
    found: List[np.ndarray] = []
    for shift, bits in _bands(m):
        band = ((h >> np.uint64(shift)) & np.uint64((1 << bits) - 1)).astype(np.int32)
        order = np.argsort(band, kind="stable").astype(np.int32)
        counts = np.bincount(band, minlength=1 << bits).astype(np.int32)
        starts = np.cumsum(counts, dtype=np.int32) - counts
        for mask in _masks(bits, radius // m):
            found += _probe(h, band, order, counts, starts, mask, radius)
    if not found:
        return np.zeros((0, 3), dtype=np.int64)
    pairs = np.concatenate(found)
    keys = np.unique(pairs[:, 0].astype(np.int64) * n + pairs[:, 1])
    i, j = keys // n, keys % n
    return np.stack([i, j, popcount64(h[i] ^ h[j])], axis=1)


def _probe(h, band, order, counts, starts, mask: int, radius: int) -> List[np.ndarray]:
    """Pairs (i, j) with band[j] == band[i] ^ mask, i < j for mask 0, each unordered pair once, verified."""
    if mask:
        top = 1 << (mask.bit_length() - 1)
        queries = np.flatnonzero((band & top) == 0)  # the other end of each pair has the bit set
        target = band[queries] ^ mask
    else:
        queries = np.arange(len(band), dtype=np.int32)
        target = band
    c = counts[target]
    hit = c > 0
    queries, c, first = queries[hit], c[hit], starts[target[hit]]
    if not len(queries):
        return []
    out = []
    total = int(c.sum())
    # expand each query's bucket: candidate k of query q is order[first[q] + k]
    bounds = np.concatenate(([0], np.cumsum(c, dtype=np.int64)))
    step = max(1, len(queries) * _CHUNK // max(total, 1))
    for lo in range(0, len(queries), step):
        hi = min(len(queries), lo + step)
        cq = c[lo:hi]
        i = np.repeat(queries[lo:hi], cq)
        offs = np.arange(int(bounds[hi] - bounds[lo])) - np.repeat(bounds[lo:hi] - bounds[lo], cq)
        j = order[np.repeat(first[lo:hi], cq) + offs]
        if not mask:
            keep = i < j
            i, j = i[keep], j[keep]
        close = popcount64(h[i] ^ h[j]) <= radius
        i, j = i[close], j[close]
        if len(i):
            out.append(np.stack([np.minimum(i, j), np.maximum(i, j)], axis=1))
    return out
