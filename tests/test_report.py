import io

from cnnlint.findings import Finding, Severity
from cnnlint.report.text import render_text, use_color


def test_snippet_and_colors(tmp_path):
    script = tmp_path / "t.py"
    script.write_text("import torch\nloss.backward()\n")
    f = Finding("CNL201", Severity.ERROR, "msg", str(script), 2, 1, 2, 16, "do this")
    plain = render_text([f], 1, snippets=True)
    assert plain.splitlines() == [
        f"{script}:2:1: CNL201 [error] msg",
        "  hint: do this",
        "    2 | loss.backward()",
        "      | ^^^^^^^^^^^^^^^",
        "Found 1 finding (1 error) in 1 of 1 file.",
    ]
    colored = render_text([f], 1, color=True, snippets=True)
    assert "\x1b[31m[error]\x1b[0m" in colored


def test_notebook_snippet_uses_the_cell(tmp_path):
    import json

    nb = tmp_path / "n.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": "x"},
                                        {"cell_type": "code", "source": ["a = 1\n", "!pip install torch"]}]}))
    f = Finding("CNL401", Severity.WARNING, "msg", str(nb), 2, 14, 2, 19, "pin", cell=2)
    out = render_text([f], 1, snippets=True).splitlines()
    assert out[0] == f"{nb}:cell 2:2:14: CNL401 [warning] msg"
    assert out[2:4] == ["    2 | !pip install torch", "      |              ^^^^^"]


def test_summary_counts():
    fs = [
        Finding("CNL201", Severity.ERROR, "a", "x.py"),
        Finding("CNL201", Severity.ERROR, "b", "x.py", 2),
        Finding("CNL401", Severity.WARNING, "c", "r.txt"),
        Finding("CNL401", Severity.INFO, "d", "r.txt", 2),
    ]
    assert render_text(fs, 3).splitlines()[-1] == "Found 4 findings (2 errors, 1 warning, 1 info) in 2 of 3 files."
    assert "hint" not in render_text(fs, 3, quiet=True)
    assert len(render_text(fs, 3, quiet=True).splitlines()) == 4


def test_use_color(monkeypatch):
    class TTY(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert use_color(TTY()) is True
    assert use_color(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_color(TTY()) is False


def test_a_finding_about_a_whole_file_prints_its_path_alone():
    from cnnlint.findings import Finding, Severity
    from cnnlint.report.text import render_text

    f = Finding("CNL001", Severity.ERROR, "cannot read: permission denied", "data/cats/x.jpg", line=0, column=0)
    assert f.location() == "data/cats/x.jpg"
    assert render_text([f], 1).splitlines()[0] == "data/cats/x.jpg: CNL001 [error] cannot read: permission denied"
