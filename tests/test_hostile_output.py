"""Reports stay valid and are written safely whatever the file names (issue 12, point 4).

A file name that is not valid UTF-8 (`bad\\xff.py`) is written as git writes it in text output,
as a `\\udcff` escape in JSON, percent-encoded in SARIF URIs; `-o` and `--write-baseline` write
atomically; an unexpected internal error is one line and exit 2.
"""

import json
import os
import subprocess
import sys

import pytest

from cnnlint.cli import main
from cnnlint.report.paths import escape_text, json_safe, quote_path
from conftest import LOOP

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAD = "bad\udcff.py"  # the bytes b"bad\xff.py", as Python decodes them
MESSAGE_START = "`optimizer.step()` runs every iteration of this loop"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / BAD).write_text(LOOP)
    return tmp_path


def cli(args, cwd):
    """cnnlint in a child whose stdout is strict UTF-8 (as in a UTF-8 locale): (status, stdout bytes, stderr)."""
    env = dict(os.environ, PYTHONPATH=ROOT, PYTHONIOENCODING="utf-8:strict", LC_ALL="C.UTF-8")
    proc = subprocess.run([sys.executable, "-m", "cnnlint", "--no-cache", *args], cwd=str(cwd), env=env,
                          capture_output=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def test_quoting_helpers():
    assert quote_path("train.py") == "train.py"
    assert quote_path("a b/ü.py") == "a b/ü.py"  # valid UTF-8 and no special character: as it is
    assert quote_path(BAD) == '"bad\\377.py"'
    assert quote_path('n\nl "q"\\.py') == '"n\\nl \\"q\\"\\\\.py"'
    assert escape_text("in bad\udcff.py: x") == "in bad\\377.py: x"
    assert json.loads(json_safe(json.dumps({"p": BAD}, ensure_ascii=False))) == {"p": BAD}


def test_text_output_quotes_the_path_as_git_does(project):
    status, out, err = cli(["."], project)
    assert status == 1, err
    assert out.decode("utf-8").startswith(f'"bad\\377.py":5:5: CNL201 [error] {MESSAGE_START}')
    assert "Traceback" not in err


def test_json_output_is_valid_utf8_json_and_gives_the_bytes_back(project):
    status, out, err = cli(["--format", "json", "."], project)
    assert status == 1, err
    doc = json.loads(out.decode("utf-8"))  # strict UTF-8: the bytes decode, the JSON parses
    [finding] = doc["findings"]
    assert b'"path": "bad\\udcff.py"' in out
    assert os.fsencode(finding["path"]) == b"bad\xff.py"


def test_sarif_uri_is_percent_encoded(project):
    status, out, err = cli(["--format", "sarif", "."], project)
    assert status == 1, err
    doc = json.loads(out.decode("utf-8"))
    [result] = doc["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "bad%FF.py", "uriBaseId": "%SRCROOT%"}
    assert "Traceback" not in err
    jsonschema = pytest.importorskip("jsonschema")
    with open(os.path.join(ROOT, "tests", "fixtures", "sarif-2.1.0.schema.json"), encoding="utf-8") as fh:
        schema = json.load(fh)
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(doc)] == []


def test_github_output_escapes_the_bytes(project):
    status, out, err = cli(["--format", "github", "."], project)
    assert status == 1, err
    assert out.decode("utf-8").startswith("::error file=bad\\377.py,line=5,col=5,endLine=5,endColumn=20,title=CNL201::")


def test_diff_quotes_the_path_as_git_does(project):
    status, out, err = cli(["--diff", "."], project)
    assert status == 1, err
    assert out.decode("utf-8").splitlines()[:2] == ['--- "a/bad\\377.py"', '+++ "b/bad\\377.py"']


def test_output_file_replaces_the_old_report_whole(project, capsys):
    report = project / "report.json"
    report.write_text("old report\n")
    os.chmod(report, 0o640)
    assert main(["--no-cache", "--format", "json", "-o", str(report), "."]) == 1
    doc = json.loads(report.read_bytes().decode("utf-8"))
    assert os.fsencode(doc["findings"][0]["path"]) == b"bad\xff.py"
    assert oct(os.stat(report).st_mode & 0o777) == oct(0o640)
    assert sorted(os.listdir(project)) == [BAD, "report.json"]  # nothing left beside it


def test_output_file_left_untouched_when_writing_fails(project, capsys, monkeypatch):
    report = project / "report.txt"
    report.write_text("old report\n")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    status = main(["--no-cache", "-o", str(report), "."])
    _, err = capsys.readouterr()
    assert status == 2
    assert err == f"cnnlint: error: --output {report}: No space left on device\n"
    assert report.read_text() == "old report\n"
    assert sorted(os.listdir(project)) == [BAD, "report.txt"]


def test_output_to_a_device_is_written_not_replaced(project, capsys):
    assert main(["--no-cache", "-o", os.devnull, "."]) == 1
    assert os.path.exists(os.devnull) and not os.path.isfile(os.devnull)


def test_write_baseline_with_such_a_name(project, capsys):
    assert main(["--no-cache", "--write-baseline", "baseline.json", "."]) == 0
    _, err = capsys.readouterr()
    assert err == "Wrote 1 finding to the baseline baseline.json.\n"
    assert sorted(os.listdir(project)) == [BAD, "baseline.json"]  # no .tmp left behind
    doc = json.loads((project / "baseline.json").read_bytes().decode("utf-8"))
    assert os.fsencode(doc["findings"][0]["path"]) == b"bad\xff.py"
    assert main(["--no-cache", "--baseline", "baseline.json", "."]) == 0  # the entry matches the file


def test_write_baseline_failure_leaves_nothing(project, capsys, monkeypatch):
    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    assert main(["--no-cache", "--write-baseline", "baseline.json", "."]) == 2
    _, err = capsys.readouterr()
    assert err == "cnnlint: error: --write-baseline baseline.json: No space left on device\n"
    assert os.listdir(project) == [BAD]


def test_unexpected_internal_error_is_one_line_and_exit_2(project, capsys, monkeypatch):
    import cnnlint.report.text as text

    def broken(*args, **kwargs):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(text, "render_text", broken)
    monkeypatch.delenv("CNNLINT_TRACEBACK", raising=False)
    assert main(["--no-cache", "."]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("cnnlint: error: internal error: RuntimeError: boom second line (in test_hostile_output.py:")
    assert err.endswith("); please report it\n")
