"""Code versus data (CNL601-CNL608): a script and a generated dataset per finding, each with an agreeing pair."""

from __future__ import annotations

import io
import json
import os
import textwrap
from contextlib import redirect_stdout
from typing import Dict, List, Tuple

import numpy as np
import pytest
from PIL import Image

from cnnlint.cli import main
from fixtures.crosscheck import TUTORIALS, write_tutorial
from fixtures.images import write_image

Spec = Dict[str, Tuple[int, Tuple[int, int]]]  # class folder -> (images, (width, height))


def build(root, spec: Spec, mode: str = "RGB", grey_pixels: bool = False) -> None:
    for folder, (count, size) in spec.items():
        for i in range(count):
            path = os.path.join(root, folder, f"img_{i:03d}.{'png' if mode != 'RGB' else 'jpg'}")
            if grey_pixels:
                rng = np.random.default_rng(i + 7 * len(folder))
                g = rng.integers(0, 255, (size[1], size[0]), dtype=np.uint8)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                Image.fromarray(np.stack([g, g, g], axis=-1)).save(path, quality=95)
            else:
                write_image(path, "jpeg" if mode == "RGB" else "png", size=size, mode=mode,
                            seed=hash((folder, i)) % 10_000)


def classes(split: str, names, count: int = 10, size=(64, 64)) -> Spec:
    return {f"data/{split}/{n}": (count, size) for n in names}


def run(tmp_path, monkeypatch, script: str, *args: str, name: str = "train.py", data: bool = True) -> Tuple[List[tuple], dict]:
    """Lint the script (and data/) from tmp_path; ((code, line, message) of CNL6xx findings, JSON doc)."""
    path = tmp_path / name
    if name.endswith(".ipynb"):
        path.write_text(script)
    else:
        path.write_text(textwrap.dedent(script))
    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()
    argv = [name] + (["data"] if data else []) + ["--no-cache", "--format", "json", *args]
    with redirect_stdout(buf):
        status = main(argv)
    assert status in (0, 1)
    doc = json.loads(buf.getvalue())
    found = sorted((f["code"], f["line"], f["message"]) for f in doc["findings"] if f["code"].startswith("CNL6"))
    return found, doc


def codes(found) -> List[Tuple[str, int]]:
    return [(c, line) for c, line, _ in found]


KERAS_HEAD = """\
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.preprocessing.image import ImageDataGenerator

"""


def keras_flow(units=5, activation="softmax", class_mode="categorical", loss="categorical_crossentropy",
               target="(64, 64)", shape="(64, 64, 3)", extra_flow="", fit_extra="") -> str:
    return KERAS_HEAD + f"""\
datagen = ImageDataGenerator(rescale=1.0 / 255)
train = datagen.flow_from_directory("data/train", target_size={target}, class_mode="{class_mode}"{extra_flow})
model = keras.Sequential([
    layers.Conv2D(8, 3, activation="relu", input_shape={shape}),
    layers.GlobalAveragePooling2D(),
    layers.Dense({units}, activation="{activation}"),
])
model.compile(optimizer="adam", loss="{loss}", metrics=["accuracy"])
model.fit(train, epochs=3{fit_extra})
"""


# ---------------------------------------------------------------- CNL601


def test_cnl601_dense_units_differ_from_class_folders(tmp_path, monkeypatch):
    build(tmp_path, classes("train", [f"c{i}" for i in range(7)], 4))
    found, _ = run(tmp_path, monkeypatch, keras_flow(units=5))
    assert codes(found) == [("CNL601", 10)]
    assert "gives 5 outputs, but data/train/ has 7 class folders (c0, c1, c2, c3, c4, …" in found[0][2]


def test_cnl601_agrees_when_units_match(tmp_path, monkeypatch):
    build(tmp_path, classes("train", [f"c{i}" for i in range(5)], 4))
    found, doc = run(tmp_path, monkeypatch, keras_flow(units=5))
    assert found == []
    units = [f for f in doc["crosscheck"][0]["facts"] if f["fact"] == "output units"]
    assert units[0]["result"] == "agrees" and units[0]["held_against"]["value"] == 5


