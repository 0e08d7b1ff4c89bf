"""CNL303 across the project's modules: a pretrained model built in model.py, fed from train.py."""

from __future__ import annotations

import os
from typing import List

import pytest

from cnnlint.findings import Finding
from cnnlint.lint.api import lint_text
from fixtures.projects import write_project


def lint_file(root: str, rel: str) -> List[Finding]:
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return [f for f in lint_text(text, path=path, real_path=path, select=["CNL303"]) if f.code == "CNL303"]


def where(findings: List[Finding]) -> List[tuple]:
    return [(f.code, f.line, f.column) for f in findings]


KERAS_BUILDER = """
import tensorflow as tf


def build_model(n):
    base = tf.keras.applications.{family}({weights}include_top=False, input_shape=(224, 224, 3))
    base.trainable = False
    x = tf.keras.layers.GlobalAveragePooling2D()(base.output){prepare}
    out = tf.keras.layers.Dense(n, activation="softmax")(x)
    model = tf.keras.Model(base.input, out)
    return model
"""
KERAS_TRAIN = """
from tensorflow.keras.preprocessing.image import ImageDataGenerator
from {module} import build_model

model = build_model(5)
gen = ImageDataGenerator({rescale}horizontal_flip=True)
train = gen.flow_from_directory("data/train", target_size=(224, 224))
model.compile(optimizer="adam", loss="categorical_crossentropy")
model.fit(train, epochs=5)
"""


def keras_project(tmp_path, family="MobileNetV2", weights='weights="imagenet", ', prepare="",
                  rescale="rescale=1./255, ", module="model") -> str:
    return write_project(str(tmp_path), {
        "model.py": KERAS_BUILDER.format(family=family, weights=weights, prepare=prepare),
        "train.py": KERAS_TRAIN.format(module=module, rescale=rescale),
    })


def test_keras_builder_with_imagenet_weights_fed_rescaled_pixels(tmp_path):
    root = keras_project(tmp_path)
    found = lint_file(root, "train.py")
    assert where(found) == [("CNL303", 5, 26)]
    assert found[0].message == (
        "`rescale=1./255` scales pixels to [0, 1], but the pretrained `MobileNetV2` (model.py:5 build_model builds "
        "MobileNetV2 with ImageNet weights) expects inputs scaled to [-1, 1] (its preprocess_input: x / 127.5 - 1): "
        "the pretrained features see inputs they were never trained on"
    )
    assert found[0].hint == (
        "replace rescale=1./255 with preprocessing_function=keras.applications.mobilenet_v2.preprocess_input"
    )
    assert lint_file(root, "model.py") == []  # the builder alone is fine: the pixels come from train.py


def test_keras_builder_default_weights_behind_a_rescaling_layer(tmp_path):
    """`VGG16(include_top=False)` loads ImageNet weights by default; the script puts Rescaling(1./255) in front."""
    root = write_project(str(tmp_path), {
        "nets/__init__.py": "",
        "nets/backbone.py": KERAS_BUILDER.format(family="VGG16", weights="", prepare=""),
        "train.py": """
            from tensorflow import keras
            from nets.backbone import build_model

            train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))
            base = build_model(5)
            inputs = keras.Input((224, 224, 3))
            x = keras.layers.Rescaling(1./255)(inputs)
            outputs = base(x)
            model = keras.Model(inputs, outputs)
            model.compile(optimizer="adam", loss="categorical_crossentropy")
            model.fit(train_ds, epochs=5)
        """,
    })
    found = lint_file(root, "train.py")
    assert where(found) == [("CNL303", 7, 5)]
    assert found[0].message.startswith(
        "`keras.layers.Rescaling(1./255)` scales pixels to [0, 1] before the pretrained `VGG16` "
        "(nets/backbone.py:5 build_model builds VGG16 with ImageNet weights), which expects its own preprocess_input"
    )


def test_keras_efficientnet_builder_fed_rescaled_pixels(tmp_path):
    root = keras_project(tmp_path, family="EfficientNetB0")
    found = lint_file(root, "train.py")
    assert where(found) == [("CNL303", 5, 26)]
    assert "`EfficientNetB0` (model.py:5 build_model builds EfficientNetB0 with ImageNet weights) rescales 0-255" \
        in found[0].message


@pytest.mark.parametrize("kwargs", [
    {"prepare": "\n    x = tf.keras.applications.mobilenet_v2.preprocess_input(x)"},  # the builder prepares
    {"prepare": "\n    x = tf.keras.layers.Rescaling(1./127.5, offset=-1)(x)"},  # a Rescaling layer inside
    {"weights": "weights=None, "},  # trained from scratch
    {"family": "EfficientNetB0", "rescale": ""},  # EfficientNet wants 0-255 and gets them
    {"rescale": "preprocessing_function=tf.keras.applications.mobilenet_v2.preprocess_input, "},
])
def test_keras_builder_negatives(tmp_path, kwargs):
    root = keras_project(tmp_path, **kwargs)
    if "preprocessing_function" in kwargs.get("rescale", ""):
        with open(os.path.join(root, "train.py"), "r+", encoding="utf-8") as fh:
            text = fh.read()
            fh.seek(0)
            fh.write("import tensorflow as tf\n" + text)
    assert lint_file(root, "train.py") == []


