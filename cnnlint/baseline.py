"""Baselines: findings a team has accepted, so CI fails only on new ones.

A finding matches a baseline entry by code, path (relative to the baseline
file's folder) and the text of its line (stripped), not the line number, so
edits elsewhere in the file do not make old findings look new. Entries count:
two accepted findings on identical lines accept two, not three.

The file is JSON, written atomically; a path's bytes that are not UTF-8 are `\\udcXX` escapes
(report/paths.py), which read back to the same path.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Iterable, List, Tuple

from cnnlint import __version__
from cnnlint.atomic import write_file
from cnnlint.config import ConfigError
from cnnlint.findings import Finding
from cnnlint.report.paths import json_safe
from cnnlint.sources.lines import SourceLines

Key = Tuple[str, str, str]

FORMAT = 1


def _rel(path: str, base: str) -> str:
    try:
        rel = os.path.relpath(os.path.abspath(path), base)
    except ValueError:  # another drive on Windows
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def _keys(findings: Iterable[Finding], base: str) -> List[Key]:
    lines = SourceLines()
    keys = []
    for f in findings:
        text = lines.get(f)
        where = f"cell {f.cell}: " if f.cell is not None else ""
        keys.append((f.code, _rel(f.path, base), where + (text.strip() if text is not None else f"line {f.line}")))
    return keys


class Baseline:
    def __init__(self, path: str, entries: Counter) -> None:
        self.path = path
        self.entries = entries

    def new_findings(self, findings: List[Finding]) -> List[Finding]:
        base = os.path.dirname(os.path.abspath(self.path))
        remaining = Counter(self.entries)
        new = []
        for finding, key in zip(findings, _keys(findings, base)):
            if remaining[key] > 0:
                remaining[key] -= 1
            else:
                new.append(finding)
        return new


def load_baseline(path: str) -> Baseline:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"--baseline {path}: no such file (create it with --write-baseline)") from None
    except OSError as exc:
        raise ConfigError(f"--baseline {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--baseline {path}: not a cnnlint baseline (invalid JSON: {exc})") from None
    try:
        if doc.get("format") != FORMAT:
            raise ConfigError(f"--baseline {path}: unsupported baseline format {doc.get('format')!r}")
        entries = Counter((e["code"], e["path"], e["line_text"]) for e in doc["findings"])
    except (AttributeError, KeyError, TypeError):
        raise ConfigError(f"--baseline {path}: not a cnnlint baseline (expected a findings list)") from None
    return Baseline(path, entries)


def write_baseline(path: str, findings: List[Finding]) -> int:
    base = os.path.dirname(os.path.abspath(path))
    entries = [
        {"code": code, "path": rel, "line_text": text, "message": f.message}
        for f, (code, rel, text) in zip(findings, _keys(findings, base))
    ]
    doc = {"format": FORMAT, "tool": "cnnlint", "version": __version__, "findings": entries}
    text = json_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
    try:
        write_file(path, text.encode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"--write-baseline {path}: {exc.strerror or exc}") from None
    return len(entries)
