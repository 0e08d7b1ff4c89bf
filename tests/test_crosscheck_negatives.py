"""Code against data (CNL601-CNL608) through the real CLI, on small generated datasets.

Mostly NEGATIVES: scripts that are correct for the dataset beside them, or that
cnnlint cannot judge (the fact is computed at run time, the data is fetched at
run time, the path is another machine's), which must produce no CNL6xx finding.
Then a few POSITIVES that real users write, with the line each finding points at.

Every case writes a script (or notebook) and a tiny dataset into tmp_path, runs
`cnnlint SCRIPT DATA --no-cache --format json -o out.json` from tmp_path, and
compares the exact set of CNL6xx codes (dataset CNL5xx and code CNL1xx-4xx
findings are not this file's business).
"""

from __future__ import annotations

import json
import os
import re
import textwrap
import zlib
from collections.abc import Iterable, Sequence

import numpy as np
import pytest
from PIL import Image

from cnnlint.cli import main
from fixtures.images import write_image

# ---- helpers ---------------------------------------------------------------------------------


def build(root, spec: dict[str, int], size=(64, 64), kind="jpeg", mode="RGB") -> None:
    """spec: {"data/train/cats": 8, ...}: that many images in each folder (relative to root).

    File names carry the whole folder path, so every file gets its own seed and content
    (no duplicate or train/val leakage findings)."""
    ext = {"jpeg": "jpg", "png": "png"}[kind]
    for folder, count in spec.items():
        stem = folder.replace("/", "_")
        for i in range(count):
            write_image(os.path.join(str(root), *folder.split("/"), f"{stem}_{i:03d}.{ext}"), kind,
                        size=size, mode=mode)


def build_grey_rgb(root, spec: dict[str, int], size=(64, 64)) -> None:
    """Grey pictures stored as RGB JPEGs (R = G = B), as in many chest X-ray sets."""
    for folder, count in spec.items():
        stem = folder.replace("/", "_")
        for i in range(count):
            rng = np.random.default_rng(zlib.crc32(f"{folder}/{i}".encode()))
            ys = np.linspace(0, 1, size[1])[:, None]
            xs = np.linspace(0, 1, size[0])[None, :]
            grey = 128 + 60 * np.sin(5 * xs + rng.uniform(0, 6)) * np.cos(3 * ys + rng.uniform(0, 6))
            grey = np.clip(grey + rng.normal(0, 4, grey.shape), 0, 255).astype(np.uint8)
            path = os.path.join(str(root), *folder.split("/"), f"{stem}_{i:03d}.jpg")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(grey).convert("RGB").save(path, "JPEG", quality=92)


def splits(base: str, classes: Sequence[str], train: int = 8, val: int = 3,
           val_classes: Sequence[str] | None = None) -> dict[str, int]:
    spec = {f"{base}/train/{c}": train for c in classes}
    spec.update({f"{base}/val/{c}": val for c in (classes if val_classes is None else val_classes)})
    return spec


def flat(base: str, classes: Sequence[str], n: int = 8) -> dict[str, int]:
    return {f"{base}/{c}": n for c in classes}


def notebook(cells: Iterable[str]) -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                   "source": textwrap.dedent(c).strip("\n").splitlines(keepends=True)} for c in cells],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }, indent=1)


def run(tmp_path, monkeypatch, code: str, data: Sequence[str] = ("data",), name: str = "train.py",
        args: Sequence[str] | None = None) -> tuple[list[dict], dict]:
    """Write `code` as `name` in tmp_path, run the CLI there; (the CNL6xx findings, the whole report)."""
    script = tmp_path / name
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(code if name.endswith(".ipynb") else textwrap.dedent(code).lstrip("\n"))
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "report.json"
    argv = list(args) if args is not None else [name, *data]
    rc = main([*argv, "--no-cache", "--format", "json", "-o", str(out)])
    assert rc in (0, 1), rc
    report = json.loads(out.read_text())
    broken = [f["message"] for f in report["findings"] if f["code"] == "CNL001"]
    assert not broken, broken  # a case whose script does not parse would pass vacuously
    return [f for f in report["findings"] if f["code"].startswith("CNL6")], report


def codes(found: list[dict]) -> set[str]:
    return {f["code"] for f in found}


def where(found: list[dict]) -> set[tuple[str, int]]:
    return {(f["code"], f["line"]) for f in found}


def quiet(tmp_path, monkeypatch, code: str, **kw) -> dict:
    found, report = run(tmp_path, monkeypatch, code, **kw)
    assert found == [], [(f["code"], f["line"], f["message"]) for f in found]
    # not vacuous: the script's pipeline facts were extracted and held against something
    assert report.get("crosscheck"), "no pipeline facts extracted"
    return report


def crosscheck_results(report: dict) -> list[str]:
    return [e["result"] for r in report.get("crosscheck", []) for e in r["facts"]]


THREE = ("cats", "dogs", "birds")

# ---- NEGATIVES: output units (CNL601) ----------------------------------------------------------


def test_dense_len_class_names(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import tensorflow as tf
        from tensorflow.keras import layers

        train_ds = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        val_ds = tf.keras.utils.image_dataset_from_directory("data/val", image_size=(64, 64))
        class_names = train_ds.class_names
        model = tf.keras.Sequential([
            layers.Rescaling(1.0 / 255, input_shape=(64, 64, 3)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(len(class_names)),
        ])
        model.compile(optimizer="adam",
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train_ds, validation_data=val_ds, epochs=1)
    """)


def test_dense_generator_num_classes(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1.0 / 255)
        train_gen = gen.flow_from_directory("data/train", target_size=(64, 64), batch_size=8)
        model = keras.Sequential([
            keras.layers.Conv2D(8, 3, activation="relu", input_shape=(64, 64, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(train_gen.num_classes, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_gen, epochs=1)
    """)


def test_num_classes_from_listdir(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import os
        from tensorflow import keras

        TRAIN = "data/train"
        num_classes = len(os.listdir(TRAIN))
        train = keras.utils.image_dataset_from_directory(TRAIN, image_size=(64, 64), label_mode="categorical")
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(num_classes, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_two_models_binary_and_multiclass_two_datasets(tmp_path, monkeypatch):
    """A binary cats-vs-dogs model and a 3-class flowers model in one file, each on its own data."""
    build(tmp_path, {**splits("pets", ("cats", "dogs")), **flat("flowers", ("daisy", "rose", "tulip"))})
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras import layers

        pets = keras.utils.image_dataset_from_directory("pets/train", image_size=(64, 64), label_mode="binary")
        flowers = keras.utils.image_dataset_from_directory("flowers", image_size=(64, 64))

        binary = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            layers.Rescaling(1 / 255.0),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(1, activation="sigmoid"),
        ])
        binary.compile(optimizer="adam", loss="binary_crossentropy")
        binary.fit(pets, epochs=1)

        multi = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            layers.Rescaling(1 / 255.0),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3, activation="softmax"),
        ])
        multi.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        multi.fit(flowers, epochs=1)
    """, data=("pets", "flowers"))


def test_two_heads_one_dataset(tmp_path, monkeypatch):
    """A 3-class classifier plus a 1-unit 'is it a bird' model over the same folders: one agrees."""
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras import layers

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        is_bird = train.map(lambda x, y: (x, keras.ops.cast(y == 0, "float32")))

        clf = keras.Sequential([keras.Input(shape=(64, 64, 3)), layers.Rescaling(1 / 255.0),
                                layers.GlobalAveragePooling2D(), layers.Dense(3)])
        clf.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        clf.fit(train, epochs=1)

        det = keras.Sequential([keras.Input(shape=(64, 64, 3)), layers.Rescaling(1 / 255.0),
                                layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")])
        det.compile(optimizer="adam", loss="binary_crossentropy")
        det.fit(is_bird, epochs=1)
    """)


