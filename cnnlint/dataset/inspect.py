"""One file of a dataset, inspected: the per-file half of the dataset scanner.

`inspect_file` never blocks and never raises on user input. It checks that the
path is a regular file before opening it (a FIFO, socket or device is never
opened), reads the bytes once (they are hashed and handed to Pillow from
memory), detects the format by magic bytes, reads the header facts, refuses
images over the pixel limit before any decode, then decodes the image in full
(or, under --quick, only checks PNG CRCs and the JPEG end marker).

Pillow's LOAD_TRUNCATED_IMAGES is never set: it hides exactly what we look for.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import warnings
from typing import Dict, Optional, Tuple

from PIL import Image

from cnnlint.dataset import budget
from cnnlint.dataset.loaders import png
from cnnlint.dataset.loaders.findings import loader_findings
from cnnlint.dataset.loaders.table import Seen, effects
from cnnlint.dataset.markers import jpeg_end_error, sniff
from cnnlint.dataset.ranged import Incomplete, Ranged
from cnnlint.dataset.record import ImageRecord
from cnnlint.findings import Finding, Severity
from cnnlint.sources.walk import os_reason

from cnnlint.dataset.options import ScanOptions

# files up to this size are read in one go; bigger ones are hashed in blocks and decoded from disk
_READ_WHOLE = 64 * 1024 * 1024
_O_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)

# extension -> the format its content should have (Pillow's format names)
EXTENSIONS: Dict[str, str] = {
    ".jpg": "JPEG", ".jpeg": "JPEG", ".jpe": "JPEG", ".jfif": "JPEG",
    ".png": "PNG", ".apng": "PNG",
    ".gif": "GIF",
    ".bmp": "BMP", ".dib": "BMP",
    ".webp": "WEBP",
    ".tif": "TIFF", ".tiff": "TIFF",
    ".ppm": "PPM", ".pgm": "PPM", ".pbm": "PPM", ".pnm": "PPM",
    ".ico": "ICO",
    ".jp2": "JPEG2000", ".j2k": "JPEG2000", ".jpx": "JPEG2000",
    ".psd": "PSD",
    ".heic": "HEIF", ".heif": "HEIF", ".avif": "AVIF",
    ".jxl": "JXL",
    ".qoi": "QOI",
}

# what people call a format in a message
_FORMAT_NAMES = {"WEBP": "WebP", "JPEG2000": "JPEG 2000", "PPM": "PPM/PGM", "JXL": "JPEG XL"}

_MAX_FRAMES = 200  # frames of an animation decoded in full


def _is_appledouble(head: bytes) -> bool:
    return head[:4] in (b"\x00\x05\x16\x07", b"\x00\x05\x16\x00")


def _finding(rec: ImageRecord, code: str, severity: Severity, message: str, hint: str) -> None:
    rec.findings.append(Finding(code, severity, message, rec.path, 0, 0, hint=hint))


def _fmt_name(fmt: str) -> str:
    return _FORMAT_NAMES.get(fmt, fmt)


_KINDS = (
    (stat.S_ISFIFO, "a FIFO (named pipe), where a reader would block"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a folder"),
)


def _not_regular(mode: int) -> str:
    for test, what in _KINDS:
        if test(mode):
            return what
    return "a special file"


def _unreadable(rec: ImageRecord, real_path: str, exc: OSError) -> ImageRecord:
    reason = os_reason(exc)
    if exc.errno == errno.ENOENT:
        try:
            if stat.S_ISLNK(os.lstat(real_path).st_mode):
                reason = f"broken symbolic link (its target {os.readlink(real_path)!r} does not exist)"
        except OSError:
            pass
    if exc.errno in (errno.EACCES, errno.EPERM):
        hint = "give the training user read access (chmod a+r) or remove it from the data set"
    elif exc.errno in (errno.ENOENT, errno.ELOOP):
        hint = "fix or delete the link"
    else:
        hint = "fix the file or remove it from the data set"
    _finding(rec, "CNL514", Severity.ERROR, f"cannot read: {reason}", hint)
    return rec


def _read(rec: ImageRecord, real_path: str) -> Tuple[Optional[bytes], Optional[object]]:
    """(bytes, None) for files up to _READ_WHOLE; (head, open file) for bigger ones.
    (None, None) with a CNL514 on rec when the path cannot be read."""
    try:
        st = os.stat(real_path)
    except OSError as exc:
        _unreadable(rec, real_path, exc)
        return None, None
    if not stat.S_ISREG(st.st_mode):
        _finding(rec, "CNL514", Severity.ERROR, f"cannot read: not a regular file but {_not_regular(st.st_mode)}",
                 "remove it from the data set; the loaders expect regular image files")
        return None, None
    rec.size, rec.mtime_ns = st.st_size, st.st_mtime_ns
    try:
        fd = os.open(real_path, _O_FLAGS)
    except OSError as exc:
        _unreadable(rec, real_path, exc)
        return None, None
    fh = None
    try:
        st = os.fstat(fd)  # the path may have been swapped since the stat
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            _finding(rec, "CNL514", Severity.ERROR, f"cannot read: not a regular file but {_not_regular(st.st_mode)}",
                     "remove it from the data set; the loaders expect regular image files")
            return None, None
        fh = os.fdopen(fd, "rb")
        if st.st_size <= _READ_WHOLE:
            data = fh.read()
            fh.close()
            return data, None
        return fh.read(64), fh
    except OSError as exc:
        if fh is not None:
            fh.close()
        else:
            os.close(fd)
        _unreadable(rec, real_path, exc)
        return None, None


class _NoBombCheck:
    """Pillow's own decompression-bomb check off while the header is read: we apply our limit."""

    def __enter__(self):
        self.saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        self.warnings = warnings.catch_warnings()
        self.warnings.__enter__()
        warnings.simplefilter("ignore")
        return self

    def __exit__(self, *exc):
        Image.MAX_IMAGE_PIXELS = self.saved
        self.warnings.__exit__(*exc)
        return False


