"""What the per-file inspection learns about one file of a dataset.

The contract between the inspection (`cnnlint.dataset.inspect` / `scan`: one
file at a time, in worker processes, cached) and the aggregation (layout,
class counts, duplicates, leakage, report), which sees one ImageRecord per
file as a stream and keeps only per-class counters and one digest per image.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from cnnlint.dataset.loaders import FAILS, LOADERS, SKIPPED, Effect, listed, outcomes
from cnnlint.findings import Finding


# how a report names each image mode
MODE_NAMES = {
    "RGB": "RGB", "L": "grayscale (L)", "LA": "grayscale with alpha (LA)", "RGBA": "RGBA (with alpha)",
    "P": "palette (P)", "PA": "palette with alpha (PA)", "CMYK": "CMYK", "1": "1-bit black and white",
    "YCbCr": "YCbCr", "16-bit": "16-bit",
}


@dataclass(frozen=True)
class ImageStats:
    """Luminance statistics of an image's 32x32 thumbnail (cnnlint.dataset.quality computes and judges them)."""

    luma: float  # mean luminance, 0-255
    dark: float  # share of thumbnail pixels at or under quality.DARK_LEVEL
    bright: float  # share at or over quality.BRIGHT_LEVEL
    contrast: float  # standard deviation of the luminance
    entropy: float  # bits, of a 64-bin luminance histogram
    # variance of the 4-neighbour Laplacian over the variance of the luminance, at 32x32 (scale-free: how much
    # of the picture's contrast is fine detail); -1: unknown (the image has fewer pixels)
    sharpness: float

    def as_tuple(self) -> Tuple[float, ...]:
        return (self.luma, self.dark, self.bright, self.contrast, self.entropy, self.sharpness)


LAYOUT_BYTES = 63  # the low DCT coefficients (int8) kept per image for the near-pair check


@dataclass
class ImageRecord:
    path: str  # as shown to the user (display_path)
    real_path: str  # absolute
    size: int = 0  # bytes; 0 when unknown
    mtime_ns: int = 0
    # by magic bytes: "JPEG", "PNG", "GIF", "BMP", "WEBP", "TIFF", "PPM", ...; None: not an image
    format: Optional[str] = None
    mode: Optional[str] = None  # Pillow's mode: "1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16", "I", "F", ...
    bits: Optional[int] = None  # bits per channel: 1, 8 or 16
    width: Optional[int] = None
    height: Optional[int] = None
    frames: int = 1
    orientation: Optional[int] = None  # EXIF orientation tag when present (1 = upright)
    digest: Optional[bytes] = None  # content hash of the file's bytes (16 bytes); None when unread
    decoded: bool = False  # a full decode succeeded (False under --quick: not attempted)
    # an RGB image whose pixels have colour (False: R = G = B, a grey picture stored as RGB); None: not known
    colour: Optional[bool] = None
    phash: Optional[int] = None  # 64-bit perceptual hash of the decoded pixels (cnnlint.dataset.phash)
    stats: Optional[ImageStats] = None  # luminance statistics for the quality outliers (CNL517-519)
    layout: Optional[bytes] = None  # its 63 low DCT coefficients (int8): near pairs are checked on them
    # what each training loader does with it (cnnlint.dataset.loaders): skips, fails on or alters it; none: ok
    effects: List[Effect] = field(default_factory=list)
    # per-file findings: CNL501-503, CNL511-514, made in the worker
    findings: List[Finding] = field(default_factory=list)

    def loaders(self) -> Dict[str, str]:
        """Each loader's outcome: ok, skipped, fails or altered. A file refused before the loader model
        (over the pixel limit, unreadable, crashing the decoder) fails in every loader that lists it."""
        if not self.effects and any(f.severity.value == "error" for f in self.findings):
            name = os.path.basename(self.path)
            return {ld: FAILS if listed(ld, name) else SKIPPED for ld in LOADERS}
        return outcomes(self.effects)

    @property
    def is_image(self) -> bool:
        """A file the aggregates count as an image: its content is an image format."""
        return self.format is not None

    @property
    def usable(self) -> bool:
        """An image with readable header facts and no error-severity finding."""
        return self.is_image and self.width is not None and not any(
            f.severity.value == "error" for f in self.findings
        )