def test_multilabel_sigmoid_head_with_label_list(tmp_path, monkeypatch):
    """Multi-label: labels= a list of 5-hot vectors, Dense(5, sigmoid) on 3 folders: not class indices."""
    build(tmp_path, flat("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import numpy as np
        from tensorflow import keras

        tags = np.load("tags.npy")  # one 5-hot row per image, in file order
        train = keras.utils.image_dataset_from_directory(
            "data", labels=tags.tolist(), label_mode="categorical", image_size=(64, 64), shuffle=False)
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(5, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_flow_from_dataframe_multilabel(tmp_path, monkeypatch):
    build(tmp_path, {"data/images": 24})
    (tmp_path / "data" / "labels.csv").write_text("filename,tags\n")
    quiet(tmp_path, monkeypatch, """
        import pandas as pd
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        df = pd.read_csv("data/labels.csv")
        df["tags"] = df["tags"].str.split(" ")
        gen = ImageDataGenerator(rescale=1 / 255.0).flow_from_dataframe(
            df, directory="data/images", x_col="filename", y_col="tags",
            class_mode="categorical", target_size=(64, 64), batch_size=8)
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(17, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(gen, epochs=1)
    """)


def test_autoencoder_class_mode_input(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras import layers
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1 / 255.0)
        train = gen.flow_from_directory("data/train", target_size=(64, 64), class_mode="input", batch_size=8)
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.Dense(64 * 64 * 3, activation="sigmoid"),
            layers.Reshape((64, 64, 3)),
        ])
        model.compile(optimizer="adam", loss="mse")
        model.fit(train, epochs=1)
    """)


def test_class_mode_none_and_labels_none(tmp_path, monkeypatch):
    """A GAN discriminator (Dense(1)) fed unlabelled images of a 3-class folder."""
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        real = keras.utils.image_dataset_from_directory("data/train", labels=None, image_size=(64, 64))
        also = ImageDataGenerator().flow_from_directory("data/train", target_size=(64, 64), class_mode=None)
        disc = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Conv2D(8, 3, strides=2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ])
        disc.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
        disc.fit(real, epochs=1)
    """)


def test_classes_list_selects_two_of_three(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1 / 255.0)
        train = gen.flow_from_directory("data/train", target_size=(64, 64), classes=["cats", "dogs"],
                                        class_mode="binary")
        val = keras.utils.image_dataset_from_directory("data/val", image_size=(64, 64),
                                                       class_names=["cats", "dogs"], label_mode="binary")
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, validation_data=val, epochs=1)
    """)


def test_val_split_with_fewer_classes_given_train_class_names(tmp_path, monkeypatch):
    """val/ lacks a class (common with small sets); val takes train's class list so indices agree.
    The model follows train/ (3 classes), not val/ (2 folders)."""
    build(tmp_path, splits("data", THREE, val_classes=("cats", "dogs")))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64),
                                                            label_mode="categorical")
        valid_ds = keras.utils.image_dataset_from_directory("data/val", image_size=(64, 64),
                                                            label_mode="categorical",
                                                            class_names=train_ds.class_names)
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_ds, validation_data=valid_ds, epochs=1)
    """)


def test_test_split_with_fewer_classes_role_from_path(tmp_path, monkeypatch):
    """A test/ folder holding 2 of the 3 classes, evaluated only: the 3-unit head follows train/."""
    build(tmp_path, {**{f"data/train/{c}": 8 for c in THREE}, **{f"data/test/{c}": 3 for c in ("cats", "dogs")}})
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1 / 255.0)
        train_generator = gen.flow_from_directory("data/train", target_size=(64, 64), batch_size=8)
        test_generator = gen.flow_from_directory("data/test", target_size=(64, 64), shuffle=False)
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train_generator, epochs=1)
        model.evaluate(test_generator)
    """)


def test_validation_split_on_flat_class_folders(tmp_path, monkeypatch):
    build(tmp_path, flat("flower_photos", ("daisy", "roses", "tulips", "sunflowers"), n=10))
    quiet(tmp_path, monkeypatch, """
        import pathlib
        import tensorflow as tf

        data_dir = pathlib.Path("flower_photos")
        img_height = img_width = 96
        train_ds = tf.keras.utils.image_dataset_from_directory(
            data_dir, validation_split=0.2, subset="training", seed=1, image_size=(img_height, img_width))
        val_ds = tf.keras.utils.image_dataset_from_directory(
            data_dir, validation_split=0.2, subset="validation", seed=1, image_size=(img_height, img_width))
        model = tf.keras.Sequential([
            tf.keras.layers.Rescaling(1.0 / 255, input_shape=(img_height, img_width, 3)),
            tf.keras.layers.Conv2D(8, 3, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(4),
        ])
        model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train_ds, validation_data=val_ds, epochs=1)
    """, data=("flower_photos",))


def test_torch_head_from_dataset_classes_and_resize_crop(tmp_path, monkeypatch):
    """Resize(256) + CenterCrop(224) on 128-px images (1.75x: under the 2x line), head from .classes."""
    build(tmp_path, splits("data/hymenoptera_data", ("ants", "bees")), size=(128, 128))
    quiet(tmp_path, monkeypatch, """
        import os
        import torch
        from torch import nn, optim
        from torchvision import datasets, models, transforms

        data_dir = "data/hymenoptera_data"
        data_transforms = {
            "train": transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor()]),
            "val": transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor()]),
        }
        image_datasets = {x: datasets.ImageFolder(os.path.join(data_dir, x), data_transforms[x])
                          for x in ["train", "val"]}
        loaders = {x: torch.utils.data.DataLoader(image_datasets[x], batch_size=4, shuffle=True)
                   for x in ["train", "val"]}
        model = models.resnet18()
        model.fc = nn.Linear(model.fc.in_features, len(image_datasets["train"].classes))
        criterion = nn.CrossEntropyLoss()
        optimizer = optim.SGD(model.parameters(), lr=0.001)
        for inputs, labels in loaders["train"]:
            optimizer.zero_grad()
            loss = criterion(model(inputs), labels)
            loss.backward()
            optimizer.step()
    """, data=("data/hymenoptera_data",))


def test_torch_num_classes_matches(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE), size=(48, 48))
    quiet(tmp_path, monkeypatch, """
        import torch
        from torch import nn
        from torchvision import datasets, models, transforms

        tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
        train = datasets.ImageFolder(root="data/train", transform=tf)
        model = models.resnet18(num_classes=3)
        opt = torch.optim.Adam(model.parameters())
        for x, y in torch.utils.data.DataLoader(train, batch_size=8):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    """)


def test_noqa_on_the_dense_line(tmp_path, monkeypatch):
    """A head sized for a class the data does not hold yet, suppressed on purpose."""
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),  # noqa: CNL601 - a fourth class is coming
        ])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """)


