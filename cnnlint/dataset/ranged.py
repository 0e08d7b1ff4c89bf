"""A bucket object under --quick: its head and its tail, read by ranged requests, not its whole bytes.

What the quick inspection of a JPEG, PNG or BMP needs sits at the two ends of the file: the header
facts (dimensions, mode, EXIF orientation, PNG chunks before the image data, a BMP's palette) at the
start, the end marker (JPEG's FFD9, PNG's IEND chunk) at the end. `header_end` walks the markers or
chunks of the head to tell how far the header reaches, so that the reader can grow the head with a
second ranged read when it does not fit. `Ranged` hands the two parts to Pillow as one file; a read
between them raises `Incomplete`, and the object is then read whole and inspected as any other, so
no fact ever comes from bytes that were not read.
"""

from __future__ import annotations

import struct
from typing import Optional

HEAD = 64 * 1024  # bytes read first: the header facts of nearly every JPEG, PNG and BMP
TAIL = 4 * 1024  # bytes read at the end of a JPEG or PNG (its end marker)
GROW_LIMIT = 4 * 1024 * 1024  # a header longer than this: the object is read whole
RANGED_FORMATS = ("JPEG", "PNG", "BMP")
PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_JPEG_PADDING = b"\x00\xff\r\n\t "
_SCAN_ESCAPES = frozenset([0x00, 0xFF, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7])
_SCAN_EVIDENCE = 1024  # bytes of scan data (padding stripped) that make a tail without FFD9 a truncation
_STANDALONE = frozenset([0x01, 0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8])


class Incomplete(BaseException):
    """A reader asked for bytes between the head and the tail: the object must be read whole.

    A BaseException, so that no `except Exception` on the way (Pillow's, the inspection's) takes it
    for a damaged file."""


class Ranged:
    """The head and the tail of an object of `size` bytes, as a read-only binary file."""

    partial = True  # what the inspection asks: not the whole content

    def __init__(self, size: int, head: bytes, tail: bytes, end_error: Optional[str] = None,
                 digest: Optional[bytes] = None) -> None:
        self.size, self.head, self.tail = size, head, tail
        self.tail_start = size - len(tail)
        self.end_error = end_error  # a JPEG's end-marker verdict, from its tail
        self.digest = digest  # from the store's content checksum (the bytes were not all read)
        self.pos = 0

    def read(self, n: int = -1) -> bytes:
        start = min(self.pos, self.size)
        stop = self.size if n is None or n < 0 else min(self.size, start + n)
        if stop <= len(self.head):
            out = self.head[start:stop]
        elif start >= self.tail_start:
            out = self.tail[start - self.tail_start:stop - self.tail_start]
        elif start == stop:
            out = b""
        else:
            raise Incomplete(f"bytes {start}-{stop} of {self.size} were not read")
        self.pos = start + len(out)
        return out

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        pass


def header_end(fmt: Optional[str], head: bytes) -> Optional[int]:
    """How many bytes from the start the quick facts of a `fmt` file need, judged from `head` (more than
    len(head): read that far and ask again); None: this format is read whole (its frame count or its
    container needs every block: GIF, WebP, TIFF, APNG, ...)."""
    if fmt == "JPEG":
        return _jpeg_header_end(head)
    if fmt == "PNG":
        return _png_header_end(head)
    if fmt == "BMP" and len(head) >= 18:
        header_size, = struct.unpack_from("<I", head, 14)
        return 14 + header_size + 12 + 4 * 256  # the header, the bit masks, the largest palette
    return None


def _jpeg_header_end(head: bytes) -> int:
    """Up to the end of the first start-of-scan header: every marker segment Pillow reads on opening."""
    pos, end = 2, len(head)
    while True:
        while pos + 1 < end and head[pos] == 0xFF and head[pos + 1] == 0xFF:
            pos += 1  # fill bytes before a marker
        if pos + 4 > end:
            return pos + 4
        if head[pos] != 0xFF:
            return pos  # not a marker: what Pillow makes of it, it reads from the head (or asks for more)
        marker = head[pos + 1]
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            return pos + 2
        length, = struct.unpack_from(">H", head, pos + 2)
        pos += 2 + length
        if marker == 0xDA:
            return pos


def _png_header_end(head: bytes) -> Optional[int]:
    """Up to the first IDAT chunk's header: every chunk Pillow reads on opening. None for an APNG
    (its frames are checked over every chunk)."""
    pos, end = 8, len(head)
    while True:
        if pos + 8 > end:
            return pos + 8
        length, cid = struct.unpack_from(">I4s", head, pos)
        if cid == b"acTL":
            return None
        if cid == b"IDAT":
            return pos + 8
        pos += 12 + length
        if cid == b"IEND":
            return pos


def looks_like_scan_data(tail: bytes) -> bool:
    """Whether the end of a JPEG without an end marker is entropy-coded scan data (a file cut short)
    rather than something appended after the image (a trailer, a video): in scan data every 0xFF is
    followed by a stuffed 0x00, a restart marker or another 0xFF; random bytes break that rule within
    a few hundred bytes."""
    body = tail.rstrip(_JPEG_PADDING)
    if len(body) < _SCAN_EVIDENCE or b"\xff" not in body:
        return False
    at = body.find(b"\xff")
    while at >= 0:
        if at + 1 < len(body) and body[at + 1] not in _SCAN_ESCAPES:
            return False
        at = body.find(b"\xff", at + 1)
    return True
