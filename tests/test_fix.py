"""--fix and --diff: the fixes CNL201 and CNL401 carry, and how cnnlint.fix applies them."""

import codecs
import importlib.metadata
import json
import os
import stat

import libcst as cst
import pytest

from cnnlint.cli import main
from cnnlint.findings import Finding, Fix, Severity
from cnnlint.fix import apply_fixes
from cnnlint.fix.notebook import source_span
from cnnlint.lint import dependencies
from cnnlint.lint.api import lint_text
from cnnlint.lint.pages import examples, notebook_from_cells
from cnnlint.sources.notebook import read_notebook
from conftest import LOOP, ROOT

PYTEST = importlib.metadata.version("pytest")
LIBCST = importlib.metadata.version("libcst")


# CNL403 (no framework version recorded) judges the project around a file on disk; these tests are about fixes
ON_DISK = ("CNL0", "CNL1", "CNL2", "CNL3", "CNL401", "CNL402")


def lint_file(path, select=ON_DISK):
    """Findings for a file on disk (read as UTF-8), with its real path."""
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8")
    return lint_text(text, str(path), select=select)


def fix_file(tmp_path, name, code, write=True, select=("ALL",)):
    """Write `code` to tmp_path/name, lint it, apply the fixes; (new text, outcome, findings)."""
    path = tmp_path / name
    if name.endswith(".ipynb") and not code.lstrip().startswith("{"):
        code = notebook_from_cells(code)
    path.write_bytes(code.encode("utf-8"))
    findings = lint_file(path, select)
    outcome = apply_fixes(findings, write=write)
    return path.read_bytes().decode("utf-8"), outcome, findings


def fixed_text(tmp_path, code, name="train.py"):
    text, outcome, _ = fix_file(tmp_path, name, code)
    assert outcome.errors == []
    return text


@pytest.fixture
def fake_versions(monkeypatch):
    """Versions "installed where cnnlint runs", independent of this machine."""
    versions = {"torch": "2.3.1+cu121", "torchvision": "0.18.1", "numpy": "1.26.4", "timm": "0.9.16",
                "albumentations": "1.4.3", "tensorflow": "2.15.0", "mylib": "0.3.0.dev4+g1234abc",
                "pillow": "10.3.0", "opencv-python": "4.9.0.80"}
    monkeypatch.setattr(dependencies, "installed_version", lambda name: versions.get(name.lower()))
    return versions


# ---------------------------------------------------------------- the rule pages


def _page_examples():
    rules = os.path.join(ROOT, "rules")
    for name in sorted(os.listdir(rules)):
        if not name.startswith("CNL") or name == "CNL001.md":
            continue
        with open(os.path.join(rules, name), encoding="utf-8") as fh:
            for ex in examples(fh.read()):
                if ex.kind == "bad" and ex.language != "project":
                    yield pytest.param(name[:-3], ex, id=f"{name[:-3]}-line{ex.line}")


@pytest.mark.parametrize("code,example", list(_page_examples()))
def test_page_bad_example_is_fixed(tmp_path, monkeypatch, code, example):
    # every package counts as installed, in a version inside any range the pages give
    monkeypatch.setattr(dependencies, "installed_version", lambda name: "99.1.0")
    name = {"python": "train.py", "notebook": "train.ipynb", "requirements": "requirements.txt",
            "yaml": "environment.yml"}[example.language]
    text, outcome, findings = fix_file(tmp_path, name, example.code)
    with_fix = [f for f in findings if f.fix is not None]
    if not with_fix:
        assert code not in ("CNL201",), "every CNL201 page example has a fix"
        return
    assert outcome.errors == []
    assert sorted(map(id, outcome.fixed)) == sorted(map(id, with_fix))
    if example.language == "python":
        cst.parse_module(text)
    elif example.language == "notebook":
        cst.parse_module(read_notebook(name, text.encode("utf-8")).text)
    left = [f for f in lint_file(tmp_path / name) if f.code == code]
    # what had a fix is gone; what had none (conda specs) is still reported
    assert [f.message for f in left] == [f.message for f in findings if f.fix is None]


def test_page_examples_with_fixes_cover_both_rules(monkeypatch):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: "99.1.0")
    counted = {}
    for param in _page_examples():
        code, ex = param.values
        text = notebook_from_cells(ex.code) if ex.language == "notebook" else ex.code
        found = lint_text(text, {"python": "t.py", "notebook": "t.ipynb", "requirements": "requirements.txt",
                                 "yaml": "environment.yml"}[ex.language])
        counted[code] = counted.get(code, 0) + sum(f.fix is not None for f in found)
    assert counted["CNL201"] == 3
    assert counted["CNL401"] == 5  # tensorflow, timm, torch>=2.0, torchvision, albumentations; not conda numpy


# ---------------------------------------------------------------- CNL201: exact results



