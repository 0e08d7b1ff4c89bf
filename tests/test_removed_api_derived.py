"""CNL402 on the derived removed-API table: names, receivers' methods, keywords, module paths.

The table's snippets are run for real in tests/test_removed_api_table.py; here: what the rule
reports on code, exactly, and where it stays quiet.
"""

import pytest

from cnnlint.lint.api import lint_text
from conftest import lint

SEL = ("CNL402",)
UNPINNED_KERAS = "this code runs on Keras 3, the current release (no version is pinned)"
UNPINNED_TORCH = "this code runs on PyTorch 2.14, the current release (no version is pinned)"


def found(code, path="train.py"):
    return [(f.code, f.line, f.column) for f in lint(code, path, SEL)]


def one(code, path="train.py"):
    (f,) = lint(code, path, SEL)
    return f


# ---------------------------------------------------------------- methods on a known receiver

LOADER = (
    "import torch\nfrom torch.utils.data import DataLoader\n"
    "trainloader = DataLoader(trainset, batch_size=4, shuffle=True)\n"
)


def test_dataloader_iterator_next():
    f = one(LOADER + "dataiter = iter(trainloader)\nimages, labels = dataiter.next()\n")
    assert (f.code, f.line, f.column, f.severity.value) == ("CNL402", 5, 27, "error")
    assert f.message == (
        "`dataiter.next()` fails with AttributeError: a DataLoader iterator has no `next()` in PyTorch 1.13 "
        f"or later (PyTorch 1.12 had it), and {UNPINNED_TORCH}"
    )
    assert f.hint == "call `next(it)` (the built-in) instead of `it.next()`"


def test_dataloader_iterator_next_in_a_notebook_through_torch_utils_data():
    code = "import torch\n# %%\nloader = torch.utils.data.DataLoader(ds)\nit = iter(loader)\n# %%\nx, y = it.next()\n"
    f = one(code, "course.ipynb")
    assert (f.cell, f.line) == (3, 1)
    assert f.message.endswith("and this code runs on PyTorch 2.14 on a current Colab runtime (no version is pinned)")


@pytest.mark.parametrize("code", [
    # a file object, a plain iterator, a generator: not a DataLoader's iterator
    "import torch\nf = open('data.csv')\nheader = f.next()\n",
    "import torch\nit = iter([1, 2, 3])\nit.next()\n",
    "import torch\ndef batches():\n    yield 1\ngen = batches()\ngen.next()\n",
    # the loader comes in as a parameter: unknown
    "import torch\ndef show(loader):\n    it = iter(loader)\n    return it.next()\n",
    # the built-in is right
    LOADER + "dataiter = iter(trainloader)\nimages, labels = next(dataiter)\n",
    # the receiver is rebound under a branch: unknown
    LOADER + "dataiter = iter(trainloader)\nif cond:\n    dataiter = MyIter()\ndataiter.next()\n",
])
def test_next_on_other_receivers_is_quiet(code):
    assert found(code) == []


def _in_project(tmp_path, requirements, code):
    (tmp_path / "requirements.txt").write_text(requirements)
    target = tmp_path / "train.py"
    target.write_text(code)
    return [(f.code, f.line, f.message) for f in lint_text(code, str(target), select=SEL)]


def test_next_follows_the_pinned_torch(tmp_path):
    code = LOADER + "it = iter(trainloader)\nit.next()\n"
    assert _in_project(tmp_path, "torch==1.12.1\n", code) == []
    (result,) = _in_project(tmp_path, "torch==1.13.0\n", code)
    assert result[:2] == ("CNL402", 5)
    assert result[2].endswith("and this code runs on PyTorch 1.13 (`torch==1.13.0` in requirements.txt)")


def test_predict_proba_on_a_keras_model():
    code = "from keras.models import Sequential\nmodel = Sequential()\nprobs = model.predict_proba(x_test)\n"
    f = one(code)
    assert (f.line, f.column) == (3, 15)
    assert f.message == (
        "`model.predict_proba()` fails with AttributeError: a Keras model has no `predict_proba()` in Keras 2.12 "
        f"or later (Keras 2.3 had it), and {UNPINNED_KERAS}"
    )
    assert f.hint == "use `model.predict(x)`: it returns the probabilities"