def test_existing_other_folder_is_not_the_given_dataset(tmp_path, monkeypatch):
    """The script reads other/train (5 classes, exists); the dataset given is data/ (3 classes)."""
    build(tmp_path, {**splits("data", THREE), **flat("other/train", ("a", "b", "c", "d", "e"), n=2)})
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("other/train", image_size=(64, 64))
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(5),
        ])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """)


def test_torch_module_default_num_classes_overridden(tmp_path, monkeypatch):
    """`def __init__(self, num_classes=10)` built as Net(num_classes=len(train.classes)): not 10."""
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import torch
        from torch import nn
        from torchvision import datasets, transforms

        train = datasets.ImageFolder("data/train", transforms.Compose([transforms.Resize((64, 64)),
                                                                       transforms.ToTensor()]))


        class Net(nn.Module):
            def __init__(self, num_classes=10):
                super().__init__()
                self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
                self.fc = nn.Linear(8, num_classes)

            def forward(self, x):
                return self.fc(self.features(x))


        model = Net(num_classes=len(train.classes))
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in torch.utils.data.DataLoader(train, batch_size=8):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    """)


def test_keras_builder_default_num_classes_overridden(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras


        def build_model(num_classes=10):
            inputs = keras.Input(shape=(64, 64, 3))
            x = keras.layers.Rescaling(1 / 255.0)(inputs)
            x = keras.layers.GlobalAveragePooling2D()(x)
            outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
            return keras.Model(inputs, outputs)


        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        model = build_model(len(train.class_names))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_sequential_add_style(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    report = quiet(tmp_path, monkeypatch, """
        from tensorflow.keras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
        from tensorflow.keras.models import Sequential
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        train = ImageDataGenerator(rescale=1.0 / 255).flow_from_directory(
            "data/train", target_size=(64, 64), class_mode="categorical")
        model = Sequential()
        model.add(Conv2D(8, (3, 3), input_shape=(64, 64, 3), activation="relu"))
        model.add(MaxPooling2D())
        model.add(Flatten())
        model.add(Dense(64, activation="relu"))
        model.add(Dropout(0.5))
        model.add(Dense(3, activation="softmax"))
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        model.fit(train, epochs=1)
    """)
    assert crosscheck_results(report).count("agrees") >= 4  # units, size, channels, loss all held


def test_given_dataset_is_the_train_split_itself(tmp_path, monkeypatch):
    """`cnnlint train.py data/train`: val/ exists but was not given; neither is judged wrongly."""
    build(tmp_path, splits("data", THREE, val_classes=("cats", "dogs")))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        val = keras.utils.image_dataset_from_directory("data/val", image_size=(64, 64),
                                                       class_names=["birds", "cats", "dogs"])
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, validation_data=val, epochs=1)
    """, data=("data/train/",))


def test_script_in_subfolder_reads_parent_relative_path(tmp_path, monkeypatch):
    """scripts/train.py reads ../data/train (relative to itself), linted from the repository root."""
    build(tmp_path, splits("data", THREE))
    report = quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("../data/train", image_size=(64, 64))
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """, name="scripts/train.py", args=["scripts/train.py", "data"])
    assert "matched" in crosscheck_results(report)


# ---- NEGATIVES: sizes and channels (CNL602, CNL603, CNL608) -------------------------------------


def test_resizing_layer_in_front_of_the_model(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras import layers

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(96, 96))
        model = keras.Sequential([
            keras.Input(shape=(128, 128, 3)),
            layers.Rescaling(1 / 255.0),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(3),
        ])
        resize = keras.Sequential([layers.Resizing(128, 128)])
        train = train.map(lambda x, y: (resize(x), y))
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """)


def test_tf_image_resize_in_map(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import tensorflow as tf

        IMG = 112
        train = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        train = train.map(lambda x, y: (tf.image.resize(x, (IMG, IMG)) / 255.0, y))
        model = tf.keras.Sequential([
            tf.keras.layers.Conv2D(8, 3, activation="relu", input_shape=(IMG, IMG, 3)),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_fully_convolutional_none_input(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras import layers

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(96, 96))
        inputs = keras.Input(shape=(None, None, 3))
        x = layers.Rescaling(1 / 255.0)(inputs)
        x = layers.Conv2D(16, 3, activation="relu")(x)
        x = layers.GlobalMaxPooling2D()(x)
        outputs = layers.Dense(3, activation="softmax")(x)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_applications_include_top_false_without_input_shape(tmp_path, monkeypatch):
    build(tmp_path, splits("data", ("cats", "dogs")), size=(80, 80))
    quiet(tmp_path, monkeypatch, """
        import tensorflow as tf

        IMG_SIZE = (160, 160)
        train = tf.keras.utils.image_dataset_from_directory("data/train", image_size=IMG_SIZE,
                                                            label_mode="binary")
        base = tf.keras.applications.MobileNetV2(include_top=False, weights="imagenet")
        base.trainable = False
        inputs = tf.keras.Input(shape=IMG_SIZE + (3,))
        x = tf.keras.applications.mobilenet_v2.preprocess_input(inputs)
        x = base(x, training=False)
        x = tf.keras.layers.GlobalAveragePooling2D()(x)
        outputs = tf.keras.layers.Dense(1, activation="sigmoid")(x)
        model = tf.keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_applications_default_224_matches(tmp_path, monkeypatch):
    """ResNet50 with its top at its own 224x224; 40-px thumbnails upscaled, but the weights are pretrained."""
    build(tmp_path, splits("data", THREE), size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.applications import ResNet50
        from tensorflow.keras.applications.resnet50 import preprocess_input

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))
        train = train.map(lambda x, y: (preprocess_input(x), y))
        model = ResNet50(weights="imagenet")
        model.fit(train, epochs=1)
    """)


def test_torchvision_pretrained_upscaling_is_deliberate(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE), size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        import torch
        from torch import nn
        from torchvision import datasets, transforms
        from torchvision.models import resnet18, ResNet18_Weights

        tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor()])
        train = datasets.ImageFolder("data/train", transform=tf)
        model = resnet18(weights=ResNet18_Weights.DEFAULT)
        model.fc = nn.Linear(512, 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        for x, y in torch.utils.data.DataLoader(train, batch_size=8):
            opt.zero_grad()
            nn.CrossEntropyLoss()(model(x), y).backward()
            opt.step()
    """)


