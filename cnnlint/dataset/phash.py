"""A 64-bit perceptual hash of an image, from the pixels the scan already decoded.

`grey_thumbnail` turns a decoded Pillow image (a JPEG is decoded at reduced
scale, see inspect._decode) into a 32x32 float32 luminance array; `phash`
and `dhash` hash that array. The scan stores `phash`: measured on real
photographs (bench/hash_robustness.py, numbers in bench/README.md) it keeps
re-encoded, resized and brightened copies within the default radius about as
well as dHash, at a false-match rate between distinct images 160 times lower.

pHash: the 2-D DCT-II of the 32x32 thumbnail, the 8x8 lowest frequencies,
one bit per coefficient: above the median of the 64 (by a small dead zone) or not.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
from PIL import Image

from cnnlint.dataset.record import LAYOUT_BYTES

# A coefficient must lie this far above the median to give a 1. Smooth pictures (a sky, a gradient) have
# many low-frequency coefficients within a hair of the median, which re-encoding flips at random; measured
# on photographs and wallpapers (bench/hash_robustness.py), 1.5 (a pattern of about 0.1 grey level) keeps
# every re-encode and resize within 8 bits but JPEG q30's 99.4%, at 0.34 false pairs in 10,000.
DEAD_ZONE = 1.5
THUMB = 32  # side of the luminance thumbnail the hashes and the quality statistics read (bilinear: no steps)
_WIDE = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2.0)
    return m.astype(np.float64)


_DCT8 = np.ascontiguousarray(_dct_matrix(32)[:8]).astype(np.float32)  # the 8 lowest frequencies: 8x32
_DCT8T = np.ascontiguousarray(_DCT8.T)
MIN_SIDE = 32  # a JPEG is drafted to the smallest scale that keeps this many pixels a side


def jpeg_scale(size: Tuple[int, int]) -> int:
    """The reduction (8, 4, 2 or 1) a JPEG of this size is decoded at: the largest whose scaled sides,
    rounded up as libjpeg rounds them, keep MIN_SIDE pixels (or the whole side, if it is shorter)."""
    for k in (8, 4, 2):
        if all(-(-side // k) >= min(side, MIN_SIDE) for side in size):
            return k
    return 1


def draft_size(size: Tuple[int, int]) -> Tuple[int, int]:
    """The size to ask Image.draft for so that it picks jpeg_scale: Pillow picks the largest scale k with
    side // asked >= k, so asking for side // k pixels picks k (asking for 32 at 255 px would pick 1/4)."""
    k = jpeg_scale(size)
    return tuple(max(1, side // k) for side in size)  # type: ignore[return-value]


def box_factor(size: Tuple[int, int]) -> int:
    """The reduction a JPEG draft makes of an image this size (libjpeg's DCT scaling is a box average);
    other formats are reduced by it too, so a PNG and its JPEG copy reach the thumbnail alike."""
    return jpeg_scale(size)


def grey_thumbnail(im: Image.Image) -> Optional[np.ndarray]:
    """The image as a THUMB x THUMB uint8 array of luminance (aspect not kept); None if impossible.

    A JPEG arrives decoded at reduced scale (inspect._decode drafts it); any other image is first reduced
    by the same box factor, then both are resized bilinearly."""
    mode = im.mode
    try:
        k = box_factor(im.size) if im.format != "JPEG" else 1
        if k > 1 and mode not in ("P", "PA", "1"):
            im = im.reduce(k)
        if mode in _WIDE:
            f = im.convert("F").resize((THUMB, THUMB), Image.BILINEAR)  # type: ignore[attr-defined]
            a = np.frombuffer(f.tobytes(), dtype=np.float32)
            top = 65535.0 if mode.startswith("I;16") else max(float(np.max(a)), 1.0)
            return np.clip(a * (255.0 / top) + 0.5, 0.0, 255.0).astype(np.uint8).reshape(THUMB, THUMB)
        if mode != "L":
            im = im.convert("L")  # on the reduced image: one channel to resize
        small = im.resize((THUMB, THUMB), Image.BILINEAR, reducing_gap=2.0)  # type: ignore[attr-defined]
        return np.frombuffer(small.tobytes(), dtype=np.uint8).reshape(THUMB, THUMB)  # one copy, read-only
    except Exception:  # noqa: BLE001 - a hash is never worth an error on a decoded image
        return None


def low_block(grey: np.ndarray) -> np.ndarray:
    """The 8x8 lowest DCT frequencies of a 32x32 luminance array (D8 . X . D8^T in float32), flattened."""
    return (_DCT8 @ grey.astype(np.float32) @ _DCT8T).ravel()


def phash(grey: np.ndarray, low: Optional[np.ndarray] = None) -> int:
    """64-bit DCT hash of a 32x32 luminance array: one bit per low coefficient, above the median or not."""
    low = low_block(grey) if low is None else low
    mid = np.partition(low, (31, 32))
    return int.from_bytes(np.packbits(low > (float(mid[31]) + float(mid[32])) * 0.5 + DEAD_ZONE).tobytes(), "big")


# Two hashes within the radius are one picture only if their low coefficients also correlate this well: a
# re-encoded, resized or brightened copy correlates above 0.99, two distinct pictures whose coefficients
# fall on the same sides of the median far less (the 20k benchmark's false pair: 0.46; bench/README.md)
MIN_CORRELATION = 0.8


def layout(low: np.ndarray) -> bytes:
    """The 63 low AC coefficients as int8, scaled to the largest: what `same_layout` compares."""
    ac = low[1:]
    top = float(np.abs(ac).max())
    if not top > 0:
        return bytes(LAYOUT_BYTES)
    return np.rint(ac * (127.0 / top)).astype(np.int8).tobytes()


def same_layout(a: Optional[bytes], b: Optional[bytes]) -> bool:
    """Whether two layouts correlate at MIN_CORRELATION or more; True when either is unknown or flat
    (nothing to tell them apart by: the hash alone decides)."""
    if not a or not b:
        return True
    x = np.frombuffer(a, dtype=np.int8).astype(np.float64)
    y = np.frombuffer(b, dtype=np.int8).astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    norm = float(np.sqrt((x @ x) * (y @ y)))
    return norm == 0.0 or float(x @ y) / norm >= MIN_CORRELATION


def dhash(grey: np.ndarray) -> int:
    """64-bit difference hash (horizontal gradient signs on a 9x8 resize), kept for the measurement."""
    small = np.asarray(Image.fromarray(grey.astype(np.float32)).resize((9, 8), Image.BOX), dtype=np.float32)  # type: ignore[attr-defined]
    return int.from_bytes(np.packbits(small[:, 1:] > small[:, :-1]).tobytes(), "big")


def to_signed(h: int) -> int:
    """A 64-bit hash as SQLite's signed INTEGER holds it."""
    return h - (1 << 64) if h >= (1 << 63) else h


def from_signed(v: int) -> int:
    return v + (1 << 64) if v < 0 else v
