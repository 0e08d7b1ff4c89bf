"""The rule pages in rules/*.md: where they live and how their examples are read."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r"^- \*\*(?P<key>[A-Za-z ]+)\*\*:\s*(?P<value>.+?)\s*$", re.MULTILINE)

# the file name an example is linted as, by the fence's language
EXAMPLE_PATHS = {
    "python": "example.py",
    "notebook": "example.ipynb",
    "requirements": "requirements.txt",
    "yaml": "environment.yml",
    # a small project: `--- path` lines start each file (`--- .git/` makes a folder);
    # the last file is the one linted
    "project": "",
}


@dataclass(frozen=True)
class Example:
    kind: str  # "bad" | "good"
    language: str
    code: str
    line: int  # line of the fence in the page

    @property
    def path(self) -> str:
        if self.language == "project":
            return project_files(self.code)[-1][0]
        return EXAMPLE_PATHS[self.language]


def pages_dir() -> Optional[str]:
    """rules/ in a source checkout, or the copy shipped inside the wheel."""
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (
        os.path.join(here, os.pardir, "rule_pages"),
        os.path.join(here, os.pardir, os.pardir, "rules"),
    ):
        if os.path.isdir(candidate):
            return os.path.normpath(candidate)
    return None


def page_path(code: str) -> Optional[str]:
    base = pages_dir()
    if base is None:
        return None
    path = os.path.join(base, f"{code.upper()}.md")
    return path if os.path.isfile(path) else None


def read_page(code: str) -> Optional[str]:
    """A rule's page, or None when this installation lacks it (or it cannot be read)."""
    path = page_path(code)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def header_fields(text: str) -> Dict[str, str]:
    return {m.group("key").strip().lower(): m.group("value") for m in _FIELD.finditer(text)}


def examples(text: str) -> List[Example]:
    found = []
    for m in _FENCE.finditer(text):
        info = m.group("info").split()
        if len(info) == 2 and info[1] in ("bad", "good") and info[0] in EXAMPLE_PATHS:
            line = text.count("\n", 0, m.start()) + 1
            found.append(Example(info[1], info[0], m.group("body"), line))
    return found


def notebook_from_cells(code: str) -> str:
    """A notebook whose code cells are the example's parts split at `# %%` lines."""
    import json

    cells: List[List[str]] = []
    current: List[str] = []
    for line in code.splitlines(keepends=True):
        if line.strip() == "# %%":
            cells.append(current)
            current = []
        else:
            current.append(line)
    cells.append(current)
    nb = {
        "cells": [
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": c}
            for c in cells
            if "".join(c).strip()
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb, indent=1)


def project_files(code: str) -> List[Tuple[str, Optional[str]]]:
    """(path, text) of each file of a `project` example; text None for a folder (`name/`)."""
    files: List[Tuple[str, Optional[str]]] = []
    current: Optional[List[str]] = None
    for line in code.splitlines(keepends=True):
        if line.startswith("--- "):
            name = line[4:].strip()
            current = None if name.endswith("/") else []
            files.append((name, current))  # type: ignore[arg-type]
        elif current is not None:
            current.append(line)
    return [(name, "".join(lines) if lines is not None else None) for name, lines in files]  # type: ignore[misc]


def write_project(code: str, folder: str) -> str:
    """Write a `project` example under `folder`; the path of the file to lint."""
    target = folder
    for name, text in project_files(code):
        path = os.path.join(folder, name)
        if text is None:
            os.makedirs(path, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        target = path
    return target
