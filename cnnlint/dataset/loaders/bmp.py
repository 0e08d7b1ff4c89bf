"""BMP header facts, and what TensorFlow's BMP kernel does with them.

TensorFlow 2.21's `DecodeBmpV2` (tensorflow/core/kernels/image/decode_image_op.cc)
reads four fields and nothing else: the pixel-data offset (byte 10), width
(18) and height (22) as 32-bit integers, and bits per pixel (28) as 16 bits.
It never reads the header size, the compression or the palette. It takes
bpp / 8 channels and requires 1, 3 or 4; a positive width and a non-zero
height; and a file that ends exactly where offset + rows x padded row size
ends. Then it copies bytes: one channel as grey, three as BGR, four as BGRA.

So 1-, 2-, 4- and 16-bit BMPs fail; RLE-compressed ones, ones with an ICC
profile or other bytes after the pixels, and OS/2 1.x ones (16-bit width
and height fields, read as 32-bit) fail the size check; an 8-bit palette BMP
decodes as its palette indices (grey); a 32-bit BMP whose bit masks are not
BGRA comes out with its channels swapped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Optional, Tuple

BGRA_MASKS = (0xFF0000, 0xFF00, 0xFF)
_COMPRESSIONS = {1: "RLE8-compressed", 2: "RLE4-compressed", 4: "JPEG-compressed", 5: "PNG-compressed"}


@dataclass
class BmpFacts:
    header_size: int
    offset: int  # where TensorFlow takes the pixels to start
    width: int  # as TensorFlow reads them (32-bit, whatever the header version)
    height: int
    bpp: int  # at byte 28 (for an OS/2 1.x header that is not the bit depth)
    real_bpp: int  # the bit depth the header version stores
    compression: int
    masks: Optional[Tuple[int, int, int]]
    grey_palette: Optional[bool]  # palette entries i = (i, i, i); None: no palette read


def facts(head: bytes) -> Optional[BmpFacts]:
    if len(head) < 32 or head[:2] != b"BM":
        return None
    offset, = struct.unpack_from("<i", head, 10)
    header_size, = struct.unpack_from("<I", head, 14)
    width, height = struct.unpack_from("<ii", head, 18)
    bpp, = struct.unpack_from("<h", head, 28)
    real_bpp, compression, masks = bpp, 0, None
    if header_size == 12:
        real_bpp, = struct.unpack_from("<H", head, 24)
    elif len(head) >= 34:
        compression, = struct.unpack_from("<I", head, 30)
        if compression in (3, 6) and header_size != 64:  # OS/2 2.x: 3 means Huffman 1D, no masks
            if len(head) >= 66:  # after a 40-byte header, or inside a longer one: at byte 54 either way
                masks = struct.unpack_from("<III", head, 54)
    return BmpFacts(header_size, offset, width, height, bpp, real_bpp, compression, masks,
                    _grey_palette(head, header_size, real_bpp, compression))


def _grey_palette(head: bytes, header_size: int, bpp: int, compression: int) -> Optional[bool]:
    if bpp != 8 or header_size == 12:
        return None
    start = 14 + header_size + (12 if compression == 3 and header_size == 40 else 0)
    used, = struct.unpack_from("<I", head, 46) if len(head) >= 50 else (0,)
    n = used or 256
    table = head[start:start + 4 * n]
    if len(table) < 4 * n:
        return None
    return all(table[4 * i] == table[4 * i + 1] == table[4 * i + 2] == i for i in range(n))


def tensorflow(f: BmpFacts, size: int) -> Tuple[Optional[str], Optional[str]]:
    """(why TensorFlow fails on it, why it alters it); None where it does not."""
    channels = int(f.bpp / 8) if f.bpp >= 0 else -int(-f.bpp / 8)
    what = _what(f)
    if channels not in (1, 3, 4):
        if f.header_size == 12:
            return f"TensorFlow's BMP decoder reads OS/2 1.x headers (12 bytes) as Windows ones ({what})", None
        return (f"TensorFlow's BMP decoder takes only 8-, 24- and 32-bit BMPs; this one is {what}", None)
    if f.width <= 0 or f.height == 0 or f.offset < 0:
        return f"TensorFlow's BMP decoder rejects its header (width {f.width}, height {f.height})", None
    if f.width * abs(f.height) >= (2**31 - 1) // 8:
        return "TensorFlow's BMP decoder refuses images over 2^30 pixel bytes", None
    row = (channels * f.width + 3) // 4 * 4
    diff = size - f.offset - row * abs(f.height)
    if diff != 0:
        cause = _size_cause(f, diff)
        return (f"TensorFlow's BMP decoder needs the file to end where the pixel rows end, and this one "
                f"{'has ' + str(diff) + ' bytes more' if diff > 0 else 'is ' + str(-diff) + ' bytes short'} ({cause})",
                None)
    if channels == 1 and f.grey_palette is False:
        return None, "TensorFlow reads an 8-bit BMP's palette indices as grey levels: its colours are lost"
    if channels == 4 and f.compression in (3, 6) and f.masks is not None and tuple(f.masks) != BGRA_MASKS:
        return None, ("TensorFlow reads 32-bit BMP pixels as BGRA, but this file's bit masks order them "
                      "otherwise: the colour channels come out swapped")
    return None, None


def _what(f: BmpFacts) -> str:
    text = f"{f.real_bpp}-bit"
    if f.compression in _COMPRESSIONS:
        text += ", " + _COMPRESSIONS[f.compression]
    return text


def _size_cause(f: BmpFacts, diff: int) -> str:
    if f.header_size == 12:
        return "an OS/2 1.x header, read as a Windows one"
    if f.compression in _COMPRESSIONS:
        return _COMPRESSIONS[f.compression]
    if f.header_size == 124 and diff > 0:
        return "an ICC profile or other data after the pixels"
    return "data after the pixels" if diff > 0 else "cut short"
