"""Per-file inspection: every planted fault gets its code at its path; clean images get nothing."""

import errno
import hashlib
import os
import signal
import time
import tracemalloc

import pytest

from cnnlint.dataset import inspect as inspect_mod
from cnnlint.dataset.inspect import inspect_file, jpeg_end_error, png_crc_error, sniff
from cnnlint.dataset.scan import ScanOptions, scan_files
from fixtures.images import write_image

OWN = {"CNL501", "CNL502", "CNL503", "CNL511", "CNL512", "CNL513", "CNL514"}


def make(tmp_path, name, kind="jpeg", **kw):
    path = os.path.join(str(tmp_path), name)
    write_image(path, kind, **kw)
    return path


def check(path, quick=False, **opts):
    return inspect_file(path, os.path.abspath(path), ScanOptions(quick=quick, **opts))


def codes(rec):
    return [f.code for f in rec.findings]


@pytest.fixture(autouse=True)
def no_hang():
    """Any blocking read (a FIFO opened for reading) fails the test instead of hanging it."""
    def boom(*_):
        raise TimeoutError("the inspection blocked")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


# ---- planted faults ------------------------------------------------------------------------------

FAULTS = [
    # name, kind, options, expected codes, severity of the first, words in its message
    ("trunc.jpg", "truncated_jpeg", {}, ["CNL501"], "error",
     "truncated JPEG: the data stops before the end of the image (image file is truncated"),
    ("garbage.jpg", "garbage_jpeg", {}, ["CNL501"], "error",
     "corrupt JPEG: the decoder failed: broken data stream when reading image file"),
    ("zero.jpg", "empty", {}, ["CNL501"], "error", "empty file (0 bytes), not an image"),
    ("._x.jpg", "appledouble", {}, ["CNL501"], "error", "macOS AppleDouble metadata file"),
    ("crc.png", "png_bad_crc", {}, ["CNL501"], "error", "corrupt PNG: CRC mismatch in the IDAT chunk at byte 33"),
    ("pic.jpg", "png_as_jpg", {}, ["CNL502"], "warning", "PNG content with a .jpg extension"),
    ("pic.png", "jpeg_as_png", {}, ["CNL502"], "warning", "JPEG content with a .png extension"),
    ("x.webp", "webp", {}, ["CNL503"], "warning",
     "Keras image_dataset_from_directory and Keras flow_from_directory silently skip .webp files"),
    ("x.tif", "tiff", {}, ["CNL503"], "error",
     "tf.io.decode_image fails on it: TensorFlow decodes only JPEG, PNG, GIF, BMP, WebP and JPEG XL, not TIFF; "
     "Keras image_dataset_from_directory silently skips .tif files"),
    ("x.pgm", "ppm", {"mode": "L"}, ["CNL503"], "error",
     "tf.io.decode_image fails on it: TensorFlow decodes only JPEG, PNG, GIF, BMP, WebP and JPEG XL, not PPM/PGM; "
     "Keras image_dataset_from_directory and Keras flow_from_directory silently skip .pgm files"),
    ("bw.bmp", "bmp", {"mode": "1"}, ["CNL503"], "error",
     "Keras image_dataset_from_directory and tf.io.decode_image fail on it: TensorFlow's BMP decoder takes only "
     "8-, 24- and 32-bit BMPs; this one is 1-bit"),
    ("x.gif", "gif", {}, ["CNL503"], "warning",
     "Keras flow_from_directory and torchvision ImageFolder silently skip .gif files"),
    ("anim.gif", "animated_gif", {}, ["CNL503", "CNL511"], "warning", None),
    ("anim.webp", "animated_webp", {}, ["CNL503", "CNL511"], "error", None),
    ("anim.png", "animated_png", {}, ["CNL511"], "warning",
     "animated PNG (3 frames): Keras image_dataset_from_directory, Keras flow_from_directory, tf.io.decode_image "
     "and torchvision ImageFolder read the first frame only"),
    ("rot.jpg", "exif_rotated_jpeg", {}, ["CNL512"], "warning",
     "EXIF orientation 6: the stored picture is on its side (viewers rotate it 90° clockwise)"),
    ("bomb.png", "png_bomb", {}, ["CNL513"], "error",
     "40000 x 40000 = 1,600,000,000 pixels, over the limit of 178,956,970 (a decompression bomb?); not decoded"),
    ("notes.jpg", "text", {}, ["CNL501"], "error",
     "not an image: the content is no known image format (first bytes 6e 6f 74 65 73 20 61 62)"),
]


