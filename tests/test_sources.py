import json

import pytest

from cnnlint.sources.model import SourceError
from cnnlint.sources.notebook import read_notebook
from cnnlint.sources.python import decode_python
from cnnlint.sources.read import classify


def nb(*cells, language="python"):
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": src} for kind, src in cells
            ],
            "metadata": {"language_info": {"name": language}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ).encode()


class TestDecodePython:
    def test_utf8_with_bom(self):
        assert decode_python("\ufeffx = 'é'\n".encode("utf-8")) == "x = 'é'\n"

    def test_pep263_latin1(self):
        data = "# -*- coding: latin-1 -*-\nx = 'é'\n".encode("latin-1")
        assert decode_python(data) == "# -*- coding: latin-1 -*-\nx = 'é'\n"

    def test_latin1_without_coding_line(self):
        with pytest.raises(SourceError) as err:
            decode_python("x = 1\ny = 'Größe'\n".encode("latin-1"))
        assert err.value.line == 2
        assert err.value.column == 8
        assert err.value.message.startswith("byte 0xf6 is not valid UTF-8 (the file has no coding line)")

    def test_latin1_on_first_line(self):
        with pytest.raises(SourceError) as err:
            decode_python("s = 'é'\n".encode("latin-1"))
        assert "not valid UTF-8" in err.value.message

    def test_binary(self):
        with pytest.raises(SourceError, match="binary file"):
            decode_python(b"\x7fELF\x00\x01\x02")

    def test_unknown_coding(self):
        with pytest.raises(SourceError, match="encoding"):
            decode_python(b"# coding: klingon\nx = 1\n")


class TestNotebook:
    def test_cells_joined_and_mapped(self):
        src = read_notebook("n.ipynb", nb(("code", "a = 1\nb = 2"), ("markdown", "# t"), ("code", ["c = 3\n", "d = 4"])))
        assert src.text == "a = 1\nb = 2\nc = 3\nd = 4\n"
        assert src.locate(1) == (1, 1)
        assert src.locate(4) == (3, 2)

    def test_shell_and_magics_become_placeholders(self):
        src = read_notebook(
            "n.ipynb",
            nb(("code", "!pip install torch\n%matplotlib inline\nif True:\n    %pip install -q x==1\n"
                        "files = !ls\nmodel.fit?\nz = 1")),
        )
        assert src.text.splitlines() == ["pass", "pass", "if True:", "    pass", "pass", "pass", "z = 1"]
        assert [(c.line, c.column, c.text) for c in src.shell] == [
            (1, 2, "pip install torch"),
            (4, 6, "pip install -q x==1"),
            (5, 10, "ls"),
        ]

    def test_continuation_lines(self):
        src = read_notebook("n.ipynb", nb(("code", "!pip install a \\\n    b==1\nx = 1")))
        assert src.text.splitlines() == ["pass", "", "x = 1"]
        assert src.shell[0].text == "pip install a b==1"
        assert (src.shell[0].end_line, src.shell[0].end_column) == (2, 9)

    def test_bash_cell(self):
        src = read_notebook("n.ipynb", nb(("code", "%%bash\npip install foo\n# comment\necho hi")))
        assert src.text.splitlines() == ["pass", "", "", ""]
        assert [c.text for c in src.shell] == ["pip install foo", "echo hi"]

    def test_python_cell_magic_keeps_body(self):
        src = read_notebook("n.ipynb", nb(("code", "%%time\nx = 1")))
        assert src.text.splitlines() == ["pass", "x = 1"]

    def test_other_cell_magic_is_blanked(self):
        src = read_notebook("n.ipynb", nb(("code", "%%writefile a.py\nimport os\nthis is not python")))
        assert src.text.splitlines() == ["pass", "", ""]
        assert src.shell == []

    def test_not_json(self):
        with pytest.raises(SourceError, match="not valid JSON"):
            read_notebook("n.ipynb", b'{"cells": [')

    def test_not_a_notebook(self):
        with pytest.raises(SourceError, match="no 'cells' list"):
            read_notebook("n.ipynb", b"[1, 2]")

    def test_r_notebook_skipped(self):
        assert read_notebook("n.ipynb", nb(("code", "x <- 1"), language="R")) is None


@pytest.mark.parametrize(
    "name,kind",
    [
        ("train.py", "python"),
        ("a/b/NB.ipynb", "notebook"),
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("dev-requirements.in", "requirements"),
        ("environment.yml", "conda"),
        ("setup.cfg", None),
        ("notes.txt", None),
        ("constraints.txt", None),
    ],
)
def test_classify(name, kind):
    assert classify(name) == kind


@pytest.mark.parametrize("text", [
    "!pip install torch\n",
    "x = 1\n  %matplotlib inline\n",
    "model.fit?\n",
    "files = !ls data\n",
    "a, b[0] = %time f()\n",
    "print('%d' % 3)\nif a != b:\n    pass\n%cd /content\n",
    "y = 5 % 3",  # no newline at the end
    "s = 'what?'\nx != y\n",
    "t = '!'\n",
    "",
])
def test_may_be_magic_agrees_with_a_search_from_every_line_start(text):
    from cnnlint.sources import ipython

    assert ipython.may_be_magic(text) is (ipython._MAY_BE_MAGIC.search(text) is not None)
