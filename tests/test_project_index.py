"""The project index: rules consult the summaries of the project modules a script imports."""

from __future__ import annotations

import os
from typing import List

import pytest

from cnnlint.findings import Finding
from cnnlint.lint.api import lint_text
from cnnlint.lint.cache import LintCache
from cnnlint.lint import runner
from cnnlint.sources.walk import Target
from fixtures.projects import TORCH_LOGITS_MODEL, TORCH_SOFTMAX_MODEL, notebook, torch_train, write_project


def lint_file(root: str, rel: str, select: str) -> List[Finding]:
    path = os.path.join(root, rel)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    return [f for f in lint_text(text, path=path, real_path=path, select=[select]) if f.code == select]


def where(findings: List[Finding]) -> List[tuple]:
    return [(f.code, f.line, f.column) for f in findings]


# ---- CNL301, PyTorch: the model's forward() in model.py


def test_softmax_in_imported_forward_before_cross_entropy(tmp_path):
    root = write_project(str(tmp_path), {"model.py": TORCH_SOFTMAX_MODEL, "train.py": torch_train("from model import Net")})
    found = lint_file(root, "train.py", "CNL301")
    assert where(found) == [("CNL301", 11, 12)]
    assert found[0].message == (
        "the model's output goes through a softmax (model.py:12 Net.forward ends in `F.softmax(x, dim=1)`) before "
        "`nn.CrossEntropyLoss()`, which expects raw logits (it applies log_softmax itself): the loss is computed "
        "on probabilities, gradients nearly vanish and training stalls"
    )
    assert found[0].hint == "return the raw output of the last Linear layer in model.py"
    assert lint_file(root, "model.py", "CNL301") == []  # the model alone is fine: the loss is elsewhere


def test_imported_model_ending_in_logits_is_fine(tmp_path):
    root = write_project(str(tmp_path), {"model.py": TORCH_LOGITS_MODEL, "train.py": torch_train("from model import Net")})
    assert lint_file(root, "train.py", "CNL301") == []


def test_two_modules_with_the_same_class_name(tmp_path):
    root = write_project(str(tmp_path), {
        "models/__init__.py": "",
        "models/plain.py": TORCH_LOGITS_MODEL,
        "models/probs.py": TORCH_SOFTMAX_MODEL,
        "train_plain.py": torch_train("from models.plain import Net"),
        "train_probs.py": torch_train("from models.probs import Net"),
    })
    assert lint_file(root, "train_plain.py", "CNL301") == []
    found = lint_file(root, "train_probs.py", "CNL301")
    assert where(found) == [("CNL301", 11, 12)]
    assert "(models/probs.py:12 Net.forward ends in `F.softmax(x, dim=1)`)" in found[0].message


@pytest.mark.parametrize("import_line, build", [
    ("import models.probs as mp", "mp.Net().to('cuda')"),
    ("from models import probs", "probs.Net()"),
    ("from models import Net", "Net()"),  # re-exported by the package's __init__.py
    ("from models import Net as Classifier", "Classifier().cuda()"),
])
def test_import_spellings(tmp_path, import_line, build):
    root = write_project(str(tmp_path), {
        "models/__init__.py": "from .probs import Net\n",
        "models/probs.py": TORCH_SOFTMAX_MODEL,
        "train.py": torch_train(import_line, build),
    })
    found = lint_file(root, "train.py", "CNL301")
    assert where(found) == [("CNL301", 11, 12)]
    assert "models/probs.py:12 Net.forward" in found[0].message


def test_relative_import_inside_a_package(tmp_path):
    root = write_project(str(tmp_path), {
        "pkg/__init__.py": "",
        "pkg/models/__init__.py": "",
        "pkg/models/resnet.py": TORCH_SOFTMAX_MODEL.replace("Net", "ResNet18"),
        "pkg/train.py": torch_train("from .models.resnet import ResNet18", "ResNet18()"),
    }, marker="setup.py")
    found = lint_file(root, "pkg/train.py", "CNL301")
    assert where(found) == [("CNL301", 11, 12)]
    assert "pkg/models/resnet.py:12 ResNet18.forward" in found[0].message