def test_cnl601_single_sigmoid_unit_with_three_classes(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c"]))
    found, _ = run(tmp_path, monkeypatch, keras_flow(units=1, activation="sigmoid", class_mode="binary",
                                                     loss="binary_crossentropy"))
    assert codes(found) == [("CNL601", 10), ("CNL604", 6)]
    assert "a single output, which tells 2 classes apart, but data/train/ has 3 class folders (a, b, c)" in found[0][2]


def test_cnl601_binary_head_with_two_classes_is_fine(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["cats", "dogs"]))
    found, _ = run(tmp_path, monkeypatch, keras_flow(units=1, activation="sigmoid", class_mode="binary",
                                                     loss="binary_crossentropy"))
    assert found == []


TORCH = """\
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
train_set = datasets.ImageFolder("data/train", transform=tf)
loader = DataLoader(train_set, batch_size=8, shuffle=True)
model = models.resnet18()
model.fc = nn.Linear(model.fc.in_features, {units})
criterion = nn.CrossEntropyLoss({loss_args})
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for images, labels in loader:
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
"""


def test_cnl601_torch_fc_head(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["ants", "bees", "wasps"]))
    found, _ = run(tmp_path, monkeypatch, TORCH.format(units=2, loss_args=""))
    assert codes(found) == [("CNL601", 10)]
    assert "nn.Linear(model.fc.in_features, 2)" in found[0][2]


def test_cnl601_torch_fc_head_agrees(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["ants", "bees", "wasps"]))
    found, _ = run(tmp_path, monkeypatch, TORCH.format(units=3, loss_args=""))
    assert found == []


def test_cnl601_quiet_when_units_follow_the_data(tmp_path, monkeypatch):
    build(tmp_path, classes("train", [f"c{i}" for i in range(7)], 4))
    script = keras_flow(units="train.num_classes")
    found, _ = run(tmp_path, monkeypatch, script)
    assert found == []


def test_cnl601_folder_of_splits_read_as_classes(tmp_path, monkeypatch):
    spec = classes("train", ["a", "b", "c"], 4)
    spec.update(classes("val", ["a", "b", "c"], 4))
    build(tmp_path, spec)
    script = keras_flow(units=3).replace('"data/train"', '"data"')
    found, _ = run(tmp_path, monkeypatch, script)
    assert codes(found) == [("CNL601", 10)]
    assert "data/ holds split folders (train/, val/), not class folders: the loader takes them for 2 classes" in found[0][2]


# ---------------------------------------------------------------- CNL602


def test_cnl602_target_size_differs_from_input_shape(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4, (160, 160)))
    found, _ = run(tmp_path, monkeypatch, keras_flow(target="(150, 150)", shape="(224, 224, 3)"))
    assert codes(found) == [("CNL602", 6)]
    assert found[0][2] == ("`(150, 150)` loads 150x150 images, but the model takes 224x224 "
                           "(`(224, 224, 3)` at line 8)")


def test_cnl602_default_target_size_and_without_a_dataset(tmp_path, monkeypatch):
    script = keras_flow(target="(256, 256)", shape="(128, 128, 3)").replace(", target_size=(256, 256)", "")
    found, _ = run(tmp_path, monkeypatch, script, data=False)
    # no dataset: the path is missing (CNL606), and the code disagrees with itself (CNL602)
    assert codes(found) == [("CNL602", 6), ("CNL606", 6)]
    assert "`flow_from_directory` resizes to its default 256x256, but the model takes 128x128" in found[0][2]


def test_cnl602_grayscale_into_three_channels(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4), grey_pixels=True)
    script = keras_flow(extra_flow=', color_mode="grayscale"')
    found, _ = run(tmp_path, monkeypatch, script)
    assert codes(found) == [("CNL602", 6)]
    assert "gives 1-channel images, but the model takes 3 channels" in found[0][2]


