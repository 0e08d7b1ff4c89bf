"""The rule pages in rules/*.md: where they live and how their examples are read."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional

_FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r"^- \*\*(?P<key>[A-Za-z ]+)\*\*:\s*(?P<value>.+?)\s*$", re.MULTILINE)

# the file name an example is linted as, by the fence's language
EXAMPLE_PATHS = {
    "python": "example.py",
    "notebook": "example.ipynb",
    "requirements": "requirements.txt",
    "yaml": "environment.yml",
}


@dataclass(frozen=True)
class Example:
    kind: str  # "bad" | "good"
    language: str
    code: str
    line: int  # line of the fence in the page

    @property
    def path(self) -> str:
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

    cells, current = [], []
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
