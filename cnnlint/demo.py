"""`cnnlint demo`: a small training project with one of each founding defect, and a flawed image folder."""

from __future__ import annotations

import json
import os
import tempfile
from typing import Dict, Optional

TRAIN_KERAS = '''\
"""Cats versus dogs: a small CNN trained on pictures read from disk."""
import os

import cv2
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

DATA_DIR = "data/train"
IMG_SIZE = 128

images, labels = [], []
for label, name in enumerate(sorted(os.listdir(DATA_DIR))):
    for fname in os.listdir(os.path.join(DATA_DIR, name)):
        img = cv2.imread(os.path.join(DATA_DIR, name, fname))
        images.append(cv2.resize(img, (IMG_SIZE, IMG_SIZE)))
        labels.append(label)
X = np.array(images)
y = np.array(labels)

model = keras.Sequential([
    layers.Conv2D(32, 3, activation="relu", input_shape=(IMG_SIZE, IMG_SIZE, 3)),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(2, activation="softmax"),
])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(X, y, epochs=10, batch_size=32)

# Fine-tune with gradient accumulation over 4 micro-batches.
optimizer = keras.optimizers.Adam(1e-4)
loss_fn = keras.losses.SparseCategoricalCrossentropy()
accumulation_steps = 4
dataset = tf.data.Dataset.from_tensor_slices((X / 255.0, y)).batch(8)
gradients = None
for step, (xb, yb) in enumerate(dataset.take(accumulation_steps)):
    with tf.GradientTape() as tape:
        loss = loss_fn(yb, model(xb, training=True))
    gradients = tape.gradient(loss, model.trainable_variables)
optimizer.apply_gradients(zip(gradients, model.trainable_variables))
'''

TRAIN_TORCH = '''\
"""Flower classifier in PyTorch."""
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

transform = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.PILToTensor(),
])
train_set = datasets.ImageFolder("data/train", transform=transform)
loader = DataLoader(train_set, batch_size=32, shuffle=True)

model = models.resnet18(num_classes=len(train_set.classes))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

for epoch in range(10):
    for images, targets in loader:
        outputs = model(images.float())
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
'''

NOTEBOOK_CELLS = [
    ("markdown", "# Flowers with Keras\nTrain a small CNN on the flowers folder."),
    ("code", "!pip install tensorflow\n!pip install -q matplotlib==3.8.4"),
    ("code", "import tensorflow as tf\nfrom tensorflow.keras.preprocessing.image import ImageDataGenerator"),
    (
        "code",
        'datagen = ImageDataGenerator(rotation_range=20, horizontal_flip=True)\n'
        'train_gen = datagen.flow_from_directory("data/train", target_size=(150, 150), batch_size=32)',
    ),
    (
        "code",
        "model = tf.keras.Sequential([\n"
        "    tf.keras.layers.Conv2D(16, 3, activation='relu', input_shape=(150, 150, 3)),\n"
        "    tf.keras.layers.GlobalAveragePooling2D(),\n"
        "    tf.keras.layers.Dense(5, activation='softmax'),\n"
        "])\n"
        "model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])\n"
        "model.fit(train_gen, epochs=5)",
    ),
]

REQUIREMENTS = """\
numpy==1.26.4
opencv-python
torch>=2.0
torchvision==0.17.2
"""


def _notebook() -> str:
    cells = []
    for kind, text in NOTEBOOK_CELLS:
        cell: Dict[str, object] = {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1) + "\n"


FILES = {
    "train_keras.py": lambda: TRAIN_KERAS,
    "train_torch.py": lambda: TRAIN_TORCH,
    "flowers.ipynb": _notebook,
    "requirements.txt": lambda: REQUIREMENTS,
}


def _picture(seed: int, size: int = 64):
    """A small deterministic picture: a colour gradient over a random coarse layout, with noise (distinct
    pictures per seed, as a perceptual hash sees them, with the contrast of a photograph)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 1, size, dtype=np.float32)
    base = rng.uniform(40, 200, 3).astype(np.float32)
    waves = np.cos(np.pi * np.arange(6, dtype=np.float32)[:, None] * ramp[None, :])  # (6, size)
    layout = waves.T @ rng.normal(0, 25, (6, 6)).astype(np.float32) @ waves
    pixels = (base + 50 * ramp[None, :, None] * rng.uniform(-1, 1, 3) + layout[:, :, None]
              + rng.normal(0, 8, (size, size, 3)))
    return Image.fromarray(np.clip(pixels, 0, 255).astype("uint8"))  # HxWx3 uint8: RGB


def _encoded(seed: int, fmt: str = "JPEG") -> bytes:
    import io

    buf = io.BytesIO()
    _picture(seed).save(buf, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buf.getvalue()


def _images() -> Dict[str, bytes]:
    """data/: train/ and val/ with cats and dogs, and four planted faults."""
    files: Dict[str, bytes] = {}
    for ci, name in enumerate(("cats", "dogs")):
        for i in range(10):
            files[f"data/train/{name}/{name[:-1]}_{i:02d}.jpg"] = _encoded(100 * ci + i)
        for i in range(3):
            files[f"data/val/{name}/{name[:-1]}_{10 + i:02d}.jpg"] = _encoded(100 * ci + 50 + i)
    whole = _encoded(7)
    files["data/train/cats/cat_10.jpg"] = whole[: len(whole) // 2]  # a copy that stopped half-way
    files["data/train/dogs/dog_10.jpg"] = _encoded(110, "PNG")  # PNG content, .jpg name
    files["data/val/dogs/dog_13.jpg"] = _encoded(103)  # the same picture as train/dogs/dog_03.jpg
    files["data/train/.DS_Store"] = b"\x00\x00\x00\x01Bud1" + b"\x00" * 2040
    return files


def write_demo(folder: Optional[str] = None) -> str:
    """Write the demo project into `folder` (created; default a new temp folder) and return it."""
    if folder is None:
        folder = tempfile.mkdtemp(prefix="cnnlint-demo-")
    os.makedirs(folder, exist_ok=True)
    for name, make in FILES.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as fh:
            fh.write(make())
    for rel, data in _images().items():
        path = os.path.join(folder, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    return folder
