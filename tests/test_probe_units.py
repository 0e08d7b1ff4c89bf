"""The probe's pieces without a framework: sizes, the fitted line, readings from a faked GPU API,
the findings from faked child runs (the GPU path: no GPU is needed to run these)."""

import sys
import types

import pytest

from cnnlint.findings import Severity
from cnnlint.probe import measure, runner, scaling
from cnnlint.probe.guard import is_loopback
from cnnlint.probe.harness import State, count_fit_sites
from cnnlint.sizes import parse_size
from cnnlint.probe.runner import ChildRun, Options, probe, render_section

GiB, MiB = scaling.GIB, scaling.MIB


@pytest.mark.parametrize("text,expected", [
    ("15GiB", 15 * GiB), ("15 GiB", 15 * GiB), ("16GB", 16 * 10 ** 9), ("8000MiB", 8000 * MiB),
    ("1.5gib", int(1.5 * GiB)), ("40", 40 * GiB), ("24G", 24 * 10 ** 9),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text,message", [
    ("lots", "cannot read the size 'lots'"), ("15XB", "unknown unit 'XB'"), ("100KB", "too small"),
])
def test_parse_size_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_size(text)


def test_fit_line_takes_the_largest_pairwise_slope():
    line = scaling.fit_line([(8, 1000.0), (16, 1800.0), (32, 3000.0)])
    assert line.per_sample == 100.0 and line.fixed == 200.0  # 8->16, not 16->32 (75/sample)
    assert scaling.fit_line([(8, 1000.0)]) is None
    assert scaling.fit_line([(8, 1000.0), (16, 990.0)]) is None


def test_largest_batch_rounds_down_to_a_multiple_of_8():
    line = scaling.Line(fixed=1 * GiB, per_sample=100 * MiB)
    # 15 GiB * 0.9 = 13.5 GiB; less 0.5 GiB context and 1 GiB fixed = 12 GiB = 122.88 samples -> 120
    assert scaling.largest_batch(line, 15 * GiB, 512 * MiB) == 120
    assert scaling.largest_batch(scaling.Line(0, 2 * GiB), 15 * GiB, 512 * MiB) == 6  # below 8: exact
    assert scaling.largest_batch(scaling.Line(14 * GiB, MiB), 15 * GiB) == 0


# ------------------------------------------------------------------ readings from faked device APIs

def _fake_tf(gpus, info):
    calls = []

    def get_memory_info(device):
        calls.append(("info", device))
        return info

    def reset_memory_stats(device):
        calls.append(("reset", device))

    experimental = types.SimpleNamespace(get_memory_info=get_memory_info, reset_memory_stats=reset_memory_stats,
                                         get_device_details=lambda d: {"device_name": "Tesla T4"})
    config = types.SimpleNamespace(list_physical_devices=lambda kind=None: list(gpus), experimental=experimental)
    return types.SimpleNamespace(config=config), calls


def test_tf_gpu_reading_and_reset():
    tf, calls = _fake_tf(["GPU:0"], {"current": 1 * GiB, "peak": 3 * GiB})
    measure.tf_reset(tf)
    assert measure.tf_reading(tf) == {"device": "gpu", "device_name": "Tesla T4", "gpu_peak": 3 * GiB}
    assert calls == [("reset", "GPU:0"), ("info", "GPU:0")]


def test_tf_cpu_peak_is_read_above_the_allocation_at_reset():
    tf, calls = _fake_tf([], {"current": 100 * MiB, "peak": 350 * MiB})
    baseline = measure.tf_reset(tf)
    assert baseline == 100 * MiB
    assert measure.tf_reading(tf, baseline) == {"device": "cpu", "tf_host_peak": 250 * MiB}
    assert calls[0] == ("reset", "CPU:0")


def test_tf_zero_is_not_a_measurement():
    tf, _ = _fake_tf([], {"current": 0, "peak": 0})
    assert measure.tf_reading(tf) == {"device": "cpu", "tf_host_peak": None}
    tf, _ = _fake_tf(["GPU:0"], {"current": 0, "peak": 0})
    assert measure.tf_reading(tf)["gpu_peak"] is None


