"""The near-duplicate index: exact against brute force, the band choice, the popcount fallback."""

import numpy as np
import pytest

from cnnlint.dataset import neardup
from cnnlint.dataset.neardup import choose_bands, near_pairs, popcount64


def _brute(h, radius):
    n = len(h)
    i, j = np.triu_indices(n, 1)
    d = popcount64(h[i] ^ h[j])
    keep = d <= radius
    return np.stack([i[keep], j[keep], d[keep]], axis=1)


def _clustered(n, seed, max_flips=14):
    """Half random hashes, half copies of them with 0..max_flips bits flipped: pairs at every distance."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, np.iinfo(np.uint64).max, size=n // 2, dtype=np.uint64, endpoint=True)
    copies = base[rng.integers(0, len(base), size=n - n // 2)].copy()
    for k in range(len(copies)):
        for bit in rng.choice(64, size=int(rng.integers(0, max_flips + 1)), replace=False):
            copies[k] ^= np.uint64(1) << np.uint64(int(bit))
    return np.concatenate([base, copies])


@pytest.mark.parametrize("n,radius", [(2000, 8), (1500, 3), (1200, 12), (600, 0), (800, 20), (300, 64)])
def test_every_pair_within_the_radius_and_no_other(n, radius):
    h = _clustered(n, seed=n + radius)
    got = near_pairs(h, radius)
    want = _brute(h, radius)
    assert len(want) > 0
    assert got.tolist() == want.tolist()


def test_identical_hashes_and_tiny_inputs():
    h = np.array([5, 5, 5, 7], dtype=np.uint64)
    assert near_pairs(h, 0).tolist() == [[0, 1, 0], [0, 2, 0], [1, 2, 0]]
    assert near_pairs(h, 1).tolist() == [[0, 1, 0], [0, 2, 0], [0, 3, 1], [1, 2, 0], [1, 3, 1], [2, 3, 1]]
    assert near_pairs(np.array([1], dtype=np.uint64), 8).shape == (0, 3)
    assert near_pairs(np.array([], dtype=np.uint64), 8).shape == (0, 3)


def test_top_bit_hashes():
    """Hashes with the highest bit set (negative as int64) are handled as unsigned."""
    top = np.uint64(1) << np.uint64(63)
    h = np.array([top | np.uint64(3), top | np.uint64(1), np.uint64(3)], dtype=np.uint64)
    assert near_pairs(h, 1).tolist() == [[0, 1, 1], [0, 2, 1]]


def test_band_choice_follows_the_cost_model():
    # a million hashes at radius 8: three bands of 21-22 bits, each searched with up to two flipped bits
    assert choose_bands(1_000_000, 8) == 3
    assert neardup._bands(3) == [(42, 22), (21, 21), (0, 21)]
    # radius 0: bands as wide as the table allows
    assert choose_bands(1000, 0) == 3


def test_popcount_fallback_matches(monkeypatch):
    x = np.array([0, 1, 2**64 - 1, 0x8000000000000001, 0x0F0F], dtype=np.uint64)
    want = [0, 1, 64, 2, 8]
    assert popcount64(x).tolist() == want
    monkeypatch.delattr(np, "bitwise_count", raising=False)
    assert popcount64(x).tolist() == want