class TestNeverCleared:
    def test_inserts_zero_grad_at_top_of_loop_body(self, tmp_path):
        assert fixed_text(tmp_path, LOOP) == LOOP.replace(
            "for x, y in loader:\n", "for x, y in loader:\n    optimizer.zero_grad()\n"
        )

    def test_fix_position_and_description(self):
        (f,) = lint_text(LOOP, "t.py")
        assert f.fix == Fix(4, 1, 4, 1, "    optimizer.zero_grad()\n",
                            description="insert `optimizer.zero_grad()` at the top of the loop body")

    def test_tab_indentation(self, tmp_path):
        code = "import torch\nfor x in loader:\n\tloss = model(x).sum()\n\tloss.backward()\n\topt_d.step()\n"
        assert fixed_text(tmp_path, code) == (
            "import torch\nfor x in loader:\n\topt_d.zero_grad()\n\tloss = model(x).sum()\n\tloss.backward()\n\topt_d.step()\n"
        )

    def test_comments_kept_and_inserted_before_opening_comment(self, tmp_path):
        code = (
            "import torch\n"
            "for x, y in loader:  # one batch\n"
            "    # forward pass\n"
            "    loss = criterion(model(x), y)  # the loss\n"
            "    loss.backward()\n"
            "    optimizer.step()  # update\n"
        )
        assert fixed_text(tmp_path, code) == code.replace(
            "# one batch\n", "# one batch\n    optimizer.zero_grad()\n"
        )

    def test_crlf_file_keeps_crlf(self, tmp_path):
        code = LOOP.replace("\n", "\r\n")
        assert fixed_text(tmp_path, code) == code.replace(
            "for x, y in loader:\r\n", "for x, y in loader:\r\n    optimizer.zero_grad()\r\n"
        )

    def test_self_optimizer_in_method(self, tmp_path):
        code = (
            "import torch\n"
            "class Trainer:\n"
            "    def fit(self, loader):\n"
            "        for x in loader:\n"
            "            self.model(x).sum().backward()\n"
            "            self.optimizer.step()\n"
        )
        assert fixed_text(tmp_path, code) == code.replace(
            "for x in loader:\n", "for x in loader:\n            self.optimizer.zero_grad()\n"
        )

    def test_backward_in_helper_still_inserts_at_top_of_loop(self, tmp_path):
        code = (
            "import torch\n"
            "def compute(x):\n"
            "    loss = model(x).sum()\n"
            "    loss.backward()\n"
            "\n"
            "for x in loader:\n"
            "    compute(x)\n"
            "    optimizer.step()\n"
        )
        (f,) = lint_text(code, "t.py")
        assert (f.line, f.column) == (7, 5)  # the call in the loop
        assert fixed_text(tmp_path, code) == code.replace(
            "for x in loader:\n", "for x in loader:\n    optimizer.zero_grad()\n"
        )

    def test_scaler_step_names_the_optimizer(self, tmp_path):
        code = (
            "import torch\n"
            "scaler = torch.cuda.amp.GradScaler()\n"
            "while True:\n"
            "    scaler.scale(model(next(it)).sum()).backward()\n"
            "    scaler.step(opt)\n"
            "    scaler.update()\n"
        )
        assert fixed_text(tmp_path, code) == code.replace("while True:\n", "while True:\n    opt.zero_grad()\n")

    def test_cleared_only_in_enclosing_loop(self, tmp_path):
        code = (
            "import torch\n"
            "for epoch in range(3):\n"
            "    optimizer.zero_grad()\n"
            "    for x in loader:\n"
            "        model(x).sum().backward()\n"
            "        optimizer.step()\n"
        )
        assert fixed_text(tmp_path, code) == code.replace(
            "    for x in loader:\n", "    for x in loader:\n        optimizer.zero_grad()\n"
        )

    def test_two_optimizers_both_inserted_in_order(self, tmp_path):
        code = (
            "import torch\n"
            "for real in loader:\n"
            "    d_loss = D(real).mean() - D(G(z).detach()).mean()\n"
            "    d_loss.backward()\n"
            "    opt_d.step()\n"
            "    g_loss = -D(G(z)).mean()\n"
            "    g_loss.backward()\n"
            "    opt_g.step()\n"
        )
        text, outcome, findings = fix_file(tmp_path, "gan.py", code)
        assert len(findings) == len(outcome.fixed) == 2
        assert text.startswith("import torch\nfor real in loader:\n    opt_d.zero_grad()\n    opt_g.zero_grad()\n    d_loss")
        assert lint_file(tmp_path / "gan.py") == []

    def test_async_for(self, tmp_path):
        code = ("import torch\nasync def main():\n    async for x in stream:\n        model(x).sum().backward()\n"
                "        optimizer.step()\n")
        assert fixed_text(tmp_path, code) == code.replace(
            "async for x in stream:\n", "async for x in stream:\n        optimizer.zero_grad()\n"
        )


