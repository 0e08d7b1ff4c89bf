"""The runtime probe on real fixture scripts (fixtures/probe/): TensorFlow and PyTorch on the CPU.

Each fixture is probed once (module-scoped) and the result shared by the asserts.
"""

import json
import os

import pytest

from cnnlint.cli import main
from cnnlint.probe.runner import Options, probe, render_section, run_child
from probe_helpers import copy_fixture, make_images, need, tree

MiB = 1024 ** 2


def _project(tmp_path_factory, name):
    folder = tmp_path_factory.mktemp(name.split(".")[0])
    make_images(folder)
    script = copy_fixture(name, folder)
    return folder, script


def _probed(tmp_path_factory, name, **options):
    folder, script = _project(tmp_path_factory, name)
    before = tree(folder)
    result = probe(script, Options(timeout=options.pop("timeout", 120), **options), display=name)
    return result, folder, before


@pytest.fixture(scope="module")
def keras_generator(tmp_path_factory):
    need("tensorflow")
    return _probed(tmp_path_factory, "keras_generator.py")


@pytest.fixture(scope="module")
def keras_dataset(tmp_path_factory):
    need("tensorflow")
    return _probed(tmp_path_factory, "keras_dataset.py")


@pytest.fixture(scope="module")
def tape_loop(tmp_path_factory):
    need("tensorflow")
    return _probed(tmp_path_factory, "tape_loop.py")


@pytest.fixture(scope="module")
def torch_loop(tmp_path_factory):
    need("torch")
    return _probed(tmp_path_factory, "torch_loop.py")


@pytest.fixture(scope="module")
def growth(tmp_path_factory):
    need("tensorflow")
    return _probed(tmp_path_factory, "growth.py")


def _check_reached(result, kind, line, sizes):
    assert result.findings == [], [f.message for f in result.findings]
    assert [r.status for r in result.runs] == ["reading", "reading"]
    assert [r.reading["batch_size"] for r in result.runs] == sizes
    for run in result.runs:
        assert run.reading["kind"] == kind
        assert run.reading["line"] == line
        assert run.rss_peak > 100 * MiB  # a framework was imported and ran: never a zero
        assert run.reading["device"] == "cpu"
    assert result.device == "cpu"
    assert "No GPU: the figures are host memory." in render_section(result)


@pytest.mark.parametrize("fixture,kind,line", [
    ("keras_generator", "keras-fit", 20),
    ("keras_dataset", "keras-fit", 15),
    ("tape_loop", "train-step", 31),
    ("torch_loop", "torch-step", 26),
])
def test_fixture_reaches_its_first_steps_and_writes_nothing(fixture, kind, line, request):
    result, folder, before = request.getfixturevalue(fixture)
    _check_reached(result, kind, line, [8, 16])
    # checkpoints, saved models, TensorBoard logs and the "done" marker come after training: never written
    assert tree(folder) == before


def test_keras_json_record(keras_generator):
    result, _, _ = keras_generator
    doc = result.to_json()
    assert doc["memory"] == "host"
    assert [r["batch_size"] for r in doc["runs"]] == [8, 16]
    assert [r["requested_batch_size"] for r in doc["runs"]] == [None, 16]
    assert all(r["peak_rss"] > 100 * MiB for r in doc["runs"])
    assert doc["seconds"] > 0
    json.dumps(doc)


def test_tensorflow_reports_its_host_allocator_peak(tape_loop):
    result, _, _ = tape_loop
    assert all(r.reading["tf_host_peak"] > 0 for r in result.runs)


def test_shape_mismatch_is_cnl701_at_the_fit_line(tmp_path_factory):
    need("tensorflow")
    result, folder, before = _probed(tmp_path_factory, "shape_mismatch.py")
    assert [(f.code, f.line, f.cell) for f in result.findings] == [("CNL701", 14, None)]
    message = result.findings[0].message
    assert message.startswith("the dry run raised ValueError: ")
    assert "incompatible" in message and "\x1b" not in message
    assert len(result.runs) == 1 and result.runs[0].status == "crashed"
    assert tree(folder) == before


def test_growth_gives_a_batch_size_estimate(growth):
    result, folder, before = growth
    assert result.findings == []
    assert result.line is not None and result.measure == "peak_rss", render_section(result)
    assert result.line.per_sample > 1 * MiB  # two 32-channel 128x128 activations per sample
    assert result.largest is None  # no GPU and no --gpu-memory: no target
    assert result.t4_largest is not None and result.t4_largest % 8 == 0 and result.t4_largest > 16
    text = render_section(result)
    assert f"Colab T4 (15 GiB) estimate from host memory: batch size {result.t4_largest}" in text
    assert tree(folder) == before


