"""CNL203 on the shapes real PyTorch scripts write: dict-indexed loaders, the
`for phase in ["train", "val"]` loop, `model.train(False)` as the eval call, custom batch
iterators, and a model built elsewhere whose mode the file switches itself."""

import pytest

from conftest import lint

IMPORTED = (
    "import torch\nfrom torch import nn\nfrom mymodels import Net\n"
    "model = Net(num_classes=10, dropout=0.5)\ncriterion = nn.CrossEntropyLoss()\n"
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n"
)  # 6 lines: a model built elsewhere, with dropout by its arguments

RESNET = (
    "import torch\nfrom torchvision import models\n"
    "model = models.resnet18(weights='DEFAULT')\ncriterion = torch.nn.CrossEntropyLoss()\n"
    "optimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n"
)  # 5 lines

STEP = (
    "        optimizer.zero_grad()\n"
    "        loss = criterion(model(x), y)\n"
    "        loss.backward()\n"
    "        optimizer.step()\n"
)


def found(code, select=("CNL203",)):
    return [(f.code, f.line, f.column) for f in lint(code, "train.py", select)]


def one(code):
    (f,) = lint(code, "train.py", ("CNL203",))
    return f


# ------------------------------------------------------------ model.train() each epoch, no eval()

EPOCHS_DICT = (
    IMPORTED + "for epoch in range(10):\n    model.train()\n    for x, y in loaders['train']:\n" + STEP
    + "    with torch.no_grad():\n        for x, y in loaders['valid']:\n            out = model(x)\n"
)


def test_train_each_epoch_no_eval_dict_loader_model_built_elsewhere():
    f = one(EPOCHS_DICT)
    assert (f.line, f.column) == (15, 21)
    assert f.message == (
        "the evaluation loop over `loaders['valid']` calls `model` in training mode: nothing in this file calls "
        "`model.eval()`, so dropout stays active and batch norm normalizes with (and updates) batch statistics"
    )


def test_train_each_epoch_no_eval_without_no_grad():
    code = EPOCHS_DICT.replace("    with torch.no_grad():\n        for x, y in loaders['valid']:\n"
                               "            out = model(x)\n",
                               "    for x, y in loaders['valid']:\n        out = model(x)\n")
    assert found(code) == [("CNL203", 14, 17)]


@pytest.mark.parametrize("code", [
    # the same loop with the eval() call
    EPOCHS_DICT.replace("    with torch.no_grad():\n", "    model.eval()\n    with torch.no_grad():\n"),
    # model.train(False) is the eval call
    EPOCHS_DICT.replace("    with torch.no_grad():\n", "    model.train(False)\n    with torch.no_grad():\n"),
    EPOCHS_DICT.replace("    with torch.no_grad():\n", "    model.train(mode=False)\n    with torch.no_grad():\n"),
    # a model built elsewhere that nothing shows to have dropout or batch norm, switched with train()
    # all the same (plain RNNs and MLPs get it too: eval() would change nothing)
    EPOCHS_DICT.replace("Net(num_classes=10, dropout=0.5)", "Net(num_classes=10)"),
    EPOCHS_DICT.replace("Net(num_classes=10, dropout=0.5)", "Net(num_classes=10, dropout=0.0)"),
    # (`volatile=True` as the no_grad of PyTorch before 0.4: tests/test_cnl203_volatile.py)
    # an evaluation helper that receives the model: its caller may set the mode
    IMPORTED + "def evaluate(net, loader):\n    with torch.no_grad():\n        for x, y in loader['valid']:\n"
    "            net(x)\n"
    "for epoch in range(10):\n    model.train()\n    for x, y in loaders['train']:\n" + STEP
    + "    evaluate(model, loaders)\n",
    # train() right before the evaluation with no training in between: dropout on purpose
    IMPORTED + "model.train()\nwith torch.no_grad():\n    for x, y in loaders['test']:\n        model(x)\n",
])
def test_train_each_epoch_negatives(code):
    assert found(code) == []


# ------------------------------------------------------------ for phase in ["train", "val"]

PHASES = RESNET + (
    "for epoch in range(10):\n"
    "    for phase in ['train', 'val']:\n"
    "        if phase == 'train':\n"
    "            model.train()\n"
    "        running = 0.0\n"
    "        for inputs, labels in dataloaders[phase]:\n"
    "            optimizer.zero_grad()\n"
    "            with torch.set_grad_enabled(phase == 'train'):\n"
    "                outputs = model(inputs)\n"
    "                loss = criterion(outputs, labels)\n"
    "                if phase == 'train':\n"
    "                    loss.backward()\n"
    "                    optimizer.step()\n"
    "            running += loss.item()\n"
)