def test_model_received_as_a_parameter(tmp_path):
    train = (
        "import torch.nn as nn\nfrom model import Net\n\n\n"
        "def train(model, loader, optimizer):\n    criterion = nn.CrossEntropyLoss()\n"
        "    for x, y in loader:\n        optimizer.zero_grad()\n        loss = criterion(model(x), y)\n"
        "        loss.backward()\n        optimizer.step()\n\n\ntrain(Net(), loader, optimizer)\n"
    )
    root = write_project(str(tmp_path), {"model.py": TORCH_SOFTMAX_MODEL, "train.py": train})
    assert where(lint_file(root, "train.py", "CNL301")) == [("CNL301", 9, 16)]


def test_outside_a_marked_project_the_scripts_folder_counts(tmp_path):
    root = write_project(str(tmp_path / "repo"), {
        "model.py": TORCH_SOFTMAX_MODEL,
        "train.py": torch_train("from model import Net"),
        "sub/train.py": torch_train("from model import Net"),  # model.py is not on its sys.path
    }, marker="")
    assert where(lint_file(root, "train.py", "CNL301")) == [("CNL301", 11, 12)]
    assert lint_file(root, "sub/train.py", "CNL301") == []


# ---- CNL301, Keras: the model built by a function of model.py

KERAS_MODEL = """
from tensorflow import keras


def build_model(classes):
    model = keras.Sequential([
        keras.layers.Flatten(),
        keras.layers.Dense(classes, activation="{act}"),
    ])
    return model
"""
KERAS_TRAIN = """
from tensorflow import keras
from model import build_model

model = build_model(10)
model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits={logits}))
model.fit(x_train, y_train)
"""


def test_keras_model_from_model_py_with_from_logits(tmp_path):
    root = write_project(str(tmp_path), {"model.py": KERAS_MODEL.format(act="softmax"),
                                         "train.py": KERAS_TRAIN.format(logits="True")})
    found = lint_file(root, "train.py", "CNL301")
    assert where(found) == [("CNL301", 5, 75)]
    assert found[0].message.startswith(
        "`model` is built by model.py:4 build_model(), which ends in `keras.layers.Dense(classes, activation=\"softmax\")` "
        "(model.py:7 build_model()), which outputs probabilities"
    )


@pytest.mark.parametrize("act, logits", [("linear", "True"), ("softmax", "False")])
def test_keras_model_from_model_py_that_agrees(tmp_path, act, logits):
    root = write_project(str(tmp_path), {"model.py": KERAS_MODEL.format(act=act),
                                         "train.py": KERAS_TRAIN.format(logits=logits)})
    assert lint_file(root, "train.py", "CNL301") == []


def test_keras_logits_model_from_model_py_with_a_probability_loss(tmp_path):
    root = write_project(str(tmp_path), {"model.py": KERAS_MODEL.format(act="linear"),
                                         "train.py": KERAS_TRAIN.format(logits="False")})
    assert where(lint_file(root, "train.py", "CNL301")) == [("CNL301", 5, 38)]


# ---- CNL101: pixels loaded by a helper module

LOADER = """
import os
import cv2
import numpy as np


def load_data(folder):
    images, labels = [], []
    for name in os.listdir(folder):
        images.append(cv2.imread(os.path.join(folder, name)))
        labels.append(0 if name.startswith("cat") else 1)
    return np.array(images){scale}, np.array(labels)
"""
KERAS_FIT = """
from tensorflow import keras
from data import load_data

x_train, y_train = load_data("train")
{extra}model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(x_train, y_train, epochs=3)
"""


def test_unscaled_images_from_a_loading_helper(tmp_path):
    root = write_project(str(tmp_path), {"data.py": LOADER.format(scale=""), "train.py": KERAS_FIT.format(extra="")})
    found = lint_file(root, "train.py", "CNL101")
    assert where(found) == [("CNL101", 7, 11)]
    assert found[0].message == (
        "`x_train` (images read by `cv2.imread` in `data.py:6 load_data()`) reaches `model.fit` as raw 0-255 "
        "pixels: it is never divided, passed to preprocess_input or scaled by a model layer"
    )


