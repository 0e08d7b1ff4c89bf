"""TEMPORARY stand-in for cnnlint.dataset.scan until the inspection lands (dsinspect). Not a product file."""

import hashlib
import os
import stat
import sys
import types
from dataclasses import dataclass
from typing import Optional

from PIL import Image

from cnnlint.dataset.record import ImageRecord
from cnnlint.findings import Finding, Severity


@dataclass
class ScanOptions:
    quick: bool = False
    max_pixels: int = 178956970
    jobs: Optional[int] = None


def _f(code, sev, msg, path):
    return Finding(code, sev, msg, path, 0, 0)


def inspect_file(path, real, options):
    rec = ImageRecord(path, real)
    try:
        st = os.stat(real)
    except OSError as exc:
        rec.findings.append(_f("CNL514", Severity.ERROR, f"cannot read: {exc.strerror}", path))
        return rec
    if not stat.S_ISREG(st.st_mode):
        rec.findings.append(_f("CNL514", Severity.ERROR, "cannot read: not a regular file", path))
        return rec
    data = open(real, "rb").read()
    rec.size = len(data)
    rec.digest = hashlib.md5(data).digest()
    try:
        im = Image.open(real)
        rec.format = im.format
        rec.mode, (rec.width, rec.height) = im.mode, im.size
        rec.bits = 16 if im.mode.startswith("I;16") else 8
        rec.frames = getattr(im, "n_frames", 1)
        if rec.width * rec.height > options.max_pixels:
            rec.findings.append(_f("CNL513", Severity.ERROR, "bomb", path))
            return rec
        rec.orientation = im.getexif().get(0x0112)
        im.load()
        rec.decoded = True
    except Image.DecompressionBombError:
        rec.findings.append(_f("CNL513", Severity.ERROR, "bomb", path))
        return rec
    except Exception as exc:
        rec.findings.append(_f("CNL501", Severity.ERROR, f"corrupt: {exc}", path))
        return rec
    ext = os.path.splitext(real)[1].lower()
    if rec.format == "PNG" and ext in (".jpg", ".jpeg"):
        rec.findings.append(_f("CNL502", Severity.WARNING, "mismatch", path))
    if rec.format in ("TIFF", "WEBP"):
        rec.findings.append(_f("CNL503", Severity.WARNING, "keras skips", path))
    if rec.frames > 1:
        rec.findings.append(_f("CNL511", Severity.WARNING, "animated", path))
    if rec.orientation not in (None, 1):
        rec.findings.append(_f("CNL512", Severity.WARNING, "exif", path))
    return rec


def scan_files(files, options, cache=None, progress=False):
    for path, real in files:
        yield inspect_file(path, real, options)


class ScanCache:
    def __init__(self, folder):
        self.folder = folder


def install():
    try:
        import cnnlint.dataset.scan  # noqa: F401
        return
    except ImportError:
        pass
    scan = types.ModuleType("cnnlint.dataset.scan")
    scan.ScanOptions, scan.scan_files = ScanOptions, scan_files
    cache = types.ModuleType("cnnlint.dataset.cache")
    cache.ScanCache = ScanCache
    sys.modules["cnnlint.dataset.scan"] = scan
    sys.modules["cnnlint.dataset.cache"] = cache
