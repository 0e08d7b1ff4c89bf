"""`%load_ext cnnlint` in a real IPython shell (tests/notebook_shell.py), on whichever IPython is
installed (7.34 as in Colab, or the current release): the magic, the cell hook, the live facts."""

from __future__ import annotations

import inspect
import os

import pytest

from tests.conftest import need_framework
from tests.notebook_shell import NotebookShell, snapshot

pytest.importorskip("IPython")
np = pytest.importorskip("numpy")

TORCH_SETUP = """\
import torch
model = torch.nn.Linear(2, 2)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = torch.nn.MSELoss()
seen = []"""
TORCH_LOOP = """\
for x, y in [(torch.zeros(2), torch.zeros(2))]:
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
seen.append("ran")
print("ran")"""
CNL201 = ("CNL201", "`opt.step()` runs every iteration of this loop, but `opt`'s gradients are never cleared, "
          "so each `backward()` adds to the gradients of all earlier iterations")


@pytest.fixture
def shell(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with NotebookShell(tmp_path) as sh:
        yield sh


def test_on_shows_cnl201_before_the_cell_runs(shell):
    need_framework("torch")
    shell.run("%load_ext cnnlint")
    shell.run(TORCH_SETUP)
    on = shell.run("%cnnlint on")
    assert shell.shown_text()[-1] == "cnnlint: on; each cell is checked before it runs"
    shell.log.clear()
    result = shell.run(TORCH_LOOP)
    assert result.execution_count == on.execution_count + 1
    n = result.execution_count
    assert shell.log[0][0] == "display"  # before the cell's own output
    assert shell.log[1:] == [("stdout", "ran")]
    text = shell.log[0][1]["text/plain"]
    assert text.splitlines()[:2] == [
        f"cnnlint: 1 finding in In [{n}] (before it runs) (1 error)",
        f"In [{n}] line 3: {CNL201[0]} error: {CNL201[1]}",
    ]
    assert f"<td style='white-space:nowrap'>In [{n}] line 3</td>" in shell.log[0][1]["text/html"]
    assert shell.ns["seen"] == ["ran"]  # a warning, never a block
    shell.log.clear()
    shell.run("print(len(seen))")  # nothing new: nothing shown
    assert shell.log == [("stdout", "1")]


def test_strict_refuses_a_cell_with_an_error_and_off_stops_checking(shell):
    need_framework("torch")
    shell.run("%load_ext cnnlint")
    shell.run(TORCH_SETUP)
    shell.run("%cnnlint on --strict")
    result = shell.run(TORCH_LOOP)
    assert type(result.error_before_exec).__name__ == "InputRejected"
    assert str(result.error_before_exec).startswith(f"cnnlint --strict: In [{result.execution_count}] not run: CNL201 line 3: ")
    assert shell.ns["seen"] == []
    fixed = TORCH_LOOP.replace("    loss.backward()", "    opt.zero_grad()\n    loss.backward()")
    assert shell.run(fixed).success and shell.ns["seen"] == ["ran"]
    shell.run("%cnnlint off")
    shell.log.clear()
    assert shell.run(TORCH_LOOP.replace("opt.step()", "opt.step()  # again")).success
    assert [kind for kind, _ in shell.log] == ["stdout"]
    assert shell.ns["seen"] == ["ran", "ran"]


def test_hooks_take_either_signature(shell):
    from cnnlint.notebook.extension import _SESSIONS

    shell.run("%load_ext cnnlint")
    _, hooks = _SESSIONS[id(shell.sh)]
    hooks.pre_run_cell()  # IPython < 7: no argument
    hooks.post_run_cell()
    shell.run("%cnnlint on")

    class Info:  # 7.x: raw_cell, no cell_id
        raw_cell = "x = 1"

    hooks.pre_run_cell(Info())
    assert shell.run("y = 2").success


def test_magic_scans_a_fixture_dataset(shell, tmp_path):
    from fixtures.datasets import build_faulty

    expected = build_faulty(str(tmp_path / "data"), special=False)
    shell.run("%load_ext cnnlint")
    shell.run("x = 1")
    shell.run("%cnnlint data/")
    report = shell.shown()[-1]
    got = {(f.code, os.path.relpath(f.path, "data")) for f in report.findings}
    assert got == {(code, os.path.normpath(path)) for code, path in expected}
    assert report.title.startswith("cnnlint: ") and " in 3 executed cells and data/ (" in report.title
    assert any(note.startswith("scanned data") for note in report.notes)
    text = report.text().splitlines()
    assert any(line.startswith("data/train: CNL506 warning: ") for line in text)  # a folder: no line number


def test_magic_refuses_probe_and_reports_bad_flags(shell):
    shell.run("%load_ext cnnlint")
    result = shell.run("%cnnlint --probe train.py")
    assert type(result.error_in_exec).__name__ == "UsageError"
    assert "--probe is not available in the notebook" in str(result.error_in_exec)
    result = shell.run("%cnnlint --select NOPE")
    assert "unknown rule code or prefix NOPE" in str(result.error_in_exec)


KERAS_GEN = """\
from tensorflow.keras.preprocessing.image import ImageDataGenerator
gen = ImageDataGenerator(rescale=1 / 255.).flow_from_directory("data/train", target_size=(32, 32), batch_size=4)"""
KERAS_MODEL = """\
import keras
from keras import layers
model = keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(),
                          layers.Dense(5, activation="softmax")])
model.compile(loss="categorical_crossentropy", optimizer="adam")"""


def _keras_data(tmp_path):
    need_framework("tensorflow")
    from fixtures.datasets import build_clean

    build_clean(str(tmp_path / "data"), per_class=3, val_per_class=1)


def test_cnl601_with_the_live_class_indices_and_units(shell, tmp_path):
    _keras_data(tmp_path)
    shell.run("%load_ext cnnlint")
    gen = shell.run(KERAS_GEN)
    model = shell.run(KERAS_MODEL)
    shell.run("stream = (i for i in range(3))")
    before = snapshot(shell.ns)
    assert gen.success and model.success
    shell.run("%cnnlint")
    findings = shell.shown()[-1].findings
    assert [(f.code, f.cell, f.line, f.column, f.severity.value, f.message) for f in findings] == [(
        "CNL601", model.execution_count, 4, 27, "error",
        "`model` ends in 5 outputs (softmax; live), but `gen` has 3 classes (birds, cats, dogs; live `class_indices`): "
        "2 outputs are never a target, and its one-hot labels of length 3 do not fit them (fit stops with a shape error)",
    )]
    assert snapshot(shell.ns) == before  # same objects, same contents
    assert shell.ns["gen"].batch_index == 0 and shell.ns["gen"].total_batches_seen == 0
    assert inspect.getgeneratorstate(shell.ns["stream"]) == "GEN_CREATED"
    shell.run('model = keras.Sequential([keras.Input((32, 32, 3)), layers.Flatten(), layers.Dense(3, activation="softmax")])')
    shell.run("%cnnlint")
    assert [f.code for f in shell.shown()[-1].findings] == []


def test_cnl602_and_cnl604_with_the_live_shapes_and_loss(shell, tmp_path):
    _keras_data(tmp_path)
    shell.run("%load_ext cnnlint")
    gen = shell.run(KERAS_GEN.replace("target_size=(32, 32)", "target_size=(48, 48)"))
    shell.run(KERAS_MODEL.replace("Dense(5", "Dense(3").replace('loss="categorical_crossentropy"',
                                                               'loss="sparse_categorical_crossentropy"'))
    fit = shell.run("if False:\n    model.fit(gen, epochs=1)")
    shell.run("%cnnlint")
    got = [(f.code, f.cell, f.line, f.message) for f in shell.shown()[-1].findings]
    assert got == [
        ("CNL602", gen.execution_count, 2, "`gen` yields 48x48x3 images (live image_shape), but `model` takes 32x32x3 "
                                           "(live input shape)"),
        ("CNL604", gen.execution_count + 1, 5, "`gen` gives one-hot vectors of length 3, but `sparse_categorical_crossentropy` "
                                               "expects integer class indices (live: `model` compiled with "
                                               "sparse_categorical_crossentropy)"),
    ]
    assert fit.success


UINT8 = """\
import numpy as np
rng = np.random.default_rng(0)
x_train = rng.integers(0, 256, size=(300, 16, 16, 3), dtype=np.uint8)
y_train = np.eye(2, dtype="float32")[rng.integers(0, 2, size=300)]"""
ARRAY_MODEL = """\
import keras
from keras import layers
model = keras.Sequential([keras.Input((16, 16, 3)), layers.Flatten(), layers.Dense(2, activation="softmax")])
model.compile(loss="categorical_crossentropy", optimizer="sgd")"""
FIT = "history = model.fit(x_train, y_train, epochs=1, verbose=0)"


def _fit_findings(shell, *cells):
    shell.run("%load_ext cnnlint")
    for cell in cells[:-1]:
        assert shell.run(cell).success
    shell.run("%cnnlint on")
    before = snapshot({k: v for k, v in shell.ns.items() if k in ("x_train", "y_train")})
    shell.log.clear()
    result = shell.run(cells[-1])
    shown = [data for kind, data in shell.log if kind == "display"]
    return result, shown, before


def test_cnl101_names_the_range_of_a_uint8_array_reaching_fit(shell):
    need_framework("tensorflow")
    result, shown, before = _fit_findings(shell, UINT8, ARRAY_MODEL, FIT)
    n = result.execution_count
    assert len(shown) == 1
    assert shown[0]["text/plain"].splitlines()[1] == (
        f"In [{n}] line 1: CNL101 warning: `x_train` is uint8 with values 0..255 (live: shape 300x16x16x3, min and max "
        "of 65,536 of 230,400 values) and reaches `model.fit` unscaled: the model has no Rescaling or Normalization layer")
    assert before == snapshot({k: v for k, v in shell.ns.items() if k in ("x_train", "y_train")})


@pytest.mark.parametrize("cells", [
    (UINT8, "x_train = x_train / 255.", ARRAY_MODEL, FIT),  # a float array scaled to 0..1
    (UINT8, ARRAY_MODEL, "x_train = x_train.astype('float32') / 255.\n" + FIT),  # scaled in the fit's own cell
    (UINT8, ARRAY_MODEL.replace("layers.Flatten()", "layers.Rescaling(1. / 255), layers.Flatten()"), FIT),
], ids=["scaled-array", "scaled-in-the-cell", "rescaling-layer"])
def test_no_cnl101_when_the_data_is_scaled(shell, cells):
    need_framework("tensorflow")
    result, shown, _ = _fit_findings(shell, *cells)
    assert result.success
    assert not [d for d in shown if "CNL101" in d["text/plain"]]


def test_no_cnl101_for_a_generator_with_rescale(shell, tmp_path):
    _keras_data(tmp_path)
    result, shown, _ = _fit_findings(shell, KERAS_GEN, KERAS_MODEL.replace("Dense(5", "Dense(3"),
                                     "history = model.fit(gen, epochs=1, verbose=0)")
    assert result.success
    assert shown == []


def test_cnl607_with_the_real_array_size(shell, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nruntime-memory = "4MiB"\n')
    shell.run("%load_ext cnnlint")
    shell.run("%cnnlint on")
    shell.run("import numpy as np\nx = np.zeros((100, 64, 64, 3), dtype=np.uint8)")  # read after it runs
    result = shell.run("x = x.astype('float32') / 255.")
    text = [d["text/plain"] for kind, d in shell.log if kind == "display"][-1]
    assert text.splitlines()[1] == (
        f"In [{result.execution_count}] line 1: CNL607 error: `x.astype('float32') / 255.` makes 2 new float32 copies "
        "of `x` (100 x 64 x 64 x 3 uint8 values, live): 9.4 MiB while it runs, 10.5 MiB with the 1.2 MiB the kernel's "
        "arrays hold, more than runtime-memory (4.0 MiB)")
    shell.log.clear()
    shell.run("y = x[:10] / 255.")  # a slice: small, not the whole array
    assert [kind for kind, _ in shell.log] == []


def test_torch_module_and_imagefolder_give_cnl601(shell, tmp_path):
    need_framework("torchvision")
    from fixtures.datasets import build_clean

    build_clean(str(tmp_path / "data"), per_class=2, val_per_class=1)
    shell.run("%load_ext cnnlint")
    shell.run("import torch, torchvision\nfrom torchvision import transforms\n"
              "ds = torchvision.datasets.ImageFolder('data/train', transform=transforms.ToTensor())\n"
              "loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True)")
    net = shell.run("net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.LazyLinear(16), torch.nn.ReLU(),\n"
                    "                          torch.nn.Linear(16, 10))")
    before = snapshot(shell.ns)
    shell.run("%cnnlint")
    findings = shell.shown()[-1].findings
    assert [(f.code, f.cell, f.line, f.message) for f in findings] == [(
        "CNL601", net.execution_count, 1,
        "`net` ends in 10 outputs (linear; live), but `ds` has 3 classes (birds, cats, dogs; live "
        "`classes`): 7 outputs are never a target")]
    assert snapshot(shell.ns) == before


def test_an_array_rebound_after_fit_is_not_judged_by_its_new_value(shell):
    need_framework("tensorflow")
    shell.run("%load_ext cnnlint")
    for cell in (UINT8, ARRAY_MODEL, "x_train = x_train / 255.", "if False:\n    model.fit(x_train, y_train)",
                 "x_train = (x_train * 255).astype('uint8')"):
        assert shell.run(cell).success
    shell.run("%cnnlint")
    assert [f.code for f in shell.shown()[-1].findings] == []
    shell.run("if False:\n    model.fit(x_train, y_train)  # now the uint8 array")
    shell.run("%cnnlint")
    assert [(f.code, f.line) for f in shell.shown()[-1].findings] == [("CNL101", 2)]
    shell.run("if False:\n    model.fit(x_train, y_train)  # noqa: CNL101")
    shell.run("%cnnlint")
    assert [(f.code, f.line) for f in shell.shown()[-1].findings] == [("CNL101", 2)]  # the earlier cell's only


def test_reading_the_namespace_copies_no_large_array_and_survives_hostile_objects():
    import tracemalloc

    from cnnlint.notebook.namespace import SAMPLE, read_namespace

    big = np.arange(4_000_000, dtype=np.float64).reshape(2000, 2000).T  # 32 MB, not contiguous
    raising = type("DirectoryIterator", (), {"__module__": "keras.src.legacy.preprocessing.image",
                                              "class_indices": property(lambda self: 1 / 0)})()
    tracemalloc.start()
    try:
        facts = read_namespace({"big": big, "bad": raising, "_hidden": big, "gen": (i for i in range(3))}, hidden={"gen"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20  # the sample's indices and values, not the array
    array = facts.arrays["big"]
    assert (array.dtype, array.shape, array.nbytes, array.sampled, array.size) == ("float64", [2000, 2000], 32_000_000,
                                                                                   SAMPLE, 4_000_000)
    assert (array.low, array.high) == (0.0, 3_999_999.0)
    assert list(facts.arrays) == ["big"] and facts.loaders == {} and facts.models == {}
