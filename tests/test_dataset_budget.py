"""The memory budget of an image inspection (max-decode-memory) and the decoders' fd 2 output.

Every bomb here runs under a cap: in this process through the scanner's own
limit (scan_files' in-process path), in subprocesses under RLIMIT_AS as well
(fixtures.measure), so a regression fails the test instead of the machine.
"""

import multiprocessing
import os
import resource
import subprocess
import sys

import pytest

from cnnlint.config import ConfigError, Config, apply_table
from cnnlint.dataset import budget, headers, scan
from cnnlint.dataset.scan import ScanOptions, scan_files
from fixtures import hostile_images as hostile
from fixtures.images import write_image
from fixtures.measure import run_tree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MIB = 1024 * 1024
GIB = 1024 * MIB


def _env():
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("CI", None)
    return env


def _cnnlint(folder, *extra, timeout=120.0):
    return run_tree([sys.executable, "-m", "cnnlint", folder.name, "--no-cache", *extra], env=_env(),
                    cwd=str(folder.parent), timeout=timeout)


def _scan_one(path, **options):
    """One file through the scanner's in-process path (under the scanner's memory cap)."""
    recs = list(scan_files([(str(path), str(path))], ScanOptions(**options)))
    assert len(recs) == 1
    return recs[0]


# ---- the acceptance bomb: a 1 x 1 GIF canvas whose frame declares 60,000 x 60,000 ---------------

def test_gif_extents_bomb_is_refused_fast_and_small(tmp_path):
    data = hostile.gif_extents_bomb()
    assert len(data) < 400
    (tmp_path / "bomb.gif").write_bytes(data)
    run = _cnnlint(tmp_path, timeout=60)
    assert run.rc == 1
    assert (f"{tmp_path.name}/bomb.gif: CNL513 [error] decoding it needs about 41,199 MiB (canvas grown to its "
            f"frames' extents: 60,000 x 60,000 pixels), over the max-decode-memory budget of 512 MiB "
            f"(a decompression bomb?); not decoded") in run.out
    assert run.err == ""
    assert run.seconds < 10
    assert run.peak_sum < GIB  # before: 3.5 GB resident, and far more on an RGB frame


# ---- each bomb kind ---------------------------------------------------------------------------------

BOMBS = [
    # kind, code, words of the message
    ("gif_extents", "CNL513", "(canvas grown to its frames' extents: 60,000 x 60,000 pixels)"),
    ("gif_frames", "CNL513", "decoding its 3,000 frames writes about 36,621 MiB of pixels (canvas: 4,000 x 4,000"),
    ("png_canvas_under_pixel_limit", "CNL513", "needs about 645 MiB (canvas: 13,000 x 13,000 pixels)"),
    ("apng_frame", "CNL513", "(an animation frame: 60,000 x 60,000 pixels)"),
    ("tiff_strip", "CNL513", "needs about 549 MiB (the image: 12,000 x 12,000 pixels)"),
    ("tiff_tile", "CNL513", "(a tile: 60,000 x 60,000 pixels)"),
    ("bmp", "CNL513", "needs about 549 MiB (the image: 12,000 x 12,000 pixels)"),
    ("bmp_rle", "CNL513", "a run-length-encoded 16,777,216 x 8 BMP: Pillow decodes RLE in Python, pixel by "
                          "pixel, for seconds to hours at this size; over the limit of 4,194,304 pixels"),
    ("webp_canvas", "CNL513", "needs about 549 MiB (canvas: 12,000 x 12,000 pixels)"),
    ("ico_png", "CNL513", "needs about 549 MiB (the PNG of entry 1: 12,000 x 12,000 pixels)"),
    ("ppm", "CNL513", "needs about 549 MiB (the image: 12,000 x 12,000 pixels)"),
    ("jpeg_progressive", "CNL513", "(the coefficients of a progressive JPEG of 65,000 x 2,700 pixels)"),
    # over the pixel limit: refused by it, as before, with its own message
    ("png_canvas", "CNL513", "60000 x 60000 = 3,600,000,000 pixels, over the limit of 178,956,970"),
    # Pillow's own text-chunk limit (1 MB decompressed) stops these in its header reader
    ("png_ztxt", "CNL501", "Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK"),
    ("png_iccp", "CNL501", "Decompressed data too large for PngImagePlugin.MAX_TEXT_CHUNK"),
]


