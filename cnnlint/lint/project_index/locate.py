"""Where a script's project is, and which of its files an import names.

The project root is the nearest folder up from the script that holds pyproject.toml, setup.py,
setup.cfg, .git or a requirements file (at most `MAX_LEVELS` up); outside one, the script's folder (or the folder
holding the top package it is in) is its project. An absolute import is looked
for in the script's own folder (Python puts it first on sys.path), then at the root; a relative
import from the script's package. A module is a `name.py` or a `name/__init__.py` inside the root;
anything under site-packages or dist-packages is never read.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Dict, List, Optional, Tuple

MAX_LEVELS = 12
_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
# a requirements file by its name: requirements*.txt / .in, and the common `requirement.txt`
REQUIREMENTS_FILE = re.compile(r"^(requirements.*|requirement)\.(txt|in)$", re.IGNORECASE)
_INSTALLED = {"site-packages", "dist-packages"}


def project_root(real_path: str) -> Optional[str]:
    """The nearest folder up from the file holding a project marker; None outside a project."""
    folder = os.path.dirname(os.path.abspath(real_path))
    for _ in range(MAX_LEVELS):
        marked = _marked(folder)
        if marked is None:
            return None
        if marked:
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None


_MARKED: Dict[str, Tuple[int, bool]] = {}  # folder -> (its mtime, whether it holds a marker)


def _marked(folder: str) -> Optional[bool]:
    """Whether a folder holds a project marker (None: unreadable); remembered while the folder's
    modification time stays the same (the scripts of one folder share the answer)."""
    try:
        mtime = os.stat(folder).st_mtime_ns
        seen = _MARKED.get(folder)
        if seen is not None and seen[0] == mtime:
            return seen[1]
        names = os.listdir(folder)
    except OSError:
        return None
    found = any(n in _MARKERS for n in names) or any(REQUIREMENTS_FILE.match(n) for n in names)
    if len(_MARKED) > 4096:
        _MARKED.clear()
    _MARKED[folder] = (mtime, found)
    return found


def script_root(real_path: str) -> str:
    """Outside a marked project: the script's folder (Python's sys.path[0]), or the folder holding
    the top package the script is in (where its relative imports can reach)."""
    folder = os.path.dirname(os.path.abspath(real_path))
    for _ in range(MAX_LEVELS):
        if not os.path.isfile(os.path.join(folder, "__init__.py")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return folder


def installed(path: str) -> bool:
    return any(part in _INSTALLED for part in path.split(os.sep))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def module_inside(path: str, root: str) -> bool:
    """A readable project module: a .py file inside the root, not in an installed package."""
    return path.endswith(".py") and _inside(path, root) and not installed(path) and os.path.isfile(path)


def module_file(base: str, dotted: str, root: str) -> Optional[str]:
    """`a.b` under `base`: base/a/b.py or base/a/b/__init__.py, when it lies inside the root."""
    parts = [p for p in dotted.split(".") if p] if dotted else []
    stem = os.path.join(base, *parts) if parts else base
    for candidate in (stem + ".py", os.path.join(stem, "__init__.py")):
        if not parts and candidate.endswith(".py") and not candidate.endswith("__init__.py"):
            continue
        if _inside(candidate, root) and not installed(candidate) and os.path.isfile(candidate):
            return candidate
    return None


def search_bases(real_path: str, root: str) -> List[str]:
    here = os.path.dirname(os.path.abspath(real_path))
    bases = [here]
    if root != here:
        bases.append(root)
    src = os.path.join(root, "src")
    if src != here and _has_src(root):
        bases.append(src)
    return bases


@functools.lru_cache(maxsize=256)
def _has_src(root: str) -> bool:
    return os.path.isdir(os.path.join(root, "src"))


def resolve(real_path: str, root: str, module: str, level: int) -> Optional[str]:
    """The project file an import names (`level`: the dots of a relative import)."""
    if level:
        base = os.path.dirname(os.path.abspath(real_path))
        for _ in range(level - 1):
            base = os.path.dirname(base)
        return module_file(base, module, root)
    for base in search_bases(real_path, root):
        found = module_file(base, module, root)
        if found is not None:
            return found
    return None
