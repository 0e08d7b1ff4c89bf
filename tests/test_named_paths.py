"""Every path named on the command line is accounted for (issue 12, point 5).

A named file whose name does not say what it is is checked by its content, a named image by the
dataset scan; anything else is refused with one error line and exit 2: never "All checks passed
(0 files)". A walked folder still goes by names. `-` reads standard input (--stdin-filename NAME).
"""

import json
import os
import subprocess
import sys

import pytest

from cnnlint.lint.pages import notebook_from_cells
from cnnlint.sources.sniff import sniff
from conftest import LOOP, run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXED = LOOP.replace("loader:\n", "loader:\n    optimizer.zero_grad()\n")
REFUSED = "by its content, not a Python script, notebook, requirements file, conda environment or image"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(args, capsys, stdin=None, monkeypatch=None):
    return run_cli(["--no-cache", *args], capsys, stdin, monkeypatch)


def located(out):
    """`path:line:col: CODE` of each finding line."""
    return [line.split(" [")[0] for line in out.splitlines() if " [" in line and not line.startswith(" ")]


def jpeg(path, size=(8, 8)):
    from PIL import Image

    Image.new("RGB", size, (200, 30, 30)).save(path, "JPEG")


def test_script_without_extension_is_linted(project, capsys):
    (project / "train_script").write_text(LOOP)
    status, out, err = run(["-q", "train_script"], capsys)
    assert (status, located(out), err) == (1, ["train_script:5:5: CNL201"], "")


def test_prose_named_is_refused_with_one_line_and_exit_2(project, capsys):
    (project / "notes.txt").write_text("Remember to pin torch before the next run.\n")
    status, out, err = run(["notes.txt"], capsys)
    assert (status, out) == (2, "")
    assert err == f"cnnlint: error: notes.txt: {REFUSED}\n"


def test_binary_named_is_refused(project, capsys):
    (project / "weights.bin").write_bytes(b"\x00\x01\x02" * 100)
    status, _, err = run(["weights.bin"], capsys)
    assert status == 2
    assert err == ("cnnlint: error: weights.bin: by its content, a binary file: not a Python script, notebook, "
                   "requirements file, conda environment or image\n")


def test_refused_file_does_not_stop_the_others(project, capsys):
    (project / "notes.txt").write_text("just words here\n")
    (project / "train.py").write_text(LOOP)
    status, out, err = run(["-q", "notes.txt", "train.py"], capsys)
    assert (status, located(out)) == (2, ["train.py:5:5: CNL201"])
    assert err == f"cnnlint: error: notes.txt: {REFUSED}\n"


def test_single_image_is_scanned(project, capsys):
    jpeg(project / "photo.jpg")
    status, out, err = run(["photo.jpg"], capsys)
    assert (status, out, err) == (0, "", "All checks passed (1 image).\n")


def test_broken_single_image_gets_its_finding(project, capsys):
    jpeg(project / "photo.jpg")
    data = (project / "photo.jpg").read_bytes()
    (project / "cut.jpg").write_bytes(data[:40])
    status, out, _ = run(["-q", "cut.jpg"], capsys)
    assert status == 1
    assert out.startswith("cut.jpg: CNL501 [error] corrupt JPEG")


def test_image_without_image_name_is_told_by_its_bytes(project, capsys):
    jpeg(project / "photo.jpg")
    (project / "photo.dat").write_bytes((project / "photo.jpg").read_bytes()[:40])
    status, out, _ = run(["-q", "photo.dat"], capsys)
    assert status == 1
    assert out == "photo.dat: CNL501 [error] not a readable image: its header cannot be read\n"


def test_renamed_conda_environment(project, capsys):
    (project / "env-gpu.yaml").write_text("name: gpu\nchannels:\n  - pytorch\ndependencies:\n  - pytorch\n")
    status, out, _ = run(["-q", "--select", "CNL401", "env-gpu.yaml"], capsys)
    assert (status, located(out)) == (1, ["env-gpu.yaml:5:5: CNL401"])


def test_renamed_requirements(project, capsys):
    (project / "deps.txt").write_text("# pinned later\ntorch>=2.0\n--extra-index-url https://example.org/simple\nnumpy\n")
    status, out, _ = run(["-q", "--select", "CNL401", "deps.txt"], capsys)
    assert (status, located(out)) == (1, ["deps.txt:2:1: CNL401", "deps.txt:4:1: CNL401"])


def test_notebook_without_extension(project, capsys):
    (project / "analysis").write_text(notebook_from_cells("import os\n# %%\n!pip install tensorflow\n"))
    status, out, _ = run(["-q", "--select", "CNL401", "analysis"], capsys)
    assert (status, located(out)) == (1, ["analysis:cell 2:1:14: CNL401"])


def test_walked_folder_still_goes_by_names(project, capsys):
    (project / "train_script").write_text(LOOP)
    (project / "env-gpu.yaml").write_text("dependencies:\n  - pytorch\n")
    (project / "notes.txt").write_text("just words\n")
    assert run(["."], capsys) == (0, "", "All checks passed (0 files).\n")


