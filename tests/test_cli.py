import json
import os
import subprocess
import sys

import pytest

from cnnlint import __version__
from cnnlint.cli import main
from conftest import LOOP, run_cli as run

LOOP_FINDING = "train.py:5:5: CNL201 [error]"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(LOOP)
    (tmp_path / "clean.py").write_text("import os\nprint(os.getcwd())\n")
    return tmp_path


def test_clean_file_exits_0_and_stdout_is_empty(project, capsys):
    status, out, err = run(["clean.py"], capsys)
    assert (status, out) == (0, "")
    assert err == "All checks passed (1 file).\n"


def test_quiet_clean_prints_nothing(project, capsys):
    assert run(["clean.py", "-q"], capsys) == (0, "", "")


def test_text_output(project, capsys):
    status, out, _ = run(["."], capsys)
    assert status == 1
    lines = out.splitlines()
    assert lines[0].startswith(LOOP_FINDING)
    assert lines[1].startswith("  hint: ")
    assert lines[-1] == "Found 1 finding (1 error) in 1 of 2 files."
    assert "\x1b[" not in out  # no colour when not a terminal


def test_json_output(project, capsys):
    status, out, _ = run(["--format", "json"], capsys)
    assert status == 1
    doc = json.loads(out)
    assert doc["version"] == __version__
    [f] = doc["findings"]
    assert set(f) == {"code", "severity", "message", "hint", "path", "line", "column", "end_line", "end_column", "cell"}
    assert (f["code"], f["path"], f["line"], f["column"], f["cell"]) == ("CNL201", "train.py", 5, 5, None)
    assert doc["summary"]["files"] == 2
    assert doc["summary"]["errors"] == 1
    assert doc["summary"]["by_code"] == {"CNL201": 1}


def test_output_file(project, capsys):
    status, out, _ = run(["--output", "report.txt", "-q"], capsys)
    assert status == 1 and out == ""
    assert (project / "report.txt").read_text().startswith(LOOP_FINDING)


def test_output_file_unwritable_is_exit_2(project, capsys):
    status, _, err = run(["-o", str(project / "missing" / "r.txt")], capsys)
    assert status == 2
    assert err.startswith("cnnlint: error: --output ")


@pytest.mark.parametrize(
    "flags,status",
    [
        (["--select", "CNL2"], 1),
        (["--select", "CNL201"], 1),
        (["--select", "CNL1,CNL4"], 0),
        (["--ignore", "CNL201"], 0),
        (["--ignore", "CNL2"], 0),
        (["--select", "CNL2", "--ignore", "CNL201"], 0),
        (["--select", "CNL201", "--ignore", "CNL2"], 1),  # the more specific selector wins
    ],
)
def test_select_ignore(project, capsys, flags, status):
    assert run(["train.py", "-q", *flags], capsys)[0] == status


def test_unknown_code_is_exit_2(project, capsys):
    status, out, err = run(["--select", "CNL999"], capsys)
    assert status == 2 and out == ""
    assert err == "cnnlint: error: --select: unknown rule code or prefix CNL999\n"


