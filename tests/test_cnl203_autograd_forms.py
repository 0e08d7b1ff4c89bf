"""CNL203's autograd-on forms for models the file does not build (a parameter, a class without
mode layers), the phase loop that switches to eval() but never turns gradients off, and
`model.train` / `model.eval` written without the call."""

from conftest import lint


def found(code, path="fit.py"):
    return [(f.line, f.column, f.message.split(":")[0]) for f in lint(code, path, ("CNL203",))]


# a training function whose model is its parameter; validation right after net.eval()
FIT_PARAM = (
    "import torch\n"
    "\n"
    "def fit(epochs, net, batches, opt, loss_fn):\n"
    "    for epoch in range(epochs):\n"
    "        net.train()\n"
    "        for xb, yb in batches['train']:\n"
    "            opt.zero_grad()\n"
    "            loss_fn(net(xb), yb).backward()\n"
    "            opt.step()\n"
    "        net.eval()\n"
    "        for xb, yb in batches['val']:\n"
    "            score = loss_fn(net(xb), yb).item()\n"
)


def test_parameter_model_validated_with_autograd_in_a_training_function():
    (f,) = lint(FIT_PARAM, "fit.py", ("CNL203",))
    assert (f.line, f.column) == (11, 23)
    assert f.message == (
        "the evaluation loop over `batches['val']` runs `net` with autograd on: every forward pass records its "
        "graph and keeps activations for a backward() that never comes (more memory, slower)"
    )
    assert f.hint == "wrap the loop in `with torch.no_grad():` (or `torch.inference_mode()`)"


def test_parameter_model_quiet_when_the_file_disables_gradients_anywhere():
    code = FIT_PARAM + "\nwith torch.inference_mode():\n    pass\n"
    assert found(code) == []


def test_parameter_model_of_an_evaluation_only_helper_in_a_script_is_left_to_its_caller():
    # no backward() in the helper: a caller in another module may wrap it in no_grad
    code = (
        "import torch\n\ndef score(net, batches):\n    net.eval()\n"
        "    for xb, yb in batches['val']:\n        out = net(xb)\n"
    )
    assert found(code) == []


def test_evaluation_only_helper_in_a_notebook_is_judged():
    # a notebook holds every caller of its functions
    code = (
        "import torch\n# %%\ndef score(net, batches):\n    net.eval()\n"
        "    for xb, yb in batches['val']:\n        out = net(xb)\n"
    )
    assert found(code, "nb.ipynb") == [(3, 19, "the evaluation loop over `batches['val']` runs `net` with autograd on")]


def test_model_without_mode_layers_still_records_graphs_after_eval():
    code = (
        "import torch\nfrom torch import nn\n"
        "class Tiny(nn.Module):\n    def forward(self, x):\n        return x * 2\n"
        "model = Tiny()\nmodel.eval()\nfor x in test_loader:\n    y = model(x)\n"
    )
    assert found(code) == [(8, 10, "the evaluation loop over `test_loader` runs `model` with autograd on")]


def test_eval_of_another_object_does_not_make_the_called_name_a_model():
    code = (
        "import torch\nmodel = build()\nema.eval()\n"
        "for x in test_loader:\n    y = model(x)\n"
    )
    assert found(code) == []


# ------------------------------------------------------------ phase loop: eval() but gradients on

PHASES = (
    "import torch\n"
    "\n"
    "def run(model, loaders, opt, loss_fn, epochs):\n"
    "    for epoch in range(epochs):\n"
    "        for stage in ('train', 'val'):\n"
    "            if stage == 'train':\n"
    "                model.train()\n"
    "            else:\n"
    "                model.eval()\n"
    "            for xb, yb in loaders[stage]:\n"
    "                loss = loss_fn(model(xb), yb)\n"
    "                if stage == 'train':\n"
    "                    opt.zero_grad()\n"
    "                    loss.backward()\n"
    "                    opt.step()\n"
)


def test_phase_loop_switching_to_eval_without_disabling_gradients():
    (f,) = lint(PHASES, "fit.py", ("CNL203",))
    assert (f.line, f.column) == (10, 27)
    assert f.message.startswith(
        "the `val` phase of the loop over `loaders[stage]` runs `model` with autograd on: every forward pass"
    )


def test_phase_loop_with_set_grad_enabled_is_quiet():
    code = PHASES.replace(
        "                loss = loss_fn(model(xb), yb)\n",
        "                with torch.set_grad_enabled(stage == 'train'):\n"
        "                    loss = loss_fn(model(xb), yb)\n",
    )
    assert found(code) == []


def test_phase_loop_whose_backward_runs_in_every_phase_is_not_this_form():
    # backward() outside the phase test: the validation phase trains too; not an autograd waste
    code = PHASES.replace("                if stage == 'train':\n                    opt.zero_grad()\n",
                          "                if True:\n                    opt.zero_grad()\n")
    assert found(code) == []


# ------------------------------------------------------------ the switch written without the call

UNCALLED = (
    "import torch\n"
    "\n"
    "def fit(epochs, model, opt, loss_fn, train_loader, valid_loader):\n"
    "    for epoch in range(epochs):\n"
    "        model.train\n"
    "        for xb, yb in train_loader:\n"
    "            opt.zero_grad()\n"
    "            loss_fn(model(xb), yb).backward()\n"
    "            opt.step()\n"
    "        model.eval()\n"
    "        with torch.no_grad():\n"
    "            for xb, yb in valid_loader:\n"
    "                model(xb)\n"
)


def test_train_without_parentheses_is_a_no_op():
    (f,) = lint(UNCALLED, "fit.py", ("CNL203",))
    assert (f.line, f.column) == (5, 9)
    assert f.message == (
        "`model.train` without parentheses does nothing: it reads the method and never calls it, so `model` is "
        "not switched to training mode and stays in whatever mode it was left in"
    )
    assert f.hint == "call it: `model.train()`"


def test_bare_attribute_of_a_name_never_switched_is_left_alone():
    # `splits.train` (a dataset holder) is read for nothing, but no mode is involved
    code = "import torch\nsplits = load()\ndef show():\n    splits.train\n    splits.eval\n"
    assert found(code) == []


def test_bare_attribute_as_a_notebook_cells_value_is_left_alone():
    # the last top-level expression of a cell is displayed: looking at the method is not a switch
    code = "import torch\nmodel.eval()\n# %%\nmodel.train\n"
    assert found(code, "nb.ipynb") == []


def test_evaluation_loop_that_wants_gradients_is_left_alone():
    # an attack on the evaluated model needs the graph: autograd on is the point
    code = (
        "import torch\nmodel = build()\nmodel.eval()\n"
        "for x, y in test_loader:\n    x.requires_grad_()\n    out = model(x)\n"
        "    g, = torch.autograd.grad(out.sum(), x)\n"
    )
    assert found(code) == []