def test_dev_stdin_as_a_pipe_is_refused(project):
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.run([sys.executable, "-m", "cnnlint", "--no-cache", "/dev/stdin"], input=LOOP.encode(),
                          capture_output=True, env=env, cwd=str(project), timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.decode() == (
        "cnnlint: error: /dev/stdin: not a regular file (to check standard input, name it `-` "
        "and give its name with --stdin-filename)\n"
    )


def test_dev_stdin_redirected_from_a_file_is_checked(project):
    (project / "t").write_text(LOOP)
    env = dict(os.environ, PYTHONPATH=ROOT)
    with open(project / "t", "rb") as fh:
        proc = subprocess.run([sys.executable, "-m", "cnnlint", "--no-cache", "-q", "/dev/stdin"], stdin=fh,
                              capture_output=True, env=env, cwd=str(project), timeout=120)
    assert proc.returncode == 1
    assert proc.stdout.decode().startswith("/dev/stdin:5:5: CNL201 [error]")


def test_stdin_named_by_stdin_filename(project, capsys, monkeypatch):
    status, out, err = run(["-q", "-", "--stdin-filename", "src/train.py"], capsys, LOOP.encode(), monkeypatch)
    assert (status, located(out), err) == (1, [f"src{os.sep}train.py:5:5: CNL201"], "")
    assert not (project / "src").exists()


def test_stdin_filename_alone_reads_stdin_and_its_name_decides_the_kind(project, capsys, monkeypatch):
    status, out, _ = run(["-q", "--select", "CNL401", "--stdin-filename", "requirements.txt"], capsys,
                         b"torch\n", monkeypatch)
    assert (status, located(out)) == (1, ["requirements.txt:1:1: CNL401"])


def test_stdin_without_name_is_told_by_content(project, capsys, monkeypatch):
    status, out, _ = run(["-q", "-"], capsys, LOOP.encode(), monkeypatch)
    assert (status, located(out)) == (1, ["-:5:5: CNL201"])
    status, _, err = run(["-"], capsys, b"two words\n", monkeypatch)
    assert (status, err) == (2, f"cnnlint: error: - (standard input): {REFUSED}\n")


def test_fix_stdin_prints_the_fixed_text(project, capsys, monkeypatch):
    (project / "train.py").write_text("x = 1\n")  # the name only names the buffer: the file is not touched
    status, out, err = run(["--fix", "-", "--stdin-filename", "train.py"], capsys, LOOP.encode(), monkeypatch)
    assert status == 0
    assert out == FIXED
    assert err.splitlines()[-1] == "All checks passed (1 file)."
    assert (project / "train.py").read_text() == "x = 1\n"


def test_fix_stdin_with_nothing_to_fix_prints_the_text_as_it_came(project, capsys, monkeypatch):
    status, out, _ = run(["--fix", "-q", "-", "--stdin-filename", "clean.py"], capsys, b"import os\n", monkeypatch)
    assert (status, out) == (0, "import os\n")


def test_diff_stdin(project, capsys, monkeypatch):
    status, out, _ = run(["--diff", "-", "--stdin-filename", "train.py"], capsys, LOOP.encode(), monkeypatch)
    assert status == 1
    assert out.splitlines()[:2] == ["--- a/train.py", "+++ b/train.py"]
    assert "+    optimizer.zero_grad()" in out.splitlines()


def test_stdin_filename_needs_dash_among_paths(project, capsys):
    (project / "train.py").write_text(LOOP)
    status, _, err = run(["--stdin-filename", "x.py", "train.py"], capsys)
    assert (status, err) == (2, "cnnlint: error: --stdin-filename names standard input: add `-` to the paths\n")


def test_json_report_names_the_stdin_file(project, capsys, monkeypatch):
    status, out, _ = run(["--format", "json", "-", "--stdin-filename", "train.py"], capsys, LOOP.encode(), monkeypatch)
    assert status == 1
    doc = json.loads(out)
    assert [(f["path"], f["code"]) for f in doc["findings"]] == [("train.py", "CNL201")]
    assert doc["summary"]["files"] == 1


@pytest.mark.parametrize("data,kind", [
    (b"#!/usr/bin/env python3\nprint(1\n", "python"),  # a shebang: a script, even a broken one
    (b"import os\nx = (\n", "python"),  # code lines: a broken script gets its syntax-error finding
    (b"x = 1\n", "python"),
    (b"", "python"),
    (b"torch==2.3.1\nnumpy>=1.26,<2  # pinned\n-r base.txt\ngit+https://github.com/x/y.git\n", "requirements"),
    (b"name: env\ndependencies:\n  - python=3.11\n", "conda"),
    (b'{"cells": [], "nbformat": 4}', "notebook"),
    (b'{"key": "value"}', None),
    (b"Just a note.\n", None),
    (b"\x89\x00\x00binary", None),
])
def test_sniff(data, kind):
    assert sniff(data).kind == kind


def test_fix_named_script_without_extension_is_fixed_as_python(project, capsys):
    """Its kind comes from its content, not from the name (a nameless manifest would be read as requirements)."""
    (project / "train_script").write_text(LOOP)
    status, _, err = run(["--fix", "train_script"], capsys)
    assert status == 0
    assert (project / "train_script").read_text() == FIXED
    assert err.splitlines()[-1] == "All checks passed (1 file)."
