"""The loader model: per loader, ok / skipped / fails / altered, held against the real libraries.

The differential test writes the odd-image corpus (fixtures/odd_images.py), decodes every file with
TensorFlow, Keras's load_img and torchvision's loader, each in a child process
(fixtures/loader_truth.py), and asserts cnnlint's outcome per file and loader equals the real one.
Without TensorFlow or torchvision it skips, except in CI (the CI variable set), where it fails.
"""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from cnnlint.cli import main
from cnnlint.dataset.cache import SCHEMA_VERSION, ScanCache
from cnnlint.dataset.inspect import inspect_file
from cnnlint.dataset.loaders import LOADERS, bmp, gif, png, webp
from cnnlint.dataset.scan import ScanOptions, scan_files
from fixtures import odd_images
from conftest import need_framework
from fixtures.images import write_image
from fixtures.loader_truth import TABLE, cnnlint_outcomes, disagreements, truth

KERAS_DS = "Keras image_dataset_from_directory"


def _need_libraries() -> None:
    for module in ("tensorflow", "torchvision", "keras"):
        need_framework(module)


def test_outcomes_equal_the_real_loaders(tmp_path):
    _need_libraries()
    folder = str(tmp_path / "odd")
    variants, expected, _ = truth(folder)
    assert len(variants) >= 290
    got = cnnlint_outcomes(folder, [v.name for v in variants])
    assert disagreements(expected, got) == []
    # the corpus exercises every outcome for both decoders
    for loader in ("keras_image_dataset_from_directory", "torchvision_imagefolder"):
        assert {row[loader] for row in expected.values()} == {"ok", "skipped", "fails", "altered"}


def test_outcomes_equal_the_recorded_table(tmp_path):
    """The table fixtures/loader_truth.py wrote from the real libraries: the model holds without them."""
    with open(TABLE, encoding="utf-8") as fh:
        table = json.load(fh)
    assert table["generated_by"] == "fixtures/loader_truth.py" and table["loaders"] == list(LOADERS)
    variants = odd_images.write_corpus(str(tmp_path))
    assert sorted(v.name for v in variants) == sorted(table["outcomes"])
    got = cnnlint_outcomes(str(tmp_path), [v.name for v in variants])
    assert disagreements(table["outcomes"], got) == []


# ---- header facts ---------------------------------------------------------------------------------

def _write(tmp_path, name, data):
    path = os.path.join(str(tmp_path), name)
    with open(path, "wb") as fh:
        fh.write(data)
    return path


def _check(path, quick=False):
    return inspect_file(path, os.path.abspath(path), ScanOptions(quick=quick))


def test_bmp_facts_decide_tensorflow():
    data, _ = odd_images.bmp_file(1, 1, palette=odd_images.COLOUR)
    f = bmp.facts(data)
    assert (f.bpp, f.compression, f.header_size) == (1, 0, 40)
    assert bmp.tensorflow(f, len(data))[0] == (
        "TensorFlow's BMP decoder takes only 8-, 24- and 32-bit BMPs; this one is 1-bit")
    data, _ = odd_images.bmp_file(2, 8, compression="rle8")
    assert bmp.tensorflow(bmp.facts(data), len(data))[0] == (
        "TensorFlow's BMP decoder needs the file to end where the pixel rows end, and this one has 110 bytes more "
        "(RLE8-compressed)")
    data, _ = odd_images.bmp_file(3, 24, header=124, icc="after")
    assert bmp.tensorflow(bmp.facts(data), len(data))[0].endswith(
        "has 504 bytes more (an ICC profile or other data after the pixels)")
    data, _ = odd_images.bmp_file(4, 24, header=124, icc="before")
    assert bmp.tensorflow(bmp.facts(data), len(data)) == (None, None)
    data, _ = odd_images.bmp_file(5, 8, palette=odd_images.COLOUR)
    assert bmp.tensorflow(bmp.facts(data), len(data)) == (
        None, "TensorFlow reads an 8-bit BMP's palette indices as grey levels: its colours are lost")
    data, _ = odd_images.bmp_file(6, 8, palette=odd_images.GREY)
    assert bmp.tensorflow(bmp.facts(data), len(data)) == (None, None)
    data, _ = odd_images.bmp_file(7, 32, header=108, compression="bitfields", masks=odd_images.RGBA)
    assert "channels come out swapped" in bmp.tensorflow(bmp.facts(data), len(data))[1]
    data, _ = odd_images.bmp_file(8, 24, header=12)
    assert bmp.tensorflow(bmp.facts(data), len(data))[0].startswith(
        "TensorFlow's BMP decoder reads OS/2 1.x headers (12 bytes) as Windows ones")