def _bits(fmt: str, mode: str, data: bytes) -> int:
    if fmt == "PNG" and len(data) >= 25 and data[24] == 16:
        return 16
    if mode.startswith("I;16"):
        return 16
    if mode == "1":
        return 1
    if mode in ("I", "F"):
        return 32
    return 8


def _decoder_error(fmt: Optional[str], exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if len(text) > 160:
        text = text[:157] + "..."
    name = _fmt_name(fmt) if fmt else "image"
    if "truncated" in text:
        return f"truncated {name}: the data stops before the end of the image ({text})"
    return f"corrupt {name}: the decoder failed: {text}"


def png_crc_error(data: bytes) -> Optional[str]:
    """The first damaged chunk of a PNG (a critical one before an ancillary one), or a missing IEND; None when intact."""
    facts = png.facts(data)
    return None if facts is None else facts.critical_error or facts.ancillary_error


def inspect_file(path: str, real_path: str, options: ScanOptions) -> ImageRecord:
    """Everything one file tells about itself, with its per-file findings (CNL501-503, CNL511-514)."""
    rec = ImageRecord(path=path, real_path=real_path)
    data, big = _read(rec, real_path)
    if data is None:
        return rec
    return _inspect_closing(rec, data, big, options)


def inspect_bytes(path: str, real_path: str, data: bytes, size: int, options: ScanOptions, big=None) -> ImageRecord:
    """`inspect_file` for bytes already in memory (an object read from a bucket): `data` is the whole
    content, or its head when `big` is an open binary file of the whole (closed here), or a
    `ranged.Ranged` of its head and tail (--quick on a bucket: raises `ranged.Incomplete` where the
    inspection needs other bytes, or where the header is damaged: read it whole then)."""
    return _inspect_closing(ImageRecord(path=path, real_path=real_path, size=size), data, big, options)


def _inspect_closing(rec: ImageRecord, data: bytes, big, options) -> ImageRecord:
    try:
        return _inspect(rec, data, big, options)
    finally:
        if big is not None:
            big.close()


def _unsniffed_format(rec: ImageRecord, name: str, data: bytes, source, expected: str) -> Optional[str]:
    """An image extension on content whose first bytes name no format: Pillow's format when it
    reads it after all; otherwise None, with the finding that says what the file is."""
    if rec.size == 0:
        _not_image(rec, name, data, "empty file (0 bytes), not an image", "delete it, or copy the image again")
        return None
    if _is_appledouble(data[:4]):
        _not_image(rec, name, data,
                   "macOS AppleDouble metadata file (a '._' resource-fork file left by copying from a Mac), "
                   "not an image", "delete it (all of them: find DIR -name '._*' -delete)")
        return None
    fmt = _pillow_format(source)
    if fmt is None:
        _not_image(rec, name, data,
                   f"not an image: the content is no known image format (first bytes {data[:8].hex(' ')})",
                   f"delete it or replace it with the real {_fmt_name(expected)} file")
        return None
    source.seek(0)
    return fmt


def _inspect(rec: ImageRecord, data: bytes, big, options) -> ImageRecord:
    name = os.path.basename(rec.path)
    ext = os.path.splitext(name)[1].lower()
    expected = EXTENSIONS.get(ext)
    fmt = sniff(data[:32])
    if fmt is None and expected is None:
        return rec  # not an image: the aggregation reports strays (CNL510)

    partial = isinstance(big, Ranged)
    source = _content(rec, data, big)

    if fmt is None:
        assert expected is not None  # no format in the content: the extension named one
        fmt = _unsniffed_format(rec, name, data, source, expected)
        if fmt is None:
            return rec
    rec.format = fmt
    if rec.size == 0:
        rec.size = len(data)

    refusal = budget.declared_refusal(fmt, data if big is None or partial else big, options.max_decode_memory,
                                      _MAX_FRAMES, options.max_pixels)
    if refusal is not None:
        return _over_budget(rec, refusal)
    with _NoBombCheck():
        try:
            im = Image.open(source)
            width, height = im.size
            mode = im.mode
        except Exception as exc:  # Pillow raises many kinds on hostile input
            if partial:
                raise Incomplete(f"its header cannot be read from its head: {exc}") from None
            if expected is None:  # an image-like magic in a file not named as an image: not ours
                rec.format = None
                return rec
            _judge(rec, name, fmt, data, _header_error(fmt, exc))
            return rec
        _extension_check(rec, name, ext, expected, fmt)
        rec.mode, rec.width, rec.height = mode, width, height
        rec.bits = _bits(fmt, mode, data)
        pixels = width * height
        if pixels > options.max_pixels:
            _finding(rec, "CNL513", Severity.ERROR,
                     f"{width} x {height} = {pixels:,} pixels, over the limit of {options.max_pixels:,} "
                     f"(a decompression bomb?); not decoded",
                     "downscale it; if it is genuine, raise max-image-pixels in [tool.cnnlint] "
                     "(Pillow refuses images over twice its MAX_IMAGE_PIXELS)")
            return rec
        refusal = budget.decoded_refusal(fmt, im, options.max_decode_memory)
        if refusal is not None:
            return _over_budget(rec, refusal)
        later = None
        try:
            rec.frames = _frames(im, fmt)
            if fmt != "PNG" or "exif" in im.info:
                rec.orientation = _orientation(im)
            if partial:
                error = big.end_error
            elif options.quick:
                error = _quick_check(fmt, data if big is None else None)
            else:
                error, later = _decode(im, fmt, source)
        except MemoryError:  # past the OS limit (cnnlint.dataset.budget): more than the headers declared
            return _over_budget(rec, budget.memory_error_message(options.max_decode_memory))
        except Exception as exc:
            error = _decoder_error(fmt, exc)
        if error is None and not options.quick:
            rec.decoded = True
            if mode == "RGB":
                rec.colour = _has_colour(im)
            rec.phash, rec.stats, rec.layout = _pixel_facts(im)
            if fmt == "PNG" and rec.orientation is None and "exif" in im.info:
                rec.orientation = _orientation(im)
        try:
            im.close()
        except Exception:
            pass

    _judge(rec, name, fmt, data, error, later, mode, partial)
    return rec


def _content(rec: ImageRecord, data: bytes, big):
    """The file to hand Pillow, with rec.digest set: of the bytes handed to Pillow. SHA-256 cut to 16 bytes:
    with the CPU's SHA instructions (x86 since about 2017, ARMv8) it runs at twice BLAKE2b's speed here.
    A ranged object's digest is its store checksum's (its bytes were not all read)."""
    if big is None:
        rec.digest = hashlib.sha256(data).digest()[:16]
        return io.BytesIO(data)
    if isinstance(big, Ranged):
        rec.digest = big.digest
        return big
    h = hashlib.sha256(data)
    for block in iter(lambda: big.read(1 << 20), b""):
        h.update(block)
    rec.digest = h.digest()[:16]
    big.seek(0)
    return big


def _judge(rec: ImageRecord, name: str, fmt: Optional[str], data: bytes, pil_error: Optional[str] = None,
           later_error: Optional[str] = None, mode: Optional[str] = None, partial: bool = False) -> None:
    """The loader model's effects for this file (rec.effects) and their findings (CNL501, CNL503, CNL511, CNL512),
    for all four loaders; the scan narrows them to the loaders the code beside the data uses. `partial`: `data`
    is the head of the file (a ranged read of a bucket object, whose end was found intact)."""
    rec.effects = effects(Seen(name, fmt, data, rec.size or len(data), pil_error, later_error, mode, rec.frames,
                               rec.orientation, partial))
    rec.findings += loader_findings(rec.path, fmt, rec.frames, rec.orientation, rec.effects)


def _not_image(rec: ImageRecord, name: str, data: bytes, message: str, hint: str) -> None:
    _judge(rec, name, None, data, message)
    for f in rec.findings:
        if f.code == "CNL501":
            f.hint = hint


def _pixel_facts(im):
    # numpy starts threads when imported: never at module level here, which the fork server preloads
    from cnnlint.dataset.quality import pixel_facts

    return pixel_facts(im)


def _over_budget(rec: ImageRecord, message: str) -> ImageRecord:
    _finding(rec, "CNL513", Severity.ERROR, message, budget.BUDGET_HINT)
    return rec


def _extension_check(rec: ImageRecord, name: str, ext: str, expected: Optional[str], fmt: str) -> None:
    if expected == fmt or not ext:
        return
    stem = os.path.splitext(name)[0]
    real_ext = _PREFERRED_EXT.get(fmt, "")
    if EXTENSIONS.get(os.path.splitext(stem)[1].lower()) == fmt:  # photo.jpg.bak
        stem, real_ext = os.path.splitext(stem)
    if expected is not None:
        _finding(rec, "CNL502", Severity.WARNING, f"{_fmt_name(fmt)} content with a {ext} extension",
                 f"rename it to {stem}{real_ext}, or re-save it as {_fmt_name(expected)}")
    else:
        _finding(rec, "CNL502", Severity.WARNING,
                 f"{_fmt_name(fmt)} content with a {ext} extension, which is not an image extension",
                 f"rename it to {stem}{real_ext}")


_PREFERRED_EXT = {fmt: ext for ext, fmt in reversed(list(EXTENSIONS.items()))}


def _header_error(fmt: str, exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if text.startswith("cannot identify image file"):
        return f"corrupt {_fmt_name(fmt)}: its header cannot be read"
    if len(text) > 160:
        text = text[:157] + "..."
    return f"corrupt {_fmt_name(fmt)}: its header cannot be read: {text}"


def _pillow_format(source) -> Optional[str]:
    """Formats without a magic in our table that Pillow still opens (TGA, ...)."""
    with _NoBombCheck():
        try:
            with Image.open(source) as im:
                return im.format
        except Exception:
            return None


def _frames(im, fmt: str) -> int:
    # a camera JPEG with an MPF preview opens as a 2-frame MPO; every decoder reads its first image
    if fmt == "JPEG" or not getattr(im, "is_animated", False):
        return 1
    return int(getattr(im, "n_frames", 2) or 2)


def _orientation(im) -> Optional[int]:
    try:
        value = im.getexif().get(0x0112)
    except Exception:  # damaged EXIF: the decoders that matter ignore it anyway
        return None
    if isinstance(value, int):
        return value
    try:
        return int(value)  # some writers store a tuple or a string
    except (TypeError, ValueError):
        return None


def _quick_check(fmt: str, data: Optional[bytes]) -> Optional[str]:
    if data is None:
        return None
    if fmt == "JPEG":
        return jpeg_end_error(data)
    return None  # a PNG's CRCs: the loader model checks them (libpng rejects some, Pillow others)


def _decode(im, fmt: str, source) -> Tuple[Optional[str], Optional[str]]:
    """(why the first frame does not decode, why a later one does not); the PNG CRCs are the loader model's."""
    if fmt == "JPEG":
        # decode at 1/8 scale: the entropy-coded data is still read to the end, so truncation and
        # broken markers still fail, at a fraction of the cost of the full-size inverse DCT
        from cnnlint.dataset.phash import draft_size  # numpy: not imported by the fork server's preload

        im.draft(None, draft_size(im.size))
    im.load()
    if fmt == "GIF" and getattr(im, "is_animated", False):
        # TensorFlow's giflib reads every frame, even under expand_animations=False; Pillow's loaders the first
        try:
            for index in range(1, min(getattr(im, "n_frames", 1), _MAX_FRAMES)):
                im.seek(index)
                im.load()
        except Exception as exc:
            return None, _decoder_error(fmt, exc)
    return None, None


_COLOUR_SIDE = 64  # pixels per side looked at: enough to tell a colour picture from a grey one
_COLOUR_SPREAD = 3.0  # mean |R-G| + |G-B| above this: colour (JPEG chroma noise on grey stays near 0)


def _has_colour(im) -> Optional[bool]:
    """Whether a decoded RGB image holds colour, from a small nearest-neighbour sample of it."""
    import numpy as np

    try:
        small = im if im.size[0] * im.size[1] <= _COLOUR_SIDE * _COLOUR_SIDE else im.resize(
            (_COLOUR_SIDE, _COLOUR_SIDE), Image.NEAREST)  # type: ignore[attr-defined]
        a = np.asarray(small, dtype=np.int16)
    except Exception:  # noqa: BLE001 - a colour guess is never worth an error
        return None
    if a.ndim != 3 or a.shape[2] < 3:
        return None
    spread = float(np.abs(a[..., 0] - a[..., 1]).mean() + np.abs(a[..., 1] - a[..., 2]).mean())
    return spread > _COLOUR_SPREAD