def test_grey_xrays_stored_as_rgb_read_grayscale(tmp_path, monkeypatch):
    build_grey_rgb(tmp_path, splits("chest_xray", ("NORMAL", "PNEUMONIA")))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1 / 255.0)
        train = gen.flow_from_directory("chest_xray/train", target_size=(64, 64), color_mode="grayscale",
                                        class_mode="binary", batch_size=8)
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """, data=("chest_xray",))


def test_grey_xrays_cv2_imread_grayscale_in_memory(tmp_path, monkeypatch):
    build_grey_rgb(tmp_path, splits("chest_xray", ("NORMAL", "PNEUMONIA")))
    quiet(tmp_path, monkeypatch, """
        import os
        import cv2
        import numpy as np
        from tensorflow import keras

        X, y = [], []
        for label, name in enumerate(["NORMAL", "PNEUMONIA"]):
            folder = os.path.join("chest_xray/train", name)
            for f in os.listdir(folder):
                img = cv2.imread(os.path.join(folder, f), cv2.IMREAD_GRAYSCALE)
                X.append(cv2.resize(img, (64, 64)))
                y.append(label)
        X = np.array(X).reshape(-1, 64, 64, 1) / 255.0
        y = np.array(y)
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(X, y, epochs=1)
    """, data=("chest_xray",))


def test_true_greyscale_files_read_grayscale(tmp_path, monkeypatch):
    """Mode-L JPEGs (MNIST-like digits) read as grayscale into a 1-channel model."""
    build(tmp_path, splits("digits", ("0", "1", "2")), mode="L", size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("digits/train", color_mode="grayscale",
                                                         image_size=(28, 28))
        model = keras.Sequential([
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train, epochs=1)
    """, data=("digits",))


def _mixed_modes(root):
    """RGB JPEGs, greyscale PNGs and RGBA PNGs in the same class folders."""
    for c in ("cats", "dogs"):
        for i in range(8):
            write_image(os.path.join(str(root), "data", "train", c, f"{c}_rgb_{i}.jpg"), "jpeg", size=(64, 64))
        for i in range(3):
            write_image(os.path.join(str(root), "data", "train", c, f"{c}_grey_{i}.png"), "png", size=(64, 64),
                        mode="L")
            write_image(os.path.join(str(root), "data", "train", c, f"{c}_rgba_{i}.png"), "png", size=(64, 64),
                        mode="RGBA")


def test_pil_convert_rgb_in_torch_dataset_on_mixed_modes(tmp_path, monkeypatch):
    """RGB, L and RGBA files read through Image.open(...).convert("RGB") (and the `with` form)."""
    _mixed_modes(tmp_path)
    report = quiet(tmp_path, monkeypatch, """
        import glob
        import os
        import torch
        from PIL import Image
        from torch.utils.data import DataLoader, Dataset
        from torchvision import transforms


        def load_rgb(path):
            with Image.open(path) as im:
                im = im.convert("RGB")
                return im


        class Pets(Dataset):
            def __init__(self, root):
                self.files = sorted(glob.glob(os.path.join(root, "*", "*.jpg"))
                                    + glob.glob(os.path.join(root, "*", "*.png")))
                self.tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])

            def __len__(self):
                return len(self.files)

            def __getitem__(self, i):
                path = self.files[i]
                img = Image.open(path).convert("RGB") if i % 2 else load_rgb(path)
                return self.tf(img), int("dogs" in path)


        loader = DataLoader(Pets("data/train"), batch_size=8, shuffle=True)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64 * 3, 2))
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    """)
    assert "matched" in crosscheck_results(report)  # the glob was tied to data/


def test_read_image_mode_rgb_on_mixed_modes(tmp_path, monkeypatch):
    _mixed_modes(tmp_path)
    report = quiet(tmp_path, monkeypatch, """
        import glob
        import torch
        from torchvision.io import ImageReadMode, read_image
        from torchvision.transforms.functional import resize

        X = torch.stack([resize(read_image(p, mode=ImageReadMode.RGB), [64, 64])
                         for p in glob.glob("data/train/*/*.png")])
    """)
    assert "matched" in crosscheck_results(report)


def test_decode_jpeg_channels_3_on_mixed_modes(tmp_path, monkeypatch):
    _mixed_modes(tmp_path)
    quiet(tmp_path, monkeypatch, """
        import glob
        import tensorflow as tf

        paths = glob.glob("data/train/*/*.jpg") + glob.glob("data/train/*/*.png")
        files = tf.data.Dataset.from_tensor_slices(paths)

        def load(path):
            raw = tf.io.read_file(path)
            image = tf.io.decode_jpeg(raw, channels=3)
            other = tf.io.decode_image(raw, channels=3, expand_animations=False)
            label = tf.cast(tf.strings.regex_full_match(path, ".*dogs.*"), tf.int32)
            return tf.image.resize(image, (64, 64)) / 255.0, label

        train = files.map(load).batch(8)
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(64, 64, 3)),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_imagefolder_custom_loader_grey_on_grey_files(tmp_path, monkeypatch):
    build(tmp_path, splits("data", ("ok", "defect")), mode="L")
    quiet(tmp_path, monkeypatch, """
        import torch
        from PIL import Image
        from torchvision import datasets, transforms


        def grey_loader(path):
            return Image.open(path).convert("L")


        tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
        train = datasets.ImageFolder("data/train", transform=tf, loader=grey_loader)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64, 2))
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for x, y in torch.utils.data.DataLoader(train, batch_size=8):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    """)


def test_sizes_at_exactly_half_the_target(tmp_path, monkeypatch):
    """64-px images to 128: exactly 2x, not "more than 2x"."""
    build(tmp_path, splits("data", THREE), size=(64, 64))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(128, 128))
        model = keras.Sequential([
            keras.Input(shape=(128, 128, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3),
        ])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """)


