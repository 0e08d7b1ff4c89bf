"""Hostile code-side input (issue 12, point 4): huge requirements files, odd encodings and
line endings, IPython syntax where plain Python is expected, cache files that are traps."""

import codecs
import json
import os
import signal
import sqlite3
import time

import pytest

from cnnlint import __version__
from cnnlint.cli import main
from cnnlint.lint import dependencies
from cnnlint.lint.api import lint_text
from cnnlint.sources.notebook import read_notebook


def _ranged(n):
    return "".join(f"package-{i}>=1.{i % 10},<2\n" for i in range(n))


def _lint_seconds(text, tries):
    best = float("inf")
    for _ in range(tries):
        start = time.process_time()  # CPU time: wall time measured the machine's load (8.08x once)
        found = lint_text(text, "requirements.txt", select=("CNL401",))
        best = min(best, time.process_time() - start)
    return best, found


class _Deadline(BaseException):
    """Raised by the alarm: a BaseException, so a rule's error guard cannot swallow it."""


def _within(seconds, fn, *args):
    def ring(*_):
        raise _Deadline(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    except _Deadline as exc:
        pytest.fail(str(exc), pytrace=False)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_requirements_time_is_linear_in_entries(monkeypatch):
    """Four times the entries take about four times as long (it was sixteen: each entry
    scanned and split the whole file again)."""
    monkeypatch.setattr(dependencies, "installed_version", lambda name: "1.9.0")
    small, found_small = _lint_seconds(_ranged(3_000), tries=3)
    large, found_large = _lint_seconds(_ranged(12_000), tries=2)
    assert (len(found_small), len(found_large)) == (3_000, 12_000)
    assert found_large[-1].line == 12_000 and found_large[-1].fix is not None
    assert large / small < 8, (small, large)


# ---------------------------------------------------------------- coding lines that name no text encoding


@pytest.mark.parametrize("codec", ["rot13", "hex", "base64", "zlib", "uu", "bz2", "quopri"])
def test_coding_line_naming_a_bytes_codec_is_a_finding(tmp_path, capsys, codec):
    path = tmp_path / "enc.py"
    path.write_bytes(f"#!/usr/bin/env python\n# -*- coding: {codec} -*-\nx = 1\n".encode())
    assert main([str(path), "--no-cache", "-q"]) == 1
    out, err = capsys.readouterr()
    assert out == (
        f"{path}:2:1: CNL001 [error] cannot read: the coding line names {codec!r}, "
        "which is not a text encoding (Python refuses to run the file)\n"
    )
    assert err == ""


@pytest.mark.parametrize("codec", ["utf-16", "utf_32", "punycode"])
def test_coding_line_naming_an_ascii_incompatible_encoding(tmp_path, codec):
    (finding,) = lint_text(f"# coding: {codec}\nx = 1\n", "enc.py")
    assert (finding.code, finding.line, finding.column) == ("CNL001", 1, 1)
    assert finding.message == (
        f"cannot read: the coding line names {codec!r}, which Python cannot read source code in "
        "(not ASCII-compatible); re-save the file as UTF-8"
    )


@pytest.mark.parametrize("codec", ["latin-1", "cp1252", "utf-8-sig", "idna"])
def test_coding_lines_python_accepts_still_read(codec):
    assert lint_text(f"# coding: {codec}\nx = 1\n", "enc.py") == []


HOSTILE_LINES = {
    # pip's comment pattern `(^|\s+)#.*$` and `name\s*(\[...\])?\s*@`: quadratic in a run of spaces
    "spaces": "a" + " " * 100_000 + "b\n",
    # `(?:[._+-]?[A-Za-z0-9]+)*$` on a VCS ref: exponential
    "vcs-ref": "pkg @ git+https://github.com/a/b@1" + "a" * 40 + "!\n",
    # the archive pattern searched again from every `/archive/`
    "archive": "https://github.com/a/b" + "/archive/x" * 20_000 + "\n",
    # every entry of a continued line walked every piece of the line
    "continued": "-e ./x \\\n" * 10_000 + "\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE_LINES))
def test_hostile_requirement_lines_take_linear_time(monkeypatch, name):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: None)
    found = _within(5, lint_text, HOSTILE_LINES[name], "requirements.txt", ("CNL401",))
    expected = {"spaces": 0, "vcs-ref": 1, "archive": 0, "continued": 0}[name]
    assert len(found) == expected


def test_notebook_assignment_magic_check_is_linear():
    def notebook(*sources):
        cells = [{"cell_type": "code", "metadata": {}, "source": src} for src in sources]
        return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).encode()

    spaces = " " * 100_000
    nb = _within(5, read_notebook, "n.ipynb", notebook("a" + spaces + "= b", "a" + spaces + "= !ls"))
    assert nb.text.split("\n")[0] == "a" + spaces + "= b"  # Python, not a magic
    assert [(c.line, c.column, c.text) for c in nb.shell] == [(2, 100_005, "ls")]


