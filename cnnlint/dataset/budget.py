"""The memory budget of one image inspection: checked before decoding, enforced by the OS after.

Two layers. `declared_refusal` (from `headers`' walk of the raw container,
before Pillow opens the file) and `decoded_refusal` (from Pillow's header
facts) estimate the largest buffer a decode of the file will allocate and the
pixel work of its frames; a file over `max-decode-memory` is refused without
decoding (CNL513). Whatever that misses
meets the OS limit: `limit_process` (workers, once) and `limited` (the
in-process path, around each inspection) cap the process's data segment at
what it holds now plus the budget plus headroom, so a runaway decoder gets
NULL from malloc, Pillow raises MemoryError, and the file gets a finding
instead of the out-of-memory killer taking the machine.

Why RLIMIT_DATA and not RLIMIT_AS: since Linux 4.7 RLIMIT_DATA counts the
private writable mappings (brk and anonymous mmap: every malloc of Pillow,
libtiff, libwebp and numpy, large or small) and nothing else. RLIMIT_AS also
counts the shared libraries, reserved thread stacks and read-only file
mappings, which vary by machine and library build: on the development machine
a worker with Pillow and numpy loaded has VmData 91 MB but VmSize 154 MB, and
the OpenBLAS threads numpy starts reserve more as cores grow. Before 4.7
RLIMIT_DATA limited brk only (large mallocs escaped it), so there RLIMIT_AS is
used instead, from the current VmSize. Either way the limit is measured from
the process's own current size, so it holds under fork, forkserver and spawn.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import sys
from typing import Iterator, Optional, Tuple

from cnnlint.dataset import headers

MIB = 1024 * 1024
DEFAULT_DECODE_MEMORY = 512 * MIB  # per worker process
MIN_DECODE_MEMORY = 16 * MIB
# above the budget, the OS limit leaves room for the file's bytes (read whole up to 64 MiB), the
# decoder's own tables and row buffers, and the interpreter: a decode within budget never meets it
HEADROOM = 160 * MIB
WORK_FACTOR = 8  # pixel bytes written over all decoded frames: at most this many budgets
PY_DECODE_PIXELS = 1 << 22  # pixels of an image Pillow decodes in Python (2048 x 2048: under a second)
_PY_DECODERS = frozenset({"bmp_rle"})

BUDGET_HINT = ("if it is genuine, raise max-decode-memory in [tool.cnnlint] (e.g. \"2GiB\"); "
               "otherwise delete it: a training loader would exhaust memory on it too")

# bytes per pixel of Pillow's in-memory modes (RGB is stored in 4 bytes)
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}


def pixel_bytes(mode: str) -> int:
    return _PIXEL_BYTES.get(mode, 4)


def mib(n: int) -> str:
    return f"{n / MIB:,.0f} MiB" if n >= MIB else f"{n:,} bytes"


def declared_refusal(fmt: str, source, budget: int, max_frames: int, max_pixels: int) -> Optional[str]:
    """Why decoding this file would exceed `budget`, from its raw container alone (before Pillow
    opens it: opening an ICO already decodes it), or None when it fits or the format has no walker.
    `source`: the file's bytes, or the open file of a big one (mapped read-only, never read whole).
    A file whose opening size is over `max_pixels` is left to the pixel limit, which names it so."""
    found = _declared(fmt, source)
    if found is None or (found.canvas is not None and found.canvas[0] * found.canvas[1] > max_pixels):
        return None
    largest: tuple = ("", 0, 0)
    need = 0
    copies = 3 if found.frames > 1 else 1  # frame, previous frame, disposal
    for name, width, height, per_pixel in found.areas:
        size = width * height * per_pixel * copies
        if size > need:
            largest, need = (name, width, height), size
    for name, size in found.blocks:
        if size > need:
            largest, need = (name, size), size
    if need <= budget and need * min(found.frames, max_frames) <= WORK_FACTOR * budget:
        return None  # the common case, kept cheap: no message built
    if len(largest) == 3:
        what = f"{largest[0]}: {largest[1]:,} x {largest[2]:,} pixels"
    else:
        what = f"{largest[0]}: {largest[1]:,} bytes"
    return _verdict(what, need, found.frames, budget, max_frames)


def decoded_refusal(fmt: str, im, budget: int) -> Optional[str]:
    """The same from the header facts Pillow read (size, mode, JPEG progression); and the time of
    Pillow's pure-Python decoders, which is not bounded by the data: its RLE BMP decoder pads every
    end of line byte by byte, about 0.2 microseconds a pixel however short the file."""
    width, height = im.size
    if width * height > PY_DECODE_PIXELS and any(tile[0] in _PY_DECODERS for tile in getattr(im, "tile", ())):
        return (f"a run-length-encoded {width:,} x {height:,} BMP: Pillow decodes RLE in Python, pixel by "
                f"pixel, for seconds to hours at this size; over the limit of {PY_DECODE_PIXELS:,} pixels "
                f"for such files (a decompression bomb?); not decoded")
    need = _pillow_estimate(fmt, im)
    if need <= budget:
        return None  # the common case, kept cheap: no message built
    what = (f"the coefficients of a progressive JPEG of {width:,} x {height:,} pixels" if _progressive(fmt, im)
            else f"the image: {width:,} x {height:,} pixels")
    return _verdict(what, need, 1, budget, 1)


def _verdict(what: str, need: int, frames: int, budget: int, max_frames: int) -> Optional[str]:
    if need > budget:
        return (f"decoding it needs about {mib(need)} ({what}), over the max-decode-memory budget of "
                f"{mib(budget)} (a decompression bomb?); not decoded")
    work = need * min(frames, max_frames)
    if work > WORK_FACTOR * budget:
        return (f"decoding its {frames:,} frames writes about {mib(work)} of pixels ({what} each), over "
                f"{WORK_FACTOR} times the max-decode-memory budget of {mib(budget)} (a decompression "
                f"bomb?); not decoded")
    return None


def memory_error_message(budget: int) -> str:
    return (f"decoding it ran out of the max-decode-memory budget of {mib(budget)} although its headers "
            f"declare less (a decompression bomb?); stopped")


def _progressive(fmt: str, im) -> bool:
    return fmt == "JPEG" and bool(im.info.get("progressive") or im.info.get("progression"))


def _pillow_estimate(fmt: str, im) -> int:
    width, height = im.size
    if fmt == "JPEG":
        # decoded at 1/8 scale; a progressive (or multi-scan) JPEG keeps every DCT coefficient of the
        # full-size image: 64 coefficients of 2 bytes per 8 x 8 block and component
        need = (width // 8 + 1) * (height // 8 + 1) * 4
        if _progressive(fmt, im):
            need += ((width + 7) // 8) * ((height + 7) // 8) * max(1, len(im.getbands())) * 128
        return need
    return width * height * pixel_bytes(im.mode)


def _declared(fmt: str, source) -> Optional[headers.Declared]:
    if fmt not in headers.PARSERS:
        return None
    if isinstance(source, (bytes, bytearray, memoryview)):
        return headers.declared(fmt, source)
    try:  # a big file: mapped read-only (a file mapping counts against no data limit)
        with mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return headers.declared(fmt, view)
    except (OSError, ValueError, AttributeError):
        return None


# ---- the OS limit ------------------------------------------------------------------------------

def _use_data_limit() -> bool:
    """Whether RLIMIT_DATA covers anonymous mmap (Linux 4.7 and later)."""
    try:
        major, minor = (int(part) for part in os.uname().release.split(".")[:2])
    except (AttributeError, ValueError):
        return False
    return (major, minor) >= (4, 7)


_STATM = {"VmSize": 0, "VmData": 5}  # fields of /proc/self/statm, in pages (its data includes the stack)


def _status_kib(field: str) -> Optional[int]:
    """VmData or VmSize of this process, from /proc/self/statm (far cheaper to read than status)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            pages = int(fh.read().split()[_STATM[field]])
    except (OSError, ValueError, IndexError):
        return None
    return pages * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _which() -> Optional[Tuple[int, str]]:
    """(resource, /proc status field) of the limit this system enforces; None: no limit here."""
    if not sys.platform.startswith("linux"):
        return None  # macOS does not enforce RLIMIT_DATA/AS on mmap; Windows has no rlimits
    import resource

    if _use_data_limit():
        return resource.RLIMIT_DATA, "VmData"
    return resource.RLIMIT_AS, "VmSize"