class TestNeverClearedNoFix:
    """The finding stays, without a fix, when the insertion would not be safe."""

    def only_finding(self, code):
        (f,) = [f for f in lint_text(code, "t.py") if f.code == "CNL201"]
        return f

    def test_body_on_the_header_line(self):
        f = self.only_finding("import torch\nfor x in loader: model(x).sum().backward(); optimizer.step()\n")
        assert f.fix is None

    def test_step_in_helper_function(self):
        code = (
            "import torch\n"
            "def update(opt):\n"
            "    opt.step()\n"
            "for x in loader:\n"
            "    model(x).sum().backward()\n"
            "    update(optimizer)\n"
        )
        assert self.only_finding(code).fix is None

    def test_optimizer_bound_in_the_body(self):
        code = (
            "import torch\n"
            "for x in loader:\n"
            "    optimizer = make_optimizer()\n"
            "    model(x).sum().backward()\n"
            "    optimizer.step()\n"
        )
        assert self.only_finding(code).fix is None

    def test_attribute_assigned_in_the_body(self):
        code = (
            "import torch\n"
            "for x in loader:\n"
            "    self.optimizer = torch.optim.SGD(params, lr=0.1)\n"
            "    model(x).sum().backward()\n"
            "    self.optimizer.step()\n"
        )
        assert self.only_finding(code).fix is None

    def test_optimizer_declared_global_in_the_body(self):
        code = (
            "import torch\n"
            "def train():\n"
            "    for x in loader:\n"
            "        global optimizer\n"
            "        model(x).sum().backward()\n"
            "        optimizer.step()\n"
        )
        assert self.only_finding(code).fix is None

    def test_step_in_a_nested_loop_or_comprehension(self):
        code = "import torch\nfor x in loader:\n    model(x).sum().backward()\n    [opt.step() for opt in opts]\n"
        assert self.only_finding(code).fix is None  # `opt` exists only in the comprehension
        code = ("import torch\nfor x in loader:\n    model(x).sum().backward()\n    for optimizer in opts:\n"
                "        optimizer.step()\n")
        assert self.only_finding(code).fix is None  # the inner loop binds `optimizer`

    def test_optimizer_from_a_list(self):
        code = "import torch\nfor x in loader:\n    model(x).sum().backward()\n    optimizers[0].step()\n"
        assert self.only_finding(code).fix is None


class TestMisplacedClear:
    def test_moved_before_backward(self, tmp_path):
        code = (
            "import torch\n"
            "for x, y in batches:\n"
            "    loss = criterion(model(x), y)\n"
            "    loss.backward()\n"
            "    optimizer.zero_grad()\n"
            "    optimizer.step()\n"
        )
        assert fixed_text(tmp_path, code) == (
            "import torch\n"
            "for x, y in batches:\n"
            "    loss = criterion(model(x), y)\n"
            "    optimizer.zero_grad()\n"
            "    loss.backward()\n"
            "    optimizer.step()\n"
        )

    def test_fix_is_one_insertion_and_one_deletion(self):
        code = ("import torch\nfor x in b:\n    loss = m(x)\n    loss.backward()\n    optimizer.zero_grad()\n"
                "    optimizer.step()\n")
        (f,) = lint_text(code, "t.py")
        assert f.fix.all_edits() == [(4, 1, 4, 1, "    optimizer.zero_grad()\n"), (5, 1, 6, 1, "")]

    def test_moved_with_its_comments_before_statement_holding_backward(self, tmp_path):
        code = (
            "import torch\n"
            "for x, y in batches:\n"
            "    # backprop with amp\n"
            "    with torch.autocast('cuda'):\n"
            "        loss = criterion(model(x), y)\n"
            "        scaler.scale(loss).backward()\n"
            "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
            "    # reset\n"
            "    model.zero_grad(set_to_none=True)  # oops\n"
            "    scaler.step(optimizer)\n"
            "    scaler.update()\n"
        )
        assert fixed_text(tmp_path, code) == (
            "import torch\n"
            "for x, y in batches:\n"
            "    # reset\n"
            "    model.zero_grad(set_to_none=True)  # oops\n"
            "    # backprop with amp\n"
            "    with torch.autocast('cuda'):\n"
            "        loss = criterion(model(x), y)\n"
            "        scaler.scale(loss).backward()\n"
            "    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)\n"
            "    scaler.step(optimizer)\n"
            "    scaler.update()\n"
        )

    def test_crlf_move(self, tmp_path):
        code = "import torch\r\nfor x in b:\r\n    m(x).sum().backward()\r\n    opt.zero_grad()\r\n    opt.step()\r\n"
        assert fixed_text(tmp_path, code) == (
            "import torch\r\nfor x in b:\r\n    opt.zero_grad()\r\n    m(x).sum().backward()\r\n    opt.step()\r\n"
        )

    def test_no_fix_with_two_backward_calls_before_it(self):
        code = (
            "import torch\n"
            "for x in b:\n"
            "    loss1(x).backward(retain_graph=True)\n"
            "    loss2(x).backward()\n"
            "    optimizer.zero_grad()\n"
            "    optimizer.step()\n"
        )
        (f,) = lint_text(code, "t.py")
        assert f.message.startswith("`optimizer.zero_grad()` runs after") and f.fix is None

    def test_no_fix_when_sharing_a_line(self):
        code = "import torch\nfor x in b:\n    loss = m(x)\n    loss.backward(); optimizer.zero_grad()\n    optimizer.step()\n"
        (f,) = lint_text(code, "t.py")
        assert f.fix is None