@pytest.mark.parametrize("scale, extra", [
    (" / 255.0", ""),  # the helper scales
    ("", "x_train = x_train / 255.0\n"),  # the script scales
])
def test_scaled_images_from_a_loading_helper(tmp_path, scale, extra):
    root = write_project(str(tmp_path), {"data.py": LOADER.format(scale=scale), "train.py": KERAS_FIT.format(extra=extra)})
    assert lint_file(root, "train.py", "CNL101") == []


# ---- bounded: what is never followed, and what never breaks the run


def test_cycles_missing_and_unparsable_modules(tmp_path):
    root = write_project(str(tmp_path), {
        "a.py": "from b import Net\nfrom missing import Thing\n",
        "b.py": "from a import Net\n",  # a re-export cycle
        "broken.py": "class Net(:\n" + TORCH_SOFTMAX_MODEL,
        "train.py": torch_train("from a import Net"),
        "train2.py": torch_train("from broken import Net"),
        "train3.py": torch_train("from missing import Net"),
    })
    for script in ("train.py", "train2.py", "train3.py"):
        assert lint_file(root, script, "CNL301") == []


def test_installed_packages_are_never_read(tmp_path):
    files = {"model.py": TORCH_SOFTMAX_MODEL, "train.py": torch_train("from model import Net")}
    inside = write_project(str(tmp_path / "venv" / "lib" / "site-packages" / "proj"), files)
    assert lint_file(inside, "train.py", "CNL301") == []
    outside = write_project(str(tmp_path / "proj"), files)
    assert where(lint_file(outside, "train.py", "CNL301")) == [("CNL301", 11, 12)]


# ---- the cache: an edit re-lints the module and its importers, nothing else


def _targets(root: str, names: List[str]) -> List[Target]:
    return [Target(path=n, real_path=os.path.join(root, n), kind="python") for n in names]


def test_editing_a_module_relints_only_it_and_its_importers(tmp_path, monkeypatch):
    root = write_project(str(tmp_path / "proj"), {
        "model.py": TORCH_LOGITS_MODEL,
        "train.py": torch_train("from model import Net"),
        "other.py": "import torch\nprint(torch.__version__)\n",
        "helpers.py": "def unrelated():\n    return 1\n",
    }, marker="pyproject.toml")  # a root marker: the version lookup (CNL403) climbs no higher
    linted: List[str] = []
    real = runner.lint_one

    def spy(target, *args, **kwargs):
        linted.append(target.path)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(runner, "lint_one", spy)
    names = ["model.py", "train.py", "other.py", "helpers.py"]
    cache_dir = str(tmp_path / "cache")

    def run() -> List[Finding]:
        cache = LintCache(cache_dir)
        return runner.lint_targets(_targets(root, names), "fp", 1 << 20, cache, jobs=1).findings

    assert [f for f in run() if f.code == "CNL301"] == []
    assert sorted(linted) == sorted(names)
    linted.clear()
    run()
    assert linted == []
    with open(os.path.join(root, "model.py"), "w", encoding="utf-8") as fh:
        fh.write(TORCH_SOFTMAX_MODEL.lstrip("\n"))
    found = [f for f in run() if f.code == "CNL301"]
    assert sorted(linted) == ["model.py", "train.py"]
    assert [(f.path, f.line) for f in found] == [("train.py", 11)]


def test_module_name_rebound_to_the_model_and_moved_to_the_device(tmp_path):
    train = (
        "import torch\nimport model\n\nmodel = model.Net()\nmodel = model.cuda()\n"
        "loss_fun = torch.nn.CrossEntropyLoss()\nloss_fun = loss_fun.cuda()\nfor img, target in loader:\n"
        "    outputs = model(img)\n    loss = loss_fun(outputs, target)\n"
    )
    root = write_project(str(tmp_path), {"model.py": TORCH_SOFTMAX_MODEL, "run.py": train})
    assert where(lint_file(root, "run.py", "CNL301")) == [("CNL301", 10, 12)]