@pytest.mark.parametrize("kind,code,words", BOMBS, ids=[b[0] for b in BOMBS])
def test_each_bomb_kind_is_refused_before_decoding(tmp_path, kind, code, words):
    ext, data = hostile.bombs()[kind]
    path = tmp_path / f"bomb{'.png' if ext == '.ico' else ext}"
    path.write_bytes(data)
    rec = _scan_one(path)
    assert [f.code for f in rec.findings] == [code]
    assert words in rec.findings[0].message
    assert rec.decoded is False


@pytest.mark.parametrize("name", sorted(hostile.seeds()))
def test_no_valid_seed_is_refused(tmp_path, name):
    ext, data = hostile.seeds()[name]
    path = tmp_path / f"seed{'.png' if ext == '.ico' else ext}"
    path.write_bytes(data)
    rec = _scan_one(path)
    assert not [f for f in rec.findings if f.code in ("CNL501", "CNL513")]
    assert rec.decoded is True


def test_a_file_over_64_mib_is_walked_through_a_read_only_mapping(tmp_path):
    path = tmp_path / "big.gif"
    path.write_bytes(hostile.gif_extents_bomb() + b"\0" * (65 * MIB))  # junk after the trailer
    rec = _scan_one(path)
    assert [f.code for f in rec.findings] == ["CNL513"]
    assert "(canvas grown to its frames' extents: 60,000 x 60,000 pixels)" in rec.findings[0].message


def test_the_budget_is_configurable_and_in_the_message(tmp_path):
    path = tmp_path / "big.png"
    write_image(str(path), "png", size=(3000, 3000))  # 36 MB in Pillow's 4 bytes a pixel
    assert [f.code for f in _scan_one(path).findings] == []
    rec = _scan_one(path, max_decode_memory=32 * MIB)
    assert [(f.code, f.message) for f in rec.findings] == [(
        "CNL513", "decoding it needs about 34 MiB (canvas: 3,000 x 3,000 pixels), over the "
                  "max-decode-memory budget of 32 MiB (a decompression bomb?); not decoded")]
    assert "raise max-decode-memory in [tool.cnnlint]" in rec.findings[0].hint


def test_the_headers_walk_stays_linear_on_a_frame_count_bomb():
    found = headers.gif(hostile.gif_frames_bomb(side=16, frames=100_000))
    assert found.frames == 100_000
    assert found.canvas == (16, 16)


# ---- the OS limit: what the checks miss ends as a finding, not an OOM kill ------------------------

def test_a_decode_the_checks_miss_meets_the_os_limit_in_process(tmp_path, monkeypatch):
    monkeypatch.setattr(budget, "declared_refusal", lambda *a: None)
    monkeypatch.setattr(budget, "decoded_refusal", lambda *a: None)
    path = tmp_path / "real_bomb.png"
    path.write_bytes(hostile.png_of_zeros(9000, 9000, colour=6, full=True))  # 324 MB of zeros once decoded
    before = resource.getrlimit(resource.RLIMIT_DATA)
    rec = _scan_one(path, max_decode_memory=32 * MIB)
    assert [(f.code, f.message) for f in rec.findings] == [(
        "CNL513", "decoding it ran out of the max-decode-memory budget of 32 MiB although its headers "
                  "declare less (a decompression bomb?); stopped")]
    assert resource.getrlimit(resource.RLIMIT_DATA) == before  # lifted again after the inspection


def _data_limit(_):
    return resource.getrlimit(resource.RLIMIT_DATA)[0], budget._status_kib("VmData")


@pytest.mark.parametrize("method", ["spawn", "forkserver"])  # cnnlint never forks (cnnlint.workers)
def test_every_worker_is_capped_under_any_start_method(method):
    ctx = multiprocessing.get_context(method)
    options = ScanOptions(max_decode_memory=64 * MIB)
    with ctx.Pool(1, initializer=scan._init, initargs=(options,)) as pool:
        soft, vmdata_kib = pool.apply(_data_limit, (0,))
    assert soft != resource.RLIM_INFINITY
    # the cap: what the worker held when it started, plus the budget, plus the headroom
    assert vmdata_kib * 1024 < soft <= vmdata_kib * 1024 + 64 * MIB + budget.HEADROOM