# ---------------------------------------------------------------- a lone CR ends a line, as in Python

CR_LOOP = "import torch\r\rfor x, y in loader:\r    loss = criterion(model(x), y)\r    loss.backward()\r    optimizer.step()\r"


def test_lone_cr_script_positions_snippet_and_fix(tmp_path, capsys):
    (tmp_path / "lf").mkdir()
    (tmp_path / "lf" / "train.py").write_bytes(CR_LOOP.replace("\r", "\n").encode())
    assert main([str(tmp_path / "lf" / "train.py"), "--no-cache", "--select", "CNL201"]) == 1
    lf_out = capsys.readouterr().out
    path = tmp_path / "train.py"
    path.write_bytes(CR_LOOP.encode())
    assert main([str(path), "--no-cache", "--select", "CNL201"]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{path}:5:5: CNL201 [error] `optimizer.step()` runs every iteration")
    assert out == lf_out.replace(str(tmp_path / "lf" / "train.py"), str(path))
    assert main([str(path), "--no-cache", "--select", "CNL201", "--fix", "-q"]) == 0
    assert path.read_bytes() == CR_LOOP.replace(
        "loader:\r", "loader:\r    optimizer.zero_grad()\r").encode()


def test_lone_cr_requirements_positions_and_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: {"torch": "2.3.1"}.get(name))
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"# pinned\rnumpy==1.26.4\r  torch>=2.0\r")
    findings = main_findings(path)
    assert [(f.line, f.column, f.end_column) for f in findings] == [(3, 3, 13)]
    from cnnlint.fix import apply_fixes

    assert len(apply_fixes(findings, write=True).fixed) == 1
    assert path.read_bytes() == b"# pinned\rnumpy==1.26.4\r  torch==2.3.1\r"


def main_findings(path):
    """Findings for a file on disk, read the way the command line reads it."""
    from cnnlint.lint.engine import lint_source
    from cnnlint.lint.discovery import active_rules
    from cnnlint.sources.read import read_source

    source = read_source(str(path), path.read_bytes())
    return lint_source(source, active_rules(("CNL401",), ()), str(path)).findings


def test_snippet_lines_are_the_readers_lines(tmp_path):
    """Snippets count lines as the readers do: a lone CR ends one, a form feed (a page break in
    old code) or a \\x1c does not, and a file with a coding line is decoded in its encoding."""
    from cnnlint.findings import Finding, Severity
    from cnnlint.sources.lines import SourceLines

    path = tmp_path / "train.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\n\x0c\n# Gr\xf6\xdfe \x1c\rx = 1\r\ny = 2\n")
    lines = SourceLines()
    got = [lines.get(Finding("CNL201", Severity.ERROR, "m", str(path), n, 1)) for n in range(1, 7)]
    assert got == ["# -*- coding: latin-1 -*-", "\x0c", "# Größe \x1c", "x = 1", "y = 2", ""]


# ---------------------------------------------------------------- requirements files pip reads in other encodings

REQS = "# pinned\nnumpy==1.26.4\n  torch>=2.0\n"


