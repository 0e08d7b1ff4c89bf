"""Output formats: one protocol, one registry.

A format is a class with a `name`, a one-line `help` (empty for none) and one method,
`render(report) -> str`; decorated with `@register`, it registers itself when its module is
imported. FORMAT_MODULES names the modules that hold formats (loaded on first use, so this module
imports none of them); `--format`'s choices and help come from the registry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, TextIO, Type, TypeVar

from cnnlint.findings import Finding

try:
    from typing import Protocol
except ImportError:  # pragma: no cover - Python < 3.8
    Protocol = object  # type: ignore[assignment]

FORMAT_MODULES = (
    "cnnlint.report.text",
    "cnnlint.report.json_format",
    "cnnlint.report.sarif",
    "cnnlint.report.github",
    "cnnlint.report.html",
)
DEFAULT = "text"


@dataclass
class Report:
    """Everything a format may show about one run."""

    findings: List[Finding]
    files: int  # files checked, for "in 3 of N files"
    extras: Dict[str, object] = field(default_factory=dict)  # each capability's top-level JSON key
    sections: Sequence[str] = ()  # each capability's text section, shown before the findings
    datasets: Sequence[Any] = ()  # cnnlint.dataset.run.DatasetResult
    quiet: bool = False
    stream: Optional[TextIO] = None  # where the report is printed; None when it goes to a file (-o)


class Format(Protocol):
    name: str
    help: str

    def render(self, report: Report) -> str:
        ...


F = TypeVar("F", bound=Type[Any])
_REGISTERED: Dict[str, Format] = {}


def register(cls: F) -> F:
    """Class decorator: an instance of `cls` renders `--format cls.name`."""
    _REGISTERED[cls.name] = cls()
    return cls


def formats() -> Dict[str, Format]:
    """Every registered format by name: those of FORMAT_MODULES in its order, then any other."""
    for module in FORMAT_MODULES:
        importlib.import_module(module)
    first = [name for module in FORMAT_MODULES for name, f in _REGISTERED.items() if type(f).__module__ == module]
    return {name: _REGISTERED[name] for name in first + [n for n in _REGISTERED if n not in first]}


def render(name: str, report: Report) -> str:
    return formats()[name].render(report)


def choices_help() -> str:
    """`--format`'s help: the default, then each format's own line."""
    described = [f"{name}: {f.help}" for name, f in formats().items() if f.help]
    return f"output format (default: {DEFAULT}; " + "; ".join(described) + ")"