# ---- CNL601: the classifier head defined in model.py against the dataset's classes

CROSS_TRAIN = """
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from model import Net

tf = transforms.Compose([transforms.Resize((64, 64)), transforms.ToTensor()])
train_set = datasets.ImageFolder("data/train", transform=tf)
loader = DataLoader(train_set, batch_size=8, shuffle=True)
model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for images, labels in loader:
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
"""


def _cross_run(root: str, monkeypatch) -> List[tuple]:
    import io
    import json
    from contextlib import redirect_stdout

    from cnnlint.cli import main
    from fixtures.images import write_image

    for cls in ("ants", "bees", "wasps"):
        for i in range(4):
            write_image(os.path.join(root, "data", "train", cls, f"img_{i}.jpg"), "jpeg", size=(64, 64), seed=i)
    monkeypatch.chdir(root)
    buf = io.StringIO()
    with redirect_stdout(buf):
        status = main(["train.py", "data", "--no-cache", "--format", "json"])
    assert status in (0, 1)
    return [(f["code"], f["line"], f["message"]) for f in json.loads(buf.getvalue())["findings"] if f["code"] == "CNL601"]


@pytest.mark.parametrize("units, expected", [(10, [("CNL601", 10)]), (3, [])])
def test_head_units_of_an_imported_model_against_the_classes(tmp_path, monkeypatch, units, expected):
    root = write_project(str(tmp_path), {"model.py": TORCH_LOGITS_MODEL.replace("128, 10", f"128, {units}"),
                                         "train.py": CROSS_TRAIN})
    found = _cross_run(root, monkeypatch)
    assert [(c, line) for c, line, _ in found] == expected
    if expected:
        assert found[0][2].startswith("`model.py:7 Net: nn.Linear(128, 10)` gives 10 outputs, but data/train/ has 3 "
                                      "class folders (ants, bees, wasps)")


def test_head_of_a_same_named_class_elsewhere_is_not_used(tmp_path, monkeypatch):
    root = write_project(str(tmp_path), {
        "model.py": TORCH_LOGITS_MODEL.replace("128, 10", "128, 3"),
        "other/model.py": TORCH_LOGITS_MODEL,  # Net with 10 units, not the one imported
        "train.py": CROSS_TRAIN,
    })
    assert _cross_run(root, monkeypatch) == []


# ---- star imports and notebooks


def test_star_import_from_a_project_module(tmp_path):
    root = write_project(str(tmp_path), {"model.py": TORCH_SOFTMAX_MODEL, "train.py": torch_train("from model import *")})
    found = lint_file(root, "train.py", "CNL301")
    assert where(found) == [("CNL301", 11, 12)]
    assert "model.py:12 Net.forward" in found[0].message


def test_star_import_of_an_installed_package_is_not_followed(tmp_path):
    root = write_project(str(tmp_path), {"train.py": torch_train("from torchvision.models import *")})
    assert lint_file(root, "train.py", "CNL301") == []


NB_TRAIN = """
import torch
import torch.nn as nn
model = Net()
criterion = nn.CrossEntropyLoss()
for images, labels in loader:
    loss = criterion(model(images), labels)
"""


@pytest.mark.parametrize("first_cell", ["from model import Net\n", "%run model.py\n", "%run -i ./model.py\n"])
def test_notebook_importing_or_running_a_project_module(tmp_path, first_cell):
    root = write_project(str(tmp_path), {"model.py": TORCH_SOFTMAX_MODEL, "train.ipynb": notebook(first_cell, NB_TRAIN)})
    found = lint_file(root, "train.ipynb", "CNL301")
    assert [(f.code, f.cell, f.line) for f in found] == [("CNL301", 2, 6)]  # the loss, in the second cell
    assert "model.py:12 Net.forward ends in `F.softmax(x, dim=1)`" in found[0].message


