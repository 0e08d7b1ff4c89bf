"""What a file's first and last bytes say: its image format by magic bytes, a JPEG's end marker.

Shared by the inspection (`cnnlint.dataset.inspect`) and the ranged reads of bucket objects under
--quick (`cnnlint.dataset.remote`), which decide from them which bytes of an object to read.
"""

from __future__ import annotations

from typing import Optional


def sniff(head: bytes) -> Optional[str]:
    """The image format the first bytes announce (Pillow's format names), or None."""
    if head[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "TIFF"
    if head[:2] == b"BM" and len(head) >= 18 and head[14] in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    if len(head) >= 3 and head[0:1] == b"P" and head[1:2] in b"123456" and head[2:3] in b" \t\r\n#":
        return "PPM"
    if head[:4] == b"\x00\x00\x01\x00" and len(head) >= 6 and head[4:6] != b"\x00\x00":
        return "ICO"
    if head[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or head[:4] == b"\xff\x4f\xff\x51":
        return "JPEG2000"
    if head[:4] == b"8BPS":
        return "PSD"
    if head[:2] == b"\xff\x0a" or head[:12] == b"\x00\x00\x00\x0cJXL \r\n\x87\n":
        return "JXL"
    if head[:4] == b"qoif":
        return "QOI"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"):
            return "HEIF"
    return None


def jpeg_end_error(data: bytes) -> Optional[str]:
    """A JPEG whose last scan has no end-of-image marker after it: cut off."""
    tail = data.rstrip(b"\x00\xff\r\n\t ")
    if tail.endswith(b"\xff\xd9"):
        return None
    last_eoi = data.rfind(b"\xff\xd9")
    if last_eoi >= 0 and last_eoi > data.rfind(b"\xff\xda"):
        return None  # data after the end marker (a trailer): the image itself is whole
    return "truncated JPEG: no end-of-image marker (FFD9) after the image data (the file stops early)"
