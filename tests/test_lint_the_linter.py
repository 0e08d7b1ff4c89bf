"""cnnlint's own code passes ruff and mypy with the settings in pyproject.toml ([tool.ruff],
[tool.mypy]); the test extra installs both."""

import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import ROOT


def _run(tool, *args):
    if importlib.util.find_spec(tool) is None:
        pytest.skip(f"{tool} is not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, NO_COLOR="1"))


def test_ruff():
    proc = _run("ruff", "check", "--no-cache", "--output-format", "concise", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy():
    proc = _run("mypy", "--no-error-summary")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_both_are_configured_in_pyproject():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        project = tomllib.load(fh)
    assert set(project["tool"]["ruff"]["lint"]["select"]) >= {"E", "W", "F"}
    assert project["tool"]["mypy"]["files"] == ["cnnlint"]
    test_extra = " ".join(project["project"]["optional-dependencies"]["test"])
    assert "ruff" in test_extra and "mypy" in test_extra
