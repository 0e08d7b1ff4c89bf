"""Worker pools never fork() the (possibly multi-threaded) process that starts them."""

import os
import subprocess
import sys
import threading

import pytest

from cnnlint import workers
from cnnlint.dataset.scan import SMALL, ScanOptions, scan_files
from cnnlint.lint.runner import lint_targets
from cnnlint.sources.walk import Target
from fixtures.images import write_image

TRAIN = "import torch\nfor x in y:\n    loss = model(x)\n    loss.backward()\n    opt.step()\n"


def _scripts(folder, n=4):
    targets = []
    for i in range(n):
        path = os.path.join(str(folder), f"t{i}.py")
        with open(path, "w") as fh:
            fh.write(TRAIN)
        targets.append(Target(path=f"t{i}.py", real_path=path, kind="python"))
    return targets


def _images(folder, n=SMALL + 6):
    files = []
    for i in range(n):
        name = os.path.join(str(folder), f"{i}.png")
        write_image(name, "png", size=(8 + i % 5, 8), seed=i)
        files.append((name, name))
    return files


def _run_both(tmp_path):
    """Both pools, with another thread running all the while."""
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)
    busy.start()
    try:
        _lint_and_scan(tmp_path)
    finally:
        stop.set()
        busy.join()


def _lint_and_scan(tmp_path):
    run = lint_targets(_scripts(tmp_path), "fingerprint", 1 << 20, None, jobs=2)
    assert [(f.path, f.code, f.line) for f in run.findings] == [(f"t{i}.py", "CNL201", 4) for i in range(4)]
    records = list(scan_files(_images(tmp_path / "img"), ScanOptions(jobs=2)))
    assert len(records) == SMALL + 6 and all(r.decoded and not r.findings for r in records)


def test_pools_started_from_a_threaded_process_do_not_fork_it(tmp_path, monkeypatch):
    """A host application (or numpy's BLAS pool) has threads running: the lint runner's and the
    scan's pools must not fork() this process."""
    forks = []
    real_fork = os.fork

    def fork():
        forks.append(threading.active_count())
        return real_fork()

    monkeypatch.setattr(os, "fork", fork)
    _run_both(tmp_path)
    assert forks == []


def test_pools_work_from_a_threaded_process(tmp_path):
    """The same without patching here: conftest's guard fails any os.fork() from a threaded process
    (Python 3.12+ only warns, and os.fork() swallows that warning when a filter makes it an error)."""
    _run_both(tmp_path)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc")
def test_fork_server_preloads_only_modules_that_start_no_thread():
    """The fork server imports a preload list and forks every worker from itself: it must stay
    single-threaded (numpy's import, for one, starts a BLAS thread)."""
    code = ("import importlib, os, sys\n"
            "from cnnlint import workers\n"
            "from cnnlint.lint.runner import lint_preload\n"
            "for name in lint_preload() + workers.SCAN_PRELOAD:\n"
            "    importlib.import_module(name)\n"
            "print(len(os.listdir('/proc/self/task')), 'numpy' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "False"]


def test_start_method_is_chosen_on_purpose():
    method = workers.context().get_start_method()
    assert method == ("forkserver" if sys.platform != "win32" else "spawn")


def test_the_suite_refuses_fork_from_a_threaded_process():
    """conftest's guard: what `-W error::DeprecationWarning` cannot do (os.fork() swallows it)."""
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait)
    busy.start()
    try:
        try:
            pid = os.fork()
        except AssertionError as exc:
            assert str(exc).startswith("os.fork() from a process with ")
            assert str(exc).endswith(" threads: use cnnlint.workers.context()")
            return
        if pid == 0:  # the guard let it through: leave the child at once
            os._exit(0)
        os.waitpid(pid, 0)
        pytest.fail("os.fork() ran in a threaded process")
    finally:
        stop.set()
        busy.join()


def test_scan_workers_see_the_environment_of_the_moment(monkeypatch):
    """The fork server keeps the environment it started with; a bucket's credentials set later
    (or a test's) must still reach the workers, as they would with fork()."""
    from cnnlint.dataset import scan

    options = scan.ScanOptions(quick=True)
    with scan._pool(1, options) as pool:  # the fork server runs from here on
        pool.apply(os.getpid)
    monkeypatch.setenv("CNNLINT_TEST_LATE", "set after the fork server started")
    with scan._pool(1, options) as pool:
        assert pool.apply(os.getenv, ("CNNLINT_TEST_LATE",)) == "set after the fork server started"
