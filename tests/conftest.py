import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from cnnlint.lint.api import lint_text  # noqa: E402
from cnnlint.lint.pages import notebook_from_cells  # noqa: E402


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))  # OS threads: numpy's BLAS pool counts too
    except OSError:
        import threading

        return threading.active_count()


_fork = os.fork


def _fork_unless_threaded() -> int:
    """fork() of a process with threads can deadlock the child. Python 3.12+ warns about it, but
    os.fork() clears the warning when a filter makes it an error, so `-W error` cannot catch it:
    this does, on every version (worker pools use cnnlint.workers.context(), which never forks here)."""
    count = _threads()
    if count > 1:
        raise AssertionError(f"os.fork() from a process with {count} threads: use cnnlint.workers.context()")
    return _fork()


os.fork = _fork_unless_threaded


def fork_for_a_test() -> int:
    """The unguarded fork(), for a test's own child that only gives up root and calls cnnlint in-process
    (tests/test_fix_filesystem.py): numpy's idle BLAS thread, the one thread there, holds no lock it needs
    (so Python 3.12's warning about forking a threaded process does not apply, and is not shown)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return _fork()


FRAMEWORKS = ("tensorflow", "keras", "torch", "torchvision")
NO_FRAMEWORKS = "CNNLINT_TEST_NO_FRAMEWORKS"  # set to 1 by .ci/run for its runs without them


def need_framework(module: str) -> None:
    """Skip the test when `module` is not installed. In CI (the CI environment variable set) a
    missing module fails the test instead, except a framework in a run that says it has none
    (CNNLINT_TEST_NO_FRAMEWORKS=1: .ci/run's other Python versions). Only looked up, not imported."""
    import importlib.util

    if importlib.util.find_spec(module) is not None:
        return
    if module in FRAMEWORKS and os.environ.get(NO_FRAMEWORKS) == "1":
        pytest.skip(f"{module} is not installed ({NO_FRAMEWORKS}=1: this run is without the frameworks)")
    if os.environ.get("CI"):
        pytest.fail(f"{module} is required in CI (the probe extra / a CPU build of torch)")
    pytest.skip(f"{module} is not installed")


# a PyTorch loop that never clears its gradients: one CNL201 at train.py:5:5
LOOP = """\
import torch

for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""


def run_cli(args, capsys, stdin=None, monkeypatch=None):
    """`cnnlint ARGS` in this process: (exit status, stdout, stderr). `stdin`: bytes piped to `-`."""
    import io

    from cnnlint.cli import main

    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def lint(code, path="train.py", select=("ALL",)):
    """Findings for `code` linted as `path`; notebook paths take `# %%`-separated cells."""
    if path.endswith(".ipynb") and not code.lstrip().startswith("{"):
        code = notebook_from_cells(code)
    return lint_text(code, path, select=select)


def codes(code, path="train.py", select=("ALL",)):
    return [f.code for f in lint(code, path, select)]


@pytest.fixture
def repo_root():
    return ROOT