@pytest.mark.parametrize("code", [
    # scikit-learn's predict_proba in a file that also uses Keras
    "import keras\nfrom sklearn.linear_model import LogisticRegression\nclf = LogisticRegression()\nclf.predict_proba(X)\n",
    # a model of unknown origin
    "import keras\nmodel = build()\nmodel.predict_proba(x)\n",
    "import keras\ndef score(model, x):\n    return model.predict_proba(x)\n",
])
def test_predict_proba_on_other_receivers_is_quiet(code):
    assert found(code) == []


# ---------------------------------------------------------------- keywords of a resolved callable


def test_model_checkpoint_period():
    code = "from tensorflow.keras.callbacks import ModelCheckpoint\ncb = ModelCheckpoint('best.h5', period=5)\n"
    f = one(code)
    assert (f.line, f.column) == (2, 33)
    assert f.message == (
        "`ModelCheckpoint(period=...)` fails with TypeError: `tensorflow.keras.callbacks.ModelCheckpoint` takes no "
        f"`period=` in Keras 3 or later (TensorFlow 2.15 had it), and {UNPINNED_KERAS}"
    )
    assert f.hint == 'write `save_freq=` ("epoch", or a number of batches)'


def test_lr_scheduler_verbose():
    f = one("import torch\nsched = torch.optim.lr_scheduler.StepLR(opt, step_size=30, verbose=True)\n")
    assert (f.line, f.column) == (2, 60)
    assert f.message.startswith("`torch.optim.lr_scheduler.StepLR(verbose=...)` fails with TypeError")
    assert f.hint == "remove `verbose=`: the current release has no such parameter"


@pytest.mark.parametrize("code", [
    # a class of the file's own with the same name
    "import keras\nclass ModelCheckpoint:\n    def __init__(self, path, period=1): ...\ncb = ModelCheckpoint('m', period=5)\n",
    # the current keyword
    "import keras\ncb = keras.callbacks.ModelCheckpoint('m.keras', save_freq='epoch')\n",
    # Keras 2.15 still takes it
    "!pip install tensorflow==2.15.0\n# %%\n"
    "from tensorflow.keras.callbacks import ModelCheckpoint\ncb = ModelCheckpoint('m.h5', period=5)\n",
    # a `verbose=` on something else
    "import torch\nsched = make_scheduler(opt, verbose=True)\n",
])
def test_keywords_elsewhere_are_quiet(code):
    path = "nb.ipynb" if code.startswith("!") else "train.py"
    assert found(code, path) == []


# ---------------------------------------------------------------- names and module paths


def test_private_module_path():
    f = one("from keras.utils.image_dataset import image_dataset_from_directory\n")
    assert (f.line, f.column) == (1, 1)
    assert f.message == (
        "`from keras.utils.image_dataset import ...` fails with ModuleNotFoundError: `keras.utils.image_dataset` "
        f"is not in Keras 2.15 or later (Keras 2.12 had it), and {UNPINNED_KERAS}"
    )
    assert f.hint == "import from `keras.utils` (`keras.utils.image_dataset_from_directory` is there)"


@pytest.mark.parametrize("code", [
    "from keras.utils import image_dataset_from_directory\n",
    "from tensorflow.keras.utils import image_dataset_from_directory\n",
    "try:\n    from keras.utils.image_dataset import image_dataset_from_directory\nexcept ImportError:\n    pass\n",
    "!pip install keras==2.12.0\n# %%\nfrom keras.utils.image_dataset import image_dataset_from_directory\n",
])
def test_module_paths_that_work_are_quiet(code):
    path = "nb.ipynb" if code.startswith("!") else "train.py"
    assert found(code, path) == []


