"""Reading .ipynb notebooks: code cells joined into one module for parsing.

IPython syntax (`!cmd`, `%magic`, `%%cell magics`, `x = !cmd`, `obj?`) is replaced
by `pass` placeholders at the same indentation, so line numbers survive and the
result parses; shell commands are kept as ShellCommand records for the rules.
"""

from __future__ import annotations

import json
import re
from typing import List, Optional, Tuple

from cnnlint.sources.model import ShellCommand, SourceError, SourceFile

# cell magics whose body is still Python
_PYTHON_CELL_MAGICS = {"capture", "time", "timeit", "prun", "debug", "tensorflow_version"}
# cell magics whose body is shell
_SHELL_CELL_MAGICS = {"bash", "sh", "script", "system", "sx"}
# line magics that run a shell command (the magic name is kept: `%pip install x` -> "pip install x")
_SHELL_LINE_MAGICS = {"pip", "conda", "mamba", "uv"}
_SHELL_LINE_MAGICS_BARE = {"sx", "system"}

# the target ends at a character that is not a space: with `[\w.,\[\]\s]+?` a long run of spaces
# was tried as part of the target and of the `\s*` after it, in every split (quadratic)
_ASSIGN_MAGIC = re.compile(r"^(?P<target>[\w.,\[\]\s]*[\w.,\[\]])\s*=\s*(?P<sigil>!!?|%)(?P<rest>.*)$")
_HELP = re.compile(r"^(\?\??[\w.]+|[\w.]+\?\??)$")


def _cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        if not all(isinstance(s, str) for s in src):
            raise SourceError("cell source is not text")
        return "".join(src)
    if isinstance(src, str):
        return src
    raise SourceError("cell source is not text")


def _continued(lines: List[str], i: int) -> int:
    """Index of the last line of a magic starting at i (lines ending in a backslash continue)."""
    j = i
    while lines[j].rstrip().endswith("\\") and j + 1 < len(lines):
        j += 1
    return j


def _join_continuation(lines: List[str]) -> str:
    parts = [ln.rstrip() for ln in lines]
    parts = [p[:-1].rstrip() if p.endswith("\\") else p for p in parts]
    return " ".join(p.strip() for p in parts if p.strip())


def _shell_from_magic(body: str) -> Optional[Tuple[str, int]]:
    """For a line magic body (after `%`), the shell command it runs and its offset in body."""
    name, _, rest = body.partition(" ")
    if name in _SHELL_LINE_MAGICS:
        return body, 0
    if name in _SHELL_LINE_MAGICS_BARE:
        stripped = rest.lstrip()
        return stripped, len(body) - len(stripped)
    return None


def _convert_cell(
    src_lines: List[str], first_line: int
) -> Tuple[List[str], List[ShellCommand]]:
    """Python lines (same count as src_lines) and the cell's shell commands.

    first_line: the line number of this cell's first line in the joined text.
    """
    out: List[str] = []
    shell: List[ShellCommand] = []
    n = len(src_lines)
    start = 0
    if n and src_lines[0].lstrip().startswith("%%"):
        name = src_lines[0].lstrip()[2:].split(" ", 1)[0].strip()
        out.append("pass")
        start = 1
        if name not in _PYTHON_CELL_MAGICS:
            is_shell = name in _SHELL_CELL_MAGICS
            i = 1
            while i < n:
                j = _continued(src_lines, i)
                if is_shell and src_lines[i].strip() and not src_lines[i].lstrip().startswith("#"):
                    indent = len(src_lines[i]) - len(src_lines[i].lstrip())
                    shell.append(
                        ShellCommand(
                            line=first_line + i,
                            column=indent + 1,
                            text=_join_continuation(src_lines[i : j + 1]),
                            end_line=first_line + j,
                            end_column=len(src_lines[j].rstrip()) + 1,
                        )
                    )
                out.extend("" for _ in range(i, j + 1))
                i = j + 1
            return out, shell

    i = start
    while i < n:
        line = src_lines[i]
        stripped = line.lstrip()
        indent_text = line[: len(line) - len(stripped)]
        indent = len(indent_text)
        body: Optional[str] = None
        offset = 0  # column (0-based) of the command in the line
        is_magic = False
        if stripped.startswith("!"):
            is_magic = True
            bang = 2 if stripped.startswith("!!") else 1
            body = stripped[bang:]
            offset = indent + bang
        elif stripped.startswith("%"):
            is_magic = True
            found = _shell_from_magic(stripped[1:])
            if found is not None:
                body, extra = found
                offset = indent + 1 + extra
        elif _HELP.match(stripped.rstrip()):
            is_magic = True
        else:
            m = _ASSIGN_MAGIC.match(stripped)
            if m and not stripped.startswith("#"):
                is_magic = True
                rest = m.group("rest")
                sigil = m.group("sigil")
                if sigil.startswith("!"):
                    body = rest
                    offset = indent + m.start("rest")
                else:
                    found = _shell_from_magic(rest)
                    if found is not None:
                        body, extra = found
                        offset = indent + m.start("rest") + extra
        if not is_magic:
            out.append(line)
            i += 1
            continue
        j = _continued(src_lines, i)
        if body is not None:
            leading = len(body) - len(body.lstrip())
            text = _join_continuation([body] + src_lines[i + 1 : j + 1])
            if text:
                shell.append(
                    ShellCommand(
                        line=first_line + i,
                        column=offset + leading + 1,
                        text=text,
                        end_line=first_line + j,
                        end_column=len(src_lines[j].rstrip()) + 1,
                    )
                )
        out.append(indent_text + "pass")
        out.extend("" for _ in range(i + 1, j + 1))
        i = j + 1
    return out, shell


def notebook_language(nb: dict) -> str:
    meta = nb.get("metadata") or {}
    if not isinstance(meta, dict):
        return "python"
    lang = (meta.get("language_info") or {}).get("name") if isinstance(
        meta.get("language_info"), dict
    ) else None
    if not lang and isinstance(meta.get("kernelspec"), dict):
        lang = meta["kernelspec"].get("language")
    return (lang or "python").lower()


def load_notebook_json(data: bytes) -> dict:
    try:
        nb = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SourceError(f"notebook is not UTF-8 text: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(f"notebook is not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        if isinstance(nb, dict) and "worksheets" in nb:
            raise SourceError("nbformat 3 notebooks are not supported; re-save it with Jupyter 4+")
        raise SourceError("not a Jupyter notebook (no 'cells' list)")
    return nb


def read_notebook(path: str, data: bytes) -> Optional[SourceFile]:
    """The notebook's code cells as one SourceFile; None for non-Python notebooks."""
    nb = load_notebook_json(data)
    if notebook_language(nb) not in ("python", "python3", "ipython", "ipython3"):
        return None
    text_lines: List[str] = []
    line_map: List[Tuple[int, int]] = []
    shell: List[ShellCommand] = []
    cells: dict = {}
    for number, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict):
            raise SourceError(f"cell {number} is not an object", cell=number)
        if cell.get("cell_type") != "code":
            continue
        src = _cell_source(cell)
        if not src.strip():
            continue
        src_lines = src.splitlines()
        cells[number] = src_lines
        py_lines, cell_shell = _convert_cell(src_lines, len(text_lines) + 1)
        text_lines.extend(py_lines)
        line_map.extend((number, k) for k in range(1, len(src_lines) + 1))
        shell.extend(cell_shell)
    text = "\n".join(text_lines) + ("\n" if text_lines else "")
    return SourceFile(
        path=path, kind="notebook", text=text, shell=shell, line_map=line_map, cells=cells
    )
