"""Hostile code-side input (issue 12, point 4): huge requirements files, odd encodings and
line endings, IPython syntax where plain Python is expected, cache files that are traps."""

import time

import pytest

from cnnlint.cli import main
from cnnlint.lint import dependencies
from cnnlint.lint.api import lint_text


def _ranged(n):
    return "".join(f"package-{i}>=1.{i % 10},<2\n" for i in range(n))


def _lint_seconds(text, tries):
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        found = lint_text(text, "requirements.txt", select=("CNL401",))
        best = min(best, time.perf_counter() - start)
    return best, found


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