def test_input_from_keras_models():
    f = one("from keras.models import Input, Model\n")
    assert f.message == (
        "`from keras.models import Input` fails with ImportError: `keras.models.Input` is not in Keras 2.12 "
        f"or later (Keras 2.3 had it), and {UNPINNED_KERAS}"
    )
    assert f.hint == "use `keras.layers.Input`"


@pytest.mark.parametrize("code", [
    "from keras.layers import Input\nfrom keras.models import Model\n",
    "from keras import Input, Model\n",
    "from tensorflow.keras.models import Model, Sequential\n",
])
def test_input_from_its_place_is_quiet(code):
    assert found(code) == []


def test_initializer_alias_and_lowercase_optimizer():
    code = (
        "import keras\nfrom keras.optimizers import adam\n"
        "layer = keras.layers.Dense(3, kernel_initializer=keras.initializers.normal(stddev=0.01))\n"
        "opt = adam(lr=0.01)\n"
    )
    a, b = lint(code, "train.py", SEL)
    assert (a.line, a.column, b.line, b.column) == (2, 1, 3, 50)
    assert a.message.startswith("`from keras.optimizers import adam` fails with ImportError: `keras.optimizers.adam` is not in")
    assert a.hint == "use `keras.optimizers.Adam`"
    assert b.message.startswith("`keras.initializers.normal` fails with AttributeError: `keras.initializers.normal` is not in")
    assert b.hint == "use `keras.initializers.RandomNormal`"


@pytest.mark.parametrize("code", [
    "import numpy as np\nimport keras\nw = np.random.normal(0, 1)\n",
    "import tensorflow as tf\nx = tf.random.normal((2, 2))\ninit = tf.keras.initializers.RandomNormal()\n",
    "import keras\nopt = keras.optimizers.Adam(learning_rate=0.01)\n",
    # `tf.keras.backend.sum` is still there; only standalone Keras 3 dropped it
    "from tensorflow.keras import backend as K\ny = K.sum(x)\n",
    # a local object that happens to be named like the module
    "import keras\nclass initializers:\n    normal = 1\nprint(initializers.normal)\n",
])
def test_names_that_exist_are_quiet(code):
    assert found(code) == []


def test_keras_backend_function_in_standalone_keras_3():
    f = one("from keras import backend as K\ny = K.sum(x, axis=-1)\n")
    assert (f.line, f.column) == (2, 5)
    assert f.message == (
        "`K.sum` fails with AttributeError: `keras.backend.sum` is not in Keras 3 or later (Keras 2.15 had it), "
        f"and {UNPINNED_KERAS}"
    )
    assert f.hint == "use `keras.ops.sum`"


def test_layers_experimental_attribute_names_attribute_error():
    f = one("import tensorflow as tf\nx = tf.keras.layers.experimental.preprocessing.Rescaling(1 / 255)\n")
    assert f.message.startswith("`tf.keras.layers.experimental` fails with AttributeError: ")


STAR_OPTIMIZER = ("from keras.models import *\nfrom keras.optimizers import *\n"
                  "{extra}model.compile(optimizer=Adam(lr=1e-4), loss='mse')\n")


def test_optimizer_lr_through_a_star_import_is_reported():
    found = [(f.code, f.line) for f in lint_text(STAR_OPTIMIZER.format(extra=""), "train.py", select=("CNL402",))]
    assert found == [("CNL402", 3)]


@pytest.mark.parametrize("extra", [
    "class Adam:\n    def __init__(self, lr):\n        self.lr = lr\n",  # the file's own Adam
    "def Adam(lr):\n    return lr\n",
    "Adam = make_optimizer\n",
    "from torch.optim import Adam\n",  # imported by name from elsewhere: not the star import's
])
def test_optimizer_lr_through_a_star_import_stays_quiet_when_the_name_is_the_files_own(extra):
    assert lint_text(STAR_OPTIMIZER.format(extra=extra), "train.py", select=("CNL402",)) == []


def test_star_import_of_another_library_is_not_keras():
    code = "from mylib.optim import *\nopt = Adam(lr=1e-4)\n"
    assert lint_text(code, "train.py", select=("CNL402",)) == []