@pytest.mark.parametrize("name,kind,kw,expected,severity,message", FAULTS, ids=[f[0] for f in FAULTS])
def test_planted_fault(tmp_path, name, kind, kw, expected, severity, message):
    path = make(tmp_path, name, kind, **kw)
    rec = check(path)
    assert codes(rec) == expected
    first = rec.findings[0]
    assert first.severity.value == severity
    if message is not None:
        assert message in first.message
    for f in rec.findings:
        assert f.path == path and (f.line, f.column) == (0, 0)
        assert f.location() == path
        assert f.hint
    assert rec.path == path and rec.real_path == os.path.abspath(path)


def test_animated_messages_name_the_decoder_trouble(tmp_path):
    gif = check(make(tmp_path, "a.gif", "animated_gif"))
    assert gif.frames == 3
    assert gif.findings[1].message == (
        "animated GIF (3 frames): Keras image_dataset_from_directory and tf.io.decode_image read the first frame only")
    webp = check(make(tmp_path, "a.webp", "animated_webp", frames=4))
    assert webp.frames == 4
    assert webp.findings[0].message.startswith(
        "tf.io.decode_image fails on it: TensorFlow decodes animated WebP only as 4-channel RGBA frames, so "
        "channels=3 fails (plain tf.io.decode_image(x) returns a 4-D tensor)")
    assert webp.findings[1].message == "animated WebP (4 frames): torchvision ImageFolder reads the first frame only"


def test_header_facts(tmp_path):
    rec = check(make(tmp_path, "r.jpg", "exif_rotated_jpeg", size=(80, 60)))
    assert (rec.format, rec.mode, rec.bits, rec.width, rec.height) == ("JPEG", "RGB", 8, 80, 60)
    assert rec.orientation == 6 and rec.frames == 1 and rec.decoded
    path = make(tmp_path, "d.png", "png", mode="I;16", size=(33, 17))
    rec = check(path)
    assert (rec.format, rec.mode, rec.bits, rec.width, rec.height) == ("PNG", "I;16", 16, 33, 17)
    with open(path, "rb") as fh:
        data = fh.read()
    assert rec.digest == hashlib.sha256(data).digest()[:16]
    st = os.stat(path)
    assert (rec.size, rec.mtime_ns) == (st.st_size, st.st_mtime_ns)


def test_same_content_same_digest(tmp_path):
    a = check(make(tmp_path, "a/x.jpg", seed=7))
    b = check(make(tmp_path, "b/y.jpg", seed=7))
    c = check(make(tmp_path, "b/z.jpg", seed=8))
    assert a.digest == b.digest != c.digest


def test_bits_of_a_16_bit_rgb_png(tmp_path):
    """Pillow opens a 16-bit RGB PNG as 8-bit "RGB": the depth comes from the IHDR."""
    import struct
    import zlib

    rows = b"".join(b"\x00" + b"\x12\x34" * 3 * 8 for _ in range(8))
    ihdr = struct.pack(">IIBBBBB", 8, 8, 16, 2, 0, 0, 0)

    def chunk(cid, data):
        return struct.pack(">I", len(data)) + cid + data + struct.pack(">I", zlib.crc32(cid + data))

    path = os.path.join(str(tmp_path), "deep.png")
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows))
                 + chunk(b"IEND", b""))
    rec = check(path)
    assert (rec.mode, rec.bits, codes(rec)) == ("RGB", 16, [])


# ---- clean images: none of our codes -----------------------------------------------------------