@pytest.mark.parametrize("encoding, bom", [
    ("utf-16-le", codecs.BOM_UTF16_LE), ("utf-16-be", codecs.BOM_UTF16_BE),
    ("utf-32-le", codecs.BOM_UTF32_LE), ("utf-32-be", codecs.BOM_UTF32_BE), ("utf-8", codecs.BOM_UTF8),
], ids=["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8"])
def test_requirements_with_a_byte_order_mark_are_read_and_fixed(tmp_path, monkeypatch, capsys, encoding, bom):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: {"torch": "2.3.1"}.get(name))
    path = tmp_path / "requirements.txt"
    path.write_bytes(bom + REQS.encode(encoding))
    assert main([str(path), "--no-cache", "-q"]) == 0  # a range is info
    capsys.readouterr()
    assert main([str(path), "--no-cache", "-q", "--fail-on", "info"]) == 1
    assert capsys.readouterr().out == (
        f"{path}:3:3: CNL401 [info] `torch>=2.0` in requirements.txt does not reproduce: "
        "each install takes the newest version that matches\n")
    assert main([str(path), "--no-cache", "-q", "--fix", "--fail-on", "info"]) == 0
    assert path.read_bytes() == bom + REQS.replace(">=2.0", "==2.3.1").encode(encoding)


def test_requirements_coding_line_as_pip_reads_it(tmp_path):
    path = tmp_path / "requirements.txt"
    path.write_bytes("# -*- coding: latin-1 -*-\ntorch  # Größe\n".encode("latin-1"))
    (finding,) = main_findings(path)
    assert (finding.code, finding.line, finding.column) == ("CNL401", 2, 1)


def test_environment_yml_in_utf16(tmp_path):
    path = tmp_path / "environment.yml"
    path.write_bytes(codecs.BOM_UTF16_LE + "name: x\ndependencies:\n  - numpy\n".encode("utf-16-le"))
    (finding,) = main_findings(path)
    assert (finding.code, finding.line, finding.column) == ("CNL401", 3, 5)


@pytest.mark.parametrize("data, message, line", [
    (codecs.BOM_UTF16_LE + "a\nb".encode("utf-16-le") + b"\x00\xd8",
     "cannot read: the file is not valid utf-16-le, the encoding its byte order mark names", 2),
    (b"# coding: rot13\ntorch\n", "cannot read: the coding line names 'rot13', which is not a text encoding", 1),
    (codecs.BOM_UTF16_LE + "torch\x00\x01".encode("utf-16-le"),
     "cannot read: binary file (contains NUL characters), not a requirements file", 1),
], ids=["bad-utf-16", "rot13", "nul"])
def test_requirements_that_do_not_decode(tmp_path, data, message, line):
    path = tmp_path / "requirements.txt"
    path.write_bytes(data)
    (finding,) = lint_text_bytes(path)
    assert (finding.code, finding.message, finding.line) == ("CNL001", message, line)


def lint_text_bytes(path):
    from cnnlint.lint.runner import lint_one
    from cnnlint.findings import Finding
    from cnnlint.sources.walk import Target

    found, _, error, _ = lint_one(Target(str(path), str(path), "requirements"), path.read_bytes(), 1 << 20)
    assert error is None
    return [Finding.from_dict(d) for d in found]


# ---------------------------------------------------------------- -r / -c files that cannot be read


def test_missing_include_is_a_finding_until_the_file_exists(tmp_path, capsys):
    req = tmp_path / "requirements.txt"
    req.write_text("numpy==1.26.4\n-r base.txt\n--constraint  'c.txt'\n-r https://x.org/r.txt\n-r ${DIR}/r.txt\n")
    cache = tmp_path / "cache"
    args = [str(req), "-q"]
    (tmp_path / "pyproject.toml").write_text(f'[tool.cnnlint]\ncache-dir = "{cache}"\n')
    assert main(args) == 1
    assert capsys.readouterr().out == (
        f"{req}:2:4: CNL001 [error] cannot read base.txt (named by -r): does not exist, so pip fails on this file\n"
        f"{req}:3:16: CNL001 [error] cannot read c.txt (named by -c): does not exist, so pip fails on this file\n"
    )
    (tmp_path / "base.txt").write_text("torch==2.3.1\n")
    (tmp_path / "c.txt").write_text("")
    assert main(args) == 0  # the cached result depended on the missing files: not reused
    assert capsys.readouterr().out == ""


