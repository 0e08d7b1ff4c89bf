"""Memory sizes, and the straight line memory = fixed + per-sample x batch size."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

from cnnlint.sizes import GIB, MIB

T4_BYTES = 15 * GIB  # a Colab T4: 15 GiB usable
DEFAULT_MARGIN = 0.10


def human(nbytes: float) -> str:
    if nbytes >= GIB:
        return f"{nbytes / GIB:.2f} GiB"
    return f"{nbytes / MIB:.1f} MiB"


@dataclass(frozen=True)
class Line:
    fixed: float  # bytes
    per_sample: float  # bytes per sample of batch

    def predict(self, batch: int) -> float:
        return self.fixed + self.per_sample * batch


def fit_line(points: Sequence[Tuple[int, float]]) -> Optional[Line]:
    """The line through the pair of points with the largest slope (the cautious choice);
    None with fewer than two distinct batch sizes or when memory did not grow."""
    pts = sorted({b: m for b, m in points}.items())
    best: Optional[Line] = None
    for i in range(len(pts)):
        for j in range(i + 1, len(pts)):
            (b1, m1), (b2, m2) = pts[i], pts[j]
            slope = (m2 - m1) / (b2 - b1)
            if best is None or slope > best.per_sample:
                best = Line(m1 - slope * b1, slope)
    if best is None or best.per_sample <= 0:
        return None
    return best


def largest_batch(line: Line, target: float, context: float = 0.0, margin: float = DEFAULT_MARGIN) -> int:
    """The largest batch size whose predicted memory plus the CUDA context fits target less the margin,
    rounded down to a multiple of 8 (below 8: the exact value; 0 when not even one sample fits)."""
    budget = target * (1.0 - margin) - context - line.fixed
    if budget < line.per_sample:
        return 0
    n = int(budget // line.per_sample)
    return n - n % 8 if n >= 8 else n
