"""The command-line habits Ruff's and Black's users bring (issue 21): --statistics, --exit-zero,
--extend-select/--extend-ignore, --show-settings, --output-format, `explain` by name and family,
the baseline's hidden count, --watch."""

import json
import os
import queue
import subprocess
import sys
import threading
import time

import pytest

from conftest import LOOP, run_cli as run

REQS = "torch\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """train.py: CNL201 (error, fixable) and CNL403 (info, with requirements.txt); b.py: CNL201 twice.
    torch counts as installed (2.1.0), so CNL401 has a pin to offer wherever the tests run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("cnnlint.lint.dependencies.installed_version",
                        lambda name: "2.1.0" if name == "torch" else None)
    (tmp_path / "train.py").write_text(LOOP)
    (tmp_path / "b.py").write_text(LOOP + "\n" + LOOP.split("\n", 2)[2])
    (tmp_path / "requirements.txt").write_text(REQS)
    return tmp_path


def _codes_of(out):
    return sorted(line.split(" ")[1] for line in out.splitlines() if ": CNL" in line)


def test_statistics_counts_per_code_most_first(project, capsys):
    status, out, err = run(["--no-cache", "--statistics", "train.py", "requirements.txt"], capsys)
    assert status == 1
    assert out == ("1  CNL201  [*] gradients-never-cleared\n1  CNL401  [*] unpinned-dependency\n"
                   "1  CNL403      framework-version-not-recorded\n")
    assert err == ""


def test_statistics_sorts_by_count(project, capsys):
    status, out, _ = run(["--no-cache", "--statistics", "--select", "CNL201", "."], capsys)
    assert status == 1
    assert out == "3  CNL201  [*] gradients-never-cleared\n"


def test_statistics_of_nothing_is_empty(project, capsys):
    (project / "clean.py").write_text("x = 1\n")
    assert run(["--no-cache", "--statistics", "clean.py"], capsys) == (0, "", "All checks passed (1 file).\n")


def test_exit_zero_with_findings(project, capsys):
    status, out, _ = run(["--no-cache", "--exit-zero", "-q", "--select", "CNL2", "train.py"], capsys)
    assert status == 0
    assert out.startswith("train.py:5:5: CNL201 [error]")
    assert run(["--no-cache", "-q", "--select", "CNL2", "train.py"], capsys)[0] == 1


def test_exit_zero_keeps_2_for_an_error(project, capsys):
    status, _, err = run(["--exit-zero", "--select", "CNL999", "train.py"], capsys)
    assert status == 2 and "unknown rule code or prefix CNL999" in err


def test_extend_ignore_adds_to_the_configuration(project, capsys):
    (project / "pyproject.toml").write_text('[tool.cnnlint]\nignore = ["CNL403"]\n')
    status, out, _ = run(["--no-cache", "-q", "train.py"], capsys)
    assert (status, _codes_of(out)) == (1, ["CNL201"])
    status, out, _ = run(["--no-cache", "-q", "--extend-ignore", "CNL2", "train.py"], capsys)
    assert (status, out) == (0, "")
    # --ignore replaces the file's list: CNL403 comes back
    status, out, _ = run(["--no-cache", "-q", "--ignore", "CNL2", "train.py"], capsys)
    assert (status, _codes_of(out)) == (0, ["CNL403"])


def test_extend_select_adds_to_the_configuration(project, capsys):
    (project / "pyproject.toml").write_text('[tool.cnnlint]\nselect = ["CNL4"]\n')
    status, out, _ = run(["--no-cache", "-q", "train.py"], capsys)
    assert (status, _codes_of(out)) == (0, ["CNL403"])
    status, out, _ = run(["--no-cache", "-q", "--extend-select", "cnl201", "train.py"], capsys)
    assert (status, _codes_of(out)) == (1, ["CNL201", "CNL403"])


def test_extend_select_unknown_code_is_a_usage_error(project, capsys):
    status, out, err = run(["--extend-select", "CNL9", "train.py"], capsys)
    assert (status, out) == (2, "")
    assert err == "cnnlint: error: --extend-select: unknown rule code or prefix CNL9\n"


def test_show_settings_names_each_origin(project, capsys):
    (project / "pyproject.toml").write_text('[tool.cnnlint]\nignore = ["CNL403"]\nmin-class-size = 5\n')
    status, out, err = run(["--show-settings", "--extend-ignore", "CNL2", "--fail-on", "error"], capsys)
    assert (status, err) == (0, "")
    lines = out.splitlines()
    config = str(project / "pyproject.toml")
    assert lines[0] == f"# configuration file: {config}"
    assert lines[1] == f"# root: {project}"
    rows = {line.split(" = ")[0]: line.split(" = ", 1)[1] for line in lines[2:]}
    assert rows["select"].split() == ['["ALL"]', "#", "default"]
    assert rows["ignore"].split() == ['["CNL403",', '"CNL2"]', "#", config, "+", "--extend-ignore"]
    assert rows["min-class-size"].split() == ["5", "#", config]
    assert rows["fail-on"].split() == ['"error"', "#", "--fail-on"]
    assert rows["cache-dir"].split() == ["(not", "set)", "#", "default"]
    from cnnlint.config import setting_keys

    assert list(rows) == setting_keys()


