"""What a source reader hands to the linter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, List, Optional, Tuple

if TYPE_CHECKING:
    from cnnlint.findings import Finding


class SourceError(Exception):
    """A file that cannot be read or parsed; becomes a CNL001 finding."""

    def __init__(
        self, message: str, line: int = 1, column: int = 1, cell: Optional[int] = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.cell = cell

    @classmethod
    def undecodable(cls, data: bytes, exc: UnicodeDecodeError, why: str) -> "SourceError":
        """`byte 0xNN ...` at the line and column of the first byte that does not decode."""
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        return cls(f"byte 0x{data[exc.start]:02x} {why}", line, column)


@dataclass(frozen=True)
class ShellCommand:
    """A shell command in a notebook (`!cmd`, `%pip ...`, a `%%bash` cell line).

    `line`/`column` are in the parsed text (notebooks: the joined cells), 1-based;
    `column` points at the command itself, after the `!` or `%`.
    """

    line: int
    column: int
    text: str
    end_line: int
    end_column: int


@dataclass
class SourceFile:
    """Python code ready for parsing, with a map back to notebook cells."""

    path: str
    kind: str  # "python" | "notebook"
    text: str
    shell: List[ShellCommand] = field(default_factory=list)
    # notebooks: for each line of `text` (index line-1): (cell number, line in cell)
    line_map: Optional[List[Tuple[int, int]]] = None
    # notebooks: cell number -> its raw source lines, for snippets
    cells: Optional[dict] = None
    # scripts whose IPython lines `text` replaces: the script as written
    raw_text: Optional[str] = None
    # what the reader found wrong while the file was still linted (CNL001 findings)
    notes: List["Finding"] = field(default_factory=list)
    # the lines raw_line reads, split once (a finding or fact per line would split the text each time)
    _lines: Optional[List[str]] = field(default=None, init=False, repr=False, compare=False)

    def locate(self, line: int) -> Tuple[Optional[int], int]:
        """Map a line of `text` to (cell, line in cell); cell is None for scripts."""
        if self.line_map is None:
            return None, line
        if 1 <= line <= len(self.line_map):
            return self.line_map[line - 1]
        if self.line_map:
            cell, cell_line = self.line_map[-1]
            return cell, cell_line + (line - len(self.line_map))
        return None, line

    def raw_line(self, line: int) -> str:
        """The line as the user wrote it (for notebooks, the cell's own text, magics included)."""
        if self.cells is not None:
            cell, cell_line = self.locate(line)
            lines = self.cells.get(cell) if cell is not None else None
            if lines and 0 < cell_line <= len(lines):
                return lines[cell_line - 1]
            return ""
        if self._lines is None:
            self._lines = (self.text if self.raw_text is None else self.raw_text).split("\n")
        lines = self._lines
        return lines[line - 1] if 0 < line <= len(lines) else ""
