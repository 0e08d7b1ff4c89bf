"""CNL301 on PyTorch models as real code writes them: a forward() that rebinds its input
(`x = self.softmax(x); return x`), a model moved with `model = model.to(device)`, a builder
function of the file; and the LogSoftmax pairings that are not defects."""

import pytest

from conftest import lint

LOOP = (
    "criterion = nn.CrossEntropyLoss()\n"
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n"
    "for x, y in train_loader:\n"
    "    optimizer.zero_grad()\n"
    "    output = model(x)\n"
    "    loss = criterion(output, y)\n"
    "    loss.backward()\n"
    "    optimizer.step()\n"
)

NET = (
    "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
    "class Net(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.fc = nn.Linear(784, 10)\n"
    "        self.softmax = nn.Softmax(dim=1)\n"
    "    def forward(self, x):\n"
    "        x = self.fc(x)\n"
    "        x = self.softmax(x)\n"
    "        return x\n"
)  # 12 lines


def found(code):
    return [(f.code, f.line, f.column) for f in lint(code, "train.py", ("CNL301",))]


def test_forward_rebinds_its_input_through_a_softmax_module():
    (f,) = lint(NET + "model = Net()\n" + LOOP, "train.py", ("CNL301",))
    assert (f.line, f.column) == (8, 24)
    assert f.message == (
        "the model's output goes through `nn.Softmax(dim=1)` before `nn.CrossEntropyLoss()`, which expects raw "
        "logits (it applies log_softmax itself): the loss is computed on probabilities, gradients nearly vanish "
        "and training stalls"
    )
    assert f.hint == "return the raw output of the last Linear layer (apply softmax only for predictions)"


def test_forward_rebinds_its_input_through_functional_softmax():
    code = NET.replace("        x = self.softmax(x)\n", "        x = F.softmax(x, dim=1)\n") + "model = Net()\n" + LOOP
    assert found(code) == [("CNL301", 11, 13)]


def test_model_moved_by_rebinding():
    assert found(NET + "model = Net()\nmodel = model.to(device)\n" + LOOP) == [("CNL301", 8, 24)]


def test_builder_function_of_the_file():
    code = (
        "import torch\nimport torch.nn as nn\n"
        "def make_model():\n"
        "    net = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.Softmax(dim=1))\n"
        "    return net\n"
        "model = make_model().to(device)\n" + LOOP
    )
    assert found(code) == [("CNL301", 4, 77)]


@pytest.mark.parametrize("code", [
    # the softmax only when the model is not training: the loss sees logits
    NET.replace("        x = self.softmax(x)\n        return x\n",
                "        if self.training:\n            return x\n        return self.softmax(x)\n")
    + "model = Net()\n" + LOOP,
    # the input rebound through softmax on one branch only
    NET.replace("        x = self.softmax(x)\n", "        if self.probs:\n            x = self.softmax(x)\n")
    + "model = Net()\n" + LOOP,
    # a builder with two returns: which model trains is not known here
    "import torch\nimport torch.nn as nn\n"
    "def make_model(probs):\n    if probs:\n        return nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=1))\n"
    "    return nn.Sequential(nn.Linear(4, 2))\nmodel = make_model(False)\n" + LOOP,
    # LogSoftmax + NLLLoss: the documented pairing
    NET.replace("nn.Softmax(dim=1)", "nn.LogSoftmax(dim=1)") + "model = Net()\n"
    + LOOP.replace("nn.CrossEntropyLoss()", "nn.NLLLoss()"),
    # LogSoftmax + CrossEntropyLoss: log_softmax is idempotent (log-probabilities already sum to one in
    # probability space), so the loss and its gradient are exactly those of NLLLoss: redundant, not wrong
    NET.replace("nn.Softmax(dim=1)", "nn.LogSoftmax(dim=1)") + "model = Net()\n" + LOOP,
    NET.replace("        x = self.softmax(x)\n", "        x = F.log_softmax(x, dim=1)\n") + "model = Net()\n" + LOOP,
])
def test_negatives(code):
    assert found(code) == []


# an evaluation helper that receives the model: the file's one model class, restored from a
# state_dict (`net.load_state_dict(torch.load(path))` loads weights, not another model)
EVAL_HELPER = (
    "def check(net, loader):\n"
    "    total = 0.0\n"
    "    with torch.no_grad():\n"
    "        for x, y in loader:\n"
    "            total += F.cross_entropy(net(x), y, reduction='sum').item()\n"
    "    return total\n"
)


def test_helper_parameter_model_restored_from_its_weights():
    code = NET + EVAL_HELPER + "model = Net()\nmodel.load_state_dict(torch.load('best.pt'))\ncheck(model, loader)\n"
    assert found(code) == [("CNL301", 8, 24)]


@pytest.mark.parametrize("restore", [
    # a whole model unpickled from a file: the helper may receive it, whatever Net is
    "other = torch.load('whole.pt')\nmodel.load_state_dict(other.state_dict())\n",
    # the weights loaded into a second model of a library: two models, the helper's is not known
    "from torchvision import models\nref = models.resnet18()\nref.load_state_dict(torch.load('r.pt'))\n",
    # the checkpoint read into a name first: only the direct `load_state_dict(torch.load(p))` is followed
    "ckpt = torch.load('best.pt')\nmodel.load_state_dict(ckpt['model'])\n",
])
def test_helper_parameter_model_with_another_candidate(restore):
    assert found(NET + EVAL_HELPER + "model = Net()\n" + restore + "check(model, loader)\n") == []
