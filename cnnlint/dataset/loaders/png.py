"""PNG chunk facts, and what TensorFlow's PNG decoder (libpng) does with them.

TensorFlow decodes PNG with libpng (tensorflow/core/lib/png/png_io.cc): a CRC
mismatch in a critical chunk (IHDR, PLTE, IDAT, IEND) is an error, one in an
ancillary chunk (tEXt, eXIf, ...) is a warning and the chunk is dropped
(Pillow refuses the file instead); 16-bit samples are scaled to 8 bits (Pillow's
convert("RGB") clips 16-bit grey); tRNS becomes alpha, which channels=3 drops;
APNG chunks (acTL, fcTL, fdAT) are unknown to it: it decodes the default image.
`eXIf` orientation is applied by neither decoder.

One pass over the chunk headers; CRCs are computed in the same pass (the scan
did that for every PNG before).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

CRITICAL = (b"IHDR", b"PLTE", b"IDAT", b"IEND")


@dataclass
class PngFacts:
    depth: int = 0
    colour_type: int = 0
    critical_error: Optional[str] = None  # CRC mismatch in a critical chunk, or the file stops early
    ancillary_error: Optional[str] = None  # CRC mismatch in an ancillary chunk
    frames: int = 1  # from acTL
    fctl_sequence: List[int] = field(default_factory=list)  # sequence numbers of fcTL and fdAT, in order
    fctl_count: int = 0
    fdat_after_fctl: List[int] = field(default_factory=list)  # fdAT chunks after each fcTL
    idat_after_fctl: bool = False  # the default image is the animation's first frame

    @property
    def animation_valid(self) -> bool:
        """An APNG whose frames a reader can play: as many fcTL as acTL says, sequence numbers 0, 1, 2, ...,
        each frame after the first with data."""
        if self.frames <= 1 or self.fctl_count != self.frames:
            return False
        if self.fctl_sequence != list(range(len(self.fctl_sequence))):
            return False
        data_needed = self.fdat_after_fctl[1:] if self.idat_after_fctl else self.fdat_after_fctl
        return all(n > 0 for n in data_needed)


def facts(data: bytes, crc: bool = True, partial: bool = False) -> Optional[PngFacts]:
    """`partial`: data is the file's head (its end was checked apart): the walk stops, without a finding,
    at the first chunk that runs past it."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    f = PngFacts()
    pos, end = 8, len(data)
    unpack = struct.unpack_from
    view = memoryview(data)  # CRCs over slices of it copy nothing
    while pos + 8 <= end:
        length, = unpack(">I", data, pos)
        cid = data[pos + 4:pos + 8]
        stop = pos + 8 + length
        if stop + 4 > end:
            if partial:
                return f
            f.critical_error = f"truncated PNG: the {_name(cid)} chunk at byte {pos} runs past the end of the file"
            return f
        if crc and zlib.crc32(view[pos + 4:stop]) != unpack(">I", data, stop)[0]:
            message = f"corrupt PNG: CRC mismatch in the {_name(cid)} chunk at byte {pos} (damaged bytes)"
            if cid in CRITICAL:
                if f.critical_error is None:
                    f.critical_error = message
            elif f.ancillary_error is None:
                f.ancillary_error = message
        _note(f, cid, data, pos + 8, length)
        if cid == b"IEND":
            return f
        pos = stop + 4
    if partial:
        return f
    f.critical_error = f.critical_error or "truncated PNG: no IEND chunk (the file stops early)"
    return f


def _name(cid: bytes) -> str:
    return cid.decode("latin-1")


def _note(f: PngFacts, cid: bytes, data: bytes, at: int, length: int) -> None:
    if cid == b"IHDR" and length >= 10:
        f.depth, f.colour_type = data[at + 8], data[at + 9]
    elif cid == b"acTL" and length >= 4:
        f.frames = struct.unpack_from(">I", data, at)[0]
    elif cid == b"fcTL" and length >= 4:
        f.fctl_count += 1
        f.fctl_sequence.append(struct.unpack_from(">I", data, at)[0])
        f.fdat_after_fctl.append(0)
    elif cid == b"fdAT" and length >= 4:
        f.fctl_sequence.append(struct.unpack_from(">I", data, at)[0])
        if f.fdat_after_fctl:
            f.fdat_after_fctl[-1] += 1
    elif cid == b"IDAT" and f.fctl_count == 1 and not f.fdat_after_fctl[-1]:
        f.idat_after_fctl = True


def idat_decodes(data: bytes) -> bool:
    """Whether the IDAT stream inflates (asked only of files Pillow refused: libpng may still read them)."""
    pos, end = 8, len(data)
    parts = []
    while pos + 8 <= end:
        length, = struct.unpack_from(">I", data, pos)
        cid = data[pos + 4:pos + 8]
        if cid == b"IDAT":
            parts.append(data[pos + 8:pos + 8 + length])
        if cid == b"IEND":
            break
        pos += 12 + length
    try:
        d = zlib.decompressobj()
        d.decompress(b"".join(parts))
        return d.eof
    except zlib.error:
        return False


def tensorflow(f: PngFacts) -> Tuple[Optional[str], Optional[str]]:
    """(why TensorFlow fails on it, why it alters it); None where it does not."""
    if f.critical_error is not None:
        return f.critical_error, None
    return None, None
