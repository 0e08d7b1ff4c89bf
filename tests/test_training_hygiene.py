"""CNL203 evaluation in training mode; CNL204 loss accumulated as a tensor (and its --fix)."""

import pytest

from cnnlint.fix import apply_fixes
from conftest import lint


def found(code, path="train.py", select=("CNL203", "CNL204")):
    return [(f.code, f.line, f.column) for f in lint(code, path, select)]


HEAD = (
    "import torch\nfrom torch import nn\n"
    "model = nn.Sequential(nn.Linear(10, 32), nn.Dropout(0.5), nn.Linear(32, 2))\n"
    "criterion = nn.CrossEntropyLoss()\n"
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n"
)  # 5 lines

TRAIN = (
    "for x, y in train_loader:\n"
    "    optimizer.zero_grad()\n"
    "    loss = criterion(model(x), y)\n"
    "    loss.backward()\n"
    "    optimizer.step()\n"
)


# ---------------------------------------------------------------- CNL204


class TestLossAccumulated:
    def test_running_loss(self):
        code = HEAD + "running_loss = 0.0\n" + TRAIN + "    running_loss += loss\n"
        (f,) = lint(code, select=("CNL204",))
        assert (f.line, f.column, f.end_column) == (12, 21, 25)
        assert f.message == (
            "`running_loss += loss` adds the loss tensor `loss` itself, which carries the autograd history of its "
            "step, so `running_loss` keeps the history of every step alive and memory grows with each iteration"
        )
        assert f.hint == "accumulate the number instead: `loss.item()` (or `loss.detach()`)"
        assert f.fix is not None and f.fix.text == "loss.item()"

    @pytest.mark.parametrize("line,col", [
        ("    total = total + loss\n", 21),
        ("    epoch_loss += loss * x.size(0)\n", 19),
        ("    losses.append(loss)\n", 19),
        ("    self.total_loss += loss\n", 24),
        ("    stats['loss'] += loss\n", 22),
    ])
    def test_forms(self, line, col):
        assert found(HEAD + TRAIN + line) == [("CNL204", 11, col)]

    def test_accumulated_before_backward_and_scaler(self):
        code = HEAD + (
            "for x, y in loader:\n"
            "    optimizer.zero_grad()\n"
            "    with torch.autocast('cuda'):\n"
            "        loss = criterion(model(x), y)\n"
            "    total += loss\n"
            "    scaler.scale(loss).backward()\n"
            "    scaler.step(optimizer)\n"
        )
        assert found(code) == [("CNL204", 10, 14)]

    def test_epoch_loop_reset_is_still_reported(self):
        code = HEAD + "for epoch in range(3):\n    running = 0\n" + "".join("    " + l for l in TRAIN.splitlines(True)) + \
            "        running += loss\n"
        assert found(code) == [("CNL204", 13, 20)]

    @pytest.mark.parametrize("acc", [
        "    running_loss += loss.item()\n",
        "    running_loss += loss.item() * x.size(0)\n",
        "    losses.append(loss.detach())\n",
        "    losses.append(loss.item())\n",
        "    total += float(loss)\n",
        "    total += loss.cpu().numpy()\n",
        "    total += loss.data\n",
        "    metric.update(loss)\n    steps += 1\n",
        "    with torch.no_grad():\n        total += loss\n",
        # rebound to a number after backward
        "    loss = loss.item()\n    total += loss\n",
    ])
    def test_negative(self, acc):
        assert found(HEAD + TRAIN + acc) == []

    def test_gradient_accumulation_sum_before_backward(self):
        code = HEAD + (
            "for x, y in loader:\n"
            "    loss = criterion(model(x), y)\n"
            "    loss = loss + 0.1 * aux_loss\n"
            "    loss.backward()\n"
        )
        assert found(code) == []

    def test_multi_task_loss_built_then_backward(self):
        code = HEAD + (
            "for x, y in loader:\n"
            "    total_loss = 0\n"
            "    for head, t in zip(heads, targets):\n"
            "        l = criterion(head(x), t)\n"
            "        total_loss += l\n"
            "    total_loss.backward()\n"
        )
        assert found(code) == []

    def test_losses_list_differentiated(self):
        code = HEAD + (
            "losses = []\n"
            "for x, y in loader:\n"
            "    loss = criterion(model(x), y)\n"
            "    loss.backward()\n"
            "    losses.append(loss)\n"
            "torch.stack(losses).sum().backward()\n"
        )
        assert found(code) == []

    def test_validation_loss_without_backward(self):
        code = HEAD + TRAIN + "with torch.no_grad():\n    for x, y in val_loader:\n        val_loss += criterion(model(x), y)\n"
        assert found(code, select=("CNL204",)) == []

    def test_keras_history_float(self):
        # a file that trains with backward() elsewhere: these `loss` values are floats from a history
        code = HEAD + TRAIN + "total = 0\nfor loss in history['loss']:\n    total += loss\n"
        assert found(code) == []

    def test_fix(self, tmp_path):
        code = HEAD + "running_loss = 0.0\n" + TRAIN + "    running_loss += loss * x.size(0)\n    history.append(loss)\n"
        path = tmp_path / "train.py"
        path.write_text(code)
        findings = lint(code, str(path), select=("CNL204",))
        outcome = apply_fixes(findings, write=True)
        assert outcome.errors == []
        new = path.read_text()
        assert new == code.replace("+= loss *", "+= loss.item() *").replace("append(loss)", "append(loss.item())")
        assert lint(new, str(path), select=("CNL204",)) == []

    def test_notebook(self):
        nb = HEAD + "# %%\nrunning_loss = 0.0\n" + TRAIN + "    running_loss += loss\n"
        (f,) = lint(nb, "train.ipynb", select=("CNL204",))
        assert (f.cell, f.line, f.column) == (2, 7, 21)


