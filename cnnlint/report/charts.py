"""Inline SVG charts for the HTML report: bar geometry computed here, drawn by the template (escaped there)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

MAX_BARS = 24  # bars per chart; beyond it the largest and smallest, and a note for the rest
BAR_H = 18
LABEL_W = 120
PLOT_W = 220


@dataclass
class Bar:
    label: str
    value: int
    y: int
    width: float


@dataclass
class BarChart:
    title: str
    bars: List[Bar]
    height: int
    hidden: int  # bars left out between the largest and the smallest
    label_w: int = LABEL_W
    plot_w: int = PLOT_W

    @property
    def width(self) -> int:
        return self.label_w + self.plot_w + 60


def bar_chart(title: str, rows: Sequence[Tuple[str, int]], keep_order: bool = False) -> BarChart:
    """Horizontal bars, longest = PLOT_W; more than MAX_BARS rows: the largest and smallest halves."""
    rows = list(rows)
    hidden = 0
    if len(rows) > MAX_BARS:
        ranked = sorted(rows, key=lambda r: (-r[1], r[0]))
        rows = ranked[: MAX_BARS // 2] + ranked[-(MAX_BARS // 2):]
        hidden = len(ranked) - len(rows)
    elif not keep_order:
        rows = sorted(rows, key=lambda r: r[0])
    top = max((v for _, v in rows), default=0) or 1
    bars = [Bar(label if len(label) <= 28 else label[:27] + "…", value, 4 + i * BAR_H,
                round(value / top * PLOT_W, 1)) for i, (label, value) in enumerate(rows)]
    return BarChart(title, bars, 8 + len(bars) * BAR_H, hidden)


SIDE_BINS = (0, 32, 64, 128, 256, 512, 1024, 2048, 4096)


def side_histogram(sides: Sequence[int]) -> List[Tuple[str, int]]:
    """Counts of image sides in power-of-two bins: ("<32", n), ("32-63", n), ... (">=4096", n)."""
    counts = [0] * len(SIDE_BINS)
    for s in sides:
        k = 0
        while k + 1 < len(SIDE_BINS) and s >= SIDE_BINS[k + 1]:
            k += 1
        counts[k] += 1
    labels = ["<32"] + [f"{lo}-{hi - 1}" for lo, hi in zip(SIDE_BINS[1:], SIDE_BINS[2:])] + [f">={SIDE_BINS[-1]}"]
    used = [k for k, n in enumerate(counts) if n]
    if not used:
        return []
    return [(labels[k], counts[k]) for k in range(used[0], used[-1] + 1)]  # empty bins at the ends left out