def _target(budget: int) -> Optional[Tuple[int, int, int]]:
    """(resource, soft, hard) that would cap this process at its current size plus the budget."""
    which = _which()
    if which is None:
        return None
    import resource

    res, field = which
    now = _status_kib(field)
    if now is None:
        return None
    soft, hard = resource.getrlimit(res)
    want = now * 1024 + budget + HEADROOM
    for limit in (soft, hard):
        if limit != resource.RLIM_INFINITY:
            want = min(want, limit)
    return res, want, hard


def limit_process(budget: int) -> bool:
    """Cap this process for good (a worker's initializer); False when the system has no such limit."""
    target = _target(budget)
    if target is None:
        return False
    import resource

    res, soft, hard = target
    try:
        resource.setrlimit(res, (soft, hard))
    except (ValueError, OSError):
        return False
    return True


@contextlib.contextmanager
def limited(budget: int) -> Iterator[None]:
    """The same cap around one inspection in this process; the previous limit comes back after."""
    target = _target(budget)
    if target is None:
        yield
        return
    import resource

    res, soft, hard = target
    saved = resource.getrlimit(res)
    try:
        resource.setrlimit(res, (soft, hard))
    except (ValueError, OSError):
        yield
        return
    try:
        yield
    finally:
        resource.setrlimit(res, saved)
