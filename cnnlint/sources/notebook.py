"""Reading .ipynb notebooks: code cells joined into one module for parsing.

IPython syntax (`!cmd`, `%magic`, `%%cell magics`, `x = !cmd`, `obj?`, and
`pip install x` alone in a cell, which automagic runs as `%pip`) is replaced by
`pass` placeholders at the same indentation (cnnlint.sources.ipython), so line
numbers survive and the result parses; shell commands are kept as ShellCommand
records for the rules.
"""

from __future__ import annotations

import json
from typing import List, Optional, Tuple

from cnnlint.sources.ipython import automagic_line, continued, join_continuation, replace_magic
from cnnlint.sources.model import ShellCommand, SourceError, SourceFile

# cell magics whose body is still Python
_PYTHON_CELL_MAGICS = {"capture", "time", "timeit", "prun", "debug", "tensorflow_version"}
# cell magics whose body is shell
_SHELL_CELL_MAGICS = {"bash", "sh", "script", "system", "sx"}


def _cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    if isinstance(src, list):
        if not all(isinstance(s, str) for s in src):
            raise SourceError("cell source is not text")
        return "".join(src)
    if isinstance(src, str):
        return src
    raise SourceError("cell source is not text")


def _cell_magic_body(src_lines: List[str], first_line: int, name: str) -> Tuple[List[str], List[ShellCommand]]:
    """The lines of a `%%name` cell (its first line is the magic): blank, its shell lines kept."""
    out: List[str] = ["pass"]
    shell: List[ShellCommand] = []
    is_shell = name in _SHELL_CELL_MAGICS
    i = 1
    while i < len(src_lines):
        j = continued(src_lines, i)
        if is_shell and src_lines[i].strip() and not src_lines[i].lstrip().startswith("#"):
            indent = len(src_lines[i]) - len(src_lines[i].lstrip())
            shell.append(
                ShellCommand(
                    line=first_line + i,
                    column=indent + 1,
                    text=join_continuation(src_lines[i : j + 1]),
                    end_line=first_line + j,
                    end_column=len(src_lines[j].rstrip()) + 1,
                )
            )
        out.extend("" for _ in range(i, j + 1))
        i = j + 1
    return out, shell


def _convert_cell(
    src_lines: List[str], first_line: int
) -> Tuple[List[str], List[ShellCommand]]:
    """Python lines (same count as src_lines) and the cell's shell commands.

    first_line: the line number of this cell's first line in the joined text.
    """
    out: List[str] = []
    shell: List[ShellCommand] = []
    start = 0
    if src_lines and src_lines[0].lstrip().startswith("%%"):
        name = src_lines[0].lstrip()[2:].split(" ", 1)[0].strip()
        if name not in _PYTHON_CELL_MAGICS:
            return _cell_magic_body(src_lines, first_line, name)
        out.append("pass")
        start = 1
    automagic = automagic_line(src_lines)
    i = start
    while i < len(src_lines):
        replaced = replace_magic(src_lines, i, first_line, automagic=i == automagic)
        if replaced is None:
            out.append(src_lines[i])
            i += 1
            continue
        lines, command = replaced
        if command is not None:
            shell.append(command)
        out.extend(lines)
        i += len(lines)
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