def test_two_modules_with_the_same_builder_name(tmp_path):
    root = write_project(str(tmp_path), {
        "models/__init__.py": "",
        "models/pretrained.py": KERAS_BUILDER.format(family="MobileNetV2", weights="", prepare=""),
        "models/scratch.py": KERAS_BUILDER.format(family="MobileNetV2", weights="weights=None, ", prepare=""),
        "train_scratch.py": KERAS_TRAIN.format(module="models.scratch", rescale="rescale=1./255, "),
        "train_pretrained.py": KERAS_TRAIN.format(module="models.pretrained", rescale="rescale=1./255, "),
    })
    assert lint_file(root, "train_scratch.py") == []
    found = lint_file(root, "train_pretrained.py")
    assert where(found) == [("CNL303", 5, 26)]
    assert "(models/pretrained.py:5 build_model builds MobileNetV2 with ImageNet weights)" in found[0].message


def test_builder_imported_but_not_called(tmp_path):
    root = keras_project(tmp_path)
    with open(os.path.join(root, "train.py"), encoding="utf-8") as fh:
        text = fh.read()
    with open(os.path.join(root, "train.py"), "w", encoding="utf-8") as fh:
        fh.write(text.replace("model = build_model(5)", "from tensorflow import keras\nmodel = keras.Sequential()"))
    assert lint_file(root, "train.py") == []


# ---- torchvision: an nn.Module class or a builder of model.py holding an ImageNet classifier

TORCH_CLASS = """
import torch.nn as nn
from torchvision import models


class Net(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.backbone = models.resnet50({weights})
        self.backbone.fc = nn.Linear(2048, classes)

    def forward(self, x):{prepare}
        return self.backbone(x)
"""
TORCH_BUILDER = """
import torchvision


def get_model(classes):
    model = torchvision.models.efficientnet_b0(weights=torchvision.models.EfficientNet_B0_Weights.DEFAULT)
    return model
"""
TORCH_TRAIN = """
from torchvision import datasets, transforms
from {module} import {name}

transform = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(){extra}])
train_set = datasets.ImageFolder("data/train", transform=transform)
model = {build}
"""


def torch_project(tmp_path, weights="pretrained=True", prepare="", extra="") -> str:
    return write_project(str(tmp_path), {
        "model.py": TORCH_CLASS.format(weights=weights, prepare=prepare),
        "train.py": TORCH_TRAIN.format(module="model", name="Net", build="Net(5)", extra=extra),
    })


def test_torch_class_with_imagenet_weights_and_no_normalize(tmp_path):
    root = torch_project(tmp_path)
    found = lint_file(root, "train.py")
    assert where(found) == [("CNL303", 4, 13)]
    assert found[0].message == (
        "`transforms.Compose(...)` has no `Normalize`, but model.py:8 Net builds "
        "`models.resnet50` with ImageNet weights, trained on inputs normalised with the ImageNet mean and std: the "
        "pretrained features see shifted inputs"
    )
    assert lint_file(root, "model.py") == []


def test_torch_builder_function_with_imagenet_weights(tmp_path):
    root = write_project(str(tmp_path), {
        "model.py": TORCH_BUILDER,
        "train.py": TORCH_TRAIN.format(module="model", name="get_model", build="get_model(5)", extra=""),
    })
    found = lint_file(root, "train.py")
    assert where(found) == [("CNL303", 4, 13)]
    assert "but model.py:5 get_model builds `torchvision.models.efficientnet_b0` with ImageNet weights," \
        in found[0].message


@pytest.mark.parametrize("kwargs", [
    {"weights": "weights=None"},  # trained from scratch
    {"weights": "pretrained=False"},
    {"prepare": "\n        x = (x - self.mean) / self.std"},  # the model normalises its input itself
    {"extra": ", transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])"},  # the script normalises
])
def test_torch_negatives(tmp_path, kwargs):
    assert lint_file(torch_project(tmp_path, **kwargs), "train.py") == []


def test_torch_same_class_name_elsewhere(tmp_path):
    root = write_project(str(tmp_path), {
        "nets/__init__.py": "",
        "nets/pretrained.py": TORCH_CLASS.format(weights="pretrained=True", prepare=""),
        "nets/scratch.py": TORCH_CLASS.format(weights="weights=None", prepare=""),
        "train.py": TORCH_TRAIN.format(module="nets.scratch", name="Net", build="Net(5)", extra=""),
    })
    assert lint_file(root, "train.py") == []