def test_three_times_the_batch_lands_on_the_fitted_line(growth):
    result, folder, _ = growth
    run = run_child(os.path.join(str(folder), "growth.py"), 48, Options(timeout=120))
    assert run.status == "reading" and run.reading["batch_size"] == 48
    predicted = result.line.predict(48)
    print(f"3x batch: predicted {predicted / MiB:.1f} MiB, measured {run.rss_peak / MiB:.1f} MiB")
    assert abs(run.rss_peak - predicted) <= 0.2 * predicted


def test_gpu_memory_flag_gives_a_target_and_cnl702(growth, tmp_path_factory):
    """With --gpu-memory on a machine without a GPU, the estimate uses host memory and says so."""
    result, folder, _ = growth
    small = probe(os.path.join(str(folder), "growth.py"), Options(timeout=120, gpu_memory=600 * MiB), display="growth.py")
    assert [f.code for f in small.findings] == ["CNL702"]
    assert "estimated from host memory" in small.findings[0].message
    assert small.findings[0].line == 16


def test_forever_times_out_with_cnl703_at_the_loop(tmp_path):
    script = copy_fixture("forever.py", tmp_path)
    result = probe(script, Options(timeout=3), display="forever.py")
    assert [(f.code, f.line) for f in result.findings] == [("CNL703", 7)]
    assert "timed out after 3 s" in result.findings[0].message
    assert result.runs[0].seconds < 10


def test_notebook_cells_magics_and_drive_mount(tmp_path):
    nb = copy_fixture("colab_crash.ipynb", tmp_path)
    result = probe(nb, Options(timeout=60), display="colab_crash.ipynb")
    assert [(f.code, f.cell, f.line) for f in result.findings] == [("CNL701", 4, 3)]
    assert result.findings[0].message == "the dry run raised IndexError: list index out of range"
    assert [(s["cell"], s["line"], s["text"]) for s in result.skipped] == [
        (1, 1, "!pip install -q tensorflow==2.16.1"), (1, 2, "%matplotlib inline"),
        (3, 1, "%%bash"), (3, 2, "ls /content/drive")]
    assert "skipped" in result.runs[0].log_tail  # drive.mount was stubbed
    assert not (tmp_path / "should_not_exist.txt").exists()
    assert "Skipped notebook lines: cell 1 line 1: !pip install" in render_section(result)


def test_download_is_refused_and_named(tmp_path):
    script = copy_fixture("download.py", tmp_path)
    result = probe(script, Options(timeout=60), display="download.py")
    [finding] = result.findings
    assert (finding.code, finding.line) == ("CNL701", 4)
    assert "https://example.com/weights/resnet50.h5" in finding.message
    assert "--allow-network" in finding.hint
    assert not (tmp_path / "resnet50.h5").exists()


LOOPBACK = """
import socket, threading
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
threading.Thread(target=lambda: server.accept(), daemon=True).start()
socket.create_connection(server.getsockname(), timeout=5).close()
print("loopback ok")
"""


def test_loopback_is_allowed_and_a_finished_script_is_cnl703(tmp_path):
    script = tmp_path / "local.py"
    script.write_text(LOOPBACK)
    result = probe(str(script), Options(timeout=60), display="local.py")
    assert [(f.code, f.line) for f in result.findings] == [("CNL703", 0)]
    assert "finished without reaching a training step" in result.findings[0].message
    assert "loopback ok" in result.runs[0].log_tail


def test_exit_without_report_is_one_finding_not_a_traceback(tmp_path):
    script = tmp_path / "dies.py"
    script.write_text("import os\nos._exit(3)\n")
    result = probe(str(script), Options(timeout=60), display="dies.py")
    assert [(f.code, f.message) for f in result.findings] == [
        ("CNL701", "the dry run exited with status 3 before reporting")]


def test_oom_killer_is_reported_as_such(tmp_path):
    script = tmp_path / "killed.py"
    script.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    result = probe(str(script), Options(timeout=60), display="killed.py")
    [finding] = result.findings
    assert finding.code == "CNL702"
    assert "killed by SIGKILL without reporting, most likely by the kernel's out-of-memory killer" in finding.message


# ------------------------------------------------------------------ command line