def test_phase_loop_without_eval():
    f = one(PHASES)
    assert (f.line, f.column) == (11, 31)
    assert f.message == (
        "the `val` phase of the loop over `dataloaders[phase]` calls `model` in training mode: nothing in this file "
        "calls `model.eval()`, so dropout stays active and batch norm normalizes with (and updates) batch statistics"
    )
    assert f.hint == "call `model.train(phase == 'train')` at the start of each phase"


def test_phase_loop_model_built_elsewhere_and_tqdm():
    code = IMPORTED + PHASES[len(RESNET):].replace("in dataloaders[phase]:", "in tqdm(dataloaders[phase]):")
    assert found(code) == [("CNL203", 12, 31)]


@pytest.mark.parametrize("code", [
    # the tutorial as written: eval() in the other branch
    PHASES.replace("            model.train()\n", "            model.train()\n        else:\n            model.eval()\n"),
    # one call for both phases
    PHASES.replace("        if phase == 'train':\n            model.train()\n",
                   "        model.train(phase == 'train')\n"),
    PHASES.replace("        if phase == 'train':\n            model.train()\n",
                   "        model.train(mode=(phase == 'train'))\n"),
    # two training phases (two loaders, one model), no validation phase
    PHASES.replace("['train', 'val']", "['train_a', 'train_b']"),
    # phases that do not differ in the body: nothing says which one validates
    RESNET + "for phase in ['train', 'val']:\n    for x, y in dataloaders[phase]:\n        model(x)\n",
    # the model built elsewhere with nothing that says it has modes
    IMPORTED.replace(", dropout=0.5", "") + PHASES[len(RESNET):],
])
def test_phase_loop_negatives(code):
    assert found(code) == []


# ------------------------------------------------------------ custom batch iterators

BATCHES = RESNET + (
    "def batches(xs, ys, bs):\n    for i in range(0, len(xs), bs):\n        yield xs[i:i + bs], ys[i:i + bs]\n"
    "for epoch in range(10):\n    model.train()\n    for x, y in batches(X_train, y_train, 32):\n" + STEP
    + "    for x, y in batches(X_val, y_val, 32):\n        out = model(x)\n"
)


def test_custom_batch_iterator_without_no_grad():
    f = one(BATCHES)
    assert (f.line, f.column) == (16, 17)
    assert f.message.startswith("the evaluation loop over `batches(X_val, y_val, 32)` calls `model` in training mode")


def test_range_over_test_array():
    code = RESNET + "model.load_state_dict(torch.load('m.pt', weights_only=True))\n" \
        "for i in range(0, len(x_test), 64):\n    preds = model(x_test[i:i + 64])\n"
    assert found(code) == [("CNL203", 7, 10)]


@pytest.mark.parametrize("code", [
    BATCHES.replace("    for x, y in batches(X_val, y_val, 32):\n        out = model(x)\n",
                    "    model.eval()\n    with torch.no_grad():\n        for x, y in batches(X_val, y_val, 32):\n"
                    "            out = model(x)\n"),
    # a batch iterator named for training, over arrays that say test: it trains
    RESNET + "for x, y in train_batches(X_test, y_test):\n" + STEP.replace("        ", "    "),
    # the iterator over validation arrays feeds a training step (fine-tuning on them)
    RESNET + "for x, y in batches(X_val, y_val, 32):\n" + STEP.replace("        ", "    "),
])
def test_custom_batch_iterator_negatives(code):
    assert found(code) == []


# ------------------------------------------------------------ model.train(False) in the epoch loop

def test_train_false_never_undone():
    code = RESNET + "for epoch in range(10):\n    for x, y in train_loader:\n" + STEP + \
        "    model.train(False)\n    with torch.no_grad():\n        for x, y in val_loader:\n            model(x)\n"
    f = one(code)
    assert (f.line, f.column) == (12, 5)
    assert f.message == (
        "`model.train(False)` puts `model` in eval mode inside the training loop and nothing puts it back: from "
        "the next iteration on it trains with dropout off and batch norm frozen"
    )


