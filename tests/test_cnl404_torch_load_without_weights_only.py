"""CNL404 torch-load-without-weights-only: positives, and the negatives real code is full of."""

import pytest

from conftest import lint_text

CODE = "CNL404"


def _found(text, path="train.py"):
    return [(f.line, f.column) for f in lint_text(text, path, select=(CODE,))]


@pytest.mark.parametrize("text,expected", [
    ("import torch\nstate = torch.load('best.pt')\n", [(2, 9)]),
    ("import torch as T\nstate = T.load('best.pt', map_location='cpu')\n", [(2, 9)]),
    ("from torch import load\nstate = load(open('best.pt', 'rb'))\n", [(2, 9)]),
    ("import torch\n\ndef restore(m, p):\n    m.load_state_dict(torch.load(p)['model'])\n", [(4, 23)]),
])
def test_reported(text, expected):
    assert _found(text) == expected


def test_message_and_hint():
    (finding,) = lint_text("import torch\nsd = torch.load('w.pt')\n", "train.py", select=(CODE,))
    assert finding.code == CODE
    assert finding.message.startswith("`torch.load()` without `weights_only=`: before PyTorch 2.6")
    assert "weights_only=True" in finding.hint


def test_in_a_notebook_cell():
    from conftest import notebook_from_cells

    nb = notebook_from_cells("import torch\n# %%\nx = 1\nstate = torch.load('w.pt')\n")
    assert [(f.cell, f.line) for f in lint_text(nb, "train.ipynb", select=(CODE,))] == [(2, 2)]


@pytest.mark.parametrize("text", [
    # the keyword given, either way: an explicit choice
    "import torch\nstate = torch.load('best.pt', weights_only=True)\n",
    "import torch\nmodel = torch.load('mine.pt', weights_only=False)\n",
    # the arguments come from elsewhere
    "import torch\nstate = torch.load('best.pt', **load_kwargs)\n",
    # other loaders
    "import torch\nm = torch.hub.load('pytorch/vision', 'resnet18')\nj = torch.jit.load('m.pt')\n",
    "import numpy as np\nimport torch\nx = np.load('x.npy')\n",
    "import pickle\nimport torch\nx = pickle.load(open('x.pkl', 'rb'))\n",
    # a `load` that is not torch's, and a `torch` that is not the package
    "import torch\nfrom mylib import load\nstate = load('best.pt')\n",
    "torch = Checkpoints()\nstate = torch.load('best.pt')\n",
    # old-PyTorch fallback: the except clause of a try that loads with weights_only first
    "import torch\ntry:\n    sd = torch.load(p, weights_only=True)\nexcept TypeError:\n    sd = torch.load(p)\n",
    # the file rebinds torch.load itself
    "import functools\nimport torch\ntorch.load = functools.partial(torch.load, weights_only=False)\nsd = torch.load('x.pt')\n",
])
def test_not_reported(text):
    assert _found(text) == []


LOAD = "import torch\nstate = torch.load('best.pt')\n"


def _in_project(tmp_path, requirements):
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
    (tmp_path / "requirements.txt").write_text(requirements)
    target = tmp_path / "train.py"
    target.write_text(LOAD)
    return [(f.code, f.line) for f in lint_text(LOAD, str(target), select=(CODE,))]


@pytest.mark.parametrize("requirements", [
    "torch==2.6.0\n",  # weights only by default: the call is safe as written
    "torch>=2.6\n",
    "torch==1.4.0\n",  # before 1.13 there is no `weights_only` to pass
    "torch>=1.0,<1.13\n",
])
def test_quiet_where_the_pinned_version_settles_it(tmp_path, requirements):
    assert _in_project(tmp_path, requirements) == []


@pytest.mark.parametrize("requirements", [
    "torch==2.5.1\n",  # the flag exists and the default still unpickles anything
    "torch>=1.8\n",  # a range that still allows the unsafe default
    "torch\n",  # listed without a version: whatever is installed
    "numpy==1.26.4\n",
])
def test_reported_where_the_version_allows_the_unsafe_default(tmp_path, requirements):
    assert _in_project(tmp_path, requirements) == [(CODE, 2)]