def test_notebook_running_a_module_outside_the_project_or_not_python(tmp_path):
    write_project(str(tmp_path / "elsewhere"), {"model.py": TORCH_SOFTMAX_MODEL}, marker="")
    root = write_project(str(tmp_path / "proj"), {
        "train.ipynb": notebook("%run ../elsewhere/model.py\n%run data.txt\n", NB_TRAIN),
        "data.txt": TORCH_SOFTMAX_MODEL,
    })
    assert lint_file(root, "train.ipynb", "CNL301") == []


# ---- CNL102: a whole image set read by a loading helper of the project

GENERATOR = """
import os
import cv2
import numpy as np


def get_images(folder, batch=32):
    names = os.listdir(folder)
    for i in range(0, len(names), batch):
        yield np.array([cv2.imread(os.path.join(folder, n)) for n in names[i:i + batch]]) / 255.0
"""
PATHS = """
import os


def get_images(folder):
    return [os.path.join(folder, n) for n in os.listdir(folder)], [0] * len(os.listdir(folder))
"""


def test_whole_image_set_from_a_loading_helper(tmp_path):
    root = write_project(str(tmp_path), {
        "utils/__init__.py": "",
        "utils/io.py": LOADER.format(scale=" / 255.0").replace("load_data", "get_images"),
        "train.py": KERAS_FIT.format(extra="").replace("from data import load_data", "from utils.io import get_images")
                             .replace("load_data(", "get_images("),
    })
    found = lint_file(root, "train.py", "CNL102")
    assert where(found) == [("CNL102", 7, 11)]
    assert found[0].message == (
        "`x_train` holds every image read by `cv2.imread` in `utils/io.py:6 get_images()` and is passed whole to "
        "`model.fit`: the whole image set sits in memory at once"
    )
    assert lint_file(root, "train.py", "CNL101") == []  # the helper scales


@pytest.mark.parametrize("helper", [GENERATOR, PATHS])
def test_helpers_that_stream_or_return_paths(tmp_path, helper):
    root = write_project(str(tmp_path), {
        "data.py": helper,
        "train.py": KERAS_FIT.format(extra="").replace("load_data", "get_images"),
    })
    assert lint_file(root, "train.py", "CNL102") == []
    assert lint_file(root, "train.py", "CNL101") == []


# ---- CNL203: a model class of model.py with dropout; evaluation helpers of engine.py

DROPOUT_MODEL = """
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.{layer}
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        return self.fc(self.drop(x))
"""
EPOCHS = """
import torch
import torch.nn as nn
from model import Net
{imports}
model = Net()
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
for epoch in range(10):
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    {evaluation}
"""
EVAL_LOOP = "with torch.no_grad():\n        for x, y in val_loader:\n            out = model(x)"
ENGINE = """
import torch


def evaluate(net, loader):
    net.eval()
    with torch.no_grad():
        for x, y in loader:
            net(x)
    {back}
"""


def test_evaluation_of_an_imported_model_with_dropout(tmp_path):
    root = write_project(str(tmp_path), {
        "model.py": DROPOUT_MODEL.format(layer="Dropout(0.5)"),
        "train.py": EPOCHS.format(imports="", evaluation=EVAL_LOOP),
    })
    found = lint_file(root, "train.py", "CNL203")
    assert where(found) == [("CNL203", 15, 21)]
    assert found[0].message.startswith(
        "the evaluation loop over `val_loader` calls `model` (`model.py:4 Net` holds dropout or batch norm) in "
        "training mode: nothing in this file calls `model.eval()`"
    )


PREPARE = "def prepare(net):\n    net.eval()\n\n\ndef resume(net):\n    net.train()\n"


@pytest.mark.parametrize("layer, imports, evaluation", [
    ("Identity()", "", EVAL_LOOP),  # no dropout or batch norm: the mode does not matter
    # the helpers of engine.py set the modes
    ("Dropout(0.5)", "from engine import prepare, resume\n", "prepare(model)\n    " + EVAL_LOOP + "\n    resume(model)"),
])
def test_evaluation_negatives(tmp_path, layer, imports, evaluation):
    root = write_project(str(tmp_path), {
        "model.py": DROPOUT_MODEL.format(layer=layer),
        "engine.py": PREPARE,
        "train.py": EPOCHS.format(imports=imports, evaluation=evaluation),
    })
    assert lint_file(root, "train.py", "CNL203") == []


