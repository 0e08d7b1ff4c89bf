"""Source positions for a few nodes, without libcst's full PositionProvider.

libcst computes positions by re-generating the code and tracking line and column
for every token and node, which costs more than parsing. Findings need positions
for a handful of nodes, so this runs the same code generation but records token
indices only, and converts them to line/column for the nodes asked about. The
ranges match libcst's PositionProvider (syntactic positions, whitespace excluded).
"""

from __future__ import annotations

import bisect
import dataclasses
import sys
import itertools
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

import libcst as cst
from libcst._nodes.internal import CodegenState

from cnnlint.lint.tree import child_fields, children

Range = Tuple[int, int, int, int]  # line, column, end_line, end_column (1-based columns)


class _AllFound(Exception):
    """Raised to stop code generation once every wanted node has its span."""


class _TokenIndexState(CodegenState):
    __slots__ = ("spans", "_stack", "wanted", "alias")

    def __init__(self, default_indent: str, default_newline: str, wanted: set,
                 alias: Optional[Dict[int, int]] = None) -> None:
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.spans: Dict[int, Tuple[int, int]] = {}
        self._stack: List[int] = []
        self.wanted = wanted  # ids still without a span; emptied -> stop early
        # id of a node rebuilt by _in_steps -> id of the node it stands for (spans are keyed by the latter)
        self.alias: Dict[int, int] = alias if alias is not None else {}

    def key(self, node: cst.CSTNode) -> int:
        return self.alias.get(id(node), id(node))

    def inject(self, key: int, start: int, end: int) -> None:
        if key not in self.spans:
            self.spans[key] = (start, end)
            self._recorded(key)

    def _recorded(self, key: int) -> None:
        wanted = self.wanted
        if key in wanted:
            wanted.discard(key)
            if not wanted:
                raise _AllFound

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._stack.pop()
        key = self.alias.get(id(node), id(node))
        if key not in self.spans:
            self.spans[key] = (start, len(self.tokens))
            self._recorded(key)

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> "_Record":
        return _Record(self, node, start_node, end_node)


class _Record:
    """Context manager for one syntactic position (a class: cheaper than @contextmanager)."""

    __slots__ = ("state", "node", "start_node", "end_node", "start")

    def __init__(self, state: _TokenIndexState, node, start_node, end_node) -> None:
        self.state = state
        self.node = node
        self.start_node = start_node
        self.end_node = end_node

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return  # stopping early (or failing): record nothing
        spans = self.state.spans
        start = self.start
        end = len(self.state.tokens)
        state = self.state
        if self.start_node is not None:
            start = spans[state.key(self.start_node)][0]
        if self.end_node is not None:
            end = spans[state.key(self.end_node)][1]
        key = state.key(self.node)
        spans[key] = (start, end)
        self.state._recorded(key)


def node_ranges(module: cst.Module, nodes: Iterable[cst.CSTNode], steps: bool = False) -> Dict[int, Range]:
    """Map id(node) -> (line, column, end_line, end_column) for the given nodes. `steps`: generate
    the code in steps of bounded depth even where one pass would do (what a deep tree gets)."""
    return _ranges_and_code(module, nodes, steps)[0]


def _ranges_and_code(module: cst.Module, nodes: Iterable[cst.CSTNode], steps: bool = False) -> Tuple[Dict[int, Range], str]:
    """node_ranges, and the code generated (up to the last node asked about)."""
    wanted = {id(n) for n in nodes}
    if not wanted:
        return {}, ""
    state = _TokenIndexState(module.default_indent, module.default_newline, set(wanted))
    limit = sys.getrecursionlimit()
    try:
        # code generation recurses a few frames per nesting level: one pass where the tree allows it,
        # else in steps of bounded depth (the depth Python allows differs between versions: 3.12
        # caps it whatever the recursion limit says)
        sys.setrecursionlimit(max(limit, _PLAIN_LIMIT))
        try:
            if steps:
                raise RecursionError
            module._codegen(state)
        except RecursionError:
            state = _TokenIndexState(module.default_indent, module.default_newline, set(wanted))
            _in_steps(module, state, frozenset(wanted))
    except _AllFound:
        pass
    except RecursionError:
        return {}, ""  # nesting beyond what steps help with: findings fall back to the start of the file
    finally:
        sys.setrecursionlimit(limit)
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
    return result, code