def test_cnl602_quiet_when_the_script_resizes(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4, (160, 160)))
    script = keras_flow(target="(150, 150)", shape="(224, 224, 3)") + "x = tf.image.resize(x, (224, 224))\n"
    found, _ = run(tmp_path, monkeypatch, "import tensorflow as tf\n" + script)
    assert found == []


# ---------------------------------------------------------------- CNL603


def test_cnl603_grayscale_read_of_colour_images(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4))
    script = keras_flow(extra_flow=', color_mode="grayscale"', shape="(64, 64, 1)")
    found, _ = run(tmp_path, monkeypatch, script)
    assert codes(found) == [("CNL603", 6)]
    assert "turns every image grey, but 100% of the images in data/ are colour pictures" in found[0][2]


def test_cnl603_quiet_for_grey_pictures_stored_as_rgb(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4), grey_pixels=True)
    script = keras_flow(extra_flow=', color_mode="grayscale"', shape="(64, 64, 1)")
    found, doc = run(tmp_path, monkeypatch, script)
    assert found == []
    channel = [f for f in doc["crosscheck"][0]["facts"] if f["fact"] == "channels"]
    assert channel[0]["result"] == "agrees" and channel[0]["held_against"]["value"] == {"colour": 0, "of": 20}


DECODE = """\
import os
import tensorflow as tf

files = tf.data.Dataset.list_files("data/train/*/*")

def load(path):
    image = tf.io.decode_jpeg(tf.io.read_file(path){channels})
    return tf.image.convert_image_dtype(image, tf.float32)

ds = files.map(load).batch(8)
for name in os.listdir("data/train"):
    img = tf.io.decode_jpeg(tf.io.read_file(os.path.join("data/train", name)){channels})
"""


def _mixed(tmp_path):
    build(tmp_path, {"data/train/a": (6, (48, 48)), "data/train/b": (6, (48, 48))})
    for i in range(4):
        write_image(str(tmp_path / "data" / "train" / "b" / f"grey_{i}.jpg"), "jpeg", size=(48, 48), mode="L", seed=50 + i)


def test_cnl603_unforced_decoder_on_mixed_channels(tmp_path, monkeypatch):
    _mixed(tmp_path)
    found, _ = run(tmp_path, monkeypatch, DECODE.format(channels=""))
    assert [c for c, _ in codes(found)] == ["CNL603", "CNL603"]
    assert "keeps each file's own channels, and data/ mixes them (12 RGB, 4 grayscale (L))" in found[0][2]


def test_cnl603_quiet_when_the_decoder_forces_channels(tmp_path, monkeypatch):
    _mixed(tmp_path)
    found, _ = run(tmp_path, monkeypatch, DECODE.format(channels=", channels=3"))
    assert found == []


# ---------------------------------------------------------------- CNL604


def test_cnl604_one_hot_labels_with_sparse_loss_replaces_cnl302(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4))
    found, doc = run(tmp_path, monkeypatch, keras_flow(loss="sparse_categorical_crossentropy"))
    assert codes(found) == [("CNL604", 12)]
    assert ('`"sparse_categorical_crossentropy"` expects integer class indices, but class_mode="categorical" '
            "(line 6) gives one-hot vectors of length 5, one per class folder of data/train/") == found[0][2]
    assert not [f for f in doc["findings"] if f["code"] == "CNL302"]


def test_cnl302_stays_when_crosscheck_is_off(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4))
    _, doc = run(tmp_path, monkeypatch, keras_flow(loss="sparse_categorical_crossentropy"), "--ignore", "CNL6")
    assert [(f["code"], f["line"]) for f in doc["findings"] if f["code"] == "CNL302"] == [("CNL302", 12)]


def test_cnl604_sparse_labels_with_sparse_loss_agree(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4))
    found, _ = run(tmp_path, monkeypatch, keras_flow(class_mode="sparse", loss="sparse_categorical_crossentropy"))
    assert found == []


IDFD = """\
import tensorflow as tf

train_ds = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64), label_mode="{mode}")
model = tf.keras.Sequential([
    tf.keras.layers.Rescaling(1.0 / 255, input_shape=(64, 64, 3)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense({units}, activation="{act}"),
])
model.compile(optimizer="adam", loss="{loss}")
model.fit(train_ds, epochs=2)
"""