# ---------------------------------------------------------------- CNL401: exact results


class TestPinRequirements:
    def test_requirements_file(self, tmp_path, fake_versions):
        code = (
            "# training deps\n"
            "torch  # the framework\n"
            "torchvision>=0.15\n"
            'torch[cuda]>=2 ; python_version>"3.8"\n'
            "numpy >= 1.20, <2\n"
            "not-installed-here\n"
            "timm<0.9\n"
            "-e ./mylib\n"
        )
        text, outcome, findings = fix_file(tmp_path, "requirements.txt", code)
        assert text == (
            "# training deps\n"
            "torch==2.3.1  # the framework\n"
            "torchvision==0.18.1\n"
            'torch[cuda]==2.3.1 ; python_version>"3.8"\n'
            "numpy==1.26.4\n"
            "not-installed-here\n"
            "timm<0.9\n"
            "-e ./mylib\n"
        )
        assert len(outcome.fixed) == 4
        left = lint_file(tmp_path / "requirements.txt")
        assert [f.message.split("`")[1] for f in left] == ["not-installed-here", "timm<0.9"]
        assert all(f.fix is None for f in left)

    def test_real_installed_version(self, tmp_path):
        text = fixed_text(tmp_path, "pytest\nlibcst>=0.1\n", "requirements.txt")
        assert text == f"pytest=={PYTEST}\nlibcst=={LIBCST}\n"

    def test_crlf_and_bom_kept(self, tmp_path, fake_versions):
        path = tmp_path / "requirements.txt"
        path.write_bytes(codecs.BOM_UTF8 + b"torch\r\nnumpy>=1\r\n")
        findings = lint_text("torch\r\nnumpy>=1\r\n", str(path))
        assert len(apply_fixes(findings, write=True).fixed) == 2
        assert path.read_bytes() == codecs.BOM_UTF8 + b"torch==2.3.1\r\nnumpy==1.26.4\r\n"

    def test_fix_positions(self, fake_versions):
        found = lint_text("torch\n  torchvision >= 0.1 ; sys_platform=='linux'\n", "requirements.txt")
        assert [f.fix for f in found] == [
            Fix(1, 6, 1, 6, "==2.3.1", description="pin `torch==2.3.1`"),
            Fix(2, 14, 2, 21, "==0.18.1", description="pin `torchvision==0.18.1`"),
        ]

    def test_no_fix(self, fake_versions):
        code = (
            "mylib\n"  # a development build: no public release to pin
            "torch>=3.0\n"  # installed version outside the range
            "numpy==1.*\n"  # inside: pinned
            "git+https://github.com/org/pillow.git@main#egg=pillow\n"  # a branch
            "opencv-python \\\n    >=4.0\n"  # across a continuation line
        )
        found = lint_text(code, "requirements.txt")
        assert [(f.line, f.fix is None) for f in found] == [(1, True), (2, True), (3, False), (4, True), (5, True)]

    def test_marker_for_another_environment_means_no_fix(self, fake_versions):
        code = (
            'numpy ; python_version < "3.0"\n'
            'numpy>=1.20 ; python_version >= "3.0"\n'
            'torch ; sys_platform == "no-such-platform"\n'
        )
        found = lint_text(code, "requirements.txt")
        assert [(f.line, f.fix and f.fix.text) for f in found] == [(1, None), (2, "==1.26.4"), (3, None)]

    def test_hashes_mean_no_fix(self, fake_versions):
        code = "torch>=2 --hash=sha256:0123\nnumpy\n"
        assert [f.fix for f in lint_text(code, "requirements.txt")] == [None, None]

    def test_environment_yml_pip_list_only(self, tmp_path, fake_versions):
        code = (
            "name: train\n"
            "dependencies:\n"
            "  - python=3.10\n"
            "  - numpy  # conda builds differ: hint only\n"
            "  - pip:\n"
            "      - albumentations>=1.0  # augmentations\n"
            '      - "timm"\n'
        )
        text, outcome, _ = fix_file(tmp_path, "environment.yml", code)
        assert text == code.replace("albumentations>=1.0", "albumentations==1.4.3").replace('"timm"', '"timm==0.9.16"')
        assert len(outcome.fixed) == 2
        left = lint_file(tmp_path / "environment.yml")
        assert [(f.line, f.fix) for f in left] == [(4, None)]


