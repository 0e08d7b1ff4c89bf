"""Hostile input: every broken file gets one CNL001, the rest is still linted, no traceback."""

import builtins
import json
import os
import sys

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
