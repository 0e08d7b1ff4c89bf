"""The tutorial fixtures of fixtures/crosscheck.py build, deterministically, the datasets their scripts expect."""

import os

import pytest
from PIL import Image

from fixtures.crosscheck import TUTORIALS, script_path, write_tutorial

# the class folders each tutorial's script reads, relative to the script
EXPECTED = {
    "keras_small_data": {f"data/{s}/{c}" for s in ("train", "validation") for c in ("cats", "dogs")},
    "tf_transfer_learning": {f"cats_and_dogs_filtered/{s}/{c}" for s in ("train", "validation")
                             for c in ("cats", "dogs")},
    "tf_flowers": {f"flower_photos/{c}" for c in ("daisy", "dandelion", "roses", "sunflowers", "tulips")},
    "tf_custom_loop": {f"data/{s}/{c}" for s in ("train", "val") for c in ("cloudy", "rain", "shine", "sunrise")},
    "torch_imagefolder": {f"data/hymenoptera_data/{s}/{c}" for s in ("train", "val") for c in ("ants", "bees")},
}


def _tree(root):
    """{relative path: bytes} of every file under root."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root).replace(os.sep, "/")] = fh.read()
    return out


def test_table_covers_every_tutorial_script():
    assert set(TUTORIALS) == set(EXPECTED)
    for name in TUTORIALS:
        assert os.path.isfile(script_path(name)), name


@pytest.mark.parametrize("name", sorted(TUTORIALS))
def test_two_builds_are_byte_identical(name, tmp_path):
    first = write_tutorial(name, str(tmp_path / "a"))
    second = write_tutorial(name, str(tmp_path / "b"))
    assert os.path.basename(first) == os.path.basename(second) == TUTORIALS[name][0]
    a, b = _tree(str(tmp_path / "a")), _tree(str(tmp_path / "b"))
    assert a == b
    assert sum(len(data) for data in a.values()) < 2 * 1024 * 1024


@pytest.mark.parametrize("name", sorted(TUTORIALS))
def test_build_writes_the_class_folders_the_script_reads(name, tmp_path):
    root = str(tmp_path)
    script = write_tutorial(name, root)
    with open(script, "rb") as fh, open(script_path(name), "rb") as orig:
        assert fh.read() == orig.read()

    files = _tree(root)
    images = [p for p in files if p.endswith(".jpg")]
    folders = {p.rsplit("/", 1)[0] for p in images}
    assert folders == EXPECTED[name]
    assert set(files) == set(images) | {os.path.basename(script)}

    counts = {f: sum(1 for p in images if p.rsplit("/", 1)[0] == f) for f in folders}
    for folder, n in counts.items():
        split = folder.split("/")[-2]
        assert n >= (4 if split in ("val", "validation") else 12), folder
    # balanced: every class of a split holds as many images as the others
    by_split = {}
    for folder, n in counts.items():
        by_split.setdefault(folder.rsplit("/", 1)[0], set()).add(n)
    assert all(len(ns) == 1 for ns in by_split.values()), by_split

    # no two files share content (no duplicate or train/val leakage)
    assert len({files[p] for p in images}) == len(images)

    with Image.open(os.path.join(root, images[0])) as im:
        assert im.format == "JPEG" and im.mode == "RGB"
        assert im.size[0] >= 112 and im.size[1] >= 112  # half the largest target size (224)