def test_show_settings_without_a_file(project, capsys):
    status, out, _ = run(["--show-settings"], capsys)
    assert status == 0
    assert out.splitlines()[0] == "# configuration file: (none: the defaults)"


def test_output_format_is_the_long_name_of_format(project, capsys):
    status, out, _ = run(["--no-cache", "--output-format", "json", "train.py"], capsys)
    assert status == 1
    assert [f["code"] for f in json.loads(out)["findings"]] == ["CNL403", "CNL201"]


@pytest.mark.parametrize("name", ["gradients-never-cleared", "Gradients-Never-Cleared", "cnl201"])
def test_explain_by_name(name, capsys):
    status, out, _ = run(["explain", name], capsys)
    assert status == 0 and out.startswith("# CNL201: gradients-never-cleared\n")


@pytest.mark.parametrize("family", ["CNL2", "cnl2xx", "CNL2XX"])
def test_explain_a_family_prints_its_pages_in_order(family, capsys):
    from cnnlint.catalog import known_codes

    status, out, _ = run(["explain", family], capsys)
    assert status == 0
    titles = [line.split(":")[0][2:] for line in out.splitlines() if line.startswith("# CNL")]
    assert titles == [c for c in known_codes() if c.startswith("CNL2")]


def test_explain_unknown_name_suggests(capsys):
    status, out, err = run(["explain", "never-cleared"], capsys)
    assert (status, out) == (2, "")
    assert err == ("cnnlint: error: unknown rule 'never-cleared' (did you mean gradients-never-cleared?); "
                   "`cnnlint rules` lists the codes and names\n")


def test_explain_unknown_family(capsys):
    status, _, err = run(["explain", "CNL9xx"], capsys)
    assert status == 2 and err.startswith("cnnlint: error: unknown rule 'CNL9xx';")


def test_baseline_says_how_many_it_hid(project, capsys):
    run(["--write-baseline", "base.json", "b.py"], capsys)
    (project / "c.py").write_text(LOOP)
    status, out, err = run(["--baseline", "base.json", "--select", "CNL2", "b.py", "c.py"], capsys)
    assert status == 1
    assert _codes_of(out) == ["CNL201"] and out.startswith("c.py:5:5: CNL201")
    assert err == "The baseline base.json hid 2 findings.\n"


def test_baseline_hid_one(project, capsys):
    run(["--write-baseline", "base.json", "train.py"], capsys)
    status, out, err = run(["--baseline", "base.json", "--select", "CNL201", "train.py"], capsys)
    assert (status, out) == (0, "")
    assert err == "The baseline base.json hid 1 finding.\nAll checks passed (1 file).\n"


def _reader(stream, lines):
    for line in iter(stream.readline, ""):
        lines.put(line)


def _wait_for(lines, predicate, seen, deadline):
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.05, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if predicate(line):
            return True
    return False


@pytest.mark.parametrize("poll", ["", "1"], ids=["watchfiles-or-poll", "poll"])
def test_watch_runs_again_when_a_file_changes(tmp_path, poll):
    pytest.importorskip("watchfiles") if not poll else None
    (tmp_path / "train.py").write_text("x = 1\n")
    env = dict(os.environ, CNNLINT_WATCH_POLL=poll, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "cnnlint", "--watch", "--no-cache", "-q", "."], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: "queue.Queue[str]" = queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, lines), daemon=True).start()
    seen = []
    try:
        assert _wait_for(lines, lambda line: "for changes" in line, seen, time.monotonic() + 60), seen
        assert seen == ["cnnlint: watching . for changes (Ctrl-C stops)\n"]
        time.sleep(0.3)
        (tmp_path / "train.py").write_text(LOOP)
        assert _wait_for(lines, lambda line: "CNL201" in line, seen, time.monotonic() + 30), seen
        assert any(line.startswith("cnnlint: changed: ") and "train.py" in line for line in seen), seen
        assert seen[-1].startswith("train.py:5:5: CNL201 [error]"), seen
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_server_without_pygls_is_one_line_and_exit_2(tmp_path):
    shim = tmp_path / "shim" / "pygls"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named pygls')\n")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path / "shim"), repo]))
    proc = subprocess.run([sys.executable, "-m", "cnnlint", "server"], capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == ("cnnlint: error: `cnnlint server` needs pygls and lsprotocol (No module named pygls): "
                           "pip install 'cnnlint[server]'\n")