def test_small_in_memory_set_fits(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import os
        import numpy as np
        from PIL import Image
        from tensorflow import keras

        images, labels = [], []
        for label, name in enumerate(sorted(os.listdir("data/train"))):
            folder = os.path.join("data/train", name)
            for file in os.listdir(folder):
                img = Image.open(os.path.join(folder, file)).convert("RGB").resize((64, 64))
                images.append(np.asarray(img))
                labels.append(label)
        x_train = np.array(images) / 255.0
        y_train = np.array(labels)
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x_train, y_train, epochs=1)
    """)


def test_non_square_sizes_height_first(tmp_path, monkeypatch):
    """160x48 (w x h) images, loaded as (48, 160) = (height, width) by Keras and torchvision."""
    build(tmp_path, splits("data", THREE), size=(160, 48))
    quiet(tmp_path, monkeypatch, """
        import torch
        from tensorflow import keras
        from torchvision import datasets, transforms

        img_height, img_width = 48, 160
        train = keras.utils.image_dataset_from_directory("data/train", image_size=(img_height, img_width))
        model = keras.Sequential([keras.Input(shape=(img_height, img_width, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train, epochs=1)

        strips = datasets.ImageFolder("data/train", transforms.Compose([transforms.Resize((48, 160)),
                                                                        transforms.ToTensor()]))
    """)


def test_random_crop_layer_after_loading(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras import layers

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(72, 72))
        crop = layers.RandomCrop(64, 64)
        train = train.map(lambda x, y: (crop(x), y))
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), layers.Rescaling(1 / 255.0),
                                  layers.GlobalAveragePooling2D(), layers.Dense(3)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """)


# ---- NEGATIVES: labels (CNL604) ------------------------------------------------------------------


def test_binary_pairs_and_categorical_pairs(tmp_path, monkeypatch):
    build(tmp_path, {**splits("pets", ("cats", "dogs")), **splits("data", THREE)})
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1 / 255.0)
        pets = gen.flow_from_directory("pets/train", target_size=(64, 64), class_mode="binary")
        pet_model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Flatten(),
                                      keras.layers.Dense(1, activation="sigmoid")])
        pet_model.compile(optimizer="adam", loss="binary_crossentropy")
        pet_model.fit(pets, epochs=1)
    """, data=("pets",))


def test_categorical_default_with_categorical_loss(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        train = ImageDataGenerator(rescale=1 / 255.0).flow_from_directory("data/train", target_size=(64, 64))
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(), metrics=["accuracy"])
        model.fit(train, epochs=1)
    """)


# ---- NEGATIVES: imbalance (CNL605) ---------------------------------------------------------------

IMBALANCED = {"data/train/normal": 22, "data/train/rare": 2, "data/val/normal": 3, "data/val/rare": 3}


def test_imbalanced_with_class_weight(tmp_path, monkeypatch):
    build(tmp_path, IMBALANCED, size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        import numpy as np
        from sklearn.utils.class_weight import compute_class_weight
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64), label_mode="binary")
        y = np.concatenate([b.numpy().ravel() for _, b in train]).astype(int)
        weights = compute_class_weight("balanced", classes=np.unique(y), y=y)
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1, class_weight=dict(enumerate(weights)))
    """)


def test_imbalanced_with_weighted_random_sampler(tmp_path, monkeypatch):
    build(tmp_path, IMBALANCED, size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        import torch
        from torch.utils.data import DataLoader, WeightedRandomSampler
        from torchvision import datasets, transforms

        train = datasets.ImageFolder("data/train", transforms.Compose([transforms.Resize((64, 64)),
                                                                       transforms.ToTensor()]))
        counts = torch.bincount(torch.tensor(train.targets))
        sample_w = (1.0 / counts.float())[train.targets]
        sampler = WeightedRandomSampler(sample_w, num_samples=len(train), replacement=True)
        loader = DataLoader(train, batch_size=8, sampler=sampler)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64 * 3, 2))
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    """)


def test_imbalanced_with_weighted_cross_entropy(tmp_path, monkeypatch):
    build(tmp_path, IMBALANCED, size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        import torch
        from torch import nn
        from torchvision import datasets, transforms

        train = datasets.ImageFolder("data/train", transforms.Compose([transforms.Resize((64, 64)),
                                                                       transforms.ToTensor()]))
        counts = torch.bincount(torch.tensor(train.targets)).float()
        w = counts.sum() / (len(counts) * counts)
        criterion = nn.CrossEntropyLoss(weight=w)
        model = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64 * 3, 2))
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in torch.utils.data.DataLoader(train, batch_size=8, shuffle=True):
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
    """)


def test_only_the_val_split_is_imbalanced(tmp_path, monkeypatch):
    build(tmp_path, {"data/train/normal": 8, "data/train/rare": 8, "data/val/normal": 22, "data/val/rare": 2},
          size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64), label_mode="binary")
        val = keras.utils.image_dataset_from_directory("data/val", image_size=(64, 64), label_mode="binary")
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, validation_data=val, epochs=1)
    """)


def test_imbalanced_with_focal_loss(tmp_path, monkeypatch):
    build(tmp_path, IMBALANCED, size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64), label_mode="binary")
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam",
                      loss=keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True))
        model.fit(train, epochs=1)
    """)


# ---- NEGATIVES: missing paths (CNL606) -----------------------------------------------------------

# appended to the cases' scripts, which are written indented by 8 and dedented together
_FLOWERS_MODEL = textwrap.indent("""
model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Rescaling(1 / 255.0),
                          keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(5)])
model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(train, epochs=1)
""", " " * 8)


def test_get_file_download_then_missing_path(tmp_path, monkeypatch):
    quiet(tmp_path, monkeypatch, """
        import pathlib
        from tensorflow import keras

        url = "https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz"
        keras.utils.get_file("flower_photos", origin=url, untar=True, cache_dir=".", cache_subdir="")
        train = keras.utils.image_dataset_from_directory("flower_photos", image_size=(64, 64))
    """ + _FLOWERS_MODEL, args=["train.py"])


def test_notebook_wget_unzip_then_missing_path(tmp_path, monkeypatch):
    nb = notebook([
        "!wget -q https://example.com/cats_and_dogs.zip\n!unzip -q cats_and_dogs.zip",
        """
        from tensorflow import keras
        train = keras.utils.image_dataset_from_directory("cats_and_dogs/train", image_size=(64, 64),
                                                         label_mode="binary")
        """,
        """
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
        """,
    ])
    quiet(tmp_path, monkeypatch, nb, name="train.ipynb", args=["train.ipynb"])


def test_colab_drive_absolute_path_no_dataset(tmp_path, monkeypatch):
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("/content/drive/MyDrive/flowers/train",
                                                         image_size=(64, 64))
    """ + _FLOWERS_MODEL, args=["train.py"])


def test_kaggle_input_path(tmp_path, monkeypatch):
    quiet(tmp_path, monkeypatch, """
        import os
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("../input/flowers-recognition/flowers",
                                                         image_size=(64, 64))
        test_dir = os.path.join("../input/flowers-recognition", "test")
        test = keras.utils.image_dataset_from_directory(test_dir, image_size=(64, 64))
    """ + _FLOWERS_MODEL, name="kernel/train.py", args=["kernel/train.py"])


def test_argparse_path(tmp_path, monkeypatch):
    quiet(tmp_path, monkeypatch, """
        import argparse
        from torchvision import datasets, transforms

        parser = argparse.ArgumentParser()
        parser.add_argument("--data", default="dataset/train")
        args = parser.parse_args()
        train = datasets.ImageFolder(args.data, transforms.ToTensor())
    """, args=["train.py"])


