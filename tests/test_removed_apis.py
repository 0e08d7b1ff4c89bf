"""CNL402 removed-api and CNL403 framework-version-not-recorded.

The bad snippets are also run under the installed TensorFlow/Keras/torchvision
(one subprocess per library, results as JSON) to check that each fails the way
the finding says. Those tests skip only when the library is missing and `CI` is
unset; in CI a missing library is a failure.
"""

import json
import subprocess
import sys
import textwrap

import pytest

from cnnlint.lint.rules import cnl402_removed_api as removed_api
from cnnlint.lint.api import lint_text
from conftest import lint, need_framework

SEL = ("CNL402", "CNL403")


def found(code, path="train.py", select=SEL):
    return [(f.code, f.line, f.severity.value) for f in lint(code, path, select)]


def messages(code, path="train.py", select=SEL):
    return [f.message for f in lint(code, path, select)]


# ---------------------------------------------------------------- the snippets, run for real

TF_SNIPPETS = {
    # name: (code, exception type, text in the message)
    "tf_keras_adam_lr": ("import tensorflow as tf\ntf.keras.optimizers.Adam(lr=0.001)", "ValueError", "Argument(s) not recognized"),
    "keras_sgd_lr": ("from tensorflow import keras\nkeras.optimizers.SGD(lr=0.01, momentum=0.9)", "ValueError", "not recognized"),
    "standalone_rmsprop_lr": ("from keras.optimizers import RMSprop\nRMSprop(lr=0.001)", "ValueError", "not recognized"),
    "tf_optimizers_lr": ("import tensorflow as tf\ntf.optimizers.Adam(lr=0.001)", "ValueError", "not recognized"),
    "fit_generator": ("import keras\nm = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\nm.fit_generator", "AttributeError", "fit_generator"),
    "evaluate_generator": ("import keras\nm = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\nm.evaluate_generator", "AttributeError", "evaluate_generator"),
    "predict_generator": ("import keras\nm = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\nm.predict_generator", "AttributeError", "predict_generator"),
    "predict_classes": ("from tensorflow import keras\nm = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\nm.predict_classes", "AttributeError", "predict_classes"),
    "fit_workers": (
        "import numpy as np, keras\nm = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])\n"
        "m.compile('sgd', 'mse')\nm.fit(np.zeros((4, 2)), np.zeros((4, 1)), workers=2, verbose=0)",
        "TypeError", "workers",
    ),
    "idg_standalone": ("from keras.preprocessing.image import ImageDataGenerator", "ImportError", "ImageDataGenerator"),
    "idg_attribute": ("import keras\nkeras.preprocessing.image.ImageDataGenerator", "AttributeError", "ImageDataGenerator"),
    "text_standalone": ("from keras.preprocessing.text import Tokenizer", "ImportError", "keras.preprocessing.text"),
    "wrappers": ("from keras.wrappers.scikit_learn import KerasClassifier", "ImportError", "keras.wrappers"),
    "tf_wrappers": ("from tensorflow.keras.wrappers.scikit_learn import KerasClassifier", "ImportError", "wrappers"),
    "set_session": ("from keras import backend as K\nK.set_session", "AttributeError", "set_session"),
    "tf_get_session": ("import tensorflow as tf\ntf.keras.backend.get_session", "AttributeError", "get_session"),
    "tensorflow_backend": ("from keras.backend.tensorflow_backend import set_session", "ImportError", "tensorflow_backend"),
    "engine": ("from keras.engine.topology import Layer", "ImportError", "keras.engine"),
    "experimental_attr": ("import tensorflow as tf\ntf.keras.layers.experimental.preprocessing.Rescaling", "AttributeError", "experimental"),
    "tf_session": ("import tensorflow as tf\ntf.Session()", "AttributeError", "Session"),
    "tf_placeholder": ("import tensorflow as tf\ntf.placeholder(tf.float32)", "AttributeError", "placeholder"),
    "tf_contrib": ("import tensorflow as tf\ntf.contrib.layers", "AttributeError", "contrib"),
    "tf_contrib_import": ("from tensorflow.contrib import slim", "ImportError", "tensorflow.contrib"),
    "tf_adam_optimizer": ("import tensorflow as tf\ntf.train.AdamOptimizer(0.1)", "AttributeError", "AdamOptimizer"),
    "tf_set_random_seed": ("import tensorflow as tf\ntf.set_random_seed(1)", "AttributeError", "set_random_seed"),
    "tf_log": ("import tensorflow as tf\ntf.log(2.0)", "AttributeError", "log"),
    "tf_gfile": ("import tensorflow as tf\ntf.gfile.Exists('x')", "AttributeError", "gfile"),
    "tf_resize_images": ("import tensorflow as tf\ntf.image.resize_images", "AttributeError", "resize_images"),
}
# one snippet per module path of the table, standalone and tf.keras
for _entry in removed_api.KERAS_PATHS:
    if _entry.module:
        TF_SNIPPETS[f"module_keras.{_entry.path}"] = (f"import keras.{_entry.path}", "ImportError", _entry.path.split(".")[0])
        if not _entry.standalone_only:
            TF_SNIPPETS[f"module_tf.{_entry.path}"] = (f"import tensorflow.keras.{_entry.path}", "ImportError", "")