def test_usage_error_is_exit_2(project, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--format", "xml"])
    assert exc.value.code == 2


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"cnnlint {__version__}\n"


def test_fail_on(project, capsys):
    (project / "requirements.txt").write_text("torch>=2.0\n")
    assert run(["requirements.txt", "-q"], capsys)[0] == 0  # info only
    assert run(["requirements.txt", "-q", "--fail-on", "info"], capsys)[0] == 1


class TestConfig:
    def test_pyproject_select_and_per_file_ignores(self, project, capsys):
        (project / "pyproject.toml").write_text(
            '[tool.cnnlint]\nignore = ["CNL4"]\n[tool.cnnlint.per-file-ignores]\n"train.py" = ["CNL201"]\n'
        )
        assert run(["-q"], capsys) == (0, "", "")

    def test_flags_override_config(self, project, capsys):
        (project / "pyproject.toml").write_text('[tool.cnnlint]\nselect = ["CNL4"]\n')
        assert run(["-q"], capsys)[0] == 0
        assert run(["-q", "--select", "CNL2"], capsys)[0] == 1

    def test_nearest_pyproject_found_from_subfolder(self, project, capsys):
        (project / "pyproject.toml").write_text('[tool.cnnlint]\nexclude = ["sub/*"]\n')
        sub = project / "sub"
        sub.mkdir()
        (sub / "t.py").write_text(LOOP)
        assert run(["sub", "-q"], capsys)[0] == 0
        assert run(["train.py", "-q"], capsys)[0] == 1

    def test_pyproject_without_table_is_skipped(self, project, capsys):
        inner = project / "inner"
        inner.mkdir()
        (project / "pyproject.toml").write_text('[tool.cnnlint]\nignore = ["CNL201"]\n')
        (inner / "pyproject.toml").write_text('[project]\nname = "x"\n')
        (inner / "t.py").write_text(LOOP)
        assert run(["inner/t.py", "-q"], capsys)[0] == 0

    def test_exclude_applies_to_explicit_files(self, project, capsys):
        (project / "pyproject.toml").write_text('[tool.cnnlint]\nexclude = ["train.py"]\n')
        assert run(["train.py", "-q"], capsys)[0] == 0

    def test_fail_on_in_config(self, project, capsys):
        (project / "pyproject.toml").write_text('[tool.cnnlint]\nfail-on = "error"\n')
        (project / "requirements.txt").write_text("torch\n")
        assert run(["requirements.txt", "-q"], capsys)[0] == 0

    @pytest.mark.parametrize(
        "table,message",
        [
            ('selct = ["CNL2"]', "unknown key 'selct' in [tool.cnnlint]"),
            ('fail_on = "error"', "unknown key 'fail_on' in [tool.cnnlint] (did you mean 'fail-on'?)"),
            ('select = ["CNL777"]', "select: unknown rule code or prefix CNL777"),
            ('fail-on = "fatal"', "fail-on: unknown severity 'fatal'"),
            ('exclude = "a", ', "invalid TOML"),
            ('select = "CNL2"\nignore = [1]', "ignore must be a list of strings"),
        ],
    )
    def test_bad_config_is_one_line_exit_2(self, project, capsys, table, message):
        (project / "pyproject.toml").write_text(f"[tool.cnnlint]\n{table}\n")
        status, out, err = run(["-q"], capsys)
        assert status == 2 and out == ""
        assert err.count("\n") == 1 and message in err and "pyproject.toml" in err

    def test_explicit_config_file(self, project, capsys):
        (project / "cnnlint.toml").write_text('ignore = ["CNL201"]\n')
        assert run(["-q", "--config", "cnnlint.toml"], capsys)[0] == 0
        assert run(["-q", "--config", "nope.toml"], capsys)[0] == 2


class TestWalk:
    def test_skips_venv_git_caches_and_gitignored(self, project, capsys):
        for folder in (".git", "node_modules", "__pycache__", ".ipynb_checkpoints", "myenv", "build_out"):
            (project / folder).mkdir()
            (project / folder / "t.py").write_text(LOOP)
        (project / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
        (project / ".gitignore").write_text("build_out/\n")
        status, out, _ = run(["-q"], capsys)
        assert out.splitlines() == [line for line in out.splitlines() if line.startswith("train.py")]
        assert status == 1

    def test_symlinked_file_linted_once(self, project, capsys):
        os.symlink("train.py", project / "alias.py")
        status, out, _ = run(["-q", "--format", "json"], capsys)
        paths = sorted(f["path"] for f in json.loads(out)["findings"])
        assert paths == ["alias.py", "train.py"]

    def test_walked_folder_ignores_other_file_types(self, project, capsys):
        (project / "notes.txt").write_text("pip install torch\n")
        (project / "image.jpg").write_bytes(b"\xff\xd8\xff")
        (project / "train.py").unlink()
        assert run(["-q"], capsys) == (0, "", "")

    def test_named_files_of_other_types_are_accounted_for(self, project, capsys):
        """Named, they are checked by content (tests/test_named_paths.py) or refused: never a silent pass."""
        (project / "notes.txt").write_text("pip install torch\n")
        (project / "image.jpg").write_bytes(b"\xff\xd8\xff")
        status, out, err = run(["clean.py", "notes.txt", "image.jpg", "-q"], capsys)
        assert status == 2
        assert out == ("image.jpg: CNL501 [error] corrupt JPEG: its header cannot be read: Keras image_dataset_from_directory, "
                   "Keras flow_from_directory, tf.io.decode_image and torchvision ImageFolder fail on it\n")
        assert err == ("cnnlint: error: notes.txt: by its content, not a Python script, notebook, requirements file, "
                       "conda environment or image\n")


class TestSuppression:
    @pytest.mark.parametrize(
        "comment,status",
        [
            ("  # noqa: CNL201", 0),
            ("  # noqa:CNL101,CNL201", 0),
            ("  # cnnlint: ignore[CNL201]", 0),
            ("  # NOQA", 0),
            ("  # noqa: E501", 1),
            ("  # cnnlint: ignore[CNL202]", 1),
        ],
    )
    def test_noqa(self, project, capsys, comment, status):
        (project / "train.py").write_text(LOOP.replace("loss.backward()", "loss.backward()" + comment))
        assert run(["train.py", "-q"], capsys)[0] == status


class TestCache:
    def test_warm_run_reuses_results_and_sees_changes(self, project, capsys):
        assert run(["-q"], capsys)[0] == 1
        cache = project / ".cnnlint_cache" / "v1" / "lint.json"
        assert cache.exists()
        assert (project / ".cnnlint_cache" / ".gitignore").read_text().endswith("*\n")
        entries = json.loads(cache.read_text())["entries"]
        assert len(entries) == 2
        assert run(["-q"], capsys)[1].startswith(LOOP_FINDING)
        (project / "train.py").write_text(LOOP.replace("    loss.backward()", "    optimizer.zero_grad()\n    loss.backward()"))
        assert run(["-q"], capsys) == (0, "", "")

    def test_no_cache_writes_nothing(self, project, capsys):
        run(["-q", "--no-cache"], capsys)
        assert not (project / ".cnnlint_cache").exists()

    def test_corrupt_cache_is_ignored(self, project, capsys):
        folder = project / ".cnnlint_cache" / "v1"
        folder.mkdir(parents=True)
        (folder / "lint.json").write_text("{not json")
        assert run(["-q"], capsys)[1].startswith(LOOP_FINDING)

    def test_cache_dir_setting(self, project, capsys):
        (project / "pyproject.toml").write_text('[tool.cnnlint]\ncache-dir = "elsewhere"\n')
        run(["-q"], capsys)
        assert (project / "elsewhere" / "v1" / "lint.json").exists()


class TestSubcommands:
    def test_rules_lists_every_code(self, capsys):
        from cnnlint.catalog import known_codes

        status, out, _ = run(["rules"], capsys)
        assert status == 0
        for code in known_codes():
            assert f"  {code}  " in out
        assert "CNL2xx training loop" in out

    def test_explain(self, capsys):
        status, out, _ = run(["explain", "cnl201"], capsys)
        assert status == 0 and out.startswith("# CNL201: gradients-never-cleared\n")

    def test_explain_unknown(self, capsys):
        status, out, err = run(["explain", "CNL999"], capsys)
        assert status == 2 and "unknown rule 'CNL999'" in err

    def test_demo_shows_every_founding_rule(self, tmp_path, capsys):
        status, out, _ = run(["demo", str(tmp_path / "demo")], capsys)
        assert status == 0
        for code in ("CNL101", "CNL102", "CNL201", "CNL202", "CNL401"):
            assert f" {code} [" in out, code
        assert sorted(os.listdir(tmp_path / "demo")) == [
            "data", "flowers.ipynb", "requirements.txt", "train_keras.py", "train_torch.py"]

    def test_demo_scans_its_image_folder(self, tmp_path, capsys):
        status, out, _ = run(["demo", str(tmp_path / "demo")], capsys)
        assert status == 0
        from cnnlint.sources.walk import display_path

        data = display_path(str(tmp_path / "demo" / "data"))
        assert f"Dataset {data}/: splits train/, val/; 2 classes; 29 images" in out
        found = sorted(line.split(" [")[0] for line in out.splitlines() if " CNL5" in line and " [" in line)
        assert found == [
            f"{data}/train/.DS_Store: CNL510",
            f"{data}/train/cats/cat_10.jpg: CNL501",
            f"{data}/train/dogs/dog_10.jpg: CNL502",
            f"{data}/val/dogs/dog_13.jpg: CNL509",
        ]
        assert "findings: CNL501 x1, CNL502 x1, CNL509 x1, CNL510 x1" in out


def test_python_dash_m_and_console_script(tmp_path):
    (tmp_path / "t.py").write_text(LOOP)
    proc = subprocess.run([sys.executable, "-m", "cnnlint", "-q", "--no-cache", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stdout.startswith(f"{tmp_path / 't.py'}:5:5: CNL201 [error]")


def test_installed_package_ships_rule_pages(tmp_path):
    """`cnnlint explain` works from an installed wheel (CI installs one; skipped locally without it)."""
    probe = "import cnnlint, os; print(os.path.dirname(cnnlint.__file__))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, env=env)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if where.returncode != 0 or os.path.dirname(where.stdout.strip()) == root:
        if os.environ.get("CI"):
            pytest.fail("cnnlint is not installed as a package in CI")
        pytest.skip("cnnlint is not installed (only the source tree is importable)")
    package = where.stdout.strip()
    assert sorted(os.listdir(os.path.join(package, "rule_pages"))) == sorted(os.listdir(os.path.join(root, "rules")))
    proc = subprocess.run([sys.executable, "-m", "cnnlint", "explain", "CNL401"], cwd=tmp_path, capture_output=True,
                          text=True, env=env)
    assert proc.returncode == 0 and proc.stdout.startswith("# CNL401: ")


def test_requirements_includes_are_followed(project, capsys):
    (project / "requirements.txt").write_text("-r base.txt\nnumpy==1.26.4\n")
    (project / "base.txt").write_text("pillow==10.0.0\nopencv-python\n")
    status, out, _ = run(["requirements.txt", "-q"], capsys)
    assert status == 1
    assert out.startswith("base.txt:2:1: CNL401 [warning] ")
    assert "opencv-python" in out and out.count("\n") == 1


def test_gitignored_folder_named_on_the_command_line_is_linted(project, capsys):
    (project / ".git").mkdir()
    (project / ".gitignore").write_text("out/\n*.tmp.py\n")
    out_dir = project / "out"
    out_dir.mkdir()
    (out_dir / "t.py").write_text(LOOP)
    (out_dir / "x.tmp.py").write_text(LOOP)
    (out_dir / ".gitignore").write_text("skip.py\n")
    (out_dir / "skip.py").write_text(LOOP)
    assert run(["-q"], capsys)[1].splitlines() == list(run(["train.py", "-q"], capsys)[1].splitlines())
    status, out, _ = run(["out", "-q", "--ignore", "CNL403"], capsys)
    assert status == 1
    assert [line.split(":")[0] for line in out.splitlines()] == [os.path.join("out", "t.py"), os.path.join("out", "x.tmp.py")]