def test_include_that_is_a_fifo_or_a_folder_is_not_opened(tmp_path, capsys):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "sub").mkdir()
    req = tmp_path / "requirements.txt"
    req.write_text("-c pipe.txt\n-r sub\ntorch==2.3.1\n")
    assert _within(10, main, [str(req), "--no-cache", "-q"]) == 1
    assert capsys.readouterr().out == (
        f"{req}:1:4: CNL001 [error] cannot read pipe.txt (named by -c): not a regular file, so pip fails on this file\n"
        f"{req}:2:4: CNL001 [error] cannot read sub (named by -r): not a regular file, so pip fails on this file\n"
    )


def test_constraints_file_named_on_many_lines_is_read_once(tmp_path, monkeypatch):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: None)
    (tmp_path / "c.txt").write_text("".join(f"pkg{i}==1.0\n" for i in range(5_000)) + "torch==2.3.1\n")
    req = tmp_path / "requirements.txt"
    req.write_text("-c c.txt\n" * 2_000 + "torch\nnumpy\n")
    found = _within(10, main_findings, req)
    assert [(f.line, f.message.split(" ")[0]) for f in found] == [(2_002, "`numpy`")]


# ---------------------------------------------------------------- IPython automagic in notebooks


def _cells(*sources):
    cells = [{"cell_type": "code", "metadata": {}, "source": src} for src in sources]
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5})


def _found(text, path="n.ipynb"):
    return [(f.code, f.cell, f.line, f.column, f.end_column, f.fix is not None)
            for f in lint_text(text, path, select=("CNL001", "CNL401"))]


def test_automagic_install_cell_is_a_shell_line(monkeypatch):
    """`pip install torch` alone in a cell runs `%pip install torch` (automagic is on by default)."""
    monkeypatch.setattr(dependencies, "installed_version", lambda name: {"torch": "2.3.1"}.get(name))
    text = _cells("pip install torch", "\n  conda install numpy  # env", "import torch")
    assert _found(text) == [("CNL401", 1, 1, 13, 18, True), ("CNL401", 2, 2, 17, 22, False)]
    (pinned,) = [f for f in lint_text(text, "n.ipynb", select=("CNL401",)) if f.fix is not None]
    assert (pinned.fix.line, pinned.fix.column, pinned.fix.end_column, pinned.fix.text) == (1, 18, 18, "==2.3.1")


@pytest.mark.parametrize("source, expected", [
    ("pip", []),  # valid Python: a name
    ("cd yolov5", []),  # a magic that runs no install
    ("pip.main(['install', 'torch'])", [("CNL401", 1, 1, 23, 28, False)]),  # Python, seen as a call
    # IPython applies automagic only to a cell of one line: these fail there as here
    ("# deps\npip install torch", [("CNL001", 1, 2, 5, None, False)]),
    ("pip install torch\n\n", [("CNL001", 1, 1, 5, None, False)]),
    ("x = 1\npip install torch", [("CNL001", 1, 2, 5, None, False)]),
])
def test_automagic_only_where_ipython_applies_it(monkeypatch, source, expected):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: None)
    assert _found(_cells(source)) == expected


# ---------------------------------------------------------------- scripts holding IPython syntax

MAGIC_SCRIPT = """\
import torch
%matplotlib inline
!pip install torch
for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
msg = ("%s"
       % 3)
s = '''
!not a magic
'''
"""


def test_script_with_magics_reports_them_once_and_lints_the_rest(monkeypatch):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: {"torch": "2.3.1"}.get(name))
    found = lint_text(MAGIC_SCRIPT, "train.py", select=("CNL001", "CNL201", "CNL401"))
    assert [(f.code, f.line, f.column) for f in found] == [("CNL001", 2, 1), ("CNL401", 3, 14), ("CNL201", 6, 5)]
    assert found[0].message == (
        "IPython syntax `%matplotlib inline` (and 1 more line): plain Python cannot run this file")
    assert found[1].message.endswith("a new release can break this script")


def test_script_with_magics_is_fixed(tmp_path, monkeypatch):
    monkeypatch.setattr(dependencies, "installed_version", lambda name: {"torch": "2.3.1"}.get(name))
    path = tmp_path / "train.py"
    path.write_text(MAGIC_SCRIPT)
    from cnnlint.fix import apply_fixes

    outcome = apply_fixes(lint_text(MAGIC_SCRIPT, str(path)), write=True)
    assert outcome.errors == [] and len(outcome.fixed) == 2
    assert path.read_text() == MAGIC_SCRIPT.replace("install torch", "install torch==2.3.1").replace(
        "loader:\n", "loader:\n    optimizer.zero_grad()\n")