def test_cli_probe_json_and_stderr_notice(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    nb = copy_fixture("colab_crash.ipynb", tmp_path)
    status = main([nb, "--probe", "--no-cache", "--format", "json", "--probe-timeout", "60"])
    out, err = capsys.readouterr()
    assert status == 1
    doc = json.loads(out)
    assert [f["code"] for f in doc["findings"]] == ["CNL701"]
    assert doc["probe"][0]["runs"][0]["status"] == "crashed"
    assert "--probe executes" in err and "runs for real" in err
    assert "Traceback" not in out + err


def test_without_probe_nothing_executes(tmp_path, capsys):
    script = tmp_path / "train.py"
    script.write_text("open('executed.txt', 'w').write('x')\n")
    main([str(script), "--no-cache"])
    assert not (tmp_path / "executed.txt").exists()


def test_probe_refused_under_pre_commit(tmp_path, capsys, monkeypatch):
    script = tmp_path / "train.py"
    script.write_text("open('executed.txt', 'w').write('x')\n")
    monkeypatch.setenv("PRE_COMMIT", "1")
    assert main([str(script), "--probe", "--no-cache"]) == 2
    assert "does not run in the pre-commit hook" in capsys.readouterr().err
    assert not (tmp_path / "executed.txt").exists()


def test_probe_skipped_when_its_codes_are_not_selected(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PRE_COMMIT", raising=False)
    script = tmp_path / "train.py"
    script.write_text("open('executed.txt', 'w').write('x')\n")
    assert main([str(script), "--probe", "--no-cache", "--ignore", "CNL7"]) == 0
    assert not (tmp_path / "executed.txt").exists()
    assert "--probe executes" not in capsys.readouterr().err


def test_probe_refusal_comes_before_linting(tmp_path, capsys, monkeypatch):
    import cnnlint.lint.runner

    monkeypatch.setenv("PRE_COMMIT", "1")
    monkeypatch.setattr(cnnlint.lint.runner, "lint_targets", lambda *a, **k: pytest.fail("linted first"))
    (tmp_path / "train.py").write_text("x = 1\n")
    assert main([str(tmp_path / "train.py"), "--probe", "--no-cache"]) == 2


def test_folders_are_not_probed(tmp_path, capsys):
    (tmp_path / "train.py").write_text("open('executed.txt', 'w').write('x')\n")
    assert main([str(tmp_path), "--probe", "--no-cache"]) == 2
    assert "folders are not probed" in capsys.readouterr().err
    assert not (tmp_path / "executed.txt").exists()


def test_hook_manifest_cannot_pass_probe():
    import yaml
    from conftest import ROOT

    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as fh:
        hooks = yaml.safe_load(fh)
    for hook in hooks:
        assert "--probe" not in hook["entry"] and "--probe" not in " ".join(hook.get("args", []))


@pytest.mark.parametrize("argv,message", [
    (["--gpu-memory", "lots"], "cannot read the size 'lots'"),
    (["--probe-timeout", "0"], "must be more than 0 seconds"),
])
def test_bad_probe_flags(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["x.py", *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_the_harness_imports_no_framework_itself(tmp_path):
    """Patches go in by import hook: a script that imports nothing gets no TensorFlow or torch loaded."""
    script = tmp_path / "mods.py"
    script.write_text("import sys\nprint('loaded:', sorted(m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules))\n")
    run = run_child(str(script), None, Options(timeout=60))
    assert "loaded: []" in run.log_tail


def test_every_fit_is_probed_and_saving_between_them_is_a_noop(tmp_path):
    need("tensorflow")
    script = copy_fixture("two_fits.py", tmp_path)
    before = tree(tmp_path)
    run = run_child(script, None, Options(timeout=120))
    assert run.status == "reading"
    assert [(r["kind"], r["line"], r["batch_size"]) for r in run.report["readings"]] == [
        ("keras-fit", 12, 8), ("keras-fit", 16, 8)]
    assert "keras.Model.save" in run.report["saves_suppressed"]
    assert tree(tmp_path) == before  # neither saved model nor done.txt


def test_allow_network_lifts_the_refusal(tmp_path):
    script = copy_fixture("download.py", tmp_path)
    run = run_child(script, None, Options(timeout=60, allow_network=True))
    assert run.report.get("network_refused") == []
    assert "refused a network connection" not in json.dumps(run.report)


def test_interrupting_cnnlint_kills_the_child(tmp_path, monkeypatch):
    import time as time_module

    from cnnlint.probe import runner

    script = tmp_path / "spin.py"
    script.write_text("import os, time\nopen('pid', 'w').write(str(os.getpid()))\nwhile True:\n    time.sleep(0.01)\n")
    real_sleep = time_module.sleep

    def sleep(seconds):
        real_sleep(seconds)
        if (tmp_path / "pid").exists() and (tmp_path / "pid").read_text():
            raise KeyboardInterrupt

    monkeypatch.setattr(runner.time, "sleep", sleep)
    with pytest.raises(KeyboardInterrupt):
        run_child(str(script), None, Options(timeout=60))
    monkeypatch.undo()
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