def test_gif_block_walk():
    data, _ = odd_images.gif_file(1, "empty_comment")
    f = gif.facts(data)
    assert f.empty_block_before_image and f.frames == 1 and f.complete
    assert gif.tensorflow(f)[0].startswith("TensorFlow's GIF decoder (giflib) loses its place")
    data, _ = odd_images.gif_file(1, "comment_after_image")
    assert gif.tensorflow(gif.facts(data)) == (None, None)
    data, _ = odd_images.gif_file(1, "no_palette")
    assert gif.facts(data).frame_without_table
    data, _ = odd_images.gif_file(1, "local_palette")
    assert gif.tensorflow(gif.facts(data)) == (None, None)
    data, _ = odd_images.gif_file(1, "transparent")
    assert gif.tensorflow(gif.facts(data))[1].startswith("TensorFlow turns a GIF's transparent pixels black")
    data, _ = odd_images.gif_file(1, "transparent_black")
    assert gif.tensorflow(gif.facts(data)) == (None, None)
    data, _ = odd_images.gif_file(1, "animated")
    assert gif.facts(data).frames == 3


def test_png_chunk_walk():
    files = {name: data for name, data, _ in odd_images.png_files(5)}
    f = png.facts(files["png_bad_crc_text"])
    assert f.critical_error is None and f.ancillary_error.startswith("corrupt PNG: CRC mismatch in the tEXt chunk")
    assert png.facts(files["png_bad_crc_idat"]).critical_error.startswith("corrupt PNG: CRC mismatch in the IDAT")
    assert png.facts(files["apng_valid"]).animation_valid
    for broken in ("apng_sequence_gap", "apng_too_many_frames", "apng_no_fdat", "apng_no_fctl"):
        assert not png.facts(files[broken]).animation_valid, broken
    assert png.facts(files["png_16bit_grey"]).depth == 16


def test_webp_header():
    files = {name: data for name, data, _, _ in odd_images.webp_files(5)}
    assert webp.facts(files["webp_lossless_alpha"]).alpha
    assert webp.facts(files["webp_lossy_alpha"]).alpha
    assert not webp.facts(files["webp_lossless_opaque_rgba"]).alpha
    assert webp.facts(files["webp_animated_lossy"]).animated
    assert webp.facts(files["webp_lossy"]) == webp.WebpFacts(False, False, False)


# ---- findings name the loaders that have the trouble, and only them ----------------------------

def test_coloured_one_bit_bmp_fails_in_tensorflow_only(tmp_path):
    data, _ = odd_images.bmp_file(1, 1, palette=odd_images.COLOUR)
    rec = _check(_write(tmp_path, "x.bmp", data))
    assert rec.mode == "P"  # Pillow reads it as a palette image: the old model missed it
    (f,) = rec.findings
    assert (f.code, f.severity.value) == ("CNL503", "error")
    assert f.message == (f"{KERAS_DS} and tf.io.decode_image fail on it: TensorFlow's BMP decoder takes only "
                         f"8-, 24- and 32-bit BMPs; this one is 1-bit")
    assert rec.loaders() == {"keras_image_dataset_from_directory": "fails", "keras_flow_from_directory": "ok",
                             "tf_decode_image": "fails", "torchvision_imagefolder": "ok"}