def test_walked_folder_is_not_named(tmp_path, monkeypatch):
    """`cnnlint .` in a repository whose data lives elsewhere: no CNL606 for the scripts it walks into."""
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("dataset/train", image_size=(64, 64))
    """ + _FLOWERS_MODEL, name="src/train.py", args=["."])


def test_script_in_subfolder_reads_path_relative_to_cwd(tmp_path, monkeypatch):
    """`python scripts/train.py` run from the repository root: data/train is in the current folder."""
    build(tmp_path, flat("data/train", ("a", "b", "c", "d", "e"), n=4))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
    """ + _FLOWERS_MODEL, name="scripts/train.py", args=["scripts/train.py"])


def test_windows_home_env_and_cwd_paths(tmp_path, monkeypatch):
    quiet(tmp_path, monkeypatch, r"""
        import os
        from tensorflow import keras

        a = keras.utils.image_dataset_from_directory(r"C:\Users\me\datasets\flowers\train", image_size=(64, 64))
        b = keras.utils.image_dataset_from_directory("~/datasets/flowers/val", image_size=(64, 64))
        c = keras.utils.image_dataset_from_directory(os.environ.get("DATA_DIR", "flowers/test"),
                                                     image_size=(64, 64))
        d = keras.utils.image_dataset_from_directory(os.path.join(os.getcwd(), "flowers", "extra"),
                                                     image_size=(64, 64))
    """, args=["train.py"])


def test_kagglehub_download(tmp_path, monkeypatch):
    quiet(tmp_path, monkeypatch, """
        import kagglehub
        from tensorflow import keras

        kagglehub.dataset_download("alxmamaev/flowers-recognition")
        train = keras.utils.image_dataset_from_directory("flowers/train", image_size=(64, 64))
    """, args=["train.py"])


def test_notebook_kaggle_cli_download(tmp_path, monkeypatch):
    nb = notebook([
        "!kaggle datasets download -d alxmamaev/flowers-recognition\n!unzip -q flowers-recognition.zip",
        """
        from tensorflow import keras
        train = keras.utils.image_dataset_from_directory("flowers", image_size=(64, 64))
        """,
    ])
    quiet(tmp_path, monkeypatch, nb, name="kaggle.ipynb", args=["kaggle.ipynb"])


def test_notebook_drive_mount_then_cd(tmp_path, monkeypatch):
    nb = notebook([
        "from google.colab import drive\ndrive.mount('/content/drive')",
        "%cd /content/drive/MyDrive/flowers_project",
        """
        from tensorflow import keras
        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        """,
    ])
    quiet(tmp_path, monkeypatch, nb, name="colab.ipynb", args=["colab.ipynb"])


# ---- NEGATIVES: notebooks ------------------------------------------------------------------------


def test_notebook_correct_pipeline(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    nb = notebook([
        """
        import tensorflow as tf
        IMG_SIZE = (64, 64)
        train_ds = tf.keras.utils.image_dataset_from_directory("data/train", image_size=IMG_SIZE)
        val_ds = tf.keras.utils.image_dataset_from_directory("data/val", image_size=IMG_SIZE)
        class_names = train_ds.class_names
        """,
        "%matplotlib inline\nprint(class_names)",
        """
        model = tf.keras.Sequential([
            tf.keras.Input(shape=IMG_SIZE + (3,)),
            tf.keras.layers.Rescaling(1.0 / 255),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(len(class_names)),
        ])
        model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        history = model.fit(train_ds, validation_data=val_ds, epochs=1)
        """,
    ])
    report = quiet(tmp_path, monkeypatch, nb, name="train.ipynb", data=("data",))
    assert "agrees" in crosscheck_results(report)


# ---- POSITIVES -----------------------------------------------------------------------------------


def test_positive_hardcoded_num_classes(tmp_path, monkeypatch):
    """The flowers tutorial copied onto a 5-class folder with NUM_CLASSES left at 3."""
    build(tmp_path, flat("flower_photos", ("daisy", "dandelion", "roses", "sunflowers", "tulips"), n=8))
    found, _ = run(tmp_path, monkeypatch, """
        import tensorflow as tf

        NUM_CLASSES = 3
        train_ds = tf.keras.utils.image_dataset_from_directory(
            "flower_photos", validation_split=0.2, subset="training", seed=1, image_size=(64, 64))
        model = tf.keras.Sequential([
            tf.keras.layers.Rescaling(1.0 / 255, input_shape=(64, 64, 3)),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(NUM_CLASSES),
        ])
        model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train_ds, epochs=1)
    """, data=("flower_photos",))
    assert where(found) == {("CNL601", 9)}
    assert "5 class folders" in found[0]["message"]


def test_positive_loader_pointed_at_folder_of_splits(tmp_path, monkeypatch):
    """flow_from_directory("data") on data/{train,val}/: it takes train/ and val/ for two classes."""
    build(tmp_path, splits("data", THREE))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1 / 255.0, validation_split=0.2)
        train = gen.flow_from_directory("data", target_size=(64, 64), subset="training")
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train, epochs=1)
    """)
    assert where(found) == {("CNL601", 7)}
    assert "split folders" in found[0]["message"]


def test_positive_default_target_size(tmp_path, monkeypatch):
    build(tmp_path, splits("data", ("cats", "dogs")), size=(150, 150))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        datagen = ImageDataGenerator(rescale=1.0 / 255)
        train = datagen.flow_from_directory("data/train", class_mode="binary")
        model = keras.Sequential([
            keras.layers.Conv2D(32, 3, activation="relu", input_shape=(150, 150, 3)),
            keras.layers.Flatten(),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="rmsprop", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """)
    assert where(found) == {("CNL602", 5)}


def test_positive_binary_on_three_folders(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        gen = ImageDataGenerator(rescale=1 / 255.0)
        train = gen.flow_from_directory("data/train", target_size=(64, 64), class_mode="binary")
        model = keras.models.load_model("base.keras")
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """)
    # one finding: the bce loss agrees with 0/1 labels; the labels are what is wrong
    assert where(found) == {("CNL604", 5)}
    assert "3 class folders" in found[0]["message"]


def test_positive_sparse_loss_on_default_categorical(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras
        from tensorflow.keras.preprocessing.image import ImageDataGenerator

        train = ImageDataGenerator(rescale=1 / 255.0).flow_from_directory("data/train", target_size=(64, 64))
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(train, epochs=1)
    """)
    assert where(found) == {("CNL604", 7)}