def test_eval_helper_that_never_puts_the_model_back(tmp_path):
    files = {
        "model.py": DROPOUT_MODEL.format(layer="BatchNorm1d(128)"),
        "engine.py": ENGINE.format(back="return None"),
        "train.py": EPOCHS.format(imports="from engine import evaluate\n", evaluation="evaluate(model, val_loader)"),
    }
    root = write_project(str(tmp_path), files)
    found = lint_file(root, "train.py", "CNL203")
    assert where(found) == [("CNL203", 15, 5)]
    assert found[0].message.startswith("`evaluate(model, val_loader)` puts `model` in eval mode inside the training loop")
    files["engine.py"] = ENGINE.format(back="net.train()")  # the helper puts it back
    root = write_project(str(tmp_path / "fixed"), files)
    assert lint_file(root, "train.py", "CNL203") == []


def test_forward_that_rebinds_its_parameter(tmp_path):
    model = (
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n        self.fc1 = nn.Linear(768, 100)\n"
        "        self.fc2 = nn.Linear(100, 10)\n        self.softmax = nn.Softmax(dim=1)\n\n"
        "    def forward(self, x):\n        x = x.view(-1, 768)\n        x = F.relu(self.fc1(x))\n"
        "        x = self.softmax(self.fc2(x))\n        return x\n"
    )
    root = write_project(str(tmp_path), {"model.py": model, "train.py": torch_train("from model import Net")})
    found = lint_file(root, "train.py", "CNL301")
    assert where(found) == [("CNL301", 11, 12)]
    assert "(model.py:10 Net.forward ends in `nn.Softmax(dim=1)`)" in found[0].message
    conditional = model.replace("        x = self.softmax(self.fc2(x))\n", "        if self.training:\n"
                                "            x = self.softmax(self.fc2(x))\n")
    files = {"model.py": conditional, "train.py": torch_train("from model import Net")}
    root = write_project(str(tmp_path / "conditional"), files)
    assert lint_file(root, "train.py", "CNL301") == []


# ---- CNL103: transforms built in dataset.py

TRANSFORMS = """
from torchvision import transforms

train_tf = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
val_tf = transforms.Compose([transforms.{val_step}, transforms.ToTensor()])
data_transforms = {{"train": train_tf, "val": transforms.Compose([transforms.{val_step}, transforms.ToTensor()])}}
"""
VAL_SET = """
from torchvision import datasets
{import_line}

val_set = datasets.ImageFolder("data/val", transform={transform})
"""


@pytest.mark.parametrize("import_line, transform, where", [
    ("from dataset import val_tf", "val_tf", "dataset.py:4 val_tf"),
    ("import dataset", "dataset.val_tf", "dataset.py:4 val_tf"),
    ("from dataset import data_transforms", 'data_transforms["val"]', 'dataset.py:5 data_transforms["val"]'),
])
def test_random_validation_transform_from_dataset_py(tmp_path, import_line, transform, where):
    root = write_project(str(tmp_path), {
        "dataset.py": TRANSFORMS.format(val_step="RandomResizedCrop(224)"),
        "train.py": VAL_SET.format(import_line=import_line, transform=transform),
    })
    found = lint_file(root, "train.py", "CNL103")
    assert [(f.code, f.line) for f in found] == [("CNL103", 4)]
    assert f"applies random augmentation ({where}: RandomResizedCrop) to validation or test data" in found[0].message


def test_deterministic_validation_transform_and_a_same_named_one_elsewhere(tmp_path):
    root = write_project(str(tmp_path), {
        "dataset.py": TRANSFORMS.format(val_step="CenterCrop(224)"),
        "other/dataset.py": TRANSFORMS.format(val_step="RandomResizedCrop(224)"),
        "train.py": VAL_SET.format(import_line="from dataset import val_tf", transform="val_tf"),
        "train_dict.py": VAL_SET.format(import_line="from dataset import data_transforms", transform='data_transforms["val"]'),
    })
    assert lint_file(root, "train.py", "CNL103") == []
    assert lint_file(root, "train_dict.py", "CNL103") == []