def test_script_with_magics_and_a_real_syntax_error():
    found = lint_text("x = 1\n%time f()\ny = (1,\n", "train.py", select=("CNL001",))
    assert [(f.line, f.message.split(":")[0]) for f in found] == [
        (2, "IPython syntax `%time f()`"), (3, "syntax error")]  # CPython's words differ by version


def test_plain_scripts_are_not_searched_for_magics():
    # `% 3` continues the expression (and is wrong there): the parser still stops at it, no magic
    found = lint_text("x = (1,\n  % 3)\n", "t.py", select=("CNL001",))
    assert [(f.line, f.message.split(":")[0]) for f in found] == [(2, "syntax error")]
    assert lint_text("get_ipython().run_line_magic('matplotlib', 'inline')\nx = 5 % 3\n", "t.py") == []


# ---------------------------------------------------------------- caches are input too


def _limit_memory(nbytes):
    """Cap this process's address space (restored by the caller): a read of /dev/zero then ends
    as a MemoryError in the test instead of taking the machine's memory."""
    import resource

    old = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (nbytes, old[1]))
    return old


def test_lint_cache_that_is_a_symlink_to_dev_zero(tmp_path, capsys):
    import resource

    (tmp_path / "train.py").write_text("x = 1\n")
    (tmp_path / "pyproject.toml").write_text("[tool.cnnlint]\n")  # the cache beside it
    cache = tmp_path / ".cnnlint_cache" / "v1" / "lint.json"
    cache.parent.mkdir(parents=True)
    cache.symlink_to("/dev/zero")
    old = _limit_memory(4 << 30)
    try:
        status = _within(20, main, [str(tmp_path / "train.py"), "-q"])
    finally:
        resource.setrlimit(resource.RLIMIT_AS, old)
    assert (status, capsys.readouterr().err) == (0, "")
    assert not cache.is_symlink() and json.loads(cache.read_text())["entries"]  # rebuilt in its place


@pytest.mark.parametrize("entry", [
    "not a dict",
    {"findings": "nope", "related": {}},
    {"findings": [{"code": 1}], "related": {}},
    {"findings": [], "related": {"a": 5}},
    {"findings": [{"code": "CNL201", "severity": "fatal", "message": "m", "path": "", "line": 1, "column": 1,
                   "end_line": None, "end_column": None, "hint": "", "cell": None, "fix": None}], "related": {}},
    {"findings": [{"code": "CNL201", "severity": "error", "message": "m", "path": "", "line": "1", "column": 1,
                   "end_line": None, "end_column": None, "hint": "", "cell": None, "fix": None}], "related": {}},
], ids=["str", "findings-str", "finding-short", "related-int", "severity", "line-str"])
def test_lint_cache_entries_of_another_shape_are_misses(tmp_path, capsys, entry):
    from cnnlint.lint.cache import LintCache

    path = tmp_path / "train.py"
    path.write_bytes(CR_LOOP.replace("\r", "\n").encode())
    (tmp_path / "pyproject.toml").write_text("[tool.cnnlint]\n")
    assert main([str(path), "-q"]) == 1
    good = capsys.readouterr().out
    cache_file = tmp_path / ".cnnlint_cache" / "v1" / "lint.json"
    doc = json.loads(cache_file.read_text())
    (key,) = doc["entries"]
    doc["entries"][key] = entry
    cache_file.write_text(json.dumps(doc))
    assert main([str(path), "-q"]) == 1
    assert capsys.readouterr() == (good, "")
    assert isinstance(LintCache(str(tmp_path / ".cnnlint_cache")).entries[key], dict)  # the entry rebuilt


def test_lint_cache_larger_than_its_bound_is_ignored(tmp_path, monkeypatch):
    from cnnlint.lint import cache as lint_cache

    folder = tmp_path / "c"
    (folder / "v1").mkdir(parents=True)
    (folder / "v1" / "lint.json").write_text(json.dumps({"version": __version__, "entries": {"k": {}}}))
    assert lint_cache.LintCache(str(folder)).entries == {"k": {}}
    monkeypatch.setattr(lint_cache, "_MAX_BYTES", 10)
    assert lint_cache.LintCache(str(folder)).entries == {}