def test_eval_never_undone_model_switched_to_train_once_before_the_loop():
    # model built elsewhere with dropout, `model.train()` once before the epochs: the second epoch trains in
    # eval mode
    code = IMPORTED + "model.train()\nfor epoch in range(10):\n    for x, y in train_loader:\n" + STEP + \
        "    model.eval()\n    with torch.no_grad():\n        for x, y in val_loader:\n            model(x)\n"
    assert found(code) == [("CNL203", 14, 5)]


@pytest.mark.parametrize("code", [
    # train(True) at the top of each epoch undoes it
    RESNET + "for epoch in range(10):\n    model.train(True)\n    for x, y in train_loader:\n" + STEP
    + "    model.train(False)\n",
    # a mode that depends on the phase may be either
    RESNET + "for epoch in range(10):\n    model.train(epoch % 2 == 0)\n    for x, y in train_loader:\n" + STEP
    + "    model.eval()\n",
    # model built elsewhere with nothing that says it has modes
    IMPORTED.replace(", dropout=0.5", "") + "model.train()\nfor epoch in range(10):\n    for x, y in train_loader:\n"
    + STEP + "    model.eval()\n",
])
def test_train_false_negatives(code):
    assert found(code) == []


def test_train_false_then_autograd_on():
    code = RESNET + "model.train(False)\ncorrect = 0\nfor x, y in test_loader:\n" \
        "    correct += (model(x).argmax(1) == y).sum()\n"
    f = one(code)
    assert (f.line, f.column) == (8, 13)
    assert f.message.startswith("the evaluation loop over `test_loader` runs `model` with autograd on")


# ------------------------------------------------------------ eval() in a method of a trainer class

TRAINER = (
    "import torch\nfrom torchvision import models\n"
    "class Trainer:\n"
    "    def __init__(self):\n"
    "        self.model = models.resnet18(weights='DEFAULT')\n"
    "        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.1)\n"
    "    def validate(self, loader):\n"
    "        self.model.eval()\n"
    "        with torch.no_grad():\n"
    "            for x, y in loader:\n"
    "                self.model(x)\n"
    "    def train_epoch(self, loader):\n"
    "        for x, y in loader:\n"
    "            self.opt.zero_grad()\n"
    "            self.model(x).sum().backward()\n"
    "            self.opt.step()\n"
    "    def fit(self, train_loader, val_loader, epochs):\n"
    "        for epoch in range(epochs):\n"
    "            self.train_epoch(train_loader)\n"
    "            self.validate(val_loader)\n"
)  # 20 lines


def test_eval_in_a_method_never_undone():
    f = one(TRAINER)
    assert (f.line, f.column) == (20, 13)
    assert f.message == (
        "`self.validate(val_loader)` puts `self.model` in eval mode inside the training loop and nothing puts it "
        "back: from the next iteration on it trains with dropout off and batch norm frozen"
    )


@pytest.mark.parametrize("code", [
    # the training method switches back
    TRAINER.replace("        for x, y in loader:\n            self.opt", "        self.model.train()\n"
                    "        for x, y in loader:\n            self.opt"),
    # two classes define `validate`: which one runs is not known here
    TRAINER + "class Other:\n    def validate(self, loader):\n        pass\n",
    # the method evaluates another model (an EMA copy built elsewhere)
    TRAINER.replace("        self.model.eval()\n", "        self.ema.eval()\n")
    .replace("                self.model(x)\n", "                self.ema(x)\n"),
])
def test_eval_in_a_method_negatives(code):
    assert found(code) == []


@pytest.mark.parametrize("note, quiet", [
    ("# MC dropout: keep dropout on at test time\n", True),
    ("# Monte-Carlo estimate\n", False),          # `monte[_ ]?carlo`: a hyphen is not a separator
    ("# MONTE CARLO estimate\n", True),
    ("# monte_carlo samples\n", True),
    ("def enable_Dropout(m):\n    pass\n", True),
    ("# a BAYESIAN net\n", True),
    ("# the bayesian net, à la Gal\n", True),      # not ASCII: the case-blind pattern reads it
    ("# mcdropout\n", True),
    ("# emc dropout\n", True),                     # the words may sit inside longer ones
    ("# a plain classifier\n", False),
])
def test_monte_carlo_dropout_words_keep_training_mode_quiet(note, quiet):
    assert found(note + EPOCHS_DICT) == ([] if quiet else [("CNL203", 15 + note.count("\n"), 21)])
