"""Lint an editor's buffer in memory: a script, a requirements or environment file, or a notebook
given as its cells. The configuration is the workspace's (the nearest pyproject.toml with
[tool.cnnlint]), read once and read again when `forget` says it changed."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

from cnnlint.config import Config, ConfigError, find_config, load_config
from cnnlint.findings import Finding, Severity
from cnnlint.run import keep

# a notebook cell as the editor holds it: (is it code, its text)
Cell = Tuple[bool, str]


@dataclass
class Settings:
    """One document's configuration, or the one-line reason it could not be read."""

    config: Config
    error: Optional[str] = None


class Configs:
    """The configuration for each folder's documents, cached until `forget()` (a pyproject.toml changed)."""

    def __init__(self) -> None:
        self._by_folder: Dict[str, Settings] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        with self._lock:
            self._by_folder.clear()

    def for_path(self, path: str) -> Settings:
        folder = os.path.dirname(os.path.abspath(path))
        with self._lock:
            found = self._by_folder.get(folder)
        if found is None:
            found = _load(folder)
            with self._lock:
                self._by_folder[folder] = found
        return found


def _load(folder: str) -> Settings:
    try:
        config_file = find_config(folder)
        return Settings(load_config([folder], config_file))
    except ConfigError as exc:  # a broken pyproject.toml: lint with the defaults and say why
        return Settings(load_config([folder], os.devnull), str(exc))


def enabled_codes(config: Config) -> Tuple[str, ...]:
    from cnnlint.catalog import is_enabled
    from cnnlint.lint.discovery import rule_classes

    return tuple(cls.code for cls in rule_classes() if is_enabled(cls.code, config.select, config.ignore))


def kind_of(path: str) -> Optional[str]:
    from cnnlint.sources.read import classify

    return classify(path)


def lint_buffer(path: str, text: str, config: Config, kind: Optional[str] = None) -> List[Finding]:
    """The static findings for `text` as the file `path` (its kind by name unless given), kept by the
    selection and per-file ignores, sorted; none for a file the configuration excludes. Never
    raises for bad input: unparsable text is CNL001."""
    from cnnlint.lint.runner import lint_one
    from cnnlint.sources.walk import Target

    from cnnlint.sources.walk import excluder

    kind = kind or kind_of(path)
    if kind is None or excluder(config.exclude, config.root)(os.path.abspath(path)):
        return []
    if kind == "notebook" and not text.lstrip().startswith("{"):
        kind = "python"  # jupyterlab-lsp's virtual document: the notebook's cells joined as Python
    real = os.path.abspath(path)
    dicts, _related, error, _facts = lint_one(Target(path, real, kind), text.encode("utf-8", "surrogateescape"),
                                              config.max_file_size, fact_positions=False, codes=enabled_codes(config),
                                              with_facts=False)
    findings = [Finding.from_dict(dict(d, path=d.get("path") or path)) for d in dicts]
    if error:
        findings.append(Finding("CNL001", Severity.ERROR, f"cnnlint could not lint this file: {error}", path))
    return sorted((f for f in findings if f.path == path and keep(f, config)), key=Finding.sort_key)


def notebook_json(cells: Sequence[Cell]) -> str:
    """A notebook holding the cells in order (markdown for the cells that are not code)."""
    nb = {
        "cells": [{"cell_type": "code" if code else "markdown", "metadata": {}, "source": text,
                   **({"execution_count": None, "outputs": []} if code else {})} for code, text in cells],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(nb)


def lint_cells(path: str, cells: Sequence[Cell], config: Config) -> Dict[int, List[Finding]]:
    """Findings per cell (0-based index into `cells`, lines counted within the cell), the whole
    notebook linted as one file so that a loop in one cell sees the optimizer of another."""
    per_cell: Dict[int, List[Finding]] = {i: [] for i in range(len(cells))}
    for finding in lint_buffer(path, notebook_json(cells), config, kind="notebook"):
        index = (finding.cell or 1) - 1
        if 0 <= index < len(cells):
            per_cell[index].append(finding)
    return per_cell