def test_the_worker_cap_turns_a_runaway_allocation_into_memory_error():
    code = ("from cnnlint.dataset import budget\n"
            "assert budget.limit_process(32 << 20)\n"
            "try:\n    bytearray(1 << 30)\nexcept MemoryError:\n    print('MemoryError')\n")
    run = run_tree([sys.executable, "-c", code], env=_env(), timeout=60)
    assert (run.rc, run.out.strip()) == (0, "MemoryError")
    # the cap is the process's data size + 32 MiB + the headroom: far below the 1 GiB the zero-filled
    # bytearray would have touched (a fresh CI environment, whose site-packages load more at start-up,
    # measured 256.1 MiB, so the bound is half the allocation rather than an exact figure)
    assert run.peak_max < 512 * MIB


# ---- configuration ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value,expected", [("256MiB", 256 * MIB), ("2GiB", 2 * GIB), (64 * MIB, 64 * MIB)])
def test_max_decode_memory_config(value, expected):
    config = Config()
    apply_table(config, {"max-decode-memory": value}, "pyproject.toml")
    assert config.max_decode_memory == expected


@pytest.mark.parametrize("value", ["lots", "512", 1024, True, "1MiB", 1.5, -5])
def test_a_bad_max_decode_memory_is_a_config_error(value):
    with pytest.raises(ConfigError) as err:
        apply_table(Config(), {"max-decode-memory": value}, "pyproject.toml")
    assert str(err.value) == ('pyproject.toml: max-decode-memory must be a size of at least 16MiB, such as '
                              '"512MiB" or "2GiB"')


def test_a_bad_max_decode_memory_exits_2(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nmax-decode-memory = "huge"\n')
    write_image(str(tmp_path / "a.jpg"), "jpeg")
    proc = subprocess.run([sys.executable, "-m", "cnnlint", "a.jpg"], cwd=str(tmp_path), env=_env(),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "max-decode-memory must be a size of at least 16MiB" in proc.stderr


def test_the_configured_budget_reaches_the_scan_and_its_cache_key(tmp_path):
    from cnnlint.dataset.run import _options

    config = Config()
    config.max_decode_memory = 64 * MIB
    assert _options(config, False).max_decode_memory == 64 * MIB
    from cnnlint.dataset.cache import options_key

    assert options_key(False, 100, 64 * MIB) != options_key(False, 100, 128 * MIB)


# ---- decoder chatter on fd 2 ----------------------------------------------------------------------

def _broken_tiffs(folder):
    """TIFFs whose strip data is damaged: libtiff prints its complaint to fd 2."""
    import io

    from PIL import Image

    from fixtures.images import make_image

    names = []
    for comp in ("tiff_lzw", "tiff_adobe_deflate", "jpeg"):
        out = io.BytesIO()
        make_image((64, 64), seed=5).save(out, "TIFF", compression=comp)
        data = bytearray(out.getvalue())
        im = Image.open(io.BytesIO(bytes(data)))
        start, count = im.tag_v2[273][0], im.tag_v2[279][0]
        for i in range(start + 10, start + count - 10, 7):
            data[i] ^= 0x5A
        name = f"broken_{comp}.tif"
        (folder / name).write_bytes(bytes(data))
        names.append(name)
    return names


DECODER_SAID = {
    "broken_tiff_lzw.tif": "(decoder: Using code not yet in table.)",
    # the damaged bytes depend on fixtures.images' picture (its coarse layout came with issue 15)
    "broken_tiff_adobe_deflate.tif": "(decoder: ZIPDecode: Decoding error at scanline 0, invalid bit "
                                     "length repeat.)",
    "broken_jpeg.tif": "(decoder: JPEGLib: Bogus marker length.)",
}


@pytest.mark.parametrize("clean", [0, 80], ids=["in-process", "workers"])
def test_decoder_output_goes_into_the_finding_not_the_terminal(tmp_path, clean):
    data = tmp_path / "data"
    data.mkdir()
    names = _broken_tiffs(data)
    for i in range(clean):
        write_image(str(data / f"ok{i:03d}.jpg"), "jpeg", size=(32, 32))
    run = _cnnlint(data, "--format", "json", "-o", str(tmp_path / "report.json"))
    assert run.rc == 1
    assert run.err == ""  # before: libtiff's three lines
    import json

    report = json.loads((tmp_path / "report.json").read_text())
    got = {os.path.basename(f["path"]): f["message"] for f in report["findings"] if f["code"] == "CNL501"}
    assert sorted(got) == sorted(names)
    for name, said in DECODER_SAID.items():
        assert got[name].startswith("corrupt TIFF: the decoder failed: decoder error -2: Keras flow_from_directory and "
                                    "torchvision ImageFolder fail on it (decoder: ")
        assert got[name].endswith(said)
