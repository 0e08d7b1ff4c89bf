import json

import pytest

from conftest import LOOP, run_cli as run


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(LOOP)
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\ntorch==2.3.1\nopencv-python\n")
    return tmp_path


def test_write_then_only_new_findings_fail(project, capsys):
    status, out, err = run(["--write-baseline", "base.json"], capsys)
    assert (status, out) == (0, "")
    assert err == "Wrote 2 findings to the baseline base.json.\n"
    doc = json.loads((project / "base.json").read_text())
    assert doc["format"] == 1
    assert sorted((e["code"], e["path"], e["line_text"]) for e in doc["findings"]) == [
        ("CNL201", "train.py", "loss.backward()"),
        ("CNL401", "requirements.txt", "opencv-python"),
    ]
    assert run(["--baseline", "base.json", "-q"], capsys) == (0, "", "")

    # lines moved: still accepted
    (project / "train.py").write_text("# a comment\n\n" + LOOP)
    assert run(["--baseline", "base.json", "-q"], capsys)[0] == 0

    # a second, new defect fails, and only it is reported
    (project / "other.py").write_text(LOOP)
    status, out, _ = run(["--baseline", "base.json", "-q"], capsys)
    assert status == 1
    assert out.splitlines() == [line for line in out.splitlines() if line.startswith("other.py:5:5: CNL201")]
    assert len(out.splitlines()) == 1


def test_identical_lines_are_counted(project, capsys):
    run(["--write-baseline", "base.json"], capsys)
    (project / "train.py").write_text(
        LOOP + "\nfor x, y in loader:\n    loss = criterion(model(x), y)\n    loss.backward()\n    optimizer.step()\n")
    status, out, _ = run(["--baseline", "base.json", "-q", "train.py"], capsys)
    assert status == 1 and len(out.splitlines()) == 1


def test_baseline_paths_are_relative_to_the_baseline_file(project, capsys, monkeypatch):
    (project / "ci").mkdir()
    run(["--write-baseline", "ci/base.json"], capsys)
    entry_paths = sorted(e["path"] for e in json.loads((project / "ci" / "base.json").read_text())["findings"])
    assert entry_paths == ["../requirements.txt", "../train.py"]
    monkeypatch.chdir(project / "ci")
    assert run(["..", "--baseline", "base.json", "-q"], capsys)[0] == 0


@pytest.mark.parametrize(
    "content,message",
    [
        (None, "no such file"),
        ("{broken", "invalid JSON"),
        ('{"format": 9, "findings": []}', "unsupported baseline format 9"),
        ('{"format": 1, "findings": [{"code": "CNL201"}]}', "expected a findings list"),
    ],
)
def test_bad_baseline_is_exit_2(project, capsys, content, message):
    if content is not None:
        (project / "base.json").write_text(content)
    status, out, err = run(["--baseline", "base.json"], capsys)
    assert status == 2 and out == ""
    assert err.startswith("cnnlint: error: --baseline base.json: ") and message in err
