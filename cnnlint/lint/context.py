"""Per-file state the engine hands to rules: the tree, imports, ancestors, reporting."""

from __future__ import annotations

import ast
import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple, Type, TypeVar, Union

import libcst as cst

from cnnlint.findings import Fix, Severity
from cnnlint.lint.index.syntax import Syntax
from cnnlint.lint.positions import node_ranges
from cnnlint.lint.tree import ImportTable, children
from cnnlint.sources.files import read_regular

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile


# where a report points: a node (CPython's ast, or libcst's for the rules still on it), or an
# explicit (line, column, end_line, end_column)
Target = Union[ast.AST, cst.CSTNode, Tuple[int, int, int, int]]


@dataclass
class PendingReport:
    code: str
    target: "Target"
    message: str
    hint: str
    severity: Severity
    fix: Optional[Fix]


A = TypeVar("A")


class FileContext:
    def __init__(self, source: "SourceFile", module: Optional[cst.Module], real_path: str,
                 syntax: Optional[Syntax] = None) -> None:
        self.source = source
        self.module = module  # libcst's tree, for the rules not yet on ast (None when none is active)
        self.syntax = syntax  # CPython's tree, lines, parents and positions
        self._analyses: Dict[type, Any] = {}
        self.real_path = real_path  # the file on disk, for resolving relative paths
        self.reports: List[PendingReport] = []
        # files read while linting this one (path -> content hash), for the cache
        self.related: Dict[str, Optional[str]] = {}
        # image sets CNL102 found read whole into memory: (reported node, reader call, accumulator),
        # nodes of the tree CNL102 reads (libcst's until it is ported; crosscheck.extract_images maps them)
        self.in_memory: List[Tuple[Any, Any, Any]] = []
        # the nodes enclosing the node being visited, outermost first (during the walk)
        self.ancestors: List[cst.CSTNode] = []
        self._imports: Optional[ImportTable] = None
        self._parents: Optional[Dict[int, cst.CSTNode]] = None
        self._ranges: Dict[int, Tuple[int, int, int, int]] = {}

    def ranges(self, nodes: Iterable[cst.CSTNode]) -> Dict[int, Tuple[int, int, int, int]]:
        """Positions (line, column, end_line, end_column) by id(node), computed on demand.

        Positions cost a code-generation pass over the file, so ask once, for every
        node the rule will report or mention; nodes already reported are placed in
        the same pass.
        """
        wanted = [n for n in nodes if id(n) not in self._ranges]
        if wanted and self.module is not None:
            wanted += [
                r.target for r in self.reports
                if isinstance(r.target, cst.CSTNode) and id(r.target) not in self._ranges
            ]
            self._ranges.update(node_ranges(self.module, wanted))
        return self._ranges

    def get(self, analysis: Type[A]) -> A:
        """The file's analysis of this kind (a cnnlint.lint.index class taking the context), built
        on first use and kept for the other rules."""
        found = self._analyses.get(analysis)
        if found is None:
            found = self._analyses[analysis] = analysis(self)  # type: ignore[call-arg]
        return found  # type: ignore[no-any-return]

    def span(self, target: "Target", ranges: Dict[int, Tuple[int, int, int, int]]) -> Tuple[int, int, int, int]:
        if isinstance(target, ast.AST):
            return self.syntax.span(target) if self.syntax is not None else (1, 1, 1, 1)
        return span_of(target, ranges)

    @property
    def imports(self) -> ImportTable:
        if self._imports is None:
            assert self.module is not None
            self._imports = ImportTable(self.module)
        return self._imports

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The parent of any node of libcst's tree (computed on first use)."""
        if self._parents is None:
            self._parents = self._walk_parents()
        return self._parents.get(id(node))

    def _walk_parents(self) -> Dict[int, cst.CSTNode]:
        assert self.module is not None
        parents: Dict[int, cst.CSTNode] = {}
        stack: List[cst.CSTNode] = [self.module]
        while stack:
            current = stack.pop()
            for child in children(current):
                parents[id(child)] = current
                stack.append(child)
        return parents

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


def span_of(target: "Target", ranges: Dict[int, Tuple[int, int, int, int]]) -> Tuple[int, int, int, int]:
    if isinstance(target, tuple):
        return target
    return ranges.get(id(target), (1, 1, 1, 1))