def test_pillow_refuses_what_tensorflow_reads(tmp_path):
    files = {name: data for name, data, _ in odd_images.png_files(5)}
    rec = _check(_write(tmp_path, "t.png", files["png_bad_crc_text"]))
    (f,) = rec.findings
    assert f.code == "CNL501" and f.message.startswith("corrupt PNG: its header cannot be read")
    assert f.message.endswith(
        ": Keras flow_from_directory and torchvision ImageFolder fail on it "
        "(Keras image_dataset_from_directory and tf.io.decode_image read it)")
    rec = _check(_write(tmp_path, "i.png", files["png_bad_crc_idat"]))
    (f,) = rec.findings
    assert f.message == ("corrupt PNG: CRC mismatch in the IDAT chunk at byte 33 (damaged bytes): "
                         f"{KERAS_DS} and tf.io.decode_image fail on it "
                         "(Keras flow_from_directory and torchvision ImageFolder read it)")


def test_broken_apng_is_read_by_every_loader(tmp_path):
    files = {name: data for name, data, _ in odd_images.png_files(5)}
    for name in ("apng_sequence_gap", "apng_too_many_frames", "apng_no_fdat"):
        rec = _check(_write(tmp_path, name + ".png", files[name]))
        assert rec.findings == [] and set(rec.loaders().values()) == {"ok"}, name


def test_sixteen_bit_grey_is_clipped_by_pillow_only(tmp_path):
    rec = _check(write_image(os.path.join(str(tmp_path), "d.png"), "png", mode="I;16"))
    (f,) = rec.findings
    assert (f.code, f.severity.value) == ("CNL503", "warning")
    assert f.message == ("Keras flow_from_directory and torchvision ImageFolder read it altered: Pillow's "
                         "convert('RGB') clips 16-bit grey values instead of scaling them: values up to 255 pass "
                         "unchanged, every brighter one turns white")
    files = {name: data for name, data, _ in odd_images.png_files(5)}
    assert _check(_write(tmp_path, "rgb16.png", files["png_16bit_rgb"])).findings == []


def test_png_exif_orientation_is_reported(tmp_path):
    files = {name: data for name, data, _ in odd_images.png_files(5)}
    rec = _check(_write(tmp_path, "o.png", files["png_exif_orientation_6"]))
    assert [f.code for f in rec.findings] == ["CNL512"]
    assert set(rec.loaders().values()) == {"altered"}


def test_webp_alpha_fails_in_tf_decode_image_only(tmp_path):
    files = {name: data for name, data, _, _ in odd_images.webp_files(5)}
    rec = _check(_write(tmp_path, "a.webp", files["webp_lossless_alpha"]))
    (f,) = rec.findings
    assert f.message == ("tf.io.decode_image fails on it: TensorFlow's WebP decoder cannot drop alpha: a WebP with "
                         f"alpha fails under channels=3; {KERAS_DS} and Keras flow_from_directory silently skip "
                         ".webp files")


def test_gif_empty_comment_and_transparency(tmp_path):
    data, _ = odd_images.gif_file(1, "empty_comment")
    (f, ) = [x for x in _check(_write(tmp_path, "c.gif", data)).findings if x.severity.value == "error"]
    assert f.message.startswith(f"{KERAS_DS} and tf.io.decode_image fail on it: TensorFlow's GIF decoder (giflib)")
    data, _ = odd_images.gif_file(1, "transparent")
    (f,) = _check(_write(tmp_path, "t.gif", data)).findings
    assert f.message == ("Keras flow_from_directory and torchvision ImageFolder silently skip .gif files; "
                         f"{KERAS_DS} and tf.io.decode_image read it altered: TensorFlow turns a GIF's transparent "
                         "pixels black (Pillow keeps their stored colour)")


# ---- the loaders that count follow the code beside the data -------------------------------------

SCRIPTS = {
    "torch": "from torchvision import datasets\nds = datasets.ImageFolder('data/train')\n",
    "keras": "import keras\nds = keras.utils.image_dataset_from_directory('data/train')\n",
}