def test_positive_grayscale_on_colour_photos(tmp_path, monkeypatch):
    build(tmp_path, splits("data", ("ripe", "unripe")))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory(
            "data/train", image_size=(64, 64), color_mode="grayscale", label_mode="binary")
        model = keras.Sequential([keras.Input(shape=(64, 64, 1)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """)
    assert where(found) == {("CNL603", 4)}


def test_positive_imbalanced_unweighted(tmp_path, monkeypatch):
    build(tmp_path, IMBALANCED, size=(40, 40))
    found, _ = run(tmp_path, monkeypatch, """
        import torch
        from torch import nn
        from torchvision import datasets, transforms

        train = datasets.ImageFolder("data/train", transforms.Compose([transforms.Resize((64, 64)),
                                                                       transforms.ToTensor()]))
        criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
        model = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64 * 3, 2))
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in torch.utils.data.DataLoader(train, batch_size=8, shuffle=True):
            optimizer.zero_grad()
            criterion(model(x), y).backward()
            optimizer.step()
    """)
    assert where(found) == {("CNL605", 13)}


def test_positive_mistyped_path_named_script(tmp_path, monkeypatch):
    build(tmp_path, flat("data/train", ("a", "b"), n=4))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("dataset/train", image_size=(64, 64))
    """, args=["train.py"])
    assert where(found) == {("CNL606", 3)}


def test_positive_colab_path_matched_by_name(tmp_path, monkeypatch):
    """The Colab path /content/drive/MyDrive/flowers/train, linted against a local copy of flowers/."""
    build(tmp_path, splits("flowers", THREE))
    found, _ = run(tmp_path, monkeypatch, """
        from google.colab import drive
        from tensorflow import keras

        drive.mount("/content/drive")
        train = keras.utils.image_dataset_from_directory("/content/drive/MyDrive/flowers/train",
                                                         image_size=(64, 64))
    """ + _FLOWERS_MODEL, data=("flowers",))
    assert where(found) == {("CNL601", 9)}  # the Dense(5) on the model's second line
    assert "flowers/train/ has 3 class folders" in found[0]["message"]


def test_positive_upscaled_thumbnails_from_scratch(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE), size=(40, 40))
    found, _ = run(tmp_path, monkeypatch, """
        import torch
        from torch import nn
        from torchvision import datasets, transforms

        tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor()])
        train = datasets.ImageFolder("data/train", transform=tf)
        model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in torch.utils.data.DataLoader(train, batch_size=8):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
    """)
    assert where(found) == {("CNL608", 5)}


