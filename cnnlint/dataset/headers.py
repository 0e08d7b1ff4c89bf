"""The sizes an image file declares, read from its raw bytes before any decoder runs.

Pillow's `Image.open` reports the canvas of the first frame only. A hostile
file hides its allocations elsewhere: a GIF frame whose extents are larger
than the canvas (Pillow grows the canvas to fit it), an APNG or animated WebP
frame, a TIFF page after the first, a strip or tile, an ICO entry whose
embedded PNG is far larger than the directory says. These parsers walk the
container structure (chunks, blocks, IFDs, directory entries) without
decompressing anything and return every size found, for `budget` to judge.

Each parser reads at most the bytes it is given, never raises on malformed
input (a structure that stops early ends the walk), and is linear in the
file size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Set, Tuple

_MAX_ENTRIES = 100_000  # IFDs, ICO entries: more than any real file has


@dataclass
class Declared:
    """What a file's headers declare. `areas`: (what, width, height, bytes per pixel) of every
    buffer a decoder sizes from them; `blocks`: (what, bytes) of raw buffers read whole."""

    frames: int = 1
    canvas: Optional[Tuple[int, int]] = None  # the size Pillow reports on opening it, when known
    areas: List[Tuple[str, int, int, int]] = field(default_factory=list)
    blocks: List[Tuple[str, int]] = field(default_factory=list)


def _u24(data, pos: int) -> int:
    return data[pos] | data[pos + 1] << 8 | data[pos + 2] << 16


def gif(data) -> Declared:
    """Canvas, every frame's extents (Pillow grows the canvas to the union of them) and the frame count."""
    out = Declared(frames=0)
    end = len(data)
    if end < 13:
        return out
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    out.areas.append(("canvas", width, height, 1))
    out.canvas = (width, height)
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    right, bottom = width, height
    while pos < end:
        kind = data[pos]
        if kind == 0x21:  # extension: label, then sub-blocks
            pos = _skip_blocks(data, pos + 2)
        elif kind == 0x2C:  # image descriptor
            if pos + 10 > end:
                break
            x, y, w, h, fflags = struct.unpack_from("<HHHHB", data, pos + 1)
            out.frames += 1
            right, bottom = max(right, x + w), max(bottom, y + h)
            pos += 10 + (3 << ((fflags & 7) + 1) if fflags & 0x80 else 0)
            pos = _skip_blocks(data, pos + 1)  # the LZW minimum code size, then the data
        else:  # 0x3B trailer, or garbage: the decoders stop here too
            break
    if (right, bottom) != (width, height):
        out.areas.append(("canvas grown to its frames' extents", right, bottom, 1))
    out.frames = max(1, out.frames)
    if out.frames > 1:  # the frames after the first are composed in RGB or RGBA
        out.areas = [(name, w, h, 4) for name, w, h, _ in out.areas]
    return out


def _skip_blocks(data, pos: int) -> int:
    end = len(data)
    while pos < end:
        size = data[pos]
        pos += 1 + size
        if size == 0:
            break
    return pos


def png(data) -> Declared:
    """IHDR, the APNG frame count (acTL) and every frame's extents (fcTL), compressed metadata chunks."""
    out = Declared()
    pos, end = 8, len(data)
    while pos + 8 <= end:
        length, cid = struct.unpack_from(">I4s", data, pos)
        body = pos + 8
        if cid == b"IHDR" and body + 13 <= end:
            w, h = struct.unpack_from(">II", data, body)
            out.areas.append(("canvas", w, h, 4))  # Pillow holds at most 4 bytes a pixel
            out.canvas = (w, h)
        elif cid == b"acTL" and body + 8 <= end:
            out.frames = max(1, struct.unpack_from(">I", data, body)[0])
        elif cid == b"fcTL" and body + 20 <= end:
            w, h, x, y = struct.unpack_from(">IIII", data, body + 4)
            out.areas.append(("an animation frame", x + w, y + h, 4))
        elif cid in (b"iCCP", b"zTXt", b"iTXt"):
            out.blocks.append((f"a compressed {cid.decode('latin-1')} chunk", length))
        elif cid == b"IEND" or (cid == b"IDAT" and out.frames == 1):
            break  # no acTL before the image data: not animated; later text chunks Pillow bounds itself
        pos = body + length + 4
    return out


def webp(data) -> Declared:
    """The VP8X canvas, every ANMF frame's extents, the VP8/VP8L bitstream sizes."""
    out = Declared(frames=0)
    pos, end = 12, len(data)
    while pos + 8 <= end:
        cid = bytes(data[pos:pos + 4])
        length, = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if cid == b"VP8X" and body + 10 <= end:
            out.canvas = (_u24(data, body + 4) + 1, _u24(data, body + 7) + 1)
            out.areas.append(("canvas", out.canvas[0], out.canvas[1], 4))
        elif cid == b"ANMF" and body + 12 <= end:
            x, y = 2 * _u24(data, body), 2 * _u24(data, body + 3)
            w, h = _u24(data, body + 6) + 1, _u24(data, body + 9) + 1
            out.areas.append(("an animation frame", x + w, y + h, 4))
            out.frames += 1
            body += 16  # the frame's own bitstream chunks follow its header
            length = 0
            pos = body
            continue
        elif cid == b"VP8 " and body + 10 <= end:
            w, h = struct.unpack_from("<HH", data, body + 6)
            out.areas.append(("the VP8 bitstream", w & 0x3FFF, h & 0x3FFF, 4))
        elif cid == b"VP8L" and body + 5 <= end:
            bits, = struct.unpack_from("<I", data, body + 1)
            out.areas.append(("the VP8L bitstream", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, 4))
        pos = body + length + (length & 1)
    out.frames = max(1, out.frames)
    return out