def _fake_torch(available=True, allocated=0, reserved=0, free=10 * GiB, total=16 * GiB, current_reserved=0):
    cuda = types.SimpleNamespace(
        is_available=lambda: available,
        max_memory_allocated=lambda *a: allocated,
        max_memory_reserved=lambda *a: reserved,
        memory_reserved=lambda *a: current_reserved,
        mem_get_info=lambda *a: (free, total),
        get_device_properties=lambda i: types.SimpleNamespace(name="NVIDIA A100", total_memory=total),
    )
    return types.SimpleNamespace(cuda=cuda)


def test_torch_cpu_only_gives_nothing():
    assert measure.torch_reading(_fake_torch(available=False)) == {}
    assert measure.torch_reading(_fake_torch(available=True, allocated=0)) == {}  # model stayed on the CPU


def test_torch_gpu_reading_with_cuda_context():
    torch = _fake_torch(allocated=3 * GiB, reserved=4 * GiB, free=11 * GiB, total=16 * GiB, current_reserved=4 * GiB)
    r = measure.torch_reading(torch)
    assert r == {"device": "gpu", "torch_allocated_peak": 3 * GiB, "gpu_peak": 4 * GiB,
                 "device_name": "NVIDIA A100", "gpu_total": 16 * GiB, "cuda_context": 1 * GiB}


def test_child_reading_merges_faked_frameworks(tmp_path, monkeypatch):
    tf, _ = _fake_tf(["GPU:0"], {"current": GiB, "peak": 2 * GiB})
    torch = _fake_torch(allocated=0)
    monkeypatch.setitem(sys.modules, "tensorflow", tf)
    monkeypatch.setitem(sys.modules, "torch", torch)
    state = State(str(tmp_path / "r.json"), str(tmp_path / "train.py"), 64)
    r = state.reading("keras-fit", {"line": 12, "cell": None}, 64, 32)
    assert r["device"] == "gpu" and r["gpu_peak"] == 2 * GiB and r["gpu_total"] == 16 * GiB
    assert r["batch_size"] == 64 and r["script_batch_size"] == 32 and r["line"] == 12
    assert r["vm_hwm"] > 0


# ------------------------------------------------------------------ the parent's findings from faked runs

def _gpu_run(batch, peak, requested=None, context=600 * MiB, total=16 * GiB):
    reading = {"kind": "torch-step", "batch_size": batch, "script_batch_size": 32, "line": 40, "cell": None,
               "device": "gpu", "device_name": "Tesla T4", "gpu_peak": peak, "gpu_total": total,
               "cuda_context": context}
    return ChildRun(requested, "reading", {"status": "reading", "readings": [reading]}, 0, 900 * MiB, 1.0)


def _fake_children(monkeypatch, runs):
    queue = list(runs)
    asked = []

    def run_child(script, batch_size, options):
        asked.append(batch_size)
        return queue.pop(0)

    monkeypatch.setattr(runner, "run_child", run_child)
    return asked


def test_gpu_path_fits_and_estimates(monkeypatch):
    asked = _fake_children(monkeypatch, [_gpu_run(32, 4 * GiB), _gpu_run(64, 7 * GiB, 64)])
    result = probe("train.py", Options(), display="train.py")
    assert asked == [None, 64]
    assert result.findings == []
    assert result.device == "gpu" and result.target == 16 * GiB and result.context == 600 * MiB
    assert result.line.per_sample == 3 * GiB / 32 and result.line.fixed == 1 * GiB
    # 16 GiB * 0.9 - 0.586 GiB - 1 GiB = 12.81 GiB / 96 MiB = 136.7 -> 136
    assert result.largest == 136
    assert result.t4_largest is None
    text = render_section(result)
    assert "GPU peak 4.00 GiB" in text and "Largest batch size that fits 16.00 GiB (Tesla T4): 136" in text
    assert result.to_json()["memory"] == "gpu"