def test_positive_in_a_notebook_cell(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    nb = notebook([
        """
        from tensorflow import keras
        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        """,
        """
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
        """,
    ])
    found, _ = run(tmp_path, monkeypatch, nb, name="train.ipynb")
    assert [(f["code"], f["cell"], f["line"]) for f in found] == [("CNL601", 2, 5)]


def test_positive_grayscale_loader_into_rgb_model_on_grey_xrays(tmp_path, monkeypatch):
    """X-rays read grey (right for the files: no CNL603) into a (224, 224, 3)-style input: CNL602."""
    build_grey_rgb(tmp_path, splits("chest_xray", ("NORMAL", "PNEUMONIA")))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory(
            "chest_xray/train", image_size=(64, 64), color_mode="grayscale", label_mode="binary")
        model = keras.Sequential([
            keras.Input(shape=(64, 64, 3)),
            keras.layers.Rescaling(1 / 255.0),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """, data=("chest_xray",))
    assert where(found) == {("CNL602", 4)}
    assert "3 channels" in found[0]["message"]


def test_positive_unforced_readers_on_mixed_modes(tmp_path, monkeypatch):
    _mixed_modes(tmp_path)
    found, _ = run(tmp_path, monkeypatch, """
        import glob
        import tensorflow as tf
        import torch
        from torchvision.io import read_image

        paths = glob.glob("data/train/*/*.jpg") + glob.glob("data/train/*/*.png")


        def load(path):
            image = tf.io.decode_png(tf.io.read_file(path))
            return tf.image.resize(image, (64, 64)) / 255.0


        train = tf.data.Dataset.from_tensor_slices(paths).map(load).batch(8)
        X = torch.stack([read_image(p) for p in glob.glob("data/train/*/*.png")])
    """)
    assert where(found) == {("CNL603", 10), ("CNL603", 15)}
    assert all("mixes them" in f["message"] for f in found)


def test_positive_float64_images_over_runtime_memory(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nruntime-memory = "64MiB"\n')
    found, _ = run(tmp_path, monkeypatch, """
        import os
        import numpy as np
        from PIL import Image
        from tensorflow import keras

        images, labels = [], []
        for label, name in enumerate(sorted(os.listdir("data/train"))):
            folder = os.path.join("data/train", name)
            for file in os.listdir(folder):
                img = Image.open(os.path.join(folder, file)).convert("RGB").resize((512, 512))
                images.append(np.asarray(img))
                labels.append(label)
        x_train = np.array(images) / 255.0
        y_train = np.array(labels)
        model = keras.models.load_model("base.keras")
        model.fit(x_train, y_train, epochs=1)
    """)
    # 24 images x 512 x 512 x 3 x 8 bytes = 144 MiB
    assert codes(found) == {"CNL607"}
    assert "24 images" in found[0]["message"] and "float64" in found[0]["message"]


# ---- false positives and misses found by review, fixed ----------------------------------------


def test_fp_walked_demo_folder_is_not_the_scripts_data(tmp_path, monkeypatch):
    """The real data (dataset/train, 10 classes) is gitignored and absent; examples/pets is a demo."""
    build(tmp_path, flat("examples/pets", ("cats", "dogs"), n=8))
    quiet(tmp_path, monkeypatch, """
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("dataset/train", image_size=(64, 64))
        model = keras.Sequential([keras.Input(shape=(64, 64, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(10)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """, name="src/train.py", args=["."])


def test_fp_os_chdir_then_relative_path(tmp_path, monkeypatch):
    quiet(tmp_path, monkeypatch, """
        import os
        from tensorflow import keras

        os.chdir("/content/drive/MyDrive/project")
        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
    """, args=["train.py"])


def test_fp_notebook_cd_magic_then_relative_path(tmp_path, monkeypatch):
    nb = notebook([
        "%cd /content/project",
        """
        from tensorflow import keras
        train = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        """,
    ])
    quiet(tmp_path, monkeypatch, nb, name="train.ipynb", args=["train.ipynb"])


def test_fp_one_hot_in_map_with_categorical_loss(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import tensorflow as tf

        train = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        train = train.map(lambda x, y: (x, tf.one_hot(y, 3)))
        model = tf.keras.Sequential([tf.keras.Input(shape=(64, 64, 3)), tf.keras.layers.Rescaling(1 / 255.0),
                                     tf.keras.layers.GlobalAveragePooling2D(),
                                     tf.keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_fp_labels_remapped_to_binary_in_map(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import tensorflow as tf

        train = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        train = train.map(lambda x, y: (x, tf.cast(y == 2, tf.float32)))  # is it a dog?
        model = tf.keras.Sequential([tf.keras.Input(shape=(64, 64, 3)), tf.keras.layers.Rescaling(1 / 255.0),
                                     tf.keras.layers.GlobalAveragePooling2D(),
                                     tf.keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(train, epochs=1)
    """)


def test_fp_imagefolder_target_transform_one_vs_rest(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import torch
        from torch import nn
        from torchvision import datasets, models, transforms

        train = datasets.ImageFolder("data/train", transforms.Compose([transforms.Resize((64, 64)),
                                                                       transforms.ToTensor()]),
                                     target_transform=lambda y: float(y == 0))
        model = models.resnet18()
        model.fc = nn.Linear(model.fc.in_features, 1)
        criterion = nn.BCEWithLogitsLoss()
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in torch.utils.data.DataLoader(train, batch_size=8):
            optimizer.zero_grad()
            criterion(model(x).squeeze(1), y.float()).backward()
            optimizer.step()
    """)


def test_fp_triplet_embedding_head(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE))
    quiet(tmp_path, monkeypatch, """
        import tensorflow as tf
        import tensorflow_addons as tfa

        train = tf.keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
        model = tf.keras.Sequential([
            tf.keras.Input(shape=(64, 64, 3)),
            tf.keras.layers.Rescaling(1 / 255.0),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dense(128),
        ])
        model.compile(optimizer="adam", loss=tfa.losses.TripletSemiHardLoss())
        model.fit(train, epochs=1)
    """)


def test_fp_functional_cross_entropy_weight(tmp_path, monkeypatch):
    build(tmp_path, IMBALANCED, size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        import torch
        import torch.nn.functional as F
        from torch import nn
        from torchvision import datasets, transforms

        train = datasets.ImageFolder("data/train", transforms.Compose([transforms.Resize((64, 64)),
                                                                       transforms.ToTensor()]))
        counts = torch.bincount(torch.tensor(train.targets)).float()
        w = counts.sum() / counts
        model = nn.Sequential(nn.Flatten(), nn.Linear(64 * 64 * 3, 2))
        optimizer = torch.optim.Adam(model.parameters())
        for x, y in torch.utils.data.DataLoader(train, batch_size=8, shuffle=True):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y, weight=w).backward()
            optimizer.step()
    """)


def test_fp_pca_fit_is_not_training(tmp_path, monkeypatch):
    build(tmp_path, IMBALANCED, size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        from sklearn.decomposition import PCA
        from tensorflow import keras

        ds = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64), shuffle=False)
        model = keras.models.load_model("model.keras")
        feats = model.predict(ds)
        pca = PCA(n_components=2)
        pca.fit(feats)
    """)


def test_fp_keras_hub_from_preset_is_pretrained(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE), size=(40, 40))
    quiet(tmp_path, monkeypatch, """
        import keras_hub
        from tensorflow import keras

        train = keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))
        model = keras_hub.models.ImageClassifier.from_preset("resnet_50_imagenet", num_classes=3)
        model.fit(train, epochs=1)
    """)


def test_fp_image_open_for_sizes_only(tmp_path, monkeypatch):
    _mixed_modes(tmp_path)
    quiet(tmp_path, monkeypatch, """
        import glob
        import pandas as pd
        from PIL import Image

        sizes = [Image.open(p).size for p in glob.glob("data/train/*/*.png")]
        print(pd.Series(sizes).value_counts())
    """)


def test_fp_image_open_verify_cleanup(tmp_path, monkeypatch):
    _mixed_modes(tmp_path)
    quiet(tmp_path, monkeypatch, """
        import glob
        import os
        from PIL import Image

        for p in glob.glob("data/train/*/*.png"):
            try:
                img = Image.open(p)
                img.verify()
            except Exception:
                os.remove(p)
    """)


# ---- misses found by review (cases the rule pages say are reported), fixed ----------------------


def test_fn_decode_image_expand_animations_without_channels(tmp_path, monkeypatch):
    _mixed_modes(tmp_path)
    found, _ = run(tmp_path, monkeypatch, """
        import glob
        import tensorflow as tf


        def load(path, label):
            image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False)
            return tf.image.resize(image, (224, 224)) / 255.0, label


        paths = glob.glob("data/train/*/*.jpg") + glob.glob("data/train/*/*.png")
        train = tf.data.Dataset.from_tensor_slices((paths, [0] * len(paths))).map(load).batch(8)
    """)
    assert where(found) == {("CNL603", 6)}


def test_fn_torchvision_grayscale_on_colour(tmp_path, monkeypatch):
    build(tmp_path, splits("data", ("ripe", "unripe")))
    found, _ = run(tmp_path, monkeypatch, """
        from torchvision import datasets, transforms

        tf = transforms.Compose([transforms.Grayscale(), transforms.Resize((64, 64)), transforms.ToTensor()])
        train = datasets.ImageFolder("data/train", tf)
    """)
    assert codes(found) == {"CNL603"}


def test_fn_starred_input_shape(tmp_path, monkeypatch):
    build(tmp_path, splits("data", THREE), size=(128, 128))
    found, _ = run(tmp_path, monkeypatch, """
        from tensorflow import keras

        IMG_SIZE = (128, 128)
        train = keras.utils.image_dataset_from_directory("data/train")
        model = keras.Sequential([keras.Input(shape=(*IMG_SIZE, 3)), keras.layers.Rescaling(1 / 255.0),
                                  keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
        model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.fit(train, epochs=1)
    """)
    assert where(found) == {("CNL602", 4)}


# the pattern `creates_data` replaced (one case-sensitive alternation, tried at every position)
_OLD_CREATES_DATA = re.compile(
    r"get_file|urlretrieve|urlopen|requests\.get|wget|curl\s|unzip|extractall|tarfile|zipfile|ZipFile|"
    r"download\s*=\s*True|download_url|download_and_extract|\bdownload\(|makedirs|mkdir|shutil\.|copytree|"
    r"copyfile|snapshot_download|kagglehub|kaggle\s|gdown|tfds\.|load_dataset\(|drive\.mount|git\s+clone|"
    r"split_?folders|symlink|os\.rename|\.rename\(|hf_hub_download|os\.chdir|%cd\b|^\s*cd\s",
    re.MULTILINE,
)


@pytest.mark.parametrize("text, creates", [
    ("ds.download()", True),               # `\bdownload\(` after a dot
    ("redownload(x)", False),              # not at a word start
    ("x = 1\n   cd data\n", True),          # a shell `cd` at a line start
    ("\n\n  cd\tdata", True),
    ("abcd data", False),                   # `cd` inside a word
    ("%cd /content", True),
    ("%cdx", False),
    ("torchvision.datasets.MNIST(root, download = True)", True),
    ("download=False", False),
    ("git  clone https://x", True),
    ("splitfolders.ratio(src)", True),
    ("os.makedirs(out, exist_ok=True)", True),
    ("model.fit(x, y)", False),
    ("", False),
])
def test_creates_data_agrees_with_the_single_pattern(text, creates):
    from cnnlint.crosscheck.extract import creates_data

    assert creates_data(text) is creates
    assert bool(_OLD_CREATES_DATA.search(text)) is creates
