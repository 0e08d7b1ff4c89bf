"""Image-quality statistics per image, and the images that stand out from their set.

`pixel_facts(im)` runs in the scan's worker on the image `inspect` has just
decoded (no second read or decode): the perceptual hash and an `ImageStats`
from one 32x32 luminance thumbnail. `judge(...)` looks at the statistics of a
whole set at once and says which images are exposure outliers (CNL517), far
blurrier than the rest (CNL518) or carry almost no information (CNL519).

Judged against the set: a set of night pictures or X-rays is dark as a whole,
so "almost black" must also be far darker than the set's median (by a robust
z-score), and a set whose median picture is mostly black has no dark outliers; blur is a variance
of the Laplacian many times under the set's median.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

import numpy as np

from cnnlint.dataset.phash import grey_thumbnail, layout, low_block, phash
from cnnlint.dataset.record import ImageStats

DARK_LEVEL = 23  # thumbnail luminance (0-255) under 24 (six 4-level histogram bins) counts as black
BRIGHT_LEVEL = 236  # ... from 236 (the top five bins) counts as blown out
MIN_SET = 10  # fewer usable images: no judgement against the set
ROBUST_Z = 3.0  # how far (in robust standard deviations of the set's luminance) an exposure outlier lies


@dataclass
class QualityLimits:
    exposure_share: float = 0.9  # CNL517: share of black (or blown-out) pixels
    blur_ratio: float = 8.0  # CNL518: the set's median sharpness over the image's
    min_entropy: float = 1.0  # CNL519: bits
    min_contrast: float = 2.0  # CNL519: luminance standard deviation (0-255)


def stats_of(grey: np.ndarray, side: int = 32) -> ImageStats:
    """Statistics of a 32x32 luminance thumbnail of an image whose shorter decoded side is `side` pixels.

    Every decoded image has 32 pixels a side (a JPEG is decoded at 32 px a side or more) unless the image
    itself is smaller: its sharpness is then unknown, not judged on pixels the thumbnail made up.
    Sharpness divided by the luminance variance: a smooth picture (sky, fog) is not taken for a blurred
    one as often as with the bare Laplacian (measured on photographs: bench/README.md).
    Few whole-array passes (each costs more in call overhead than in arithmetic at this size): the sums
    by dot products, exposure and entropy from one 64-bin histogram."""
    if grey.dtype != np.uint8:
        grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    n = float(grey.size)
    g = grey.astype(np.float64)  # sums of squares of 0-255 values are exact in float64
    flat = g.ravel()
    mean = float(flat.sum()) / n
    var = max(0.0, float(flat @ flat) / n - mean * mean)
    bins = np.bincount(grey.ravel() >> 2, minlength=64)
    p = bins[bins > 0] * (1.0 / n)
    sharpness = -1.0
    if side >= 32:
        lap = (g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4.0 * g[1:-1, 1:-1]).ravel()
        lap_mean = float(lap.sum()) / lap.size
        sharpness = round(max(0.0, float(lap @ lap) / lap.size - lap_mean * lap_mean) / max(var, 1e-6), 5)
    return ImageStats(
        luma=round(mean, 3),
        dark=round(float(bins[:(DARK_LEVEL >> 2) + 1].sum()) / n, 4),
        bright=round(float(bins[BRIGHT_LEVEL >> 2:].sum()) / n, 4),
        contrast=round(var ** 0.5, 3),
        entropy=round(max(0.0, float(-(p @ np.log2(p)))), 4),
        sharpness=sharpness,
    )


def pixel_facts(im) -> Tuple[Optional[int], Optional[ImageStats], Optional[bytes]]:
    """(perceptual hash, statistics, layout) of a decoded Pillow image; Nones when it cannot be thumbnailed."""
    grey = grey_thumbnail(im)
    if grey is None:
        return None, None, None
    low = low_block(grey)
    return phash(grey, low), stats_of(grey, min(im.size)), layout(low)


@dataclass
class Outlier:
    index: int  # into the arrays judged
    code: str  # CNL517, CNL518 or CNL519
    message: str


def _robust(values: np.ndarray) -> Tuple[float, float]:
    """Median and robust standard deviation (1.4826 x MAD, at least 1)."""
    med = float(np.median(values))
    return med, max(1.4826 * float(np.median(np.abs(values - med))), 1.0)


def judge(stats: np.ndarray, limits: QualityLimits) -> List[Outlier]:
    """Outliers among rows of (luma, dark, bright, contrast, entropy, sharpness): each image at most once,
    under the first that holds of exposure, low information, blur."""
    n = len(stats)
    if n < MIN_SET:
        return []
    luma, dark, bright, contrast, entropy, sharp = (stats[:, i] for i in range(6))
    out: Dict[int, Outlier] = {}
    med, sd = _robust(luma)
    # a set whose typical picture is itself mostly black (night shots, X-rays) has no dark outliers
    dark_set, bright_set = float(np.median(dark)) >= 0.5, float(np.median(bright)) >= 0.5
    for i in np.flatnonzero((dark >= limits.exposure_share) & (luma < med - ROBUST_Z * sd) & (not dark_set)):
        out[int(i)] = Outlier(int(i), "CNL517", (
            f"almost black: {dark[i]:.0%} of the pixels are black (mean luminance {luma[i]:.0f} of 255, "
            f"the set's median is {med:.0f})"))
    for i in np.flatnonzero((bright >= limits.exposure_share) & (luma > med + ROBUST_Z * sd) & (not bright_set)):
        out[int(i)] = Outlier(int(i), "CNL517", (
            f"blown out: {bright[i]:.0%} of the pixels are white (mean luminance {luma[i]:.0f} of 255, "
            f"the set's median is {med:.0f})"))
    low = (contrast < limits.min_contrast) | (entropy < limits.min_entropy)
    if int(low.sum()) * 2 <= n:  # most of the set like this: it is the set's nature (masks, line art)
        for i in np.flatnonzero(low):
            if int(i) not in out:
                out[int(i)] = Outlier(int(i), "CNL519", (
                    f"almost no information: luminance spread {contrast[i]:.1f} of 255, "
                    f"{entropy[i]:.2f} bits of entropy (a blank frame or a placeholder?)"))
    known = sharp >= 0
    typical = float(np.median(sharp[known])) if int(known.sum()) >= MIN_SET else 0.0
    if typical > 0:
        for i in np.flatnonzero(known & (sharp * limits.blur_ratio < typical)):
            if int(i) not in out:
                ratio = typical / max(float(sharp[i]), 1e-3)
                out[int(i)] = Outlier(int(i), "CNL518", (
                    f"far blurrier than the set: sharpness {sharp[i]:.3f} (variance of the Laplacian over the "
                    f"variance, on a 32x32 thumbnail), {ratio:,.0f}x under the set's median {typical:.3f}"))
    return [out[i] for i in sorted(out)]
