"""Per-file state the engine hands to rules: the tree, the analyses, the ancestors, reporting."""

from __future__ import annotations

import ast
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union

from cnnlint.findings import Fix, Severity
from cnnlint.lint.index.syntax import Syntax
from cnnlint.sources.files import read_regular

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile


# where a report points: a node of CPython's tree, or an explicit (line, column, end_line, end_column)
Target = Union[ast.AST, Tuple[int, int, int, int]]


@dataclass
class PendingReport:
    code: str
    target: "Target"
    message: str
    hint: str
    severity: Severity
    fix: Optional[Fix]


A = TypeVar("A")


def _no_parent(node: ast.AST) -> Optional[ast.AST]:
    return None


class FileContext:
    def __init__(self, source: "SourceFile", real_path: str, syntax: Optional[Syntax] = None) -> None:
        self.source = source
        self.syntax = syntax  # CPython's tree, lines, parents and positions (None for a manifest)
        self._analyses: Dict[type, Any] = {}
        self.real_path = real_path  # the file on disk, for resolving relative paths
        self.reports: List[PendingReport] = []
        # files read while linting this one (path -> content hash), for the cache
        self.related: Dict[str, Optional[str]] = {}
        # image sets CNL102 found read whole into memory: (reported node, reader call, accumulator)
        self.in_memory: List[Tuple[ast.AST, ast.AST, Optional[ast.AST]]] = []
        # during the walk: the node being visited, and its parent's lookup (see `ancestors`)
        self.at: Optional[ast.AST] = None
        self.parent_of: Callable[[ast.AST], Optional[ast.AST]] = _no_parent

    def release(self) -> None:
        """Drop the analyses once the file is done (an analysis with cycles of its own breaks them
        in `release()`). They refer back to the context (and it to them): left to the cyclic
        collector, which the runner's thresholds make rare, a worker would keep every file's
        analyses, and the tree nodes they hold, until a full collection."""
        for analysis in self._analyses.values():
            release = getattr(analysis, "release", None)
            if release is not None:
                release()
        self._analyses.clear()
        self.reports = []
        self.in_memory = []
        self.at = None
        self.parent_of = _no_parent

    @property
    def ancestors(self) -> List[ast.AST]:
        """The nodes enclosing the node being visited, outermost first (during the walk)."""
        chain: List[ast.AST] = []
        node = self.parent_of(self.at) if self.at is not None else None
        while node is not None:
            chain.append(node)
            node = self.parent_of(node)
        chain.reverse()
        return chain

    def get(self, analysis: Type[A]) -> A:
        """The file's analysis of this kind (a cnnlint.lint.index class taking the context), built
        on first use and kept for the other rules."""
        found = self._analyses.get(analysis)
        if found is None:
            found = self._analyses[analysis] = analysis(self)  # type: ignore[call-arg]
        return found  # type: ignore[no-any-return]

    def span(self, target: "Target") -> Tuple[int, int, int, int]:
        if isinstance(target, tuple):
            return target
        return self.syntax.span(target) if self.syntax is not None else (1, 1, 1, 1)

    def add(
        self,
        code: str,
        target: "Target",
        message: str,
        hint: str,
        severity: Severity,
        fix: Optional[Fix],
    ) -> None:
        self.reports.append(PendingReport(code, target, message, hint, severity, fix))

    def read_related(self, path: str) -> Optional[bytes]:
        """Read another file this one refers to (relative to this file's folder).

        The cache keys this file's result on the related file's content too.
        """
        full = os.path.normpath(os.path.join(os.path.dirname(self.real_path), path))
        try:
            data = read_regular(full, 4 * 1024 * 1024)  # a FIFO named by `-c` would block open()
        except OSError:
            self.related[full] = None
            return None
        self.related[full] = hashlib.blake2b(data, digest_size=16).hexdigest()
        return data

    def list_related(self, folder: str) -> List[str]:
        """The names in a folder this file's result depends on (the project's manifests, say);
        the cache keys the result on the listing, so a file added there is noticed."""
        from cnnlint.lint.cache import listing_hash, project_listing

        full = os.path.normpath(os.path.join(os.path.dirname(self.real_path), folder))
        try:
            names = project_listing(full)
        except OSError:
            self.related[full] = None
            return []
        self.related[full] = listing_hash(names)
        return names