def test_gpu_path_cnl702_when_the_script_batch_does_not_fit(monkeypatch):
    _fake_children(monkeypatch, [_gpu_run(32, 4 * GiB), _gpu_run(64, 7 * GiB, 64)])
    result = probe("train.py", Options(gpu_memory=4 * GiB), display="train.py")
    [finding] = result.findings
    assert (finding.code, finding.severity, finding.line) == ("CNL702", Severity.ERROR, 40)
    assert finding.message == ("batch size 32 needs 4.00 GiB (measured) plus 600.0 MiB of CUDA context, more "
                               "than the 4.00 GiB (--gpu-memory) target; the largest batch size that fits is 16")
    # 4 GiB * 0.9 - 600 MiB - 1 GiB = 2062 MiB / 96 MiB per sample = 21.5 -> 16
    assert finding.hint == "lower the batch size to 16"


def test_oom_exception_is_cnl702(monkeypatch):
    crashed = ChildRun(None, "crashed", {"status": "crashed", "readings": [], "error": {
        "type": "OutOfMemoryError", "message": "CUDA out of memory. Tried to allocate 2.00 GiB", "line": 51,
        "cell": None, "oom": True}}, 0, None, 1.0)
    _fake_children(monkeypatch, [crashed])
    result = probe("train.py", Options(), display="train.py")
    assert [(f.code, f.line) for f in result.findings] == [("CNL702", 51)]
    assert "ran out of memory at batch size the script's own: OutOfMemoryError" in result.findings[0].message


def test_second_run_failure_is_a_note_not_a_finding(monkeypatch):
    killed = ChildRun(64, "killed", {}, -9, None, 1.0)
    _fake_children(monkeypatch, [_gpu_run(32, 4 * GiB), killed])
    result = probe("train.py", Options(), display="train.py")
    assert result.findings == [] and result.line is None
    assert result.notes == ["the run at batch size 64 did not reach a training step (killed by SIGKILL, most "
                            "likely the kernel's out-of-memory killer); no batch-size estimate"]


def test_batch_size_that_could_not_be_changed(monkeypatch):
    _fake_children(monkeypatch, [_gpu_run(32, 4 * GiB), _gpu_run(32, 4 * GiB, 64)])
    result = probe("train.py", Options(), display="train.py")
    assert result.line is None
    assert "could not be changed to 64 (it ran at 32)" in result.notes[0]


# ------------------------------------------------------------------ small helpers

@pytest.mark.parametrize("host,expected", [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.1.1", True), (None, True), ("", True),
    ("example.com", False), ("10.0.0.1", False), ("8.8.8.8", False), ("storage.googleapis.com", False),
])
def test_is_loopback(host, expected):
    assert is_loopback(host) is expected


def test_count_fit_sites():
    assert count_fit_sites("model.fit(x)\nmodel.fit_generator(g)\nscaler.fit_transform(x)\n") == 2
    assert count_fit_sites("def (:\n") == 0


def test_need_fails_in_ci_and_skips_outside(monkeypatch):
    from probe_helpers import need

    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no_such_framework_xyz is required in CI"):
        need("no_such_framework_xyz")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        need("no_such_framework_xyz")
    need("json")  # installed: nothing happens


def test_frameworks_skip_in_ci_only_in_a_run_without_them(monkeypatch):
    """.ci/run's other Python versions set CNNLINT_TEST_NO_FRAMEWORKS=1: a missing framework skips
    there, saying why; any other missing module still fails in CI."""
    import importlib.util

    from conftest import need_framework

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("CNNLINT_TEST_NO_FRAMEWORKS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="torch is required in CI"):
        need_framework("torch")
    monkeypatch.setenv("CNNLINT_TEST_NO_FRAMEWORKS", "1")
    with pytest.raises(pytest.skip.Exception, match=r"torch is not installed \(CNNLINT_TEST_NO_FRAMEWORKS=1: "
                                                    r"this run is without the frameworks\)"):
        need_framework("torch")
    with pytest.raises(pytest.fail.Exception, match="no_such_module_xyz is required in CI"):
        need_framework("no_such_module_xyz")
