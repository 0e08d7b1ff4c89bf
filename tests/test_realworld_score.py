"""bench/realworld/score.py's arithmetic and bench/realworld/rebuild.py's layout, on a tiny
synthetic part file and synthetic findings (no network, no real corpus)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "realworld"
sys.path.insert(0, str(BENCH))
rebuild = importlib.import_module("rebuild")
score_mod = importlib.import_module("score")

C1 = "1" * 40
C2 = "2" * 40


@pytest.fixture(autouse=True)
def _placeholder_without_a_code(monkeypatch):
    """A placeholder code whose rule does not exist yet (the real table's all have codes now)."""
    monkeypatch.setitem(score_mod.PLACEHOLDERS, "NEW-EXAMPLE", None)


def _entry(repo, path, labels, commit=C1, kind="script"):
    return {"repo": repo, "commit": commit, "path": path, "framework": "torch", "kind": kind,
            "labels": labels, "labelled": "blind"}


def _lab(code, line=None, why="w"):
    return {"code": code, "line": line, "why": why}


PART = {
    "part": "torch",
    "files": [
        # two labels found, one CNL201 false alarm on top (reported twice: one pair)
        _entry("a/one", "train.py", [_lab("CNL203", 10, "no eval"), _lab("CNL404", 20, "torch.load")]),
        # a placeholder with no code yet (a miss), a mapped placeholder found as CNL203
        _entry("a/one", "nb.ipynb", [_lab("NEW-EXAMPLE", 7, "shuffle=False"),
                                     _lab("NEW-TRAIN-AFTER-EVAL", 9, "eval, never train")], kind="notebook"),
        # a missed CNL203
        _entry("a/one", "val.py", [_lab("CNL203", 5, "dataloaders[phase]")]),
        # clean file: any static finding is a false alarm
        _entry("b/two", "clean.py", [], commit=C2),
        # two CNL402 labels in one file: both found by one reported pair
        _entry("b/two", "old.py", [_lab("CNL402", 3, "dataiter.next()"), _lab("CNL402", 4, "Scale")], commit=C2),
    ],
}

FINDINGS = [
    score_mod.Finding("a+one/train.py", "CNL203", 11, "eval mode"),
    score_mod.Finding("a+one/train.py", "CNL404", 20, "load"),
    score_mod.Finding("a+one/train.py", "CNL201", 30, "never cleared"),
    score_mod.Finding("a+one/train.py", "CNL201", 40, "never cleared"),
    score_mod.Finding("a+one/nb.ipynb", "CNL203", 9, "eval never undone"),
    score_mod.Finding("b+two/clean.py", "CNL404", 2, "load"),
    score_mod.Finding("b+two/clean.py", "CNL512", 1, "dataset code: not scored"),
    score_mod.Finding("b+two/old.py", "CNL402", 3, "removed"),
    score_mod.Finding("b+two/requirements.txt", "CNL401", 1, "context file: not scored"),
    score_mod.Finding("b+two/clean.py", "CNL001", 1, "syntax error"),
]


def _entries(tmp_path, part=PART):
    parts = tmp_path / "parts"
    parts.mkdir(exist_ok=True)
    (parts / "torch.json").write_text(json.dumps(part))
    return rebuild.load_parts(str(parts))


def test_per_rule_arithmetic(tmp_path):
    result = score_mod.score(_entries(tmp_path), FINDINGS)
    rows = {code: (r.labels, r.found, r.missed, r.pairs, r.false_alarms, r.findings)
            for code, r in result.rules.items()}
    assert rows == {
        "CNL201": (0, 0, 0, 1, 1, 2),
        "CNL203": (3, 2, 1, 2, 0, 2),
        "CNL402": (2, 2, 0, 1, 0, 1),
        "CNL404": (1, 1, 0, 2, 1, 2),
        "NEW-EXAMPLE": (1, 0, 1, 0, 0, 0),
    }
    assert result.rules["CNL203"].recall == pytest.approx(2 / 3)
    assert result.rules["CNL203"].precision == 1.0
    assert result.rules["CNL404"].precision == 0.5
    assert result.rules["CNL201"].recall is None and result.rules["CNL201"].precision == 0.0
    assert result.rules["NEW-EXAMPLE"].precision is None and result.rules["NEW-EXAMPLE"].recall == 0.0
    total = result.overall()
    assert (total.labels, total.found, total.missed, total.pairs, total.false_alarms) == (7, 5, 2, 6, 2)
    assert total.recall == pytest.approx(5 / 7) and total.precision == pytest.approx(4 / 6)


def test_misses_false_alarms_and_unreadable_listed(tmp_path):
    result = score_mod.score(_entries(tmp_path), FINDINGS)
    assert [(m.file, m.code, m.line) for m in result.misses] == [
        ("a+one/nb.ipynb", "NEW-EXAMPLE", 7), ("a+one/val.py", "CNL203", 5)]
    assert result.misses[0].why == "[no code yet] shuffle=False"
    assert [(a.file, a.code, a.lines) for a in result.false_alarms] == [
        ("a+one/train.py", "CNL201", ("30", "40")), ("b+two/clean.py", "CNL404", ("2",))]
    assert [(f.file, f.code) for f in result.unreadable] == [("b+two/clean.py", "CNL001")]


def test_unmapped_placeholder_is_scored_once_mapped(tmp_path, monkeypatch):
    monkeypatch.setitem(score_mod.PLACEHOLDERS, "NEW-EXAMPLE", "CNL205")
    findings = FINDINGS + [score_mod.Finding("a+one/nb.ipynb", "CNL205", 7, "shuffle")]
    result = score_mod.score(_entries(tmp_path), findings)
    assert "NEW-EXAMPLE" not in result.rules
    r = result.rules["CNL205"]
    assert (r.labels, r.found, r.false_alarms) == (1, 1, 0)


def test_main_prints_table_and_json(tmp_path, capsys):
    _entries(tmp_path)
    saved = tmp_path / "findings.json"
    saved.write_text(json.dumps({"findings": [f.__dict__ for f in FINDINGS]}))
    assert score_mod.main(["--parts", str(tmp_path / "parts"), "--findings", str(saved)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[2].split() == ["CNL201", "0", "0", "0", "1", "1", "0.00", "-"]
    assert "overall                     7      5      2      6      2  0.67   0.71" in out
    assert "  a+one/nb.ipynb:7: NEW-EXAMPLE: [no code yet] shuffle=False" in out
    assert "  b+two/clean.py:2: CNL404: load" in out
    assert score_mod.main(["--parts", str(tmp_path / "parts"), "--findings", str(saved), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["found"] == 5 and data["overall"]["false_alarms"] == 2
    assert len(data["misses"]) == 2


@pytest.mark.parametrize("bad, message", [
    ({"commit": "abc"}, "`commit` must be 40 lowercase hex digits"),
    ({"kind": "docs"}, "`kind` must be one of"),
    ({"labelled": "after"}, "`labelled` must be \"blind\""),
    ({"path": "../x.py"}, "`path` must stay inside the repository"),
    ({"labels": [{"code": "CNL201", "line": 0}]}, "label `line` must be a positive integer"),
])
def test_bad_part_file_is_a_one_line_error(tmp_path, capsys, bad, message):
    entry = dict(_entry("a/one", "x.py", []), **bad)
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "torch.json").write_text(json.dumps({"part": "torch", "files": [entry]}))
    assert score_mod.main(["--parts", str(parts), "--findings", "unused"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_rebuild_writes_files_context_and_root_marker(tmp_path):
    src = tmp_path / "src"
    (src / "nb" / "deep").mkdir(parents=True)
    (src / "other").mkdir()
    (src / "nb" / "deep" / "train.py").write_text("import torch\n")
    (src / "nb" / "requirements.txt").write_text("torch\n")
    (src / "environment.yml").write_text("name: x\n")
    (src / "other" / "requirements.txt").write_text("numpy\n")
    (src / "README.md").write_text("hi\n")

    def git(*args):
        return subprocess.run(["git", "-C", str(src), *args], check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    commit = git("rev-parse", "HEAD").strip()
    mirrors = tmp_path / "mirror"
    mirrors.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(src), str(mirrors / "o+r" / "repo")], check=True)
    part = {"part": "torch", "files": [_entry("o/r", "nb/deep/train.py", [], commit=commit),
                                        _entry("o/r", "nb/missing.py", [], commit=commit)]}
    entries = _entries(tmp_path, part)
    out = tmp_path / "out"
    problems = rebuild.rebuild(entries, str(out), str(mirrors))
    assert len(problems) == 1 and problems[0].startswith("o+r/nb/missing.py: git failed")
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert written == ["o+r/environment.yml", "o+r/nb/deep/train.py", "o+r/nb/requirements.txt"]
    assert (out / "o+r" / ".git").is_dir()
    assert rebuild.rebuild(entries[:1], str(out), str(tmp_path / "nowhere")) == [
        f"o+r/nb/deep/train.py: no mirror of o/r under {tmp_path / 'nowhere'} (fetch it first)"]


def test_notebook_places_are_shown_as_cnnlint_shows_them(tmp_path, capsys):
    entries = _entries(tmp_path)
    nb = {"cells": [
        {"cell_type": "markdown", "source": ["# title"]},
        {"cell_type": "code", "source": ["import torch\n", "x = 1\n"]},
        {"cell_type": "code", "source": [""]},
        {"cell_type": "code", "source": ["a = 1\n", "b = 2\n", "c = 3\n", "d = 4\n", "e = 5\n",
                                         "f = 6\n", "g = 7\n", "h = 8"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    folder = tmp_path / "rw"
    (folder / "a+one").mkdir(parents=True)
    (folder / "a+one" / "nb.ipynb").write_text(json.dumps(nb))
    locate = score_mod.notebook_locator(str(folder))
    by_key = {e.key: e for e in entries}
    # joined code cells: cell 2 is lines 1-2, the empty cell 3 is skipped, cell 4 is lines 3-10
    assert locate(by_key["a+one/nb.ipynb"], 7) == "cell 4 line 5"
    assert locate(by_key["a+one/nb.ipynb"], 11) is None
    assert locate(by_key["a+one/train.py"], 7) is None
    findings = FINDINGS + [score_mod.Finding("b+two/clean.py", "CNL203", 37, "eval", cell=8)]
    result = score_mod.score(entries, findings, locate)
    assert result.misses[0].cell_line == "cell 4 line 5"
    assert ("b+two/clean.py", "CNL203", ("cell 8 line 37",)) in [(a.file, a.code, a.lines) for a in result.false_alarms]
    out = score_mod.report(result).splitlines()
    assert "  a+one/nb.ipynb:7 (cell 4 line 5): NEW-EXAMPLE: [no code yet] shuffle=False" in out
    assert "  b+two/clean.py:cell 8 line 37: CNL203: eval" in out
