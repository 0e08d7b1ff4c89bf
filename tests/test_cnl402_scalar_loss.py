"""CNL402: `loss.data[0]` (PyTorch 0.3 tutorials) on a 0-dim tensor, an IndexError since 0.5."""

import subprocess
import sys

import pytest

from cnnlint.lint.api import lint_text
from conftest import need_framework

LOOP = (
    "import torch\nimport torch.nn.functional as F\n"
    "for x, y in loader:\n"
    "    optimizer.zero_grad()\n"
    "    loss = criterion(model(x), y)\n"
    "    loss.backward()\n"
    "    optimizer.step()\n"
)  # 7 lines


def _lint(code, tmp_path=None, requirements=None):
    path = "train.py"
    if tmp_path is not None:
        (tmp_path / "setup.py").write_text("")
        if requirements is not None:
            (tmp_path / "requirements.txt").write_text(requirements)
        path = str(tmp_path / "train.py")
        (tmp_path / "train.py").write_text(code)
    return lint_text(code, path, select=("CNL402",))


def test_loss_data_index_after_backward():
    (f,) = _lint(LOOP + "    running_loss += loss.data[0]\n")
    assert (f.line, f.column, f.end_column) == (8, 21, 33)
    assert f.message == (
        "`loss.data[0]` fails with IndexError: it indexes a 0-dim tensor (`loss.backward()` differentiates it), "
        "which PyTorch 0.5 and later refuse (PyTorch 0.3 returned a 1-element tensor), and this code runs on "
        "PyTorch 2.14, the current release (no version is pinned)"
    )
    assert f.hint == "call `.item()` to read the number"
    assert (f.fix.line, f.fix.column, f.fix.end_line, f.fix.end_column, f.fix.text) == (8, 25, 8, 33, ".item()")


def test_reducing_functional_loss_data_index():
    code = LOOP + "    test_loss += F.nll_loss(model(x), y, size_average=False).data[0]\n"
    (f,) = _lint(code)
    assert (f.line, f.column) == (8, 18)
    assert f.message.startswith("`F.nll_loss(...).data[0]` fails with IndexError: it indexes a 0-dim tensor "
                                "(`nll_loss` returns one number)")


@pytest.mark.parametrize("line", [
    "    print(outputs.data[0])\n",  # an output batch: its first row
    "    first = F.nll_loss(model(x), y, reduction='none').data[0]\n",  # one loss per sample
    "    first = F.nll_loss(model(x), y, reduce=False).data[0]\n",
    "    loss.data[0] = 0.0\n",  # a store, not a read
    "    last = loss.data[-1]\n",
    "    value = losses.data[0]\n",  # never given to backward()
])
def test_not_a_0_dim_read(line):
    assert _lint(LOOP + line) == []


def test_backward_in_another_function_does_not_count():
    code = LOOP + "def report(loss):\n    return loss.data[0]\n"
    assert _lint(code) == []


def test_pinned_old_torch_is_quiet(tmp_path):
    code = LOOP + "    running_loss += loss.data[0]\n"
    assert _lint(code, tmp_path, "torch==0.3.1\n") == []
    assert [f.line for f in _lint(code, tmp_path, "torch==1.0.0\n")] == [8]


def test_guarded_by_a_version_check():
    code = LOOP + "    if torch.__version__ < '0.4':\n        running_loss += loss.data[0]\n"
    assert _lint(code) == []


REAL_TORCH = """
import torch
loss = torch.nn.functional.mse_loss(torch.ones(3), torch.zeros(3))
assert loss.dim() == 0
try:
    loss.data[0]
except IndexError as exc:
    assert "0-dim" in str(exc)
else:
    raise SystemExit("no IndexError")
assert loss.item() == 1.0  # what the fix calls
"""


def test_the_real_torch_refuses_it():
    """In a child process: torch maps gigabytes of address space, which the tests that limit this
    process's memory (RLIMIT_AS) must not inherit."""
    need_framework("torch")
    done = subprocess.run([sys.executable, "-c", REAL_TORCH], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def test_backward_that_keeps_the_graph_still_needs_a_scalar():
    code = LOOP.replace("loss.backward()", "loss.backward(retain_graph=True)") + "    total += loss.data[0]\n"
    assert [f.line for f in _lint(code)] == [8]


def test_backward_with_a_gradient_is_not_proof_of_a_scalar():
    code = LOOP.replace("loss.backward()", "loss.backward(torch.ones_like(loss))") + "    total += loss.data[0]\n"
    assert _lint(code) == []
