"""CNL203 and `Variable(x, volatile=True)`: autograd off only on PyTorch before 0.4 (later releases
ignore it with a warning), judged with the project's recorded torch version."""

import pytest

from conftest import lint_text

CODE = "CNL203"

# an evaluation helper of a script: the model is a parameter, the loader has no telling name, and
# the only thing meant to turn autograd off is `volatile=True`
HELPER = (
    "import torch\nfrom torch.autograd import Variable\n\n"
    "def check(net, criterion, batches):\n"
    "    net.eval()\n"
    "    total = 0.0\n"
    "    for images, targets in iter(batches):\n"
    "        images = Variable(images, volatile=True)\n"
    "        total += criterion(net.forward(images), Variable(targets)).item()\n"
    "    return total\n"
)  # the loop is line 7

# a training script with a validation loader
SCRIPT = (
    "import torch\nfrom torch.autograd import Variable\nfrom mymodels import Net\n"
    "model = Net()\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
    "for epoch in range(3):\n"
    "    model.train()\n"
    "    for x, y in train_loader:\n"
    "        opt.zero_grad()\n        torch.nn.functional.cross_entropy(model(x), y).backward()\n        opt.step()\n"
    "    model.eval()\n"
    "    for x, y in val_loader:\n"
    "        out = model(Variable(x, volatile=True))\n"
)  # the validation loop is line 13


def _found(tmp_path, code, requirements=None):
    if requirements is not None:
        (tmp_path / "setup.cfg").write_text("[metadata]\nname = x\n")
        (tmp_path / "requirements.txt").write_text(requirements)
    target = tmp_path / "train.py"
    target.write_text(code)
    return [f for f in lint_text(code, str(target), select=(CODE,))]


@pytest.mark.parametrize("requirements", [None, "torch\n", "torch==0.4.1\n", "torch>=0.3\n", "numpy==1.26.4\n"])
def test_volatile_ignored_by_the_projects_pytorch(tmp_path, requirements):
    (f,) = _found(tmp_path, SCRIPT, requirements)
    assert (f.code, f.line, f.column) == (CODE, 13, 17)
    assert f.message == (
        "the evaluation loop over `val_loader` runs `model` with autograd on (`volatile=True` does not turn "
        "it off: PyTorch ignores it since 0.4): every forward pass records its graph and keeps activations for "
        "a backward() that never comes (more memory, slower)"
    )


@pytest.mark.parametrize("written", ["volatile = True", "volatile =True", "volatile= True"])
def test_volatile_written_with_spaces(tmp_path, written):
    (f,) = _found(tmp_path, SCRIPT.replace("volatile=True", written))
    assert (f.line, f.column) == (13, 17)
    assert "(`volatile=True` does not turn it off: PyTorch ignores it since 0.4)" in f.message


def test_volatile_false_is_not_counted(tmp_path):
    (f,) = _found(tmp_path, SCRIPT.replace("volatile=True", "volatile = False"))
    assert "volatile" not in f.message  # plain autograd on: volatile=False never meant to turn it off


def test_helper_whose_loop_counts_on_volatile(tmp_path):
    # a parameter model in a script is left to its callers, unless the loop itself shows its author
    # meant to turn autograd off here; `net.forward(x)` is a call of `net`
    (f,) = _found(tmp_path, HELPER)
    assert (f.line, f.column) == (7, 28)
    assert f.message.startswith("the evaluation loop over `iter(batches)` runs `net` with autograd on (`volatile=True`")


@pytest.mark.parametrize("requirements", ["torch==0.3.1\n", "torch<0.4\n", "torch>=0.2,<0.4\n"])
def test_volatile_works_where_every_allowed_release_is_before_0_4(tmp_path, requirements):
    assert _found(tmp_path, SCRIPT, requirements) == []
    assert _found(tmp_path, HELPER, requirements) == []


@pytest.mark.parametrize("code", [
    # volatile=False: no author's word that the loop evaluates, and a parameter model is left to callers
    HELPER.replace("volatile=True", "volatile=False"),
    # the file turns autograd off the modern way too (a caller may wrap the helper in it)
    HELPER + "with torch.no_grad():\n    check(model, crit, loader)\n",
    # the loop wants gradients all the same (a saliency map)
    HELPER.replace("        total +=", "        images.requires_grad_()\n        total +="),
    # no eval() before the loop: `volatile` alone on a parameter model says nothing of its mode
    HELPER.replace("    net.eval()\n", "    net.train()\n"),
])
def test_not_reported(tmp_path, code):
    assert _found(tmp_path, code) == []