def _odd_set(root):
    for cls in ("a", "b"):
        for i in range(12):
            write_image(os.path.join(root, "data", "train", cls, f"{i:02d}.jpg"), "jpeg")
    data, _ = odd_images.bmp_file(1, 1, palette=odd_images.COLOUR)
    with open(os.path.join(root, "data", "train", "a", "one_bit.bmp"), "wb") as fh:
        fh.write(data)


@pytest.mark.parametrize("script", ["torch", "keras", None])
def test_counted_loaders_follow_the_script(tmp_path, monkeypatch, capsys, script):
    monkeypatch.chdir(tmp_path)
    _odd_set(str(tmp_path))
    argv = ["--no-cache", "--format", "json", "--select", "CNL5"]
    if script:
        (tmp_path / "train.py").write_text(SCRIPTS[script])
        argv += ["train.py"]
    main(argv + ["data"])
    doc = json.loads(capsys.readouterr().out)
    (ds,) = doc["datasets"]
    bmp_path = os.path.join("data", "train", "a", "one_bit.bmp")
    found = [(f["code"], f["message"]) for f in doc["findings"] if f["path"] == bmp_path and f["code"] in ("CNL501", "CNL503")]
    if script == "torch":
        assert ds["loaders"] == ["torchvision_imagefolder"] and found == []
    elif script == "keras":
        assert ds["loaders"] == ["keras_image_dataset_from_directory"]
        assert found == [("CNL503", f"{KERAS_DS} fails on it: TensorFlow's BMP decoder takes only 8-, 24- and "
                                    "32-bit BMPs; this one is 1-bit")]
    else:
        assert ds["loaders"] == list(LOADERS)
        assert [c for c, _ in found] == ["CNL503"] and "tf.io.decode_image" in found[0][1]
    # it still has findings (a palette image among RGB ones, a small one): its loaders object says all four
    assert ds["files"][bmp_path] == {"loaders": {
        "keras_image_dataset_from_directory": "fails", "keras_flow_from_directory": "ok",
        "tf_decode_image": "fails", "torchvision_imagefolder": "ok"}}


# ---- the cache keeps the effects, and forgets an older layout ------------------------------------

def test_effects_survive_the_cache(tmp_path):
    folder = str(tmp_path / "cache")
    data, _ = odd_images.bmp_file(1, 1, palette=odd_images.COLOUR)
    path = _write(tmp_path, "x.bmp", data)
    first = list(scan_files([(path, path)], ScanOptions(), ScanCache(folder)))
    cache = ScanCache(folder)
    again = list(scan_files([(path, path)], ScanOptions(), cache))
    assert cache.hits == 1
    assert again[0].effects == first[0].effects and again[0].loaders()["tf_decode_image"] == "fails"


def test_cache_of_an_older_layout_is_dropped(tmp_path):
    folder = str(tmp_path / "cache")
    os.makedirs(os.path.join(folder, "v1"))
    db = sqlite3.connect(os.path.join(folder, "v1", "dataset.sqlite"))
    db.execute("CREATE TABLE files (real_path TEXT, options TEXT, junk INTEGER)")
    db.execute("INSERT INTO files VALUES ('x', 'y', 1)")
    db.commit()
    db.close()
    path = write_image(os.path.join(str(tmp_path), "a.jpg"), "jpeg")
    list(scan_files([(path, path)], ScanOptions(), ScanCache(folder)))
    db = sqlite3.connect(os.path.join(folder, "v1", "dataset.sqlite"))
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 1


def test_files_refused_before_the_model_fail_where_listed(tmp_path):
    rec = _check(write_image(os.path.join(str(tmp_path), "bomb.png"), "png_bomb"))
    assert [f.code for f in rec.findings] == ["CNL513"] and rec.effects == []
    assert set(rec.loaders().values()) == {"fails"}
    loop = os.path.join(str(tmp_path), "loop.webp")
    os.symlink("loop.webp", loop)
    rec = _check(loop)
    assert [f.code for f in rec.findings] == ["CNL514"]
    assert rec.loaders() == {"keras_image_dataset_from_directory": "skipped", "keras_flow_from_directory": "skipped",
                             "tf_decode_image": "fails", "torchvision_imagefolder": "fails"}