for _name in removed_api.TF1:
    TF_SNIPPETS.setdefault(f"tf1_{_name}", (f"import tensorflow as tf\ntf.{_name}", "AttributeError", _name.rsplit(".", 1)[-1]))

TV_SNIPPETS = {
    "scale": ("from torchvision import transforms\ntransforms.Scale(256)", "AttributeError", "Scale"),
    "random_sized_crop": ("import torchvision.transforms as T\nT.RandomSizedCrop(224)", "AttributeError", "RandomSizedCrop"),
    "pretrained": ("from torchvision import models\nmodels.resnet18(pretrained=False)", "UserWarning", "deprecated since 0.13"),
    "pretrained_backbone": (
        "import torchvision\ntorchvision.models.detection.fasterrcnn_resnet50_fpn(weights=None, pretrained_backbone=False)",
        "UserWarning", "deprecated since 0.13",
    ),
}
# the good forms must run cleanly
TF_GOOD = {
    "learning_rate": "from tensorflow import keras\nkeras.optimizers.Adam(learning_rate=0.001)",
    "tf_idg": "import tensorflow as tf\ntf.keras.preprocessing.image.ImageDataGenerator(rescale=1/255)",
    "tf_idg_from": "from tensorflow.keras.preprocessing.image import ImageDataGenerator",
    "tf_text": "from tensorflow.keras.preprocessing.text import Tokenizer",
    "keras_load_img": "from keras.preprocessing.image import load_img, img_to_array",
    "compat_v1": "import tensorflow as tf\ntf.compat.v1.Session\ntf.compat.v1.placeholder\ntf.compat.v1.train.AdamOptimizer",
    "to_categorical": "from keras.utils import to_categorical",
}
TV_GOOD = {"resize": "from torchvision import transforms\ntransforms.Resize(256)\ntransforms.RandomResizedCrop(224)"}

_RUNNER = textwrap.dedent(
    """
    import json, os, sys, warnings
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    snippets = json.loads(sys.stdin.read())
    out = {}
    for name, code in snippets.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                exec(compile(code, name, "exec"), {})
            except BaseException as exc:
                out[name] = [type(exc).__name__, [c.__name__ for c in type(exc).__mro__], str(exc)]
                continue
        user = [w for w in caught if issubclass(w.category, UserWarning)]
        out[name] = ["UserWarning", ["UserWarning"], str(user[0].message)] if user else ["ok", [], ""]
    print("RESULT" + json.dumps(out))
    """
)


def _library(module):
    """Skip when the library is missing, except in CI (conftest.need_framework).
    (find_spec, not importorskip: importing TensorFlow here would cost seconds for nothing.)"""
    need_framework(module)


def _run(snippets):
    proc = subprocess.run(
        [sys.executable, "-c", _RUNNER], input=json.dumps(snippets), capture_output=True, text=True, timeout=300
    )
    line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT")), None)
    assert line is not None, proc.stderr[-2000:]
    return json.loads(line[len("RESULT"):])