CLEAN = [
    ("rgb.jpg", "jpeg", {}, "RGB"),
    ("grey.jpg", "jpeg", {"mode": "L"}, "L"),
    ("cmyk.jpg", "jpeg", {"mode": "CMYK"}, "CMYK"),
    ("upper.JPG", "jpeg", {}, "RGB"),
    ("long.jpeg", "jpeg", {}, "RGB"),
    ("LONG.JPEG", "jpeg", {}, "RGB"),
    ("rgb.png", "png", {}, "RGB"),
    ("grey.png", "png", {"mode": "L"}, "L"),
    ("la.png", "png", {"mode": "LA"}, "LA"),
    ("rgba.png", "png", {"mode": "RGBA"}, "RGBA"),
    ("pal.png", "png", {"mode": "P"}, "P"),
    ("bw.png", "png", {"mode": "1"}, "1"),
    ("rgb.bmp", "bmp", {}, "RGB"),
    ("grey.bmp", "bmp", {"mode": "L"}, "L"),
    ("big.jpg", "jpeg", {"size": (1024, 768)}, "RGB"),
    ("tiny.png", "png", {"size": (1, 1)}, "RGB"),
    ("thin.jpg", "jpeg", {"size": (3, 500)}, "RGB"),
]


@pytest.mark.parametrize("name,kind,kw,mode", CLEAN, ids=[c[0] for c in CLEAN])
@pytest.mark.parametrize("quick", [False, True], ids=["full", "quick"])
def test_clean_image_not_flagged(tmp_path, name, kind, kw, mode, quick):
    rec = check(make(tmp_path, name, kind, **kw), quick=quick)
    assert codes(rec) == []
    assert rec.mode == mode and rec.is_image and rec.usable
    assert rec.decoded is (not quick)


def test_jpeg_with_a_trailer_after_its_end_marker_is_whole(tmp_path):
    path = make(tmp_path, "t.jpg")
    with open(path, "ab") as fh:
        fh.write(b"\x00" * 100 + b"SAMSUNG trailer \x01\x02 data")
    for quick in (False, True):
        assert codes(check(path, quick=quick)) == []


def test_jpeg_padded_after_its_end_marker_is_whole():
    assert jpeg_end_error(b"\xff\xd8\xff\xda\x00\x02abc\xff\xd9\x00\x00\r\n") is None
    assert jpeg_end_error(b"\xff\xd8\xff\xda\x00\x02abc").startswith("truncated JPEG")
    # an EXIF thumbnail's end marker before the main scan does not count
    assert jpeg_end_error(b"\xff\xd8thumb\xff\xd9\xff\xda\x00\x02abc") is not None


def test_png_crc_checker():
    assert png_crc_error(b"\x89PNG\r\n\x1a\n") == "truncated PNG: no IEND chunk (the file stops early)"


@pytest.mark.parametrize("name,kind", [("notes.txt", "text"), (".DS_Store", "ds_store"), ("labels.csv", "text")])
def test_non_image_files_get_a_bare_record(tmp_path, name, kind):
    rec = check(make(tmp_path, name, kind))
    assert (rec.format, rec.findings, rec.digest, rec.is_image) == (None, [], None, False)


def test_image_magic_in_a_file_not_named_as_an_image_is_not_ours(tmp_path):
    """Image-looking first bytes in a file not named as an image, that Pillow cannot open."""
    path = os.path.join(str(tmp_path), "data.bin")
    with open(path, "wb") as fh:
        fh.write(b"P6 garbage that is no image at all")
    rec = check(path)
    assert (rec.format, rec.findings) == (None, [])


def test_image_content_with_another_extension(tmp_path):
    rec = check(make(tmp_path, "photo.jpg.bak", "jpeg"))
    assert codes(rec) == ["CNL502", "CNL503"]
    assert rec.findings[0].message == "JPEG content with a .bak extension, which is not an image extension"
    assert rec.findings[0].hint == "rename it to photo.jpg"
    rec = check(make(tmp_path, "scan.dat", "png"))
    assert rec.findings[0].hint == "rename it to scan.png"


def test_sniff_table():
    assert sniff(b"\xff\xd8\xff\xe0") == "JPEG"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "WEBP"
    assert sniff(b"II*\x00") == "TIFF"
    assert sniff(b"P5\n") == "PPM"
    assert sniff(b"\x00\x00\x00\x18ftypheic") == "HEIF"
    assert sniff(b"hello") is None
    assert sniff(b"") is None


# ---- decompression bombs ---------------------------------------------------------------------

