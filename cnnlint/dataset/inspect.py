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
import struct
import warnings
import zlib
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple

from PIL import Image

from cnnlint.dataset.phash import draft_size
from cnnlint.dataset.quality import pixel_facts
from cnnlint.dataset.record import ImageRecord
from cnnlint.findings import Finding, Severity
from cnnlint.sources.walk import os_reason

if TYPE_CHECKING:  # pragma: no cover
    from cnnlint.dataset.scan import ScanOptions

# Pillow's own hard limit (it raises DecompressionBombError above twice MAX_IMAGE_PIXELS)
DEFAULT_MAX_PIXELS = 2 * (Image.MAX_IMAGE_PIXELS or 89478485)

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

# Loaders, by extension (lower-cased) and by content. Checked against Keras 3.x / TF 2.21 /
# torchvision 0.29 sources: keras image_dataset_utils.ALLOWLIST_FORMATS; the legacy
# DirectoryIterator.white_list_formats (flow_from_directory, which decodes with PIL);
# torchvision.datasets.folder.IMG_EXTENSIONS (decodes with PIL).
KERAS_DATASET_EXTS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
KERAS_FLOW_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".tif", ".tiff")
TORCHVISION_EXTS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
# tf.io.decode_image in TF 2.21: "Unknown image file format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP
# required."; a 1-bit BMP fails with "Number of channels inherent in the image must be 1, 3 or 4, was 0"
TF_DECODE_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP", "JXL")

_ORIENTATIONS = {
    2: "mirrored left to right",
    3: "upside down (rotated 180°)",
    4: "mirrored top to bottom",
    5: "mirrored and on its side",
    6: "on its side (viewers rotate it 90° clockwise)",
    7: "mirrored and on its side",
    8: "on its side (viewers rotate it 90° counter-clockwise)",
}

_MAX_FRAMES = 200  # frames of an animation decoded in full
_FIX_CORRUPT = "re-export or re-download it, or delete it from the data set"


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
    """The first chunk of a PNG whose CRC does not match, or a missing IEND; None when intact."""
    pos, end = 8, len(data)
    unpack = struct.unpack_from
    crc32 = zlib.crc32
    while pos + 8 <= end:
        length, = unpack(">I", data, pos)
        cid = data[pos + 4:pos + 8]
        stop = pos + 8 + length
        if stop + 4 > end:
            return f"truncated PNG: the {cid.decode('latin-1')} chunk at byte {pos} runs past the end of the file"
        if crc32(data[pos + 4:stop]) != unpack(">I", data, stop)[0]:
            return f"corrupt PNG: CRC mismatch in the {cid.decode('latin-1')} chunk at byte {pos} (damaged bytes)"
        if cid == b"IEND":
            return None
        pos = stop + 4
    return "truncated PNG: no IEND chunk (the file stops early)"


def jpeg_end_error(data: bytes) -> Optional[str]:
    """A JPEG whose last scan has no end-of-image marker after it: cut off."""
    tail = data.rstrip(b"\x00\xff\r\n\t ")
    if tail.endswith(b"\xff\xd9"):
        return None
    last_eoi = data.rfind(b"\xff\xd9")
    if last_eoi >= 0 and last_eoi > data.rfind(b"\xff\xda"):
        return None  # data after the end marker (a trailer): the image itself is whole
    return "truncated JPEG: no end-of-image marker (FFD9) after the image data (the file stops early)"


def _loader_problems(ext: str, fmt: str, mode: str) -> Tuple[List[str], bool]:
    """What the common training loaders do with this file: (problems, crashes)."""
    problems: List[str] = []
    crashes = False
    tf_rejects = None
    if fmt not in TF_DECODE_FORMATS:
        tf_rejects = f"{_fmt_name(fmt)} content"
    elif fmt == "BMP" and mode == "1":
        tf_rejects = "1-bit BMP"
    ext_text = ext if ext else "files without an extension"
    skip = []
    if ext not in KERAS_DATASET_EXTS:
        skip.append("Keras image_dataset_from_directory")
    if ext not in KERAS_FLOW_EXTS:
        skip.append("Keras flow_from_directory")
    if ext not in TORCHVISION_EXTS:
        skip.append("torchvision ImageFolder")
    if skip:
        problems.append(f"{_join(skip)} silently skip{'s' if len(skip) == 1 else ''} {ext_text}{' files' if ext else ''}")
    if tf_rejects:
        if ext in KERAS_DATASET_EXTS:
            crashes = True
            problems.append(f"TensorFlow decode_image (used by Keras image_dataset_from_directory, which takes "
                            f"{ext} files) fails on {tf_rejects}")
        else:
            problems.append(f"TensorFlow decode_image rejects {tf_rejects}")
    return problems, crashes


