"""Fast traversal of libcst trees and the small name helpers every rule needs.

libcst's own visitor machinery rebuilds each node's children on the way and
costs about as much as parsing; these helpers read the node fields directly and
skip the whitespace, comma and bracket nodes no rule looks at.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, Optional, Tuple, Type, TypeVar

import libcst as cst

_NOISE_FIELDS = {
    "lpar", "rpar", "comma", "semicolon", "header", "footer", "leading_lines",
    "lines_after_decorators", "trailing_whitespace", "newline", "equal", "colon",
    "star", "dot", "lbracket", "rbracket", "lbrace", "rbrace", "arrow", "asynchronous",
    "first_line", "empty_lines", "whitespace", "operator",
}
_FIELDS: Dict[type, Tuple[str, ...]] = {}


def child_fields(tp: type) -> Tuple[str, ...]:
    fields = _FIELDS.get(tp)
    if fields is None:
        fields = tuple(
            f.name
            for f in dataclasses.fields(tp)
            if f.name not in _NOISE_FIELDS and not f.name.startswith("whitespace")
        )
        _FIELDS[tp] = fields
    return fields


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct child nodes in source order, without formatting nodes."""
    CST = cst.CSTNode
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, CST):
            if not isinstance(value, _FORMATTING):
                yield value
        elif type(value) in (tuple, list):
            for item in value:
                if isinstance(item, CST) and not isinstance(item, _FORMATTING):
                    yield item


_FORMATTING = (
    cst.BaseParenthesizableWhitespace,
    cst.Comma,
    cst.EmptyLine,
    cst.TrailingWhitespace,
    cst.Newline,
    cst.Comment,
    cst.LeftParen,
    cst.RightParen,
    cst.BaseUnaryOp,
    cst.BaseBinaryOp,
    cst.BaseBooleanOp,
    cst.BaseCompOp,
    cst.BaseAugOp,
    cst.AssignEqual,
    cst.Semicolon,
    cst.Colon,
    cst.Dot,
)


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node under `node` (itself included), depth first, in source order."""
    stack = [node]
    pop = stack.pop
    while stack:
        current = pop()
        yield current
        kids = list(children(current))
        kids.reverse()
        stack.extend(kids)


N = TypeVar("N", bound=cst.CSTNode)


def find_all(node: cst.CSTNode, kind: Type[N]) -> Iterator[N]:
    for n in walk(node):
        if isinstance(n, kind):
            yield n


def dotted_name(expr: cst.CSTNode) -> Optional[str]:
    """`a.b.c` for Name/Attribute chains, None for anything else."""
    parts = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if isinstance(expr, cst.Name):
        parts.append(expr.value)
        return ".".join(reversed(parts))
    return None


def call_tail(call: cst.Call) -> Optional[str]:
    """The last name of the callee: `fit` for `model.fit(...)`, `f` for `f(...)`."""
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    if isinstance(func, cst.Name):
        return func.value
    return None


def keyword(call: cst.Call, name: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def has_star_kwargs(call: cst.Call) -> bool:
    return any(arg.star == "**" for arg in call.args)


def positional(call: cst.Call, index: int) -> Optional[cst.Arg]:
    pos = [a for a in call.args if a.keyword is None and not a.star]
    return pos[index] if index < len(pos) else None


def assigned_names(target: cst.CSTNode) -> Iterator[str]:
    """Plain names bound by an assignment target (tuples unpacked)."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for el in target.elements:
            yield from assigned_names(el.value)
    elif isinstance(target, cst.StarredElement):
        yield from assigned_names(target.value)


def string_value(expr: cst.CSTNode) -> Optional[str]:
    """The value of a plain (non-f) string literal, or None."""
    if isinstance(expr, cst.SimpleString):
        try:
            value = expr.evaluated_value
        except Exception:  # noqa: BLE001 - odd prefixes
            return None
        return value if isinstance(value, str) else None
    if isinstance(expr, cst.ConcatenatedString):
        left, right = string_value(expr.left), string_value(expr.right)
        if left is not None and right is not None:
            return left + right
    return None


class ImportTable:
    """Local name -> fully qualified name, from every import in the module."""

    def __init__(self, module: cst.Module) -> None:
        self.aliases: Dict[str, str] = {}
        self.modules: set = set()
        for node in walk(module):
            if isinstance(node, cst.Import):
                for alias in node.names:
                    full = dotted_name(alias.name) or ""
                    self.modules.add(full)
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        self.aliases[alias.asname.name.value] = full
                    else:
                        head = full.split(".")[0]
                        self.aliases.setdefault(head, head)
            elif isinstance(node, cst.ImportFrom):
                if node.relative or node.module is None:
                    continue
                base = dotted_name(node.module) or ""
                self.modules.add(base)
                if isinstance(node.names, cst.ImportStar):
                    continue
                for alias in node.names:
                    name = dotted_name(alias.name) or ""
                    local = name
                    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                        local = alias.asname.name.value
                    self.aliases[local] = f"{base}.{name}"

    def qualify(self, expr: cst.CSTNode) -> Optional[str]:
        """The qualified dotted name of a Name/Attribute chain, resolved through imports."""
        name = dotted_name(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.aliases.get(head)
        if full is None:
            return name
        return f"{full}.{rest}" if rest else full

    def imports_any(self, *prefixes: str) -> bool:
        return any(
            m == p or m.startswith(p + ".") for m in self.modules for p in prefixes
        )