# ---------------------------------------------------------------- CNL203


class TestEvalMode:
    def test_no_eval_under_no_grad(self):
        code = HEAD + "with torch.no_grad():\n    for x, y in val_loader:\n        out = model(x)\n"
        (f,) = lint(code, select=("CNL203",))
        assert (f.line, f.column) == (7, 17)
        assert f.message == (
            "the evaluation loop over `val_loader` calls `model` in training mode: nothing in this file calls "
            "`model.eval()`, so dropout stays active and batch norm normalizes with (and updates) batch statistics"
        )
        assert f.hint == "call `model.eval()` before the loop (and `model.train()` before training resumes)"

    def test_no_eval_test_loader_in_epoch_loop(self):
        code = HEAD + "for epoch in range(3):\n    model.train()\n" + \
            "".join("    " + l for l in TRAIN.splitlines(True)) + \
            "    with torch.no_grad():\n        for x, y in enumerate(testloader):\n            model(x)\n"
        assert found(code) == [("CNL203", 14, 21)]

    def test_torchvision_model(self):
        code = (
            "import torch\nimport torchvision\n"
            "model = torchvision.models.resnet50(weights='DEFAULT').to('cuda')\n"
            "with torch.no_grad():\n    for images in loader:\n        feats = model(images)\n"
        )
        assert found(code) == [("CNL203", 5, 19)]

    def test_no_grad_missing(self):
        code = HEAD + "model.eval()\ncorrect = 0\nfor x, y in test_loader:\n    correct += (model(x).argmax(1) == y).sum()\n"
        (f,) = lint(code, select=("CNL203",))
        assert (f.line, f.column) == (8, 13)
        assert f.message.startswith("the evaluation loop over `test_loader` runs `model` with autograd on")

    def test_eval_never_undone(self):
        code = HEAD + (
            "def validate(net, loader):\n"
            "    net.eval()\n"
            "    with torch.no_grad():\n"
            "        for x, y in loader:\n"
            "            net(x)\n"
            "for epoch in range(10):\n"
        ) + "".join("    " + l for l in TRAIN.splitlines(True)) + "    validate(model, val_loader)\n"
        (f,) = lint(code, select=("CNL203",))
        assert (f.line, f.column) == (17, 5)
        assert f.message == (
            "`validate(model, val_loader)` puts `model` in eval mode inside the training loop and nothing puts it "
            "back: from the next iteration on it trains with dropout off and batch norm frozen"
        )

    def test_direct_eval_never_undone(self):
        code = HEAD + "for epoch in range(10):\n" + "".join("    " + l for l in TRAIN.splitlines(True)) + \
            "    model.eval()\n    with torch.no_grad():\n        for x, y in val_loader:\n            model(x)\n"
        assert found(code) == [("CNL203", 12, 5)]

    @pytest.mark.parametrize("code", [
        # eval in a helper, train() at the top of the epoch (pytorch/examples mnist shape)
        "def test(model, loader):\n    model.eval()\n    with torch.no_grad():\n        for x, y in loader:\n"
        "            model(x)\n"
        "for epoch in range(3):\n    model.train()\n" + "".join("    " + l for l in TRAIN.splitlines(True))
        + "    test(model, test_loader)\n",
        # the helper receives the model: its caller may set the mode
        "def evaluate(net, val_loader):\n    with torch.no_grad():\n        for x, y in val_loader:\n            net(x)\n",
        # decorated helper, eval called by the caller
        "@torch.no_grad()\ndef evaluate(val_loader):\n    for x, y in val_loader:\n        model(x)\n"
        "model.eval()\nevaluate(val_loader)\n",
        "model.eval()\nwith torch.inference_mode():\n    for x, y in val_loader:\n        model(x)\n",
        "model.train(False)\nwith torch.no_grad():\n    for x, y in val_loader:\n        model(x)\n",
        "model.eval()\ntorch.set_grad_enabled(False)\nfor x, y in val_loader:\n    model(x)\n",
        # MC dropout on purpose: train() right before, no training in between
        "model.train()\nwith torch.no_grad():\n    for x, y in test_loader:\n        model(x)\n",
        # a training loop over a loader named like validation (fine-tuning on val), with backward
        "for x, y in val_loader:\n    optimizer.zero_grad()\n    criterion(model(x), y).backward()\n    optimizer.step()\n",
        # train() inside the epoch loop after eval
        "for epoch in range(3):\n" + "".join("    " + l for l in TRAIN.splitlines(True))
        + "    model.eval()\n    with torch.no_grad():\n        for x, y in val_loader:\n            model(x)\n"
        "    model.train()\n",
        # model re-created per fold
        "for fold in range(5):\n    model = nn.Sequential(nn.Linear(10, 2), nn.Dropout(0.1))\n"
        + "".join("    " + l for l in TRAIN.splitlines(True)) + "    model.eval()\n",
    ])
    def test_negative(self, code):
        assert found(HEAD + code, select=("CNL203",)) == []

    def test_model_without_dropout_or_batchnorm(self):
        code = "import torch\nfrom torch import nn\nmodel = nn.Linear(10, 2)\n" \
            "with torch.no_grad():\n    for x, y in val_loader:\n        model(x)\n"
        assert found(code) == []

    def test_keras_model_class_is_not_torch(self):
        code = (
            "import torch\nimport tensorflow as tf\n"
            "class Net(tf.keras.Model):\n    def __init__(self):\n        super().__init__()\n"
            "        self.d = tf.keras.layers.Dropout(0.5)\n"
            "model = Net()\nfor x, y in test_ds:\n    model(x)\n"
        )
        assert found(code) == []

    def test_module_class_with_batchnorm_in_a_block(self):
        code = (
            "import torch\nfrom torch import nn\n"
            "class Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.bn = nn.BatchNorm2d(8)\n"
            "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.b = Block()\n"
            "net = Net()\nwith torch.no_grad():\n    for x, y in valid_loader:\n        net(x)\n"
        )
        assert found(code) == [("CNL203", 13, 17)]

    def test_lightning_validation_step(self):
        code = (
            "import torch\nimport pytorch_lightning as pl\nfrom torch import nn\n"
            "class Lit(pl.LightningModule):\n    def __init__(self):\n        super().__init__()\n"
            "        self.net = nn.Sequential(nn.Linear(4, 2), nn.Dropout(0.2))\n"
            "    def validation_step(self, batch, i):\n        x, y = batch\n        return self.net(x)\n"
        )
        assert found(code) == []


def test_cnl203_model_from_a_builder_function():
    code = (
        "import torch\nfrom torchvision import models\n"
        "def build_model(n):\n    model = models.resnet50(weights='DEFAULT')\n    return model\n"
        "model = build_model(10).to('cuda')\n"
        "with torch.no_grad():\n    for x, y in val_loader:\n        model(x)\n"
    )
    assert found(code) == [("CNL203", 8, 17)]
    assert found(code.replace("models.resnet50(weights='DEFAULT')", "torch.nn.Linear(4, 2)")) == []


def test_cnl203_hub_model_without_arguments_is_unknown_not_a_crash():
    # `timm.create_model()` names no architecture: nothing says it has dropout (the rule used to
    # raise IndexError here and lose every CNL203 finding of the file)
    code = (
        "import torch\nimport timm\nmodel = timm.create_model()\n"
        "for x, y in val_loader:\n    model(x)\n"
    )
    assert found(code) == []
    assert found(code.replace("timm.create_model()", "timm.create_model('resnet50')")) == [("CNL203", 4, 13)]
