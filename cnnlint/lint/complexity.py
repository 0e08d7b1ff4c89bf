"""Code too deeply nested to analyse, found by CPython's parser before libcst ever sees it.

libcst's parser takes time that grows with the nesting depth of an expression far faster than
linearly (on 2 cores: a 2,000-term `1 + 1 + ...` line 1.5 s, 4,000 terms 10 s, `a[0][0]...` 2,000
deep 11 s) and crashes the whole process (a stack overflow in its native code) somewhere past
that: a 20,000-term line (40 KB) took 3 minutes and then a segmentation fault. CPython's parser
is linear, and refuses nesting of about 3,000 levels (2,983 nested lambdas on every version from
3.9 to 3.13; 2,988 operators in a chain on 3.11, 2,993 on 3.12, 9,994 on 3.13) or more than 200
nested brackets or 100 indentation levels.

So a file goes to libcst only if CPython parses it and none of its expressions is nested deeper
than MAX_DEPTH, which is below every version's own limit: the verdict is the same on each.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from typing import Any, List, Optional, Tuple

MAX_DEPTH = 1_500  # expressions inside expressions

# CPython's words when it refuses code for its size rather than its syntax
_LIMIT_MESSAGES = ("too many nested", "too many levels of indentation", "too complex", "too deeply nested")
_DEEP = f"expressions nested more than {MAX_DEPTH:,} levels deep"


@dataclass
class TooComplex:
    line: int
    column: int
    reason: str

    @property
    def message(self) -> str:
        return f"too complex to analyse: {self.reason}"


@dataclass
class Verdict:
    too_complex: Optional[TooComplex] = None
    clean: bool = False  # CPython parsed it without any error


_last: List[Tuple[str, ast.Module]] = []  # the text check() parsed last, and its tree


def parsed(text: str) -> Optional[ast.Module]:
    """CPython's tree of `text` when check() parsed this very string last, handed over: the cache
    lets it go, so no tree outlives its file's lint (a large one kept to the end costs seconds when
    the interpreter exits)."""
    if not (_last and _last[0][0] is text):
        return None
    return _last.pop()[1]


def check(text: str) -> Verdict:
    _last.clear()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (RecursionError, MemoryError):
        return Verdict(TooComplex(1, 1, _DEEP))  # where is not known: the file's start
    except SyntaxError as err:
        if any(words in (err.msg or "") for words in _LIMIT_MESSAGES):
            return Verdict(TooComplex(err.lineno or 1, max(err.offset or 1, 1), f"{err.msg} (CPython's limit)"))
        return Verdict()  # a syntax error: libcst reports it (CPython's words where they agree)
    except ValueError:  # null bytes
        return Verdict()
    _last.append((text, tree))
    deep = _deep_expression(tree, text.split("\n"))
    if deep is not None:
        return Verdict(TooComplex(deep.lineno, deep.col_offset + 1, _DEEP))
    return Verdict(clean=True)


def _span(node: Any, line_starts: List[int]) -> int:
    """At least the number of characters the node covers: from the start of its first line to its
    end (UTF-8 offsets count bytes, at least one per character)."""
    first, last = node.lineno, getattr(node, "end_lineno", None) or node.lineno
    end = getattr(node, "end_col_offset", None)
    if end is None:
        return line_starts[last] - line_starts[first - 1]
    return line_starts[last - 1] + end - line_starts[first - 1]


_EXPRESSIONS = (ast.expr, getattr(ast, "pattern", ast.expr))
_NOT_NODES = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop)


def _deep_expression(tree: ast.AST, lines: List[str]) -> Optional[Any]:
    """The first top-level expression (of a statement) nested deeper than MAX_DEPTH. An expression
    that many levels deep covers at least MAX_DEPTH characters (each level adds one at least): only
    those are walked, and statements shorter than that are skipped whole."""
    line_starts = [0]
    for line in lines:
        line_starts.append(line_starts[-1] + len(line) + 1)
    stack: List[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _EXPRESSIONS):
                if _span(child, line_starts) > MAX_DEPTH and _depth(child) > MAX_DEPTH:
                    return child
            elif isinstance(child, ast.stmt) and _span(child, line_starts) <= MAX_DEPTH:
                continue  # nothing inside it is long enough
            elif not isinstance(child, _NOT_NODES):
                stack.append(child)  # statements, handlers, arguments, comprehensions ...
    return None


def _depth(root: ast.AST) -> int:
    deepest = 0
    stack: List[Tuple[ast.AST, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + 1 if isinstance(child, ast.expr) else depth))
    return deepest