_TIFF_TYPES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}


def tiff(data) -> Declared:
    """Every page (IFD): its size, samples, bits, strips or tiles and their byte counts."""
    out = Declared(frames=0)
    end = len(data)
    if end < 8 or data[2:4] not in (b"*\x00", b"\x00*"):
        return out  # BigTIFF: Pillow's own header facts only
    order = "<" if data[:2] == b"II" else ">"
    offset, = struct.unpack_from(order + "I", data, 4)
    seen: Set[int] = set()
    while 8 <= offset < end and offset not in seen and len(seen) < _MAX_ENTRIES:
        seen.add(offset)
        tags = _ifd(data, order, offset)
        if tags is None:
            break
        out.frames += 1
        _tiff_page(out, tags, len(seen))
        if out.canvas is None:
            out.canvas = (tags.get(256, (0, 0))[0], tags.get(257, (0, 0))[0])
        next_at = offset + 2 + 12 * _u16(data, order, offset)
        if next_at + 4 > end:
            break
        offset, = struct.unpack_from(order + "I", data, next_at)
    out.frames = max(1, out.frames)
    return out


def _u16(data, order: str, pos: int) -> int:
    return struct.unpack_from(order + "H", data, pos)[0]


def _ifd(data, order: str, offset: int) -> Optional[Dict[int, Tuple[int, int]]]:
    """tag -> (first value, largest value) for the numeric tags that size buffers."""
    end = len(data)
    if offset + 2 > end:
        return None
    count = _u16(data, order, offset)
    tags: Dict[int, Tuple[int, int]] = {}
    for i in range(count):
        at = offset + 2 + 12 * i
        if at + 12 > end:
            break
        tag, kind, n = struct.unpack_from(order + "HHI", data, at)
        if tag not in _SIZE_TAGS or kind not in _TIFF_TYPES or n == 0:
            continue
        code, size = _TIFF_TYPES[kind]
        where = at + 8 if size * n <= 4 else struct.unpack_from(order + "I", data, at + 8)[0]
        n = min(n, max(0, (end - where) // size))
        if n == 0:
            continue
        values = struct.unpack_from(f"{order}{n}{code}", data, where)
        tags[tag] = (values[0], max(values))
    return tags


# ImageWidth, ImageLength, BitsPerSample, SamplesPerPixel, RowsPerStrip, StripByteCounts,
# TileWidth, TileLength, TileByteCounts
_SIZE_TAGS = frozenset((256, 257, 258, 277, 278, 279, 322, 323, 325))


def _tiff_page(out: Declared, tags: Dict[int, Tuple[int, int]], page: int) -> None:
    width, height = tags.get(256, (0, 0))[0], tags.get(257, (0, 0))[0]
    samples = max(1, tags.get(277, (1, 1))[0])
    bits = max(1, tags.get(258, (1, 1))[1])
    pixel = max(4, (samples * bits + 7) // 8)
    where = "" if page == 1 else f" of page {page}"
    out.areas.append((f"the image{where}", width, height, pixel))
    if 322 in tags and 323 in tags:
        out.areas.append((f"a tile{where}", tags[322][0], tags[323][0], pixel))
        counts = tags.get(325)
    else:
        rows = min(tags.get(278, (height, height))[0], height) if height else tags.get(278, (0, 0))[0]
        out.areas.append((f"a strip{where}", width, rows, pixel))
        counts = tags.get(279)
    if counts is not None:
        out.blocks.append((f"the largest strip or tile{where} (its declared byte count)", counts[1]))


def ico(data) -> Declared:
    """Every directory entry's embedded image: a PNG's IHDR or a BMP's header, not the entry's own
    (at most 256 x 256) size, which the decoder does not use."""
    out = Declared()
    end = len(data)
    if end < 6:
        return out
    count = min(_u16(data, "<", 4), _MAX_ENTRIES)
    for i in range(count):
        entry = 6 + 16 * i
        if entry + 16 > end:
            break
        size, offset = struct.unpack_from("<II", data, entry + 8)
        out.blocks.append((f"entry {i + 1}", min(size, end)))
        if offset + 24 > end:
            continue
        if data[offset:offset + 8] == b"\x89PNG\r\n\x1a\n":
            w, h = struct.unpack_from(">II", data, offset + 16)
            out.areas.append((f"the PNG of entry {i + 1}", w, h, 4))
        else:
            w, h = struct.unpack_from("<ii", data, offset + 4)
            out.areas.append((f"the bitmap of entry {i + 1}", abs(w), abs(h) // 2, 4))
    return out


PARSERS: Dict[str, Callable[..., Declared]] = {
    "GIF": gif, "PNG": png, "WEBP": webp, "TIFF": tiff, "ICO": ico,
}


def declared(fmt: str, data) -> Optional[Declared]:
    """The sizes a file of `fmt` declares, or None for a format read from Pillow's header facts only."""
    parser = PARSERS.get(fmt)
    if parser is None:
        return None
    try:
        return parser(data)
    except (struct.error, IndexError, ValueError, OverflowError):  # a structure cut mid-field
        return None