def _check(results, table):
    for name, (_, exc, text) in table.items():
        kind, mro, message = results[name]
        assert exc in mro, f"{name}: expected {exc}, got {kind}: {message}"
        assert text in message, f"{name}: {message!r} does not mention {text!r}"


def test_tensorflow_snippets_fail_as_the_rule_says():
    _library("tensorflow")
    results = _run({**{k: v[0] for k, v in TF_SNIPPETS.items()}, **TF_GOOD})
    _check(results, TF_SNIPPETS)
    for name in TF_GOOD:
        assert results[name][0] == "ok", (name, results[name])


def test_torchvision_snippets_fail_as_the_rule_says():
    _library("torchvision")
    results = _run({**{k: v[0] for k, v in TV_SNIPPETS.items()}, **TV_GOOD})
    _check(results, TV_SNIPPETS)
    assert results["resize"][0] == "ok"


# the method snippets (`m.fit_generator` on a built model) are checked in their call forms below
_LINTED = [n for n in sorted(TF_SNIPPETS) + sorted(TV_SNIPPETS)
           if "Sequential" not in (TF_SNIPPETS.get(n) or TV_SNIPPETS[n])[0] and n != "fit_workers"]


@pytest.mark.parametrize("name", _LINTED)
def test_every_snippet_is_flagged(name):
    code = (TF_SNIPPETS.get(name) or TV_SNIPPETS[name])[0]
    assert {c for c, _, _ in found(code)} == {"CNL402"}, name


@pytest.mark.parametrize("code", list(TF_GOOD.values()) + list(TV_GOOD.values()))
def test_good_forms_are_not_flagged(code):
    assert found(code) == []


# ---------------------------------------------------------------- CNL402: what is flagged, exactly


def test_keras_lr_message_and_location():
    code = "from tensorflow import keras\nopt = keras.optimizers.Adam(lr=0.001)\n"
    (f,) = lint(code, select=SEL)
    assert (f.code, f.line, f.column, f.severity.value) == ("CNL402", 2, 29, "error")
    assert f.message == (
        "`Adam(lr=0.001)` raises ValueError (Argument(s) not recognized: {'lr': ...}): Keras 3 optimizers take "
        "only `learning_rate`, and this code runs on Keras 3, the current release (no version is pinned)"
    )
    assert f.hint == "write `learning_rate=0.001`"
    assert (f.fix.line, f.fix.column, f.fix.end_column, f.fix.text) == (2, 29, 31, "learning_rate")


def test_notebook_without_pin_says_colab():
    code = "import tensorflow as tf\n# %%\nopt = tf.keras.optimizers.RMSprop(lr=1e-4)\n"
    (f,) = lint(code, "train.ipynb", select=SEL)
    assert f.cell == 2 and f.line == 1
    assert f.message.endswith("this code runs on Keras 3 on a current Colab runtime (no version is pinned)")


def test_notebook_pip_pin_decides_the_version():
    keras2 = "!pip install tensorflow==2.12.0\n# %%\nimport tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\nmodel.fit_generator(gen)\n"
    assert found(keras2, "nb.ipynb") == []
    keras3 = "%pip install tensorflow==2.16.1\n# %%\nimport tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=1e-3)\n"
    (f,) = lint(keras3, "nb.ipynb", select=SEL)
    assert f.message.endswith(
        "this code runs on Keras 3 (`tensorflow==2.16.1` in this notebook's `pip install`)"
    )


