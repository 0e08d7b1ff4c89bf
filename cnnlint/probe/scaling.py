"""Memory sizes, and the straight line memory = fixed + per-sample x batch size."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

GIB = 1024 ** 3
MIB = 1024 ** 2
T4_BYTES = 15 * GIB  # a Colab T4: 15 GiB usable
DEFAULT_MARGIN = 0.10

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000 ** 2, "mb": 1000 ** 2, "g": 1000 ** 3, "gb": 1000 ** 3, "t": 1000 ** 4, "tb": 1000 ** 4,
    "kib": 1024, "mib": MIB, "gib": GIB, "tib": 1024 ** 4,
}
_SIZE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """`15GiB`, `16GB`, `40 G`, `8000MiB`, `1.5GiB` -> bytes. A bare number is GiB."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"cannot read the size {text!r} (expected e.g. 15GiB, 16GB or 8000MiB)")
    unit = m.group("unit").lower()
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {m.group('unit')!r} in {text!r} (use GiB, GB, MiB or MB)")
    factor = GIB if unit == "" else _UNITS[unit]
    value = float(m.group("num")) * factor
    if value < MIB:
        raise ValueError(f"{text!r} is too small for a GPU memory size")
    return int(value)


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