def test_bomb_refused_fast_without_a_big_allocation(tmp_path):
    path = make(tmp_path, "bomb.png", "png_bomb")
    assert os.path.getsize(path) < 10_000
    check(make(tmp_path, "warm.png", "png"))  # imports and plugin set-up out of the measure
    tracemalloc.start()
    start = time.perf_counter()
    rec = check(path)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert codes(rec) == ["CNL513"]
    assert (rec.width, rec.height, rec.decoded) == (40000, 40000, False)
    assert elapsed < 1.0
    assert peak < 5_000_000  # the image would be 1.6 GB


def test_pixel_limit_is_an_option(tmp_path):
    path = make(tmp_path, "a.jpg", size=(100, 100))
    assert codes(check(path, max_pixels=9_999)) == ["CNL513"]
    assert codes(check(path, max_pixels=10_000)) == []


def test_pillow_global_limit_left_alone(tmp_path):
    from PIL import Image

    before = Image.MAX_IMAGE_PIXELS
    check(make(tmp_path, "bomb.png", "png_bomb"))
    check(make(tmp_path, "trunc.jpg", "truncated_jpeg"))
    assert Image.MAX_IMAGE_PIXELS == before
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# ---- --quick ----------------------------------------------------------------------------------

def test_quick_catches_a_truncated_jpeg_by_its_missing_end_marker(tmp_path):
    rec = check(make(tmp_path, "t.jpg", "truncated_jpeg"), quick=True)
    assert codes(rec) == ["CNL501"]
    assert rec.findings[0].message == (
        "truncated JPEG: no end-of-image marker (FFD9) after the image data (the file stops early): "
        "Keras image_dataset_from_directory, Keras flow_from_directory, tf.io.decode_image and torchvision "
        "ImageFolder fail on it")
    assert rec.decoded is False


def test_quick_catches_a_png_crc_error(tmp_path):
    rec = check(make(tmp_path, "c.png", "png_bad_crc"), quick=True)
    assert codes(rec) == ["CNL501"]
    assert "CRC mismatch in the IDAT chunk" in rec.findings[0].message


def test_quick_catches_a_cut_png(tmp_path):
    path = make(tmp_path, "c.png", "png")
    with open(path, "rb") as fh:
        data = fh.read()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
    rec = check(path, quick=True)
    assert codes(rec) == ["CNL501"]
    assert rec.findings[0].message.startswith("truncated PNG: the IDAT chunk at byte 33 runs past the end")


def test_quick_does_not_decode_so_misses_mid_stream_garbage(tmp_path):
    """Documented limit of --quick: the end marker is intact, only a decode sees the damage."""
    path = make(tmp_path, "g.jpg", "garbage_jpeg")
    assert codes(check(path, quick=True)) == []
    assert codes(check(path)) == ["CNL501"]


@pytest.mark.parametrize("kind", ["truncated_jpeg", "garbage_jpeg"])
@pytest.mark.parametrize("size", [(128, 96), (1024, 768)])
def test_draft_decode_still_fails_on_damage(tmp_path, kind, size):
    """The JPEG decode runs at 1/8 scale: truncation and broken markers must still fail it."""
    rec = check(make(tmp_path, f"{kind}{size[0]}.jpg", kind, size=size))
    assert codes(rec) == ["CNL501"]


# ---- paths that cannot be read ---------------------------------------------------------------

def test_fifo_named_like_an_image_never_blocks(tmp_path):
    path = os.path.join(str(tmp_path), "x.jpg")
    os.mkfifo(path)
    rec = check(path)
    assert codes(rec) == ["CNL514"]
    assert rec.findings[0].message == (
        "cannot read: not a regular file but a FIFO (named pipe), where a reader would block")


def test_symlink_loop_and_broken_link(tmp_path):
    loop = os.path.join(str(tmp_path), "loop.jpg")
    os.symlink("loop.jpg", loop)
    broken = os.path.join(str(tmp_path), "broken.jpg")
    os.symlink("gone.jpg", broken)
    rec = check(loop)
    assert codes(rec) == ["CNL514"] and rec.findings[0].message == "cannot read: symbolic link loop"
    rec = check(broken)
    assert codes(rec) == ["CNL514"]
    assert rec.findings[0].message == "cannot read: broken symbolic link (its target 'gone.jpg' does not exist)"


