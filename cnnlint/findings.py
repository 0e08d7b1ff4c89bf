"""The one record every capability (lint, dataset, probe) produces."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from cnnlint.records import as_dict


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "error": 2}[self.value]

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls(text.lower())
        except ValueError:
            raise ValueError(
                f"unknown severity {text!r} (expected error, warning or info)"
            ) from None


# one text edit: (line, column, end_line, end_column, text)
Edit = Tuple[int, int, int, int, str]


@dataclass(frozen=True)
class Fix:
    """A text edit: replace [start, end) (1-based line, 1-based column) with text.

    Columns count characters. `text` writes line breaks as "\\n" (the file's own
    line ending is used when the fix is applied). A fix that needs more than one
    edit (moving a statement) lists the others in `edits`; all of them apply
    together or not at all, and none may overlap.
    """

    line: int
    column: int
    end_line: int
    end_column: int
    text: str
    description: str = ""
    edits: Tuple[Edit, ...] = ()

    def all_edits(self) -> List[Edit]:
        """Every edit of the fix, the main one first."""
        return [(self.line, self.column, self.end_line, self.end_column, self.text)] + [
            (int(e[0]), int(e[1]), int(e[2]), int(e[3]), str(e[4])) for e in self.edits
        ]

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "Fix":
        d = dict(d)
        d["edits"] = tuple(tuple(e) for e in d.get("edits") or ())
        return cls(**d)


@dataclass
class Finding:
    code: str
    severity: Severity
    message: str
    path: str
    line: int = 1
    column: int = 1
    end_line: Optional[int] = None
    end_column: Optional[int] = None
    hint: str = ""
    cell: Optional[int] = None
    fix: Optional[Fix] = field(default=None, compare=False)

    def sort_key(self) -> tuple:
        return (self.path, self.cell or 0, self.line, self.column, self.code, self.message)

    def location(self) -> str:
        """`path:line:col`; just `path` for a finding about a whole file or folder (line 0)."""
        if self.line < 1:
            return self.path
        if self.cell is not None:
            return f"{self.path}:cell {self.cell}:{self.line}:{self.column}"
        return f"{self.path}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        d = as_dict(self)
        d["severity"] = self.severity.value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Finding":
        d = dict(d)
        d["severity"] = Severity(d["severity"])
        if d.get("fix"):
            d["fix"] = Fix.from_dict(d["fix"])
        return cls(**d)