# ---- CNL201: a training-step helper of engine.py called in the script's loop

STEP_HELPER = """
def train_step(model, batch, optimizer, criterion):
    x, y = batch
{body}
    return loss.item()
"""
STEP_LOOP = """
import torch
import torch.nn as nn
from engine import train_step

model = nn.Linear(10, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
criterion = nn.CrossEntropyLoss()
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 10)
for batch in loader:
    train_step(model, batch, optimizer, criterion)
"""
NO_CLEAR = "    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()"


def test_training_step_helper_that_never_clears(tmp_path):
    root = write_project(str(tmp_path), {"engine.py": STEP_HELPER.format(body=NO_CLEAR), "train.py": STEP_LOOP})
    found = lint_file(root, "train.py", "CNL201")
    assert where(found) == [("CNL201", 10, 5)]
    assert found[0].message == (
        "`train_step(model, batch, optimizer, criterion)` runs every iteration of this loop, but `optimizer`'s "
        "gradients are never cleared, so each `backward()` adds to the gradients of all earlier iterations"
    )
    assert lint_file(root, "engine.py", "CNL201") == []  # no loop there


@pytest.mark.parametrize("body", [
    "    optimizer.zero_grad()\n" + NO_CLEAR,  # the helper clears first
    "    model.zero_grad()\n" + NO_CLEAR,  # model-wide
    NO_CLEAR.replace("optimizer.step()", "if x is not None:\n        optimizer.step()"),  # conditional: not known
    NO_CLEAR + "\n    clip_and_log(optimizer)",  # the optimizer goes on to an unknown function
])
def test_training_step_helpers_left_alone(tmp_path, body):
    root = write_project(str(tmp_path), {"engine.py": STEP_HELPER.format(body=body), "train.py": STEP_LOOP})
    assert lint_file(root, "train.py", "CNL201") == []


def test_scheduler_stepped_by_a_helper_is_not_an_optimizer(tmp_path):
    helper = "def end_of_batch(scheduler):\n    scheduler.step()\n    loss.backward()\n"
    loop = STEP_LOOP.replace("from engine import train_step", "from engine import end_of_batch").replace(
        "    train_step(model, batch, optimizer, criterion)",
        "    optimizer.zero_grad()\n    loss = criterion(model(batch), batch)\n    end_of_batch(scheduler)\n    optimizer.step()")
    root = write_project(str(tmp_path), {"engine.py": helper, "train.py": loop})
    assert lint_file(root, "train.py", "CNL201") == []


KERAS_HEAD = """
from tensorflow import keras


def build_model():
    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense({units}, activation="softmax")])
    return model
"""
KERAS_CROSS_TRAIN = """
from tensorflow import keras
from model import build_model

train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(64, 64))
model = build_model()
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
model.fit(train_ds, epochs=3)
"""


@pytest.mark.parametrize("units, expected", [(10, [("CNL601", 6)]), (3, [])])
def test_head_units_of_a_keras_model_built_in_model_py(tmp_path, monkeypatch, units, expected):
    root = write_project(str(tmp_path), {"model.py": KERAS_HEAD.format(units=units), "train.py": KERAS_CROSS_TRAIN})
    found = _cross_run(root, monkeypatch)
    assert [(c, line) for c, line, _ in found] == expected
    if expected:
        assert found[0][2].startswith('`model.py:5 build_model(): keras.layers.Dense(10, activation="softmax")` gives 10')


# ---- CNL302: a softmax head built in model.py with a binary loss in the script