def test_a_link_to_an_image_is_read(tmp_path):
    target = make(tmp_path, "real.jpg")
    link = os.path.join(str(tmp_path), "link.jpg")
    os.symlink(target, link)
    rec = inspect_file(link, os.path.realpath(link), ScanOptions())
    assert codes(rec) == [] and rec.decoded


def test_folder_named_like_an_image(tmp_path):
    path = os.path.join(str(tmp_path), "x.jpg")
    os.mkdir(path)
    rec = check(path)
    assert codes(rec) == ["CNL514"]
    assert rec.findings[0].message == "cannot read: not a regular file but a folder"


def _deny(monkeypatch, denied):
    real_open = os.open

    def fake_open(path, flags, *args, **kw):
        if os.path.abspath(path) == os.path.abspath(denied):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kw)

    monkeypatch.setattr(inspect_mod.os, "open", fake_open)


def test_permission_denied(tmp_path, monkeypatch):
    path = make(tmp_path, "locked.jpg")
    _deny(monkeypatch, path)
    rec = check(path)
    assert codes(rec) == ["CNL514"]
    assert rec.findings[0].message == "cannot read: permission denied"
    assert "chmod a+r" in rec.findings[0].hint


def _codes_as_nobody(path, conn):
    os.setgid(65534)
    os.setuid(65534)
    conn.send(codes(check(path)))


def test_permission_denied_for_real(tmp_path):
    """A file with mode 000. Root reads it whatever its mode, so as root the check runs in a child
    process that has given up root (from the fork server: this process has threads, no fork())."""
    import shutil
    import tempfile

    from cnnlint import workers

    folder = tempfile.mkdtemp(prefix="cnnlint-perm-")  # under /tmp: other users can reach it
    try:
        os.chmod(folder, 0o755)
        assert codes(check(make(folder, "readable.jpg"))) == []
        path = make(folder, "locked.jpg")
        os.chmod(path, 0)
        if os.geteuid() != 0:
            assert codes(check(path)) == ["CNL514"]
            return
        ctx = workers.context()
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(target=_codes_as_nobody, args=(path, send))
        child.start()
        assert receive.poll(120) and receive.recv() == ["CNL514"]
        child.join(60)
        assert child.exitcode == 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_folder_of_hostile_entries_scans_through(tmp_path, monkeypatch):
    root = str(tmp_path)
    make(tmp_path, "ok.jpg")
    make(tmp_path, "trunc.jpg", "truncated_jpeg")
    make(tmp_path, "bomb.png", "png_bomb")
    make(tmp_path, "locked.jpg")
    os.mkfifo(os.path.join(root, "fifo.jpg"))
    os.symlink("loop.jpg", os.path.join(root, "loop.jpg"))
    os.symlink("gone.jpg", os.path.join(root, "broken.jpg"))
    _deny(monkeypatch, os.path.join(root, "locked.jpg"))
    files = sorted((os.path.join(root, n), os.path.join(root, n)) for n in os.listdir(root))
    records = list(scan_files(iter(files), ScanOptions(), None, False))
    got = sorted((os.path.basename(r.path), codes(r)) for r in records)
    assert got == [
        ("bomb.png", ["CNL513"]),
        ("broken.jpg", ["CNL514"]),
        ("fifo.jpg", ["CNL514"]),
        ("locked.jpg", ["CNL514"]),
        ("loop.jpg", ["CNL514"]),
        ("ok.jpg", []),
        ("trunc.jpg", ["CNL501"]),
    ]


def test_only_own_codes(tmp_path):
    for name, kind, kw, *_ in FAULTS:
        rec = check(make(tmp_path, "own_" + name.lstrip("._") if not name.startswith("._") else name, kind, **kw))
        assert set(codes(rec)) <= OWN


def test_damaged_exif_is_not_a_corrupt_image(tmp_path):
    from fixtures.images import make_image

    path = os.path.join(str(tmp_path), "exif.jpg")
    make_image().save(path, "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7f" + b"\x01" * 20)
    rec = check(path)
    assert (codes(rec), rec.orientation, rec.decoded) == ([], None, True)