_PLAIN_LIMIT = 4_000  # recursion limit for the one-pass code generation
FREEZE_HEIGHT = 48  # node levels generated at a time by _in_steps


@dataclasses.dataclass(frozen=True)
class _Generated(cst.CSTNode):
    """A subtree already generated: its code in pieces cut at the spans of the nodes in it that
    are asked about (key, first piece, end piece), so they can be placed from the pieces."""

    pieces: Tuple[str, ...] = ()
    inner: Tuple[Tuple[int, int, int], ...] = ()

    def _visit_and_replace_children(self, visitor: object) -> "_Generated":
        return self

    def _codegen_impl(self, state: CodegenState) -> None:
        base = len(state.tokens)
        state.tokens.extend(self.pieces)
        assert isinstance(state, _TokenIndexState)
        for key, first, end in self.inner:
            state.inject(key, base + first, base + end)


def _in_steps(root: cst.CSTNode, state: _TokenIndexState, wanted: FrozenSet[int]) -> None:
    """Code generation of `root` into `state` without recursing deeper than about FREEZE_HEIGHT
    node levels per expression: bottom up, each expression FREEZE_HEIGHT levels above the last one
    generated is generated alone and stands in its parent (rebuilt) as a _Generated leaf."""
    replaced: Dict[int, cst.CSTNode] = {}  # id(original node) -> rebuilt node or _Generated
    height: Dict[int, int] = {}  # id(original node) -> levels below it not yet generated
    keep: List[cst.CSTNode] = []  # rebuilt nodes, alive while their ids are aliases
    stack: List[Tuple[cst.CSTNode, Tuple[str, ...], bool]] = [(root, (), False)]
    while stack:
        node, indent, done = stack.pop()
        kids = children(node)
        if not done:
            stack.append((node, indent, True))
            if isinstance(node, cst.IndentedBlock):
                indent = (*indent, state.default_indent if node.indent is None else node.indent)
            stack.extend((kid, indent, False) for kid in kids)
            continue
        levels = 1 + max((height.pop(id(kid), 1) for kid in kids), default=0)
        new = _rebuilt(node, replaced)
        if new is not node:
            keep.append(new)
            state.alias[id(new)] = state.key(node)
            replaced[id(node)] = new
        if (levels >= FREEZE_HEIGHT and node is not root and isinstance(node, cst.BaseExpression)
                and not isinstance(node, cst.StarredElement)):  # its codegen takes arguments
            replaced[id(node)] = _generated(new, state, indent, wanted)
            levels = 1
        height[id(node)] = levels
    replaced.get(id(root), root)._codegen(state)


def _rebuilt(node: cst.CSTNode, replaced: Dict[int, cst.CSTNode]) -> cst.CSTNode:
    """`node` with its replaced children swapped in (a shallow copy; libcst's validation skipped:
    a _Generated child is not a node it knows)."""
    changes = {}
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if type(value) is tuple or type(value) is list:
            if any(id(item) in replaced for item in value):
                changes[name] = tuple(replaced.get(id(item), item) for item in value)
        elif id(value) in replaced:
            changes[name] = replaced[id(value)]
    if not changes:
        return node
    new = object.__new__(type(node))
    for f in dataclasses.fields(node):
        object.__setattr__(new, f.name, changes[f.name] if f.name in changes else getattr(node, f.name))
    return new


def _generated(node: cst.CSTNode, state: _TokenIndexState, indent: Tuple[str, ...], wanted: FrozenSet[int]) -> _Generated:
    sub = _TokenIndexState(state.default_indent, state.default_newline, set(), state.alias)
    sub.indent_tokens = list(indent)
    node._codegen(sub)
    offsets = [0, *itertools.accumulate(map(len, sub.tokens))]
    root = sub.key(node)
    spans = [(key, offsets[a], offsets[b]) for key, (a, b) in sub.spans.items() if key in wanted or key == root]
    cuts = sorted({0, offsets[-1], *(a for _, a, _ in spans), *(b for _, _, b in spans)})
    code = "".join(sub.tokens)
    piece = {cut: i for i, cut in enumerate(cuts)}
    return _Generated(pieces=tuple(code[a:b] for a, b in zip(cuts, cuts[1:])),
                      inner=tuple((key, piece[a], piece[b]) for key, a, b in spans))
