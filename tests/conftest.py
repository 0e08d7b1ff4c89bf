import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from cnnlint.lint.api import lint_text  # noqa: E402
from cnnlint.lint.pages import notebook_from_cells  # noqa: E402


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
