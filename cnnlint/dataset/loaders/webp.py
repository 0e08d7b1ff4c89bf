"""WebP container facts, and what TensorFlow's WebP decoder does with them.

TensorFlow 2.21 decodes WebP with libwebp: under channels=3 (what Keras and
most tf.data pipelines ask for) a WebP with alpha fails ("WebP only supports
3 or 4 channels" for the alpha image asked as RGB) and an animated one fails
("WebP Animation must be 4 channel RGBA"). Alpha is read where libwebp's
WebPGetFeatures reads it: the VP8X flags, or the alpha bit of a lossless
(VP8L) header; a simple lossy (VP8) file has none.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional, Tuple


@dataclass
class WebpFacts:
    alpha: bool
    animated: bool
    exif: bool


def facts(head: bytes) -> Optional[WebpFacts]:
    if len(head) < 21 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    kind = head[12:16]
    if kind == b"VP8X":
        flags = head[20]
        return WebpFacts(bool(flags & 0x10), bool(flags & 0x02), bool(flags & 0x08))
    if kind == b"VP8L" and len(head) >= 25:
        bits, = struct.unpack_from("<I", head, 21)
        return WebpFacts(bool(bits >> 28 & 1), False, False)
    return WebpFacts(False, False, False)


def tensorflow(f: WebpFacts) -> Tuple[Optional[str], Optional[str]]:
    """(why TensorFlow fails on it under channels=3, why it alters it); None where it does not."""
    if f.animated:
        return ("TensorFlow decodes animated WebP only as 4-channel RGBA frames, so channels=3 fails "
                "(plain tf.io.decode_image(x) returns a 4-D tensor)"), None
    if f.alpha:
        return "TensorFlow's WebP decoder cannot drop alpha: a WebP with alpha fails under channels=3", None
    return None, None
