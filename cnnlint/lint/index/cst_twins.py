"""The libcst node at the place of an ast node, for the analyses still on libcst.

Transitional (issue 13): the cross-check's fact extraction (cnnlint.crosscheck.extract) reads
libcst nodes from `ctx.in_memory`, which CNL102 now fills from CPython's ast. Once the
extraction reads ast, this module goes.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, List, Optional, Sequence, Tuple, Type, Union

import libcst as cst

from cnnlint.lint.tree import walk

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

Span = Tuple[int, int, int, int]

_TWIN: Dict[type, Tuple[Type[cst.CSTNode], ...]] = {
    ast.Name: (cst.Name,),
    ast.Attribute: (cst.Attribute,),
    ast.Call: (cst.Call,),
    ast.For: (cst.For,),
    ast.AsyncFor: (cst.For,),
    ast.While: (cst.While,),
    ast.ListComp: (cst.ListComp,),
    ast.SetComp: (cst.SetComp,),
    ast.GeneratorExp: (cst.GeneratorExp,),
    ast.DictComp: (cst.DictComp,),
    ast.Subscript: (cst.Subscript,),
    ast.BinOp: (cst.BinaryOperation,),
    ast.Tuple: (cst.Tuple,),
    ast.List: (cst.List,),
    ast.Dict: (cst.Dict,),
    ast.IfExp: (cst.IfExp,),
    ast.UnaryOp: (cst.UnaryOperation,),
    ast.Lambda: (cst.Lambda,),
}


def cst_twins(ctx: "FileContext", targets: Sequence[Union[ast.AST, Span]]) -> Dict[object, cst.CSTNode]:
    """For each target (an ast node, or the span of a name), the libcst node of the same kind at
    the same place, keyed by id(ast node) or by the span; targets without one are left out."""
    if ctx.module is None or ctx.syntax is None or not targets:
        return {}
    wants: List[Tuple[object, Span, Tuple[Type[cst.CSTNode], ...]]] = []
    for target in targets:
        if isinstance(target, tuple):
            wants.append((target, target, (cst.Name,)))
        else:
            wants.append((id(target), ctx.syntax.span(target), _TWIN.get(type(target), (cst.CSTNode,))))
    kinds = tuple({tp for _, _, tps in wants for tp in tps})
    candidates = [n for n in walk(ctx.module) if isinstance(n, kinds)]
    ranges = ctx.ranges(candidates)
    out: Dict[object, cst.CSTNode] = {}
    for key, span, tps in wants:
        found = _closest([n for n in candidates if isinstance(n, tps)], ranges, span)
        if found is not None:
            out[key] = found
    return out


def _closest(nodes: List[cst.CSTNode], ranges: Dict[int, Span], span: Span) -> Optional[cst.CSTNode]:
    """The node at exactly `span`, else the one overlapping it whose ends are nearest."""
    best: Optional[cst.CSTNode] = None
    best_cost: Optional[Tuple[int, int]] = None
    start, end = span[:2], span[2:]
    for node in nodes:
        r = ranges.get(id(node))
        if r is None:
            continue
        if r == span:
            return node
        if r[2:] < start or end < r[:2]:
            continue  # no overlap
        cost = (abs(r[0] - span[0]) + abs(r[2] - span[2]), abs(r[1] - span[1]) + abs(r[3] - span[3]))
        if best_cost is None or cost < best_cost:
            best, best_cost = node, cost
    return best