def test_generator_methods_and_their_fixes():
    code = (
        "import keras\n"
        "model.fit_generator(train_gen, steps_per_epoch=100, epochs=5, validation_data=val_gen)\n"
        "model.fit_generator(generator=train_gen, epochs=5)\n"
        "model.evaluate_generator(val_gen, steps=10)\n"
        "preds = model.predict_generator(test_gen)\n"
        "model.fit_generator(train_gen, 100, 5)\n"
        "model.fit_generator(train_gen, workers=4, use_multiprocessing=True)\n"
    )
    findings = lint(code, select=SEL)
    assert [(f.line, f.column) for f in findings] == [(2, 7), (3, 7), (4, 7), (5, 15), (6, 7), (7, 7)]
    assert findings[0].message == (
        "`model.fit_generator()` was removed in Keras 3 (AttributeError), and this code runs on Keras 3, "
        "the current release (no version is pinned)"
    )
    fixes = [f.fix for f in findings]
    assert fixes[0].text == "fit" and fixes[0].edits == ()
    assert fixes[1].text == "fit" and fixes[1].edits == ((3, 21, 3, 30, "x"),)
    assert fixes[2].text == "evaluate" and fixes[3].text == "predict"
    assert fixes[4] is None  # positional steps_per_epoch: fit's second positional is y
    assert fixes[5] is None
    assert findings[5].hint == (
        "call `fit()`, which takes generators and datasets; Keras 3 `fit()` rejects `workers`, "
        "`use_multiprocessing`: set them on a `keras.utils.PyDataset` instead"
    )


def test_predict_classes():
    (f,) = lint("from tensorflow import keras\ny = model.predict_classes(x_test)\n", select=SEL)
    assert f.line == 2 and f.message.startswith(
        "`model.predict_classes()` was removed in TensorFlow 2.6 and Keras 2.6 (AttributeError)"
    )


def test_import_paths():
    code = (
        "from keras.preprocessing.image import ImageDataGenerator\n"
        "from keras.utils import np_utils\n"
        "from keras.layers.convolutional import Conv2D\n"
        "import keras.wrappers.scikit_learn\n"
        "from tensorflow.keras.layers.experimental import preprocessing\n"
        "from keras import backend as K\n"
        "K.set_session(sess)\n"
    )
    findings = lint(code, select=SEL)
    assert [f.line for f in findings] == [1, 2, 3, 4, 5, 7]
    assert findings[0].message.startswith(
        "`from keras.preprocessing.image import ImageDataGenerator` fails with ImportError: "
        "`keras.preprocessing.image.ImageDataGenerator` was removed in Keras 3"
    )
    assert "removed in Keras 2.13 (TensorFlow 2.13)" in findings[3].message
    assert findings[5].message.startswith("`K.set_session` fails with AttributeError")


def test_tf1_apis():
    code = "import tensorflow as tf\nsess = tf.Session()\nx = tf.placeholder(tf.float32, [None, 784])\nslim = tf.contrib.slim\n"
    findings = lint(code, select=SEL)
    assert [(f.line, f.column) for f in findings] == [(2, 8), (3, 5), (4, 8)]
    assert findings[0].message == (
        "`tf.Session` was removed in TensorFlow 2.0 (AttributeError), and this code runs on TensorFlow 2.21, "
        "the current release (no version is pinned)"
    )


def test_torchvision_renames_and_pretrained():
    code = (
        "import torchvision.transforms as T\n"
        "from torchvision import models\n"
        "t = T.Compose([T.Scale(256), T.RandomSizedCrop(224)])\n"
        "m = models.resnet50(pretrained=True)\n"
    )
    findings = lint(code, select=SEL)
    assert [(f.line, f.column, f.severity.value) for f in findings] == [
        (3, 16, "error"), (3, 30, "error"), (4, 21, "info")
    ]
    assert findings[0].fix.text == "Resize" and findings[1].fix.text == "RandomResizedCrop"
    assert findings[2].message == (
        "`pretrained=True` is deprecated since torchvision 0.13 (a UserWarning; `weights=` replaces it) and may be "
        "removed in a later release; this code runs on torchvision 0.29, the current release (no version is pinned)"
    )
    assert findings[2].fix is None


@pytest.mark.parametrize("head", ["import torchvision.models as models\n", "from torchvision import models\n"])
def test_pretrained_through_the_builders_by_name(head):
    """`models.__dict__[args.arch](pretrained=True)`: pytorch/examples' ImageNet script and its copies."""
    findings = lint(head + "import torch\nm = models.__dict__[args.arch](pretrained=True)\n", select=SEL)
    assert [(f.line, f.column, f.severity.value) for f in findings] == [(3, 32, "info")]
    assert findings[0].message.startswith("`pretrained=True` is deprecated since torchvision 0.13")