class TestPinCommands:
    def test_notebook_bang_pip(self, tmp_path, fake_versions):
        text, outcome, _ = fix_file(tmp_path, "nb.ipynb", "!pip install -q torch 'numpy>=1.20' timm\n# %%\nimport torch\n")
        assert json.loads(text)["cells"][0]["source"] == ["!pip install -q torch==2.3.1 'numpy==1.26.4' timm==0.9.16\n"]
        assert len(outcome.fixed) == 3

    def test_notebook_unquoted_range_is_pinned_whole(self, tmp_path, fake_versions):
        text, _, found = fix_file(tmp_path, "nb.ipynb", "%pip install tensorflow>=2.10 pillow\n")
        assert found[0].fix == Fix(1, 24, 1, 30, "==2.15.0", description="pin `tensorflow==2.15.0`")
        assert json.loads(text)["cells"][0]["source"] == ["%pip install tensorflow==2.15.0 pillow==10.3.0\n"]

    def test_notebook_second_cell_and_indented(self, tmp_path, fake_versions):
        code = "import os\n# %%\nif not os.path.exists('x'):\n    !pip install timm\n"
        text, _, found = fix_file(tmp_path, "nb.ipynb", code)
        assert (found[0].cell, found[0].fix.line, found[0].fix.column) == (2, 2, 22)
        assert json.loads(text)["cells"][1]["source"] == ["if not os.path.exists('x'):\n", "    !pip install timm==0.9.16\n"]

    def test_notebook_continuation_line(self, tmp_path, fake_versions):
        code = "!pip install timm \\\n    torch\n"
        text, _, found = fix_file(tmp_path, "nb.ipynb", code)
        assert [(f.line, f.fix.line, f.fix.column) for f in found] == [(1, 1, 18), (2, 2, 10)]
        assert json.loads(text)["cells"][0]["source"] == ["!pip install timm==0.9.16 \\\n", "    torch==2.3.1\n"]

    def test_bash_cell(self, tmp_path, fake_versions):
        text = fixed_text(tmp_path, "%%bash\npip install numpy\n", "nb.ipynb")
        assert json.loads(text)["cells"][0]["source"] == ["%%bash\n", "pip install numpy==1.26.4\n"]

    def test_python_subprocess_list_and_shell_string(self, tmp_path, fake_versions):
        code = (
            "import os, subprocess, sys\n"
            'subprocess.check_call([sys.executable, "-m", "pip", "install", "timm"])\n'
            "os.system('pip install \"torch>=2\" numpy>=1.2')\n"
            'subprocess.run("pip install pillow".split())\n'
        )
        assert fixed_text(tmp_path, code) == (
            "import os, subprocess, sys\n"
            'subprocess.check_call([sys.executable, "-m", "pip", "install", "timm==0.9.16"])\n'
            "os.system('pip install \"torch==2.3.1\" numpy==1.26.4')\n"
            'subprocess.run("pip install pillow==10.3.0".split())\n'
        )

    def test_no_fix_for_conda_fstring_or_not_installed(self, fake_versions):
        code = (
            "!conda install -y numpy\n"
            "!pip install {pkg} unknown-pkg\n"
            "!pip install git+https://github.com/org/timm\n"
        )
        found = lint_text(notebook_from_cells(code), "nb.ipynb")
        assert [(f.line, f.fix) for f in found] == [(1, None), (2, None), (3, None)]

    def test_no_fix_in_implicitly_concatenated_or_escaped_strings(self, fake_versions):
        code = (
            "import os\n"
            "os.system('pip install ' 'timm')\n"
            "os.system('pip install \\\\\\ntimm')\n"
        )
        assert all(f.fix is None for f in lint_text(code, "t.py"))

    def test_local_label_dropped_and_description(self, fake_versions):
        (f,) = lint_text(notebook_from_cells("!pip install torch\n"), "nb.ipynb")
        assert f.fix.text == "==2.3.1" and f.fix.description == "pin `torch==2.3.1`"
        assert "2.3.1+cu121" in f.hint  # the hint still names what is installed


# ---------------------------------------------------------------- notebooks: only the cell's source changes


NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Träning\n", "ünïcode"]},
        {"cell_type": "code", "execution_count": 3, "metadata": {"tags": ["x"]}, "outputs": [
            {"name": "stdout", "output_type": "stream", "text": ["ok\n"]}],
         "source": ["import torch\n", "for x in loader:\n", "    # ß comment\n", "    model(x).sum().backward()\n",
                    "    optimizer.step()"]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": "print('é')\n"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


class TestNotebookJson:
    def write(self, tmp_path, nb, **dump):
        path = tmp_path / "nb.ipynb"
        path.write_text(json.dumps(nb, **dump) + "\n", encoding="utf-8")
        return path

    @pytest.mark.parametrize("dump", [dict(indent=1, ensure_ascii=False), dict(indent=2), dict(separators=(",", ":"))])
    def test_only_the_cell_source_changes(self, tmp_path, dump):
        path = self.write(tmp_path, NOTEBOOK, **dump)
        before = path.read_text(encoding="utf-8")
        findings = lint_file(path)
        assert [(f.code, f.cell, f.line) for f in findings] == [("CNL201", 2, 4)]
        assert len(apply_fixes(findings, write=True).fixed) == 1
        after = path.read_text(encoding="utf-8")
        s0, e0 = source_span(before, 1)
        s1, e1 = source_span(after, 1)
        assert after[:s1] == before[:s0]
        assert after[e1:] == before[e0:]
        new = json.loads(after)
        assert new["cells"][1]["source"] == [
            "import torch\n", "for x in loader:\n", "    optimizer.zero_grad()\n", "    # ß comment\n",
            "    model(x).sum().backward()\n", "    optimizer.step()"]
        assert after.isascii() == before.isascii()
        assert lint_file(path) == []

    def test_indent_1_items_keep_their_layout(self, tmp_path):
        path = self.write(tmp_path, NOTEBOOK, indent=1, ensure_ascii=False)
        before = path.read_text(encoding="utf-8")
        apply_fixes(lint_file(path), write=True)
        after = path.read_text(encoding="utf-8")
        assert '    "for x in loader:\\n",\n    "    optimizer.zero_grad()\\n",\n    "    # ß comment\\n",' in after
        assert len(after) == len(before) + len('    "    optimizer.zero_grad()\\n",\n')

    def test_string_source_stays_a_string(self, tmp_path, fake_versions):
        nb = dict(NOTEBOOK, cells=[{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                    "source": "!pip install timm\nimport timm"}])
        path = self.write(tmp_path, nb, indent=1)
        apply_fixes(lint_file(path), write=True)
        assert json.loads(path.read_text())["cells"][0]["source"] == "!pip install timm==0.9.16\nimport timm"

    def test_one_string_list_stays_one_string(self, tmp_path):
        nb = dict(NOTEBOOK, cells=[{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                                    "source": ["import torch\nfor x in dl:\n    m(x).sum().backward()\n"
                                    "    opt.zero_grad()\n    opt.step()\n"]}])
        path = self.write(tmp_path, nb, indent=1)
        (f,) = lint_file(path)
        assert apply_fixes([f], write=True).fixed == [f]
        assert json.loads(path.read_text())["cells"][0]["source"] == [
            "import torch\nfor x in dl:\n    opt.zero_grad()\n    m(x).sum().backward()\n    opt.step()\n"]

    def test_move_deletes_the_line_item(self, tmp_path):
        code = "import torch\nfor x in dl:\n    m(x).sum().backward()\n    opt.zero_grad()\n    opt.step()\n"
        text = fixed_text(tmp_path, code, "nb.ipynb")
        assert json.loads(text)["cells"][0]["source"] == [
            "import torch\n", "for x in dl:\n", "    opt.zero_grad()\n", "    m(x).sum().backward()\n", "    opt.step()\n"]

    def test_bom_and_crlf_json_kept(self, tmp_path, fake_versions):
        path = tmp_path / "nb.ipynb"
        body = json.dumps(NOTEBOOK, indent=1).replace("\n", "\r\n")
        body = body.replace('"print(\'\\u00e9\')\\n"', '"!pip install timm\\n"')
        path.write_bytes(codecs.BOM_UTF8 + body.encode())
        findings = [f for f in lint_file_bytes(path) if f.code == "CNL401"]
        assert len(apply_fixes(findings, write=True).fixed) == 1
        data = path.read_bytes()
        assert data == codecs.BOM_UTF8 + body.replace("!pip install timm", "!pip install timm==0.9.16").encode()

    def test_cell_number_counts_markdown_cells(self, tmp_path):
        path = self.write(tmp_path, NOTEBOOK, indent=1)
        (f,) = lint_file(path)
        assert f.cell == 2 and f.fix.line == 3


def lint_file_bytes(path):
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    return lint_text(text, str(path), select=ON_DISK)


# ---------------------------------------------------------------- applying: diff, overlap, checks, writes


def finding(path, fix, cell=None, line=1, code="CNL201"):
    return Finding(code=code, severity=Severity.ERROR, message="m", path=str(path), line=line, cell=cell, fix=fix)


class TestApply:
    def test_diff_writes_nothing(self, tmp_path):
        path = tmp_path / "train.py"
        path.write_text(LOOP)
        outcome = apply_fixes(lint_file(path), write=False)
        assert path.read_text() == LOOP
        assert len(outcome.fixed) == 1
        shown = str(path).lstrip("/")  # tmp_path is outside the working folder: shown absolute
        assert outcome.diffs[str(path)].splitlines()[:3] == [f"--- a/{shown}", f"+++ b/{shown}", "@@ -1,6 +1,7 @@"]
        assert "+    optimizer.zero_grad()\n" in outcome.diffs[str(path)]

    def test_diff_without_final_newline(self, tmp_path):
        path = tmp_path / "requirements.txt"
        path.write_text("numpy>=1.0")
        f = finding(path, Fix(1, 6, 1, 11, "==1.26.4"), code="CNL401")
        diff = apply_fixes([f], write=False).diffs[str(path)]
        assert diff.endswith("-numpy>=1.0\n\\ No newline at end of file\n+numpy==1.26.4\n\\ No newline at end of file\n")

    def test_overlapping_fix_left_for_later(self, tmp_path):
        path = tmp_path / "requirements.txt"
        path.write_text("abc\n")
        first = finding(path, Fix(1, 1, 1, 3, "X"), code="CNL401")
        second = finding(path, Fix(1, 2, 1, 4, "Y"), code="CNL401")
        third = finding(path, Fix(1, 4, 1, 4, "Z"), code="CNL401")  # touches the first edit's end only
        outcome = apply_fixes([first, second, third], write=True)
        assert outcome.fixed == [first, third] and outcome.errors == []
        assert path.read_text() == "XcZ\n"

    def test_insertions_at_one_point_keep_order_and_identical_fixes_apply_once(self, tmp_path):
        path = tmp_path / "requirements.txt"
        path.write_text("ab\n")
        fs = [finding(path, Fix(1, 2, 1, 2, t), code="CNL401") for t in ("1", "2", "1")]
        fs.append(finding(path, Fix(1, 2, 1, 3, "B"), code="CNL401"))
        assert apply_fixes(fs, write=True).fixed == fs
        assert path.read_text() == "a12B\n"

    def test_fix_breaking_syntax_is_not_written(self, tmp_path):
        path = tmp_path / "train.py"
        path.write_text("x = 1\n")
        outcome = apply_fixes([finding(path, Fix(1, 1, 1, 1, "    "))], write=True)
        assert outcome.fixed == [] and path.read_text() == "x = 1\n"
        assert outcome.errors == [f"{path}: fixes not applied: the fixed file would not parse; nothing was written"]

    def test_notebook_fix_breaking_a_cell_is_not_written(self, tmp_path):
        path = tmp_path / "nb.ipynb"
        path.write_text(notebook_from_cells("x = 1\n# %%\ny = 2\n"))
        before = path.read_bytes()
        outcome = apply_fixes([finding(path, Fix(1, 1, 1, 1, "("), cell=2)], write=True)
        assert outcome.fixed == [] and path.read_bytes() == before
        assert outcome.errors == [f"{path}: fixes not applied: cell 2 would not parse after the fix; nothing was written"]

    def test_stale_position_is_an_error_line(self, tmp_path):
        path = tmp_path / "train.py"
        path.write_text("x = 1\n")
        f = finding(path, Fix(9, 1, 9, 1, "y = 2\n"), line=9)
        outcome = apply_fixes([f], write=True)
        assert outcome.fixed == []
        assert outcome.errors == [
            f"{path}:9:1: CNL201 fix not applied: line 9 is past the end of the file (was it edited since it was linted?)"
        ]

    def test_edits_of_one_fix_must_not_overlap(self, tmp_path):
        path = tmp_path / "train.py"
        path.write_text("x = 1\n")
        f = finding(path, Fix(1, 1, 1, 3, "y", edits=((1, 2, 1, 4, "z"),)))
        assert apply_fixes([f], write=False).errors == [f"{path}:1:1: CNL201 fix not applied: the fix's own edits overlap"]

    def test_unreadable_file(self, tmp_path):
        path = tmp_path / "gone.py"
        outcome = apply_fixes([finding(path, Fix(1, 1, 1, 1, "x"))], write=True)
        assert outcome.fixed == [] and outcome.errors[0].startswith(f"{path}: fixes not applied: cannot read the file")

    def test_pep263_encoding_kept(self, tmp_path):
        path = tmp_path / "train.py"
        code = "# -*- coding: latin-1 -*-\nimport torch\nfor x in loader:  # é\n    model(x).sum().backward()\n    opt.step()\n"
        path.write_bytes(code.encode("latin-1"))
        findings = lint_text(code, str(path))
        assert len(apply_fixes(findings, write=True).fixed) == 1
        assert path.read_bytes() == code.replace("# é\n", "# é\n    opt.zero_grad()\n").encode("latin-1")

    def test_utf8_bom_python_kept(self, tmp_path):
        path = tmp_path / "train.py"
        path.write_bytes(codecs.BOM_UTF8 + LOOP.encode())
        apply_fixes(lint_text(LOOP, str(path)), write=True)
        assert path.read_bytes().startswith(codecs.BOM_UTF8 + b"import torch\n\nfor x, y in loader:\n    optimizer.zero_grad()\n")

    def test_lone_cr_file_edited_with_its_own_line_breaks(self, tmp_path):
        path = tmp_path / "train.py"
        path.write_bytes(b"x = 1\ry = 2\r")
        outcome = apply_fixes([finding(path, Fix(2, 1, 2, 1, "z = 0\n"))], write=True)
        assert outcome.errors == [] and len(outcome.fixed) == 1
        assert path.read_bytes() == b"x = 1\rz = 0\ry = 2\r"

    def test_mode_and_symlink_kept(self, tmp_path):
        real = tmp_path / "real.py"
        real.write_text(LOOP)
        os.chmod(real, 0o751)
        link = tmp_path / "train.py"
        link.symlink_to(real)
        assert len(apply_fixes(lint_file(link), write=True).fixed) == 1
        assert link.is_symlink()
        assert "optimizer.zero_grad()" in real.read_text()
        assert stat.S_IMODE(os.stat(real).st_mode) == 0o751
        assert sorted(p.name for p in tmp_path.iterdir()) == ["real.py", "train.py"]  # no temporary left

    def test_findings_without_fix_are_ignored(self, tmp_path):
        outcome = apply_fixes([finding(tmp_path / "x.py", None)], write=True)
        assert (outcome.fixed, outcome.diffs, outcome.errors) == ([], {}, [])

    def test_fix_round_trips_through_dict_and_json(self):
        f = Finding("CNL201", Severity.ERROR, "m", "t.py", fix=Fix(4, 1, 4, 1, "x\n", "d", edits=((6, 1, 7, 1, ""),)))
        back = Finding.from_dict(json.loads(json.dumps(f.to_dict())))
        assert back.fix == f.fix and back.fix.edits == ((6, 1, 7, 1, ""),)
        old = Finding.from_dict({"code": "CNL201", "severity": "error", "message": "m", "path": "t.py",
                                 "fix": {"line": 1, "column": 1, "end_line": 1, "end_column": 1, "text": "x"}})
        assert old.fix.edits == ()


# ---------------------------------------------------------------- the command line


class TestCommandLine:
    @pytest.fixture
    def project(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        (tmp_path / "train.py").write_text(LOOP)
        (tmp_path / "requirements.txt").write_text("pytest\n")
        (tmp_path / "Pipfile").write_text("[packages]\ntorch = '==2.3.1'\n")  # records torch for CNL403; not linted
        return tmp_path

    def test_fix_reports_and_exits_0(self, project, capsys):
        status = main(["--fix", "--no-cache", "."])
        out, err = capsys.readouterr()
        assert status == 0 and out == ""
        assert err == (
            f"requirements.txt:1:1: CNL401 fixed: pin `pytest=={PYTEST}`\n"
            "train.py:5:5: CNL201 fixed: insert `optimizer.zero_grad()` at the top of the loop body\n"
            "Fixed 2 findings in 2 files.\nAll checks passed (2 files).\n"
        )
        assert (project / "requirements.txt").read_text() == f"pytest=={PYTEST}\n"
        assert "    optimizer.zero_grad()\n" in (project / "train.py").read_text()

    def test_fix_leaves_what_it_cannot_fix(self, project, capsys):
        (project / "requirements.txt").write_text("pytest\nsurely-not-installed-pkg\n")
        status = main(["--fix", "--no-cache", "-q", "."])
        out, err = capsys.readouterr()
        assert status == 1
        assert err.endswith("Fixed 2 findings in 2 files.\n") and err.count("fixed: ") == 2
        assert out.startswith("requirements.txt:2:1: CNL401")

    def test_diff_prints_and_writes_nothing(self, project, capsys):
        status = main(["--diff", "--no-cache", "."])
        out, err = capsys.readouterr()
        assert status == 1 and err == ""
        assert out == (
            "--- a/requirements.txt\n+++ b/requirements.txt\n@@ -1 +1 @@\n-pytest\n+pytest==" + PYTEST + "\n"
            "--- a/train.py\n+++ b/train.py\n@@ -1,6 +1,7 @@\n import torch\n \n for x, y in loader:\n"
            "+    optimizer.zero_grad()\n     loss = criterion(model(x), y)\n     loss.backward()\n     optimizer.step()\n"
        )
        assert (project / "train.py").read_text() == LOOP
        assert (project / "requirements.txt").read_text() == "pytest\n"

    def test_second_fix_run_changes_nothing(self, project, capsys):
        main(["--fix", "--no-cache", "."])
        capsys.readouterr()
        assert main(["--diff", "--no-cache", "."]) == 0
        assert capsys.readouterr().out == ""


ODD = [
    "",
    "import torch\nfor x in y:\n    pass\n",
    "import torch\nfor x in loader:\n    (loss := model(x).sum()).backward()\n    optimizer.step()\n",
    "import torch\nfor x in loader:\n    f = lambda: optimizer.zero_grad()\n    model(x).sum().backward()\n"
    "    optimizer.step()\n",
    "import torch\nfor x in loader:\n    match x:\n        case 1:\n            model(x).sum().backward()\n"
    "            optimizer.step()\n        case _:\n            pass\n",
    "import torch\nfor x in loader:\n    def inner():\n        optimizer.zero_grad()\n    model(*x).sum().backward()\n"
    "    optimizer.step(**{})\n",
    "import torch\nwhile (batch := next(it, None)) is not None:\n    model(batch).sum().backward()\n    optimizer.step()\n",
    "import torch\nfor x in loader:\n    try:\n        model(x).sum().backward()\n    finally:\n"
    "        optimizer.zero_grad()\n    optimizer.step()\n",
    "import torch\nfor x in loader:\n    if x:\n        model(x).sum().backward()\n        optimizer.zero_grad()\n"
    "    optimizer.step()\n",
]


@pytest.mark.parametrize("code", ODD)
def test_odd_code_never_crashes_and_fixes_parse(tmp_path, code):
    path = tmp_path / "odd.py"
    path.write_text(code)
    findings = lint_file(path)
    outcome = apply_fixes(findings, write=True)
    assert outcome.errors == []
    cst.parse_module(path.read_text())
    if outcome.fixed:
        assert not [f for f in lint_file(path) if f in outcome.fixed]
