"""Classify a path by name and read it into what the linter consumes."""

from __future__ import annotations

import fnmatch
import os
from typing import TYPE_CHECKING, Optional, Union

from cnnlint.sources.model import SourceFile
from cnnlint.sources.notebook import read_notebook
from cnnlint.sources.python import read_python

if TYPE_CHECKING:
    from cnnlint.sources.manifest import Manifest

_REQUIREMENTS_PATTERNS = ("*requirements*.txt", "*requirements*.in", "requirements*.pip", "requirement.txt", "requirement.in")
_CONDA_NAMES = ("environment.yml", "environment.yaml")


def classify(path: str) -> Optional[str]:
    """'python', 'notebook', 'requirements', 'conda', or None for files cnnlint skips."""
    name = os.path.basename(path).lower()
    if name.endswith(".py"):
        return "python"
    if name.endswith(".ipynb"):
        return "notebook"
    if not name.endswith((".txt", ".in", ".pip", ".yml", ".yaml")):
        return None  # the rest need one of these extensions: images and data files stop here
    if any(fnmatch.fnmatch(name, p) for p in _REQUIREMENTS_PATTERNS):
        return "requirements"
    parent = os.path.basename(os.path.dirname(os.path.abspath(path))).lower()
    if parent == "requirements" and name.endswith((".txt", ".in")):
        return "requirements"
    if name in _CONDA_NAMES or fnmatch.fnmatch(name, "environment*.y*ml"):
        return "conda"
    return None


def read_source(path: str, data: bytes, kind: Optional[str] = None) -> Optional[Union[SourceFile, "Manifest"]]:
    """A SourceFile (scripts, notebooks) or Manifest (requirements, conda); None to skip.

    `kind` overrides the classification by name (a `-r base.txt` target).
    Raises SourceError for input that cannot be read.
    """
    kind = kind or classify(path)
    if kind == "python":
        return read_python(path, data)
    if kind == "notebook":
        return read_notebook(path, data)
    if kind in ("requirements", "conda"):
        from cnnlint.sources.manifest import read_manifest

        return read_manifest(path, data, kind)
    return None