@pytest.mark.parametrize("code", [
    # another module's builders by name
    "import timm.models as models\nimport torchvision\nm = models.__dict__[arch](pretrained=True)\n",
    "import torchvision\nm = registry.__dict__[arch](pretrained=True)\n",
    # a dict of the file's own builders
    "import torchvision\nm = BUILDERS[arch](pretrained=True)\n",
])
def test_pretrained_by_name_elsewhere_is_quiet(code):
    assert lint(code, select=SEL) == []


def test_pretrained_by_name_under_an_old_torchvision(tmp_path):
    code = "import torchvision.models as models\nm = models.__dict__[arch](pretrained=True)\n"
    assert _project(tmp_path, {"requirements.txt": "torchvision==0.12.0\n"}, code=code) == []


BUILDER_BY_NAME = """
import warnings
import torchvision.models as models
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    models.__dict__["resnet18"](pretrained=False)
assert any("pretrained" in str(w.message) and "deprecated" in str(w.message) for w in caught), caught
"""


def test_the_real_builder_by_name_warns():
    """In a child process, as this file's other real-library checks: torchvision stays out of pytest's."""
    need_framework("torchvision")
    done = subprocess.run([sys.executable, "-c", BUILDER_BY_NAME], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- CNL402: what is not flagged


@pytest.mark.parametrize(
    "code",
    [
        # PyTorch optimizers take lr
        "import torch\nopt = torch.optim.Adam(model.parameters(), lr=1e-3)\n",
        "import torch.optim as optim\nfrom tensorflow import keras\nopt = optim.SGD(model.parameters(), lr=0.1)\n",
        "from torch.optim import Adam\nimport tensorflow as tf\nopt = Adam(params, lr=0.001)\n",
        # tf.compat.v1 is the supported way to run TF1 code
        "import tensorflow as tf\nsess = tf.compat.v1.Session()\nx = tf.compat.v1.placeholder(tf.float32)\n",
        "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\nsess = tf.Session()\n",
        "import tensorflow as tf\ntf = tf.compat.v1\nsess = tf.Session()\n",
        # tf_keras is Keras 2
        "import tf_keras as keras\nopt = keras.optimizers.Adam(lr=0.01)\nmodel.fit_generator(gen)\n",
        "import os\nos.environ['TF_USE_LEGACY_KERAS'] = '1'\nimport tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=0.01)\n",
        # version checks and fallbacks
        "import tensorflow as tf\nif tf.__version__ < '2.16':\n    opt = tf.keras.optimizers.Adam(lr=0.01)\n",
        "import tensorflow as tf\nif hasattr(model, 'fit_generator'):\n    model.fit_generator(gen)\nelse:\n    model.fit(gen)\n",
        "try:\n    from keras.preprocessing.image import ImageDataGenerator\nexcept ImportError:\n"
        "    from tensorflow.keras.preprocessing.image import ImageDataGenerator\n",
        "import tensorflow as tf\ntry:\n    sess = tf.Session()\nexcept AttributeError:\n    sess = tf.compat.v1.Session()\n",
        # paths that still work under TensorFlow 2.21
        "import tensorflow as tf\ngen = tf.keras.preprocessing.image.ImageDataGenerator(rescale=1/255)\n",
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator, load_img\n",
        "from keras.preprocessing.image import load_img, img_to_array\n",
        "from tensorflow.keras.preprocessing.text import Tokenizer\n",
        # not Keras: sklearn's predict_proba, a file's own fit_generator, a library's method
        "import tensorflow as tf\nfrom sklearn.linear_model import LogisticRegression\np = clf.predict_proba(X)\n",
        "import tensorflow as tf\ndef fit_generator(model, gen):\n    pass\nfit_generator(m, g)\nself.fit_generator(g)\n",
        "import tensorflow as tf\nimport mylib\nmylib.fit_generator(gen)\n",
        "import torchvision\nmodel.fit_generator(gen)\ny = model.predict_classes(x)\n",  # no Keras imported
        # timm takes pretrained=; torchvision's weights= is right
        "import timm\nimport torchvision\nm = timm.create_model('resnet50', pretrained=True)\n",
        "from torchvision import models\nm = models.resnet50(weights=models.ResNet50_Weights.DEFAULT)\n",
        # a transform named Scale of the file's own
        "class Scale:\n    pass\nt = Scale(2)\nimport torchvision\n",
        # an object's attribute called Session
        "import tensorflow as tf\nsession = boto3.Session()\n",
    ],
)
def test_quiet(code):
    assert found(code) == [], code


def _project(tmp_path, files, script="train.py", code=""):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    target = tmp_path / script
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(code)
    return [
        (f.code, f.line, f.message) for f in lint_text(code, str(target), select=SEL)
    ]


KERAS_LR = "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(lr=0.001)\n"


@pytest.mark.parametrize(
    "files",
    [
        {"requirements.txt": "tensorflow==2.15.0\n"},
        {"requirements.txt": "tensorflow>=2.10,<2.16\n"},
        {"requirements.txt": "-r base.txt\n", "base.txt": "tensorflow-gpu==2.10.1\n"},
        {"environment.yml": "dependencies:\n  - python=3.10\n  - tensorflow=2.12\n"},
        {"environment.yml": "dependencies:\n  - pip\n  - pip:\n    - tensorflow==2.13.1\n"},
        {"pyproject.toml": "[project]\nname='x'\ndependencies = ['tensorflow~=2.14.0']\n"},
        {"pyproject.toml": "[tool.poetry.dependencies]\npython='^3.10'\ntensorflow='~2.11'\n"},
        {"setup.py": "from setuptools import setup\nsetup(name='x', install_requires=['tensorflow==2.9.1'])\n"},
        {"setup.cfg": "[options]\ninstall_requires =\n    tensorflow==2.11.0\n"},
        {"Pipfile": "[packages]\ntensorflow = '==2.12.0'\n"},
        {"Dockerfile": "FROM tensorflow/tensorflow:2.13.0-gpu\nRUN pip install pillow\n"},
        {"Dockerfile": "FROM python:3.10\nRUN pip install 'tensorflow==2.15.1' numpy\n"},
        {"poetry.lock": "[[package]]\nname = \"tensorflow\"\nversion = \"2.15.0\"\n", "pyproject.toml": "[tool.poetry]\n"},
        {"pyproject.toml": "[project]\nname='x'\ndynamic=['dependencies']\n"},
        {"requirements.txt": "tf-keras==2.16.0\ntensorflow==2.16.1\n"},
    ],
)
def test_keras2_project_is_quiet(tmp_path, files):
    assert _project(tmp_path, files, code=KERAS_LR) == []


def test_keras3_pin_in_parent_requirements(tmp_path):
    (result,) = _project(
        tmp_path, {"requirements.txt": "tensorflow==2.16.1\n", "setup.cfg": "[metadata]\nname=x\n"},
        script="src/train.py", code=KERAS_LR,
    )
    assert result[:2] == ("CNL402", 2)
    assert result[2].endswith("this code runs on Keras 3 (`tensorflow==2.16.1` in requirements.txt)")


def test_range_names_the_version_it_installs(tmp_path):
    (result,) = _project(tmp_path, {"requirements.txt": "tensorflow>=2.12,<2.17\n"}, code=KERAS_LR)
    assert result[2].endswith("Keras 3 (`tensorflow>=2.12,<2.17` in requirements.txt installs TensorFlow 2.16)")


def test_standalone_keras_pin_wins_for_standalone_keras(tmp_path):
    code = "import keras\nopt = keras.optimizers.Adam(lr=0.01)\nfrom keras.preprocessing.image import ImageDataGenerator\n"
    assert _project(tmp_path, {"requirements.txt": "keras==2.4.3\ntensorflow==2.4.1\n"}, code=code) == []
    results = _project(tmp_path, {"requirements.txt": "keras==3.3.3\ntensorflow==2.15.0\n"}, code=code)
    assert [r[1] for r in results] == [2, 3]


def test_tf1_project_is_quiet(tmp_path):
    code = "import tensorflow as tf\nsess = tf.Session()\n"
    assert _project(tmp_path, {"requirements.txt": "tensorflow-gpu==1.15.5\n"}, code=code) == []
    assert [r[1] for r in _project(tmp_path, {"requirements.txt": "tensorflow==2.3.0\n"}, code=code)] == [2]


def test_old_torchvision_is_quiet(tmp_path):
    code = "from torchvision import transforms, models\nt = transforms.Scale(32)\nm = models.vgg16(pretrained=True)\n"
    assert _project(tmp_path, {"requirements.txt": "torchvision==0.11.3\ntorch==1.10.2\n"}, code=code) == []
    results = _project(tmp_path, {"requirements.txt": "torchvision==0.12.0\ntorch==1.11.0\n"}, code=code)
    assert [r[1] for r in results] == [2]  # pretrained= only deprecated from 0.13


def test_torchvision_goes_with_the_pinned_torch(tmp_path):
    """No torchvision pin: the torch pin decides which torchvision ran beside it."""
    code = "from torchvision import transforms, models\nt = transforms.Scale(32)\nm = models.vgg16(pretrained=True)\n"
    assert _project(tmp_path, {"requirements.txt": "torch==1.10.2\ntorchvision\n"}, code=code) == []
    results = _project(tmp_path, {"requirements.txt": "torch==2.0.1\ntorchvision\n"}, code=code)
    assert [(r[1], r[2][-68:]) for r in results] == [
        (2, "(AttributeError), and this code runs on torchvision 0.15 (`torch==2.0.1` in requirements.txt)"[-68:]),
        (3, "a later release; this code runs on torchvision 0.15 (`torch==2.0.1` in requirements.txt)"[-68:]),
    ]


def test_torchvision_pin_wins_over_the_torch_pin(tmp_path):
    code = "from torchvision import models\nm = models.vgg16(pretrained=True)\n"
    assert _project(tmp_path, {"requirements.txt": "torch==2.0.1\ntorchvision==0.12.0\n"}, code=code) == []
    results = _project(tmp_path, {"requirements.txt": "torch==1.10.2\ntorchvision==0.13.1\n"}, code=code)
    assert [r[1] for r in results] == [2]


def test_notebook_installing_an_old_torch_is_quiet_on_pretrained(tmp_path):
    from cnnlint.lint.pages import notebook_from_cells

    pinned = notebook_from_cells(
        "!python -m pip install torch==1.0.0\n# %%\nfrom torchvision import models\nm = models.vgg16(pretrained=True)\n")
    assert _project(tmp_path, {}, script="nb.ipynb", code=pinned) == []


def test_predict_classes_quiet_before_tf_2_6(tmp_path):
    code = "import tensorflow as tf\ny = model.predict_classes(x)\n"
    assert _project(tmp_path, {"requirements.txt": "tensorflow==2.5.0\n"}, code=code) == []
    assert [r[1] for r in _project(tmp_path, {"requirements.txt": "tensorflow==2.6.0\n"}, code=code)] == [2]


# ---------------------------------------------------------------- CNL403


def test_cnl403_needs_a_project_on_disk():
    # text linted with no file behind it (rule pages, editors): no project to judge
    assert found("import torch\nimport tensorflow as tf\n", "example.py", ("CNL403",)) == []


def test_cnl403_reports_each_unrecorded_framework_once(tmp_path):
    (tmp_path / ".git").mkdir()
    code = "import os\nimport torch\nimport torch.nn as nn\nfrom tensorflow import keras\nimport keras\n"
    results = _project(tmp_path, {"requirements.txt": "numpy==1.26.4\n"}, code=code)
    # keras is left out: pinning TensorFlow bounds the Keras it installs
    assert sorted((c, line) for c, line, _ in results) == [("CNL403", 2), ("CNL403", 4)]
    alone = _project(tmp_path, {"requirements.txt": "numpy==1.26.4\n"}, code="import keras\n")
    assert [(c, line) for c, line, _ in alone] == [("CNL403", 1)]


def test_cnl403_message(tmp_path):
    (tmp_path / ".git").mkdir()
    results = _project(tmp_path, {}, code="import torch\n")
    assert results == [(
        "CNL403", 1,
        "`torch` is imported, and nothing in the project records its version (requirements, environment.yml, "
        "pyproject.toml, setup.py): the run depends on whatever version the runtime has that day",
    )]
    listed = _project(tmp_path, {"requirements.txt": "torch\n"}, code="import torch\n")
    assert listed[0][2].startswith("`torch` is imported, and requirements.txt lists `torch` without a version")


@pytest.mark.parametrize(
    "files",
    [
        {"requirements.txt": "torch==2.3.1\n"},
        {"requirements.txt": "torch>=2.0,<2.5\n"},
        {"requirements.txt": "torchvision==0.18.1\n"},
        {"pyproject.toml": "[project]\nname='lib'\ndependencies=['torch>=2']\n"},
        {"pyproject.toml": "[project]\nname='lib'\n[project.optional-dependencies]\ntrain=['torch>=2']\n"},
        {"environment.yml": "dependencies:\n  - pytorch=2.1\n"},
        {"setup.py": "from setuptools import setup\nreqs = open('req.txt').read().split()\nsetup(install_requires=reqs)\n"},
        {"uv.lock": "[[package]]\nname = \"torch\"\nversion = \"2.3.1\"\n", "pyproject.toml": "[project]\nname='x'\n"},
        {"Dockerfile": "FROM pytorch/pytorch:2.1.0-cuda12.1-cudnn8-runtime\n"},
    ],
)
def test_cnl403_recorded(tmp_path, files):
    (tmp_path / ".git").mkdir()
    assert _project(tmp_path, files, code="import torch\n") == []


def test_cnl403_outside_any_project_is_quiet(tmp_path):
    assert _project(tmp_path, {}, code="import torch\n") == []


def test_cnl403_guarded_import_is_optional(tmp_path):
    (tmp_path / ".git").mkdir()
    code = "try:\n    import torch\nexcept ImportError:\n    torch = None\n"
    assert _project(tmp_path, {}, code=code) == []


def test_cnl403_notebook_pins_itself(tmp_path):
    (tmp_path / ".git").mkdir()
    from cnnlint.lint.pages import notebook_from_cells

    pinned = notebook_from_cells("!pip install -q tensorflow==2.15.0\n# %%\nimport tensorflow as tf\n")
    assert _project(tmp_path, {}, script="nb.ipynb", code=pinned) == []
    unpinned = notebook_from_cells("!pip install tensorflow\n# %%\nimport tensorflow as tf\n")
    assert _project(tmp_path, {}, script="nb.ipynb", code=unpinned) == []  # CNL401 reports the install
    bare = notebook_from_cells("import numpy as np\n# %%\nimport tensorflow as tf\n")
    results = lint_text(bare, str(tmp_path / "nb.ipynb"), select=SEL)
    assert [(f.code, f.cell, f.line) for f in results] == [("CNL403", 2, 1)]
    assert results[0].hint.startswith("install the version you tested with in the first cell: `%pip install tensorflow==")


def test_cnl403_a_lone_notebook_is_its_own_project(tmp_path):
    from cnnlint.lint.pages import notebook_from_cells

    nb = notebook_from_cells("import tensorflow as tf\n# %%\nprint(tf.__version__)\n")
    results = _project(tmp_path, {}, script="flowers.ipynb", code=nb)
    assert results == [(
        "CNL403", 1,
        "`tensorflow` is imported, and this notebook installs no version of it and nothing beside it records "
        "one: the run depends on whatever version the runtime has that day",
    )]
    pinned = notebook_from_cells("%pip install tensorflow==2.15.1\n# %%\nimport tensorflow as tf\n")
    assert _project(tmp_path, {}, script="pinned.ipynb", code=pinned) == []


def test_cnl403_cached_result_notices_a_new_pin_file(tmp_path, capsys, monkeypatch):
    from cnnlint.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "train.py").write_text("import torch\n")
    assert main(["train.py", "--select", "CNL403", "--fail-on", "info", "-q"]) == 1
    assert "CNL403" in capsys.readouterr().out
    (tmp_path / "requirements.txt").write_text("torch==2.3.1\n")  # a new file: the folder listing changes
    assert main(["train.py", "--select", "CNL403", "--fail-on", "info", "-q"]) == 0
    assert "CNL403" not in capsys.readouterr().out