def test_dataset_cache_symlinks_are_not_followed(tmp_path):
    from cnnlint.dataset.cache import ScanCache
    from cnnlint.dataset.scan import ScanOptions, scan_files
    from fixtures.images import write_image

    files = [(str(tmp_path / f"{i}.png"), str(tmp_path / f"{i}.png")) for i in range(3)]
    for path, _ in files:
        write_image(path, "png")
    folder = tmp_path / "cache"
    (folder / "v1").mkdir(parents=True)
    other = tmp_path / "someone-elses.sqlite"
    sqlite3.connect(str(other)).execute("CREATE TABLE precious (x)").connection.commit()
    (folder / "v1" / "dataset.sqlite").symlink_to(other)
    (folder / "v1" / "dataset.sqlite-wal").symlink_to("/dev/zero")
    cache = ScanCache(str(folder))
    assert len(_within(20, list, scan_files(iter(files), ScanOptions(), cache))) == 3
    cache.close()
    tables = [r[0] for r in sqlite3.connect(str(other)).execute("SELECT name FROM sqlite_master")]
    assert tables == ["precious"]  # never written through the link
    assert not (folder / "v1" / "dataset.sqlite").is_symlink()
    cache = ScanCache(str(folder))
    list(scan_files(iter(files), ScanOptions(), cache))
    assert cache.hits == 3


def test_dataset_cache_rows_of_another_type_are_misses(tmp_path):
    from cnnlint.dataset.cache import ScanCache
    from cnnlint.dataset.scan import ScanOptions, scan_files
    from fixtures.images import write_image

    files = [(str(tmp_path / f"{i}.png"), str(tmp_path / f"{i}.png")) for i in range(3)]
    for path, _ in files:
        write_image(path, "png")
    folder = str(tmp_path / "cache")
    cold = sorted((r.path, r.width, r.findings) for r in scan_files(iter(files), ScanOptions(), ScanCache(folder)))
    db = sqlite3.connect(str(tmp_path / "cache" / "v1" / "dataset.sqlite"))
    db.execute("UPDATE files SET width = 'wide' WHERE real_path = ?", (files[0][1],))
    db.execute("UPDATE files SET findings = '[[1, 2]]' WHERE real_path = ?", (files[1][1],))
    db.commit()
    db.close()
    cache = ScanCache(folder)
    warm = sorted((r.path, r.width, r.findings) for r in scan_files(iter(files), ScanOptions(), cache))
    assert (cache.hits, cache.misses, warm) == (1, 2, cold)
    # the pixel facts too: a layout of another length, statistics half missing, a hash as text
    db = sqlite3.connect(str(tmp_path / "cache" / "v1" / "dataset.sqlite"))
    db.execute("UPDATE files SET layout = x'00' WHERE real_path = ?", (files[0][1],))
    db.execute("UPDATE files SET luma = NULL WHERE real_path = ?", (files[1][1],))
    db.execute("UPDATE files SET phash = 'abc' WHERE real_path = ?", (files[2][1],))
    db.commit()
    db.close()
    cache = ScanCache(folder)
    again = sorted((r.path, r.width, r.findings) for r in scan_files(iter(files), ScanOptions(), cache))
    assert (cache.hits, cache.misses, again) == (0, 3, cold)


def test_search_for_magics_is_bounded(monkeypatch):
    from cnnlint.sources import ipython

    calls = []
    real = ipython._syntax_error_line
    monkeypatch.setattr(ipython, "_syntax_error_line", lambda text: calls.append(len(text)) or real(text))
    text = "".join(f"%time f({i})\n" for i in range(25_000))  # 300 KB of magics
    found = ipython.script_magics(text)
    assert sum(calls) <= ipython._PARSE_BUDGET + len(text)  # the first parse, then the budget
    assert len(found.lines) == len(calls) - 1 == ipython._PARSE_BUDGET // len(text)
    calls.clear()
    assert ipython.script_magics("%time f()\n" + "x = 1\n" * 400_000) is None and calls == []  # 2.4 MB
