"""Hostile input: every broken file gets one CNL001, the rest is still linted, no traceback."""

import builtins
import json
import os
import sys

import pytest

from cnnlint.cli import main

GOOD_WITH_DEFECT = """\
import torch

for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""


def build_tree(root):
    (root / "syntax.py").write_text("def f(:\n    pass\n")
    (root / "broken.ipynb").write_text('{"cells": [ {"cell_type": "code", ')
    (root / "binary.py").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "latin1.py").write_bytes("label = 'Größe'\n".encode("latin-1"))
    block = "def step_{i}(x):\n    return x * {i} + 1\n\n"
    (root / "generated.py").write_text("".join(block.format(i=i) for i in range(160_000)))
    (root / "secret.py").write_text("x = 1\n")
    os.symlink("loop.py", root / "loop.py")
    sub = root / "pkg"
    sub.mkdir()
    os.symlink("..", sub / "parent")
    (root / "train.py").write_text(GOOD_WITH_DEFECT)
    (root / "ok.py").write_text("print('fine')\n")


def test_bad_input_tree(tmp_path, monkeypatch, capsys):
    build_tree(tmp_path)
    assert os.path.getsize(tmp_path / "generated.py") > 5_000_000
    secret = str(tmp_path / "secret.py")
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if str(file) == secret:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.chdir(tmp_path)
    status = main([".", "--no-cache", "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert status == 1
    doc = json.loads(out)
    by_path = {}
    for f in doc["findings"]:
        by_path.setdefault(f["path"], []).append(f)
    cnl001 = {p: [f["message"] for f in fs if f["code"] == "CNL001"] for p, fs in by_path.items()}
    expected = {
        "syntax.py": "syntax error",
        "broken.ipynb": "notebook is not valid JSON",
        "binary.py": "binary file",
        "latin1.py": "is not valid UTF-8",
        "generated.py": "file too large to lint",
        "secret.py": "permission denied",
        "loop.py": "symbolic link loop",
        os.path.join("pkg", "parent"): "symbolic link loop",
    }
    for path, fragment in expected.items():
        assert len(cnl001.get(path, [])) == 1, (path, cnl001)
        assert fragment in cnl001[path][0], (path, cnl001[path])
    # the other files were still linted
    assert [f["code"] for f in by_path["train.py"]] == ["CNL201"]
    assert "ok.py" not in by_path
    assert doc["summary"]["files"] == 10


def test_syntax_error_position(tmp_path, capsys):
    (tmp_path / "s.py").write_text("import os\nx = (1,\n")
    assert main([str(tmp_path / "s.py"), "--no-cache", "-q"]) == 1
    out = capsys.readouterr().out
    if sys.version_info >= (3, 10):  # CPython's own wording and column
        assert out == f"{tmp_path / 's.py'}:2:5: CNL001 [error] syntax error: '(' was never closed\n"
    else:
        assert out == f"{tmp_path / 's.py'}:2:8: CNL001 [error] syntax error: unexpected EOF while parsing\n"


def test_notebook_cell_with_syntax_error_is_skipped_not_the_notebook(tmp_path, capsys):
    cells = [
        {"cell_type": "code", "source": "print 'python 2'", "metadata": {}},
        {"cell_type": "code", "metadata": {},
         "source": "for x, y in loader:\n    loss = crit(model(x), y)\n    loss.backward()\n    optimizer.step()"},
    ]
    (tmp_path / "n.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    main([str(tmp_path / "n.ipynb"), "--no-cache", "-q"])
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{tmp_path / 'n.ipynb'}:cell 1:1:")
    assert "CNL001 [error] syntax error" in out[0]
    assert len(out) == 2 and " CNL201 " in out[1] and ":cell 2:" in out[1]


EXERCISE = (
    "import torch\n"
    "testloader = torch.utils.data.DataLoader(testset, batch_size=64)\n"
    "dataiter = iter(testloader)\n"
    "images, labels = dataiter.next()\n"
    "# TODO: Calculate the class probabilities (softmax) for img\n"
    "ps = \n"
    "batch = loader_iter.next()\n"
)
PARTLY = "the cell was linted only above this line; fix the syntax (or finish the exercise) or exclude the notebook"
WHOLE = "the file (or cell) was not linted; fix the syntax or exclude it"


def _cells_findings(tmp_path, capsys, *sources):
    cells = [{"cell_type": "code", "source": src, "metadata": {}} for src in sources]
    (tmp_path / "n.ipynb").write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    main([str(tmp_path / "n.ipynb"), "--no-cache", "-q", "--format", "json", "--select", "CNL001,CNL402"])
    found = json.loads(capsys.readouterr().out)["findings"]
    return [(f["code"], f["cell"], f["line"], f["hint"]) for f in found]


def test_an_exercise_cells_code_above_its_syntax_error_is_linted(tmp_path, capsys):
    found = _cells_findings(tmp_path, capsys, EXERCISE)
    assert [(c, cell, line) for c, cell, line, _ in found] == [("CNL402", 1, 4), ("CNL001", 1, 6)]
    assert found[1][3] == PARTLY  # the line after the error (`loader_iter.next()`) is not linted


@pytest.mark.parametrize("sources, expected", [
    # the error on the cell's first line: nothing above it
    (("ps = \nbatch = it.next()\n",), [("CNL001", 1, 1, WHOLE)]),
    # cut inside an open block: the lines above do not parse alone, so the whole cell goes, and
    # the next cell gets no syntax error of its own
    (("import torch\nfor x in loader:\n    ps = \n    out = it.next()\n", "import torch\nprint(1)\n"),
     [("CNL001", 1, 3, WHOLE)]),
    # only comments above the error
    (("# TODO\n# fill in\nps = \nit.next()\n",), [("CNL001", 1, 3, WHOLE)]),
    # a decorator left dangling above the error
    (("import torch\n@torch.no_grad()\ndef f(:\n    return it.next()\n",), [("CNL001", 1, 3, WHOLE)]),
])
def test_a_broken_cells_lines_above_are_linted_only_when_they_parse_alone(tmp_path, capsys, sources, expected):
    assert _cells_findings(tmp_path, capsys, *sources) == expected


def test_a_scripts_syntax_error_still_stops_the_whole_file(tmp_path, capsys):
    (tmp_path / "s.py").write_text(EXERCISE)
    main([str(tmp_path / "s.py"), "--no-cache", "-q", "--format", "json", "--select", "CNL001,CNL402"])
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["code"], f["line"], f["hint"]) for f in found] == [("CNL001", 6, WHOLE)]


def test_fifo_is_not_opened(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.py")
    assert main([str(tmp_path), "--no-cache", "-q"]) == 1
    out = capsys.readouterr().out
    assert "pipe.py:1:1: CNL001 [error] cannot read: not a regular file" in out


def test_missing_path(tmp_path, capsys):
    assert main([str(tmp_path / "nope.py"), "--no-cache", "-q"]) == 1
    assert "CNL001 [error] cannot read: no such file or directory" in capsys.readouterr().out


def test_unreadable_directory(tmp_path, monkeypatch, capsys):
    sub = tmp_path / "locked"
    sub.mkdir()
    (sub / "a.py").write_text("x = 1\n")
    real_scandir = os.scandir

    def fake_scandir(path="."):
        if os.path.abspath(path) == str(sub):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    assert main([str(tmp_path), "--no-cache", "-q"]) == 1
    assert f"{sub}:1:1: CNL001 [error] cannot read: permission denied" in capsys.readouterr().out
