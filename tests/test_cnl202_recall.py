"""CNL202: an accumulator with any name that the micro-batch loop never writes, while the loop
overwrites the gradients, and that the first statement after the loop applies."""

import pytest

from conftest import lint

TF = "import tensorflow as tf\n"

STEP = (
    "def train_step(x, y):\n"
    "    {init}\n"
    "    for step in range(accum_steps):\n"
    "        with tf.GradientTape() as tape:\n"
    "            loss = loss_fn(y[step], model(x[step], training=True))\n"
    "        grads = tape.gradient(loss, model.trainable_variables)\n"
    "{between}"
    "    optimizer.apply_gradients(zip({name}, model.trainable_variables))\n"
)


def step(init, name, between=""):
    return TF + STEP.format(init=init, name=name, between=between)


def found(code):
    return [(f.code, f.line, f.column) for f in lint(code, "train.py", ("CNL202",))]


def test_zeros_list_never_written():
    (f,) = lint(step("accum = [tf.zeros_like(v) for v in model.trainable_variables]", "accum"), "train.py",
                ("CNL202",))
    assert (f.line, f.column) == (3, 5)
    assert f.message == (
        "`accum` is set to zeros before the loop but the loop never adds to it; "
        "`optimizer.apply_gradients(...)` receives the initial value, not the micro-batches' gradients"
    )


@pytest.mark.parametrize("init,text", [
    ("accumulated = None", "`accumulated` is reset to None before the loop"),
    ("total = 0", "`total` is set to 0 before the loop"),
])
def test_none_and_zero(init, text):
    (f,) = lint(step(init, init.split(" ")[0]), "train.py", ("CNL202",))
    assert (f.line, f.column) == (3, 5)
    assert f.message.startswith(text)


def test_torch_grad_assignment_after_the_loop():
    code = (
        "import torch\naccum = None\n"
        "for i, (x, y) in enumerate(micro_batches):\n"
        "    loss = criterion(model(x), y)\n"
        "    grads = torch.autograd.grad(loss, model.parameters())\n"
        "for p, g in zip(model.parameters(), accum):\n    p.grad = g\n"
        "optimizer.step()\n"
    )
    (f,) = lint(code, "train.py", ("CNL202",))
    assert (f.line, f.column) == (2, 1)
    assert f.message == (
        "`accum` is reset to None before the loop but the loop never adds to it; the `.grad` assignment receives "
        "the initial value, not the micro-batches' gradients"
    )


@pytest.mark.parametrize("code", [
    # accumulated in a later loop: the first use after this loop is not the update
    TF + "accum = [tf.zeros_like(v) for v in model.trainable_variables]\n"
    "for x, y in warmup:\n    with tf.GradientTape() as tape:\n        loss = loss_fn(y, model(x))\n"
    "    grads = tape.gradient(loss, model.trainable_variables)\n"
    "for x, y in micro:\n    with tf.GradientTape() as tape:\n        loss = loss_fn(y, model(x))\n"
    "    g = tape.gradient(loss, model.trainable_variables)\n"
    "    for i in range(len(accum)):\n        accum[i] = accum[i] + g[i]\n"
    "optimizer.apply_gradients(zip(accum, model.trainable_variables))\n",
    # accumulated properly
    step("accum = [tf.zeros_like(v) for v in model.trainable_variables]", "accum").replace(
        "        grads = tape.gradient(loss, model.trainable_variables)\n",
        "        grads = tape.gradient(loss, model.trainable_variables)\n"
        "        accum = [a + g for a, g in zip(accum, grads)]\n"),
    # a helper of the file adds into it
    TF + "accum = [tf.zeros_like(v) for v in model.trainable_variables]\n"
    "def add(grads):\n    for a, g in zip(accum, grads):\n        a.assign_add(g)\n"
    "for x, y in micro:\n    with tf.GradientTape() as tape:\n        loss = loss_fn(y, model(x))\n"
    "    grads = tape.gradient(loss, model.trainable_variables)\n    add(grads)\n"
    "optimizer.apply_gradients(zip(accum, model.trainable_variables))\n",
    # a counter that is only printed after the loop
    step("total = 0", "grads", between="    print(total)\n"),
    # the loop does not compute gradients (the accumulator is filled elsewhere)
    TF + "accum = [tf.zeros_like(v) for v in model.trainable_variables]\nfor i in range(3):\n    print(i)\n"
    "optimizer.apply_gradients(zip(accum, model.trainable_variables))\n",
])
def test_negatives(code):
    assert found(code) == []
