"""GIF block structure, and what TensorFlow's GIF decoder (giflib's DGifSlurp) does with it.

TensorFlow decodes GIF with giflib (tensorflow/core/lib/gif/gif_io.cc):
DGifSlurp reads every block of the file, and an extension whose first
sub-block is empty (`21 FE 00`, an empty comment) throws it out of step when
it comes before the image, so the decode fails. A frame needs a colour table,
its own or the global one. Pixels of the transparent colour index come out
black in the first frame (Pillow gives the stored palette colour).
Walking the blocks reads only their length bytes, not the LZW data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple


@dataclass
class GifFacts:
    global_table: bool
    frames: int
    frame_without_table: bool  # an image with no local table in a file with no global one
    empty_block_before_image: bool  # an extension whose first sub-block has length 0, before the first image
    transparent_colour: Optional[Tuple[int, int, int]]  # the first frame's transparent index's colour
    complete: bool  # the walk reached the trailer or the end without running past the data


def facts(data: bytes) -> Optional[GifFacts]:
    if len(data) < 13 or data[:4] != b"GIF8":
        return None
    flags = data[10]
    table_len = 3 * (2 << (flags & 7)) if flags & 0x80 else 0
    table = data[13:13 + table_len]
    pos = 13 + table_len
    f = GifFacts(bool(flags & 0x80), 0, False, False, None, False)
    transparent_index = None
    end = len(data)
    while pos < end:
        kind = data[pos]
        if kind == 0x3B:
            f.complete = True
            break
        if kind == 0x21:
            if pos + 2 >= end:
                break
            label = data[pos + 1]
            pos += 2
            if data[pos] == 0 and f.frames == 0:
                f.empty_block_before_image = True
            if label == 0xF9 and data[pos] >= 4 and pos + 5 <= end and f.frames == 0 and data[pos + 1] & 1:
                transparent_index = data[pos + 4]
        elif kind == 0x2C:
            if pos + 10 > end:
                break
            lflags = data[pos + 9]
            local = 3 * (2 << (lflags & 7)) if lflags & 0x80 else 0
            if not local and not table_len:
                f.frame_without_table = True
            if f.frames == 0 and transparent_index is not None:
                own = data[pos + 10:pos + 10 + local] if local else table
                if 3 * transparent_index + 3 <= len(own):
                    i = 3 * transparent_index
                    f.transparent_colour = (own[i], own[i + 1], own[i + 2])
            f.frames += 1
            pos += 10 + local + 1
        else:
            break  # not a block: giflib stops here too
        while pos < end and data[pos]:
            pos += 1 + data[pos]
        pos += 1
    else:
        f.complete = pos == end
    return f


def tensorflow(f: GifFacts) -> Tuple[Optional[str], Optional[str]]:
    """(why TensorFlow fails on it, why it alters it); None where it does not."""
    if f.empty_block_before_image:
        return ("TensorFlow's GIF decoder (giflib) loses its place at an extension block with no data "
                "(an empty comment) before the image"), None
    if f.frame_without_table:
        return "TensorFlow's GIF decoder needs a colour table, and this GIF has none (global or local)", None
    if f.transparent_colour is not None and f.transparent_colour != (0, 0, 0):
        return None, "TensorFlow turns a GIF's transparent pixels black (Pillow keeps their stored colour)"
    return None, None
