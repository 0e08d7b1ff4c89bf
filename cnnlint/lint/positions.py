"""Source positions for a few nodes, without libcst's full PositionProvider.

libcst computes positions by re-generating the code and tracking line and column
for every token and node, which costs more than parsing. Findings need positions
for a handful of nodes, so this runs the same code generation but records token
indices only, and converts them to line/column for the nodes asked about. The
ranges match libcst's PositionProvider (syntactic positions, whitespace excluded).
"""

from __future__ import annotations

import bisect
import itertools
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

Range = Tuple[int, int, int, int]  # line, column, end_line, end_column (1-based columns)


class _TokenIndexState(CodegenState):
    __slots__ = ("spans", "_stack")

    def __init__(self, default_indent: str, default_newline: str) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.spans: Dict[int, Tuple[int, int]] = {}
        self._stack: List[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        key = id(node)
        if key not in self.spans:
            self.spans[key] = (start, len(self.tokens))

    @contextmanager
    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> Iterator[None]:
        start = len(self.tokens)
        try:
            yield
        finally:
            end = len(self.tokens)
            if start_node is not None:
                start = self.spans[id(start_node)][0]
            if end_node is not None:
                end = self.spans[id(end_node)][1]
            self.spans[id(node)] = (start, end)


def node_ranges(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> Dict[int, Range]:
    """Map id(node) -> (line, column, end_line, end_column) for the given nodes."""
    wanted = {id(n) for n in nodes}
    if not wanted:
        return {}
    state = _TokenIndexState(module.default_indent, module.default_newline)
    module._codegen(state)
    tokens = state.tokens
    offsets = [0, *itertools.accumulate(map(len, tokens))]
    code = "".join(tokens)
    line_starts = [0]
    pos = code.find("\n")
    while pos != -1:
        line_starts.append(pos + 1)
        pos = code.find("\n", pos + 1)

    def to_line_col(offset: int) -> Tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset) - 1
        return line + 1, offset - line_starts[line] + 1

    result: Dict[int, Range] = {}
    for key in wanted:
        span = state.spans.get(key)
        if span is None:
            continue
        line, col = to_line_col(offsets[span[0]])
        end_line, end_col = to_line_col(offsets[span[1]])
        result[key] = (line, col, end_line, end_col)
    return result