def _join(items: List[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def inspect_file(path: str, real_path: str, options: "ScanOptions") -> ImageRecord:
    """Everything one file tells about itself, with its per-file findings (CNL501-503, CNL511-514)."""
    rec = ImageRecord(path=path, real_path=real_path)
    data, big = _read(rec, real_path)
    if data is None:
        return rec
    try:
        return _inspect(rec, data, big, options)
    finally:
        if big is not None:
            big.close()


def _inspect(rec: ImageRecord, data: bytes, big, options) -> ImageRecord:
    name = os.path.basename(rec.path)
    ext = os.path.splitext(name)[1].lower()
    expected = EXTENSIONS.get(ext)
    fmt = sniff(data[:32])
    if fmt is None and expected is None:
        return rec  # not an image: the aggregation reports strays (CNL510)

    # the content digest: of the bytes handed to Pillow. SHA-256 cut to 16 bytes: with the CPU's
    # SHA instructions (x86 since about 2017, ARMv8) it runs at twice BLAKE2b's speed here
    if big is None:
        rec.digest = hashlib.sha256(data).digest()[:16]
        source = io.BytesIO(data)
    else:
        h = hashlib.sha256(data)
        for block in iter(lambda: big.read(1 << 20), b""):
            h.update(block)
        rec.digest = h.digest()[:16]
        big.seek(0)
        source = big

    if fmt is None:
        # an image extension on something else
        if rec.size == 0:
            _finding(rec, "CNL501", Severity.ERROR, "empty file (0 bytes), not an image",
                     "delete it, or copy the image again")
        elif _is_appledouble(data[:4]):
            _finding(rec, "CNL501", Severity.ERROR,
                     "macOS AppleDouble metadata file (a '._' resource-fork file left by copying from a Mac), "
                     "not an image",
                     "delete it (all of them: find DIR -name '._*' -delete)")
        else:
            fmt = _pillow_format(source)
            if fmt is None:
                _finding(rec, "CNL501", Severity.ERROR,
                         f"not an image: the content is no known image format (first bytes {data[:8].hex(' ')})",
                         f"delete it or replace it with the real {_fmt_name(expected)} file")
                return rec
            source.seek(0)
        if fmt is None:
            return rec
    rec.format = fmt
    if rec.size == 0:
        rec.size = len(data)

    with _NoBombCheck():
        try:
            im = Image.open(source)
            width, height = im.size
            mode = im.mode
        except Exception as exc:  # Pillow raises many kinds on hostile input
            if expected is None:  # an image-like magic in a file not named as an image: not ours
                rec.format = None
                return rec
            _finding(rec, "CNL501", Severity.ERROR, _header_error(fmt, exc), _FIX_CORRUPT)
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
        try:
            rec.frames = _frames(im, fmt)
            if fmt != "PNG" or "exif" in im.info:
                rec.orientation = _orientation(im)
            if options.quick:
                error = _quick_check(fmt, data if big is None else None)
            else:
                error = _decode(im, fmt, data if big is None else None, source)
        except Exception as exc:
            error = _decoder_error(fmt, exc)
        if error is None and not options.quick:
            rec.decoded = True
            if mode == "RGB":
                rec.colour = _has_colour(im)
            rec.phash, rec.stats = pixel_facts(im)
            if fmt == "PNG" and rec.orientation is None and "exif" in im.info:
                rec.orientation = _orientation(im)
        try:
            im.close()
        except Exception:
            pass

    if error is not None:
        _finding(rec, "CNL501", Severity.ERROR, error, _FIX_CORRUPT)
        return rec

    problems, crashes = _loader_problems(ext, fmt, mode)
    if problems:
        _finding(rec, "CNL503", Severity.ERROR if crashes else Severity.WARNING,
                 "; ".join(problems),
                 f"convert it to PNG or JPEG (e.g. Image.open(p).convert('RGB').save('{os.path.splitext(name)[0]}.png'))"
                 if fmt not in ("JPEG", "PNG") or mode == "1"
                 else f"rename it with a .{'png' if fmt == 'PNG' else 'jpg'} extension")
    if rec.frames > 1:
        _finding(rec, "CNL511", Severity.WARNING, _animated_message(fmt, rec.frames),
                 "keep one frame (Image.open(p).convert('RGB').save(...)) or remove it")
    if rec.orientation is not None and rec.orientation in _ORIENTATIONS:
        _finding(rec, "CNL512", Severity.WARNING,
                 f"EXIF orientation {rec.orientation}: the stored picture is {_ORIENTATIONS[rec.orientation]}; "
                 f"image viewers apply the tag but TensorFlow and PIL-based loaders (torchvision) do not, "
                 f"so the model sees it unrotated",
                 "apply the rotation to the pixels: ImageOps.exif_transpose(Image.open(p)).save(p)")
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
    if fmt == "PNG":
        return png_crc_error(data)
    if fmt == "JPEG":
        return jpeg_end_error(data)
    return None


def _decode(im, fmt: str, data: Optional[bytes], source) -> Optional[str]:
    if fmt == "PNG" and data is not None:
        error = png_crc_error(data)  # a decode does not check CRCs; libpng (TensorFlow) does
        if error is not None:
            return error
    if fmt == "JPEG":
        # decode at 1/8 scale: the entropy-coded data is still read to the end, so truncation and
        # broken markers still fail, at a fraction of the cost of the full-size inverse DCT
        im.draft(None, draft_size(im.size))
    im.load()
    if fmt != "JPEG" and getattr(im, "is_animated", False):
        # the other frames are decoded by whoever reads the file in full (GIF via TensorFlow)
        for index in range(1, min(getattr(im, "n_frames", 1), _MAX_FRAMES)):
            im.seek(index)
            im.load()
    return None


_COLOUR_SIDE = 64  # pixels per side looked at: enough to tell a colour picture from a grey one
_COLOUR_SPREAD = 3.0  # mean |R-G| + |G-B| above this: colour (JPEG chroma noise on grey stays near 0)


def _has_colour(im) -> Optional[bool]:
    """Whether a decoded RGB image holds colour, from a small nearest-neighbour sample of it."""
    import numpy as np

    try:
        small = im if im.size[0] * im.size[1] <= _COLOUR_SIDE * _COLOUR_SIDE else im.resize(
            (_COLOUR_SIDE, _COLOUR_SIDE), Image.NEAREST)
        a = np.asarray(small, dtype=np.int16)
    except Exception:  # noqa: BLE001 - a colour guess is never worth an error
        return None
    if a.ndim != 3 or a.shape[2] < 3:
        return None
    spread = float(np.abs(a[..., 0] - a[..., 1]).mean() + np.abs(a[..., 1] - a[..., 2]).mean())
    return spread > _COLOUR_SPREAD


def _animated_message(fmt: str, frames: int) -> str:
    if fmt == "GIF":
        return (f"animated GIF ({frames} frames): tf.io.decode_image returns a 4-D tensor for it, so batching "
                f"fails; Keras and PIL-based loaders train on the first frame only")
    if fmt == "WEBP":
        return (f"animated WebP ({frames} frames): tf.io.decode_image with its default expand_animations=True "
                f"crashed the process on animated WebP in TensorFlow 2.21; PIL-based loaders train on the "
                f"first frame only")
    if fmt == "TIFF":
        return f"multi-page TIFF ({frames} pages): the training loaders read the first page only"
    return f"animated {_fmt_name(fmt)} ({frames} frames): the training loaders read the first frame only"