@pytest.mark.parametrize("units, act, expected", [(10, "softmax", [("CNL302", 6, 38)]), (1, "sigmoid", []), (1, "softmax", [])])
def test_binary_loss_on_a_softmax_head_built_in_model_py(tmp_path, units, act, expected):
    script = KERAS_CROSS_TRAIN.replace("sparse_categorical_crossentropy", "binary_crossentropy")
    root = write_project(str(tmp_path), {"model.py": KERAS_HEAD.format(units=units).replace("softmax", act),
                                         "train.py": script})
    found = lint_file(root, "train.py", "CNL302")
    assert where(found) == expected
    if expected:
        assert found[0].message == (
            '`"binary_crossentropy"` scores each output unit as an independent yes/no, but `model` is built by '
            'model.py:4 build_model(), which ends in `keras.layers.Dense(10, activation="softmax")` (model.py:5), '
            "whose 10 outputs compete and sum to 1"
        )


def test_a_module_too_large_to_summarise_is_not_read(tmp_path):
    padding = "".join(f"CONSTANT_{i} = {i}\n" for i in range(40_000))  # about 700 KiB: generated or vendored
    files = {"model.py": TORCH_SOFTMAX_MODEL + padding, "train.py": torch_train("from model import Net")}
    root = write_project(str(tmp_path), files)
    assert os.path.getsize(os.path.join(root, "model.py")) > 512 * 1024
    assert lint_file(root, "train.py", "CNL301") == []
    with open(os.path.join(root, "model.py"), "w", encoding="utf-8") as fh:
        fh.write(TORCH_SOFTMAX_MODEL.lstrip("\n"))
    assert where(lint_file(root, "train.py", "CNL301")) == [("CNL301", 11, 12)]


# ---- CNL402: `from model import *` of a module that imports Keras

UNET_MODEL = """\
import numpy as np
from keras.models import *
from keras.layers import *


def unet(input_size=(256, 256, 1)):
    inputs = Input(input_size)
    outputs = Conv2D(1, 1, activation="sigmoid")(inputs)
    model = Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model
"""

UNET_MAIN = """\
from model import *
from data import *

gen = trainGenerator(2, "data/train")
model = unet()
model.fit_generator(gen, steps_per_epoch=300, epochs=1)
results = model.predict_generator(testGenerator("data/test"), 30)
"""


def test_generator_methods_of_a_keras_model_star_imported_from_the_project(tmp_path):
    root = write_project(str(tmp_path), {"model.py": UNET_MODEL, "data.py": "import numpy as np\n",
                                         "main.py": UNET_MAIN})
    found = lint_file(root, "main.py", "CNL402")
    assert where(found) == [("CNL402", 6, 7), ("CNL402", 7, 17)]
    assert found[0].message == (
        "`model.fit_generator()` was removed in Keras 3 (AttributeError), and this code runs on Keras 3, the "
        "current release (no version is pinned)"
    )


@pytest.mark.parametrize("files", [
    # the star-imported module is PyTorch's
    {"model.py": "import torch\nfrom torch import nn\n\ndef unet():\n    return nn.Sequential()\n"},
    # the star import names a package that is not the project's (installed, never read)
    {"model.py": None},
    # Keras comes in two star imports away: only the module imported directly is read
    {"model.py": "from layers import *\n\ndef unet():\n    return build()\n", "layers.py": UNET_MODEL},
    # the Keras import sits inside a function of the module, not at its top level
    {"model.py": "def unet():\n    from keras.models import Model\n    return Model()\n"},
])
def test_star_imports_that_bring_no_keras_keep_cnl402_quiet(tmp_path, files):
    project = {name: text for name, text in files.items() if text is not None}
    root = write_project(str(tmp_path), {**project, "main.py": UNET_MAIN.replace("from data import *\n", "")})
    assert lint_file(root, "main.py", "CNL402") == []


def test_a_star_imported_keras_module_and_a_generator_method_the_script_defines(tmp_path):
    main = UNET_MAIN + "\n\ndef fit_generator(*args):\n    pass\n"
    root = write_project(str(tmp_path), {"model.py": UNET_MODEL, "data.py": "", "main.py": main})
    assert [f.line for f in lint_file(root, "main.py", "CNL402")] == [7]  # predict_generator only
