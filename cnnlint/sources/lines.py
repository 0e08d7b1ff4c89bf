"""The line a finding points at, as the user sees it (for notebooks, in its cell)."""

from __future__ import annotations

import json
import re
from typing import Dict, List, Optional

from cnnlint.findings import Finding
from cnnlint.sources.model import SourceError


class SourceLines:
    """Source lines for snippets, read on demand (cells for notebooks)."""

    def __init__(self) -> None:
        self._files: Dict[str, Optional[object]] = {}

    def get(self, f: Finding) -> Optional[str]:
        if f.line < 1:  # a finding about a whole file or folder (an image, a FIFO): nothing to read
            return None
        if f.path not in self._files:
            self._files[f.path] = self._load(f.path)
        data = self._files[f.path]
        if data is None:
            return None
        if f.cell is not None:
            if not isinstance(data, dict):
                return None
            lines = data.get(f.cell)
        else:
            lines = data if isinstance(data, list) else None
        if lines is None or not 0 < f.line <= len(lines):
            return None
        return lines[f.line - 1]

    @staticmethod
    def _load(path: str):
        try:
            with open(path, "rb") as fh:
                raw = fh.read(8 * 1024 * 1024)
        except OSError:
            return None
        if not path.endswith(".ipynb"):
            return _file_lines(path, raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        try:
            nb = json.loads(text)
            cells = {}
            for i, cell in enumerate(nb.get("cells", []), start=1):
                src = cell.get("source", "")
                cells[i] = ("".join(src) if isinstance(src, list) else src).splitlines()
            return cells
        except (ValueError, AttributeError, TypeError):
            return None


def _file_lines(path: str, raw: bytes) -> Optional[List[str]]:
    """A script's or manifest's lines, decoded and broken as its reader does (a coding line, a BOM,
    UTF-16; LF, CRLF and a lone CR end lines, a form feed does not)."""
    from cnnlint.sources.manifest import decode_manifest
    from cnnlint.sources.python import decode_python

    try:
        text = decode_python(raw) if path.endswith(".py") else decode_manifest(raw)
    except SourceError:
        return None
    return _LINE_BREAK.split(text)


_LINE_BREAK = re.compile(r"\r\n?|\n")