def test_cnl604_binary_label_mode_with_three_classes(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c"]))
    found, _ = run(tmp_path, monkeypatch, IDFD.format(mode="binary", units=3, act="softmax", loss="binary_crossentropy"))
    assert ("CNL604", 3) in codes(found)
    message = dict(((c, line), m) for c, line, m in found)[("CNL604", 3)]
    assert "raises ValueError unless there are exactly 2 classes" in message


def test_cnl604_categorical_label_mode_agrees(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c"]))
    found, _ = run(tmp_path, monkeypatch, IDFD.format(mode="categorical", units=3, act="softmax",
                                                      loss="categorical_crossentropy"))
    assert found == []


# ---------------------------------------------------------------- CNL605


def _imbalanced(tmp_path):
    build(tmp_path, {"data/train/common": (44, (64, 64)), "data/train/rare": (4, (64, 64))})


def test_cnl605_imbalanced_set_without_weights(tmp_path, monkeypatch):
    _imbalanced(tmp_path)
    found, doc = run(tmp_path, monkeypatch, keras_flow(units=2))
    assert codes(found) == [("CNL605", 13)]
    assert "trains on data/train/, whose classes are imbalanced (class 'rare' has 4 images, 'common' has 44" in found[0][2]
    assert any(f["code"] == "CNL506" for f in doc["findings"])


def test_cnl605_quiet_with_class_weight(tmp_path, monkeypatch):
    _imbalanced(tmp_path)
    found, _ = run(tmp_path, monkeypatch, keras_flow(units=2, fit_extra=", class_weight={0: 1.0, 1: 11.0}"))
    assert found == []


def test_cnl605_torch_weighted_loss_is_weighting(tmp_path, monkeypatch):
    build(tmp_path, {"data/train/common": (44, (64, 64)), "data/train/rare": (4, (64, 64))})
    found, _ = run(tmp_path, monkeypatch, TORCH.format(units=2, loss_args="weight=torch.tensor([1.0, 11.0])"))
    assert found == []
    found, _ = run(tmp_path, monkeypatch, TORCH.format(units=2, loss_args=""))
    assert codes(found) == [("CNL605", 17)]


# ---------------------------------------------------------------- CNL606


def test_cnl606_missing_path_of_a_named_script(tmp_path, monkeypatch):
    found, _ = run(tmp_path, monkeypatch, TORCH.format(units=2, loss_args=""), data=False)
    assert codes(found) == [("CNL606", 7)]
    assert found[0][2].startswith('`ImageFolder` reads "data/train", which does not exist beside the script')


def test_cnl606_quiet_when_the_path_exists_or_the_folder_is_walked(tmp_path, monkeypatch):
    (tmp_path / "data" / "train").mkdir(parents=True)
    found, _ = run(tmp_path, monkeypatch, TORCH.format(units=2, loss_args=""), data=False)
    assert found == []
    (tmp_path / "data" / "train").rmdir()
    project = tmp_path / "proj"
    project.mkdir()
    (project / "train.py").write_text(TORCH.format(units=2, loss_args=""))
    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()
    with redirect_stdout(buf):
        main(["proj", "--no-cache", "--format", "json"])
    assert not [f for f in json.loads(buf.getvalue())["findings"] if f["code"] == "CNL606"]


def test_cnl606_quiet_when_the_script_downloads_its_data(tmp_path, monkeypatch):
    script = "import tensorflow as tf\npath = tf.keras.utils.get_file('flowers.tgz', origin='https://x', untar=True)\n" + \
        keras_flow()
    found, _ = run(tmp_path, monkeypatch, script, data=False)
    assert found == []


# ---------------------------------------------------------------- CNL607

IN_MEMORY = """\
import os
import cv2
import numpy as np
from tensorflow import keras

images, labels = [], []
for label, name in enumerate(sorted(os.listdir("data/train"))):
    for fname in os.listdir(os.path.join("data/train", name)):
        img = cv2.imread(os.path.join("data/train", name, fname))
        images.append(cv2.resize(img, (224, 224)))
        labels.append(label)
X = np.array(images) / 255.0
y = np.array(labels)
model = keras.Sequential([keras.layers.Flatten(input_shape=(224, 224, 3)), keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(X, y, epochs=1)
"""


def test_cnl607_in_memory_array_over_the_runtime_memory(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b"], 20))
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nruntime-memory = "10MiB"\n')
    found, doc = run(tmp_path, monkeypatch, IN_MEMORY)
    assert codes(found) == [("CNL607", 16)]
    assert ("`X` holds all 40 images of data/train/ at once: 40 x 224 x 224 x 3 channels x 8 bytes (float64) "
            "= 0.0 GiB") in found[0][2]
    mem = [f for f in doc["crosscheck"][0]["facts"] if f["fact"] == "images held in memory"][0]
    assert mem["held_against"]["estimate_bytes"] == 40 * 224 * 224 * 3 * 8
    assert mem["held_against"]["limit_bytes"] == 10 * 2**20


def test_cnl607_fits_under_the_default_limit(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b"], 20))
    found, doc = run(tmp_path, monkeypatch, IN_MEMORY)
    assert found == []
    mem = [f for f in doc["crosscheck"][0]["facts"] if f["fact"] == "images held in memory"][0]
    assert mem["result"] == "fits" and mem["held_against"]["limit_bytes"] == 12 * 2**30


def test_runtime_memory_setting_is_checked(tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nruntime-memory = "lots"\n')
    (tmp_path / "train.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    assert main(["train.py"]) == 2
    assert "runtime-memory: cannot read the size 'lots'" in capsys.readouterr().err


# ---------------------------------------------------------------- CNL608


def test_cnl608_small_images_upscaled(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4, (40, 30)))
    found, _ = run(tmp_path, monkeypatch, keras_flow(target="(224, 224)", shape="(224, 224, 3)"))
    assert codes(found) == [("CNL608", 6)]
    assert ("`(224, 224)` resizes to 224x224, but 100% of the 20 images in data/train/ are under half that "
            "(median 30x40)") in found[0][2]


def test_cnl608_quiet_for_images_near_the_target(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4, (120, 120)))
    found, _ = run(tmp_path, monkeypatch, keras_flow(target="(224, 224)", shape="(224, 224, 3)"))
    assert found == []


def test_cnl608_quiet_with_pretrained_weights(tmp_path, monkeypatch):
    build(tmp_path, classes("train", ["a", "b", "c", "d", "e"], 4, (40, 30)))
    script = keras_flow(target="(224, 224)", shape="(224, 224, 3)") + \
        "base = keras.applications.MobileNetV2(weights='imagenet', include_top=False)\n"
    found, _ = run(tmp_path, monkeypatch, script)
    assert found == []


# ---------------------------------------------------------------- matching, suppression, JSON, cache


def test_path_matched_by_final_folder_names(tmp_path, monkeypatch):
    build(tmp_path, {f"flowers/train/c{i}": (4, (64, 64)) for i in range(7)})
    script = keras_flow(units=5).replace('"data/train"', '"/content/drive/MyDrive/flowers/train"')
    (tmp_path / "train.py").write_text(script)
    monkeypatch.chdir(tmp_path)
    buf = io.StringIO()
    with redirect_stdout(buf):
        main(["train.py", "flowers", "--no-cache", "--format", "json"])
    doc = json.loads(buf.getvalue())
    assert [(f["code"], f["line"]) for f in doc["findings"] if f["code"].startswith("CNL6")] == [("CNL601", 10)]
    path_fact = doc["crosscheck"][0]["facts"][0]
    assert path_fact["held_against"]["matched_by"] == "name"
    assert path_fact["held_against"]["folder"] == "flowers/train/"


def test_noqa_on_the_line_silences_a_crosscheck_finding(tmp_path, monkeypatch):
    build(tmp_path, classes("train", [f"c{i}" for i in range(7)], 4))
    script = keras_flow(units=5).replace('layers.Dense(5, activation="softmax"),',
                                         'layers.Dense(5, activation="softmax"),  # noqa: CNL601')
    found, _ = run(tmp_path, monkeypatch, script)
    assert found == []


def test_json_lists_the_facts_and_what_each_was_held_against(tmp_path, monkeypatch):
    build(tmp_path, classes("train", [f"c{i}" for i in range(5)], 4))
    _, doc = run(tmp_path, monkeypatch, keras_flow(units=5))
    [record] = doc["crosscheck"]
    assert record["script"] == "train.py"
    kinds = [(f["fact"], f["result"]) for f in record["facts"]]
    assert kinds == [
        ("data path (flow_from_directory)", "matched"),
        ("batch size", "not checked"),
        ("output units", "agrees"),
        ("target size", "agrees"),
        ("color mode", "agrees"),
        ("loss", "agrees"),
        ("training step", "agrees (balanced)"),
        ("target size", "agrees"),
    ]
    first = record["facts"][0]
    assert (first["value"], first["line"], first["held_against"]["folder"]) == ("data/train", 6, "data/train/")


def test_facts_come_back_from_the_cache(tmp_path, monkeypatch):
    build(tmp_path, classes("train", [f"c{i}" for i in range(7)], 4))
    (tmp_path / "train.py").write_text(keras_flow(units=5))
    monkeypatch.chdir(tmp_path)
    outs = []
    for _ in range(2):
        buf = io.StringIO()
        with redirect_stdout(buf):
            main(["train.py", "data", "--format", "json"])
        outs.append(json.loads(buf.getvalue()))
    assert os.path.isfile(tmp_path / ".cnnlint_cache" / "v1" / "lint.json")
    assert [f for f in outs[0]["findings"] if f["code"] == "CNL601"] == [f for f in outs[1]["findings"] if f["code"] == "CNL601"]
    assert len([f for f in outs[1]["findings"] if f["code"] == "CNL601"]) == 1
    assert outs[0]["crosscheck"] == outs[1]["crosscheck"]


def test_notebook_cells_are_located(tmp_path, monkeypatch):
    build(tmp_path, classes("train", [f"c{i}" for i in range(7)], 4))
    cells = [KERAS_HEAD, keras_flow(units=5)[len(KERAS_HEAD):]]
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                     "source": c.splitlines(keepends=True)} for c in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    found, doc = run(tmp_path, monkeypatch, json.dumps(nb), name="train.ipynb")
    finding = [f for f in doc["findings"] if f["code"] == "CNL601"][0]
    assert (finding["cell"], finding["line"]) == (2, 6)


# ---------------------------------------------------------------- the tutorials and the demo


@pytest.mark.parametrize("name", sorted(TUTORIALS))
def test_tutorial_scripts_against_matching_datasets_are_clean(name, tmp_path, monkeypatch):
    script = write_tutorial(name, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    folders = sorted(d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d))
    buf = io.StringIO()
    with redirect_stdout(buf):
        main([os.path.basename(script), *folders, "--no-cache", "--format", "json"])
    doc = json.loads(buf.getvalue())
    assert [f for f in doc["findings"] if f["code"].startswith("CNL6")] == []
    matched = [f for r in doc["crosscheck"] for f in r["facts"] if f["fact"].startswith("data path")]
    assert matched and all(f["result"] == "matched" for f in matched)


def test_demo_shows_crosscheck_findings(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if ": CNL6" in line]
    assert len(lines) >= 2
    assert any("CNL601 [error]" in line for line in lines)


def test_facts_placed_only_for_the_script_that_needs_it_in_a_walk(tmp_path, monkeypatch, capsys):
    """`cnnlint proj/` with no data and text output extracts facts without their places; the one
    script with a CNL602 is placed afterwards, at the same line a JSON run reports (column 63: the
    tuple's opening parenthesis, where CPython's tree starts it)."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "bad.py").write_text(keras_flow(target="(150, 150)", shape="(224, 224, 3)"))
    (proj / "good.py").write_text(keras_flow())
    monkeypatch.chdir(tmp_path)
    assert main(["proj", "--no-cache", "--select", "CNL6"]) == 1
    out = capsys.readouterr().out
    assert [line for line in out.splitlines() if ": CNL6" in line] == [
        "proj/bad.py:6:63: CNL602 [error] `(150, 150)` loads 150x150 images, but the model takes 224x224 "
        "(`(224, 224, 3)` at line 8)"]
    assert main(["proj", "--no-cache", "--select", "CNL6", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(f["path"], f["line"], f["column"]) for f in doc["findings"]] == [("proj/bad.py", 6, 63)]


def _facts(tmp_path, text: str, positions: bool):
    from cnnlint.lint.runner import lint_one
    from cnnlint.sources.walk import Target

    path = tmp_path / "train.py"
    path.write_text(text)
    _, _, error, facts = lint_one(Target(str(path), str(path), "python"), text.encode(), 10**9, positions)
    assert error is None
    return facts


@pytest.mark.parametrize("text", [
    # a loader, and a model whose input shape no call states
    KERAS_HEAD + 'train = ImageDataGenerator().flow_from_directory("data/train", target_size=(64, 64))\n'
    'model = keras.Sequential([layers.Flatten(), layers.Dense(5, activation="softmax")])\n'
    'model.compile(loss="categorical_crossentropy")\nmodel.fit(train)\n',
    # an input shape, and data from arrays (no loader)
    KERAS_HEAD + 'model = keras.Sequential([layers.Conv2D(8, 3, input_shape=(64, 64, 3)), layers.Dense(5)])\n'
    'model.compile(loss="categorical_crossentropy")\nmodel.fit(x_train, y_train)\n',
])
def test_unplaced_facts_are_kept_only_for_a_loader_beside_an_input_shape(tmp_path, text):
    """Without places (no dataset, no script named, no JSON) the run judges only a loader against
    a model's input shape (CNL602): a script with one of the two keeps no facts; placed, it does."""
    assert _facts(tmp_path, text, positions=True) is not None
    assert _facts(tmp_path, text, positions=False) is None


def test_unplaced_facts_of_a_loader_and_an_input_shape_are_the_placed_ones_at_line_0(tmp_path):
    text = keras_flow(target="(150, 150)", shape="(224, 224, 3)")
    placed, unplaced = _facts(tmp_path, text, positions=True), _facts(tmp_path, text, positions=False)
    assert [s["value"] for s in unplaced["input_shapes"]] == [[224, 224, 3]]
    assert [loader["api"] for loader in unplaced["loaders"]] == ["flow_from_directory"]
    assert [t["value"] for t in unplaced["training"]] == ["fit"]

    def unplace(value):
        if isinstance(value, dict):
            return {k: (0 if k in ("line", "column") else None if k == "cell" else "" if k == "raw" else unplace(v))
                    for k, v in value.items()}
        return [unplace(v) for v in value] if isinstance(value, list) else value

    assert unplace(placed) == unplace(unplaced)


def test_a_code_folder_with_nothing_to_cross_check_does_not_load_the_checker(tmp_path):
    """No dataset and no script with both a loader and an input shape: nothing to check, and the
    checker stays unloaded. With a script to check but no dataset, NumPy (a tenth of a second at
    start-up, for the dataset scan) still does."""
    import subprocess
    import sys

    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "train.py").write_text(KERAS_HEAD + 'gen = ImageDataGenerator().flow_from_directory("data/train")\n')
    code = ("import sys; from cnnlint.cli import main; status = main(['proj', '--no-cache', '-q']); "
            "print(status, 'cnnlint.crosscheck.check' in sys.modules, 'numpy' in sys.modules)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.splitlines()[-1].split() == ["0", "False", "False"], out.stderr[-2000:]
    (proj / "train.py").write_text(keras_flow(target="(150, 150)", shape="(224, 224, 3)"))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.splitlines()[-1].split() == ["1", "True", "False"], out.stderr[-2000:]
    assert ": CNL602 [error]" in out.stdout
