"""Fast traversal of libcst trees and the small name helpers every rule needs.

libcst's own visitor machinery rebuilds each node's children on the way and
costs about as much as parsing; these helpers read the node fields directly and
skip the whitespace, comma and bracket nodes no rule looks at.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Iterator, List, Optional, Tuple, Type, TypeVar

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


# node type -> skipped by traversal (formatting, or not a node at all). A dict lookup per
# type instead of isinstance() against libcst's abstract classes, which is the hot spot.
_SKIP: Dict[type, bool] = {}


def _skipped(tp: type) -> bool:
    skip = _SKIP.get(tp)
    if skip is None:
        skip = _SKIP[tp] = not issubclass(tp, cst.CSTNode) or issubclass(tp, _FORMATTING)
    return skip


def children(node: cst.CSTNode) -> List[cst.CSTNode]:
    """Direct child nodes in source order, without formatting nodes."""
    out: List[cst.CSTNode] = []
    skip = _SKIP
    for name in child_fields(type(node)):
        value = getattr(node, name)
        tv = type(value)
        if tv is tuple or tv is list:
            for item in value:
                s = skip.get(type(item))
                if s is None:
                    s = _skipped(type(item))
                if not s:
                    out.append(item)
        elif value is not None:
            s = skip.get(tv)
            if s is None:
                s = _skipped(tv)
            if not s:
                out.append(value)
    return out


def walk(node: cst.CSTNode, stop: Tuple[type, ...] = ()) -> Iterator[cst.CSTNode]:
    """Every node under `node` (itself included), depth first, in source order; nodes of a `stop`
    type are yielded but not entered (nested functions, say)."""
    stack = [node]
    pop = stack.pop
    extend = stack.extend
    while stack:
        current = pop()
        yield current
        if stop and isinstance(current, stop):
            continue
        kids = children(current)
        kids.reverse()
        extend(kids)


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


def _suite_statements(suite: object) -> List[cst.CSTNode]:
    if isinstance(suite, (cst.IndentedBlock, cst.SimpleStatementSuite)):
        return list(suite.body)
    return []


def block_statements(node: cst.CSTNode) -> List[cst.CSTNode]:
    """The statements directly inside a compound statement (bodies, else, except, finally, cases)."""
    out: List[cst.CSTNode] = []
    body = getattr(node, "body", None)
    if isinstance(node, cst.Module):
        return list(node.body)
    out.extend(_suite_statements(body))
    for attr in ("handlers", "cases"):
        for part in getattr(node, attr, ()) or ():
            out.extend(_suite_statements(getattr(part, "body", None)))
    orelse = getattr(node, "orelse", None)
    while orelse is not None:
        if isinstance(orelse, cst.If):  # elif chain
            out.append(orelse)
            break
        out.extend(_suite_statements(getattr(orelse, "body", None)))
        break
    final = getattr(node, "finalbody", None)
    if final is not None:
        out.extend(_suite_statements(final.body))
    return out


def iter_statements(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every statement under `node`: compound ones and the small statements of each line.

    Looks only at statement structure, never into expressions, so it is cheap.
    """
    stack = block_statements(node)
    stack.reverse()
    while stack:
        stmt = stack.pop()
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
            continue
        yield stmt
        inner = block_statements(stmt)
        inner.reverse()
        stack.extend(inner)


class ImportTable:
    """Local name -> fully qualified name, from every import in the module."""

    def __init__(self, module: cst.Module) -> None:
        self.aliases: Dict[str, str] = {}
        self.modules: set = set()
        for node in iter_statements(module):
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


def is_falsy_literal(expr: Optional[cst.CSTNode]) -> bool:
    """A literal that switches an option off: False, None, 0, 0.0."""
    if isinstance(expr, cst.Name):
        return expr.value in ("False", "None")
    if isinstance(expr, (cst.Integer, cst.Float)):
        try:
            return float(expr.value.replace("_", "")) == 0.0
        except ValueError:
            return False
    return False


def short_code(module: cst.Module, node: cst.CSTNode, limit: int = 48) -> str:
    """The node's code on one line, calls with long arguments shortened to `f(...)`."""
    try:
        text = " ".join(module.code_for_node(node).split())
    except Exception:  # noqa: BLE001 - codegen of odd nodes
        return "..."
    if len(text) <= limit:
        return text
    if isinstance(node, cst.Call):
        func = dotted_name(node.func)
        if func is None and isinstance(node.func, cst.Attribute):
            func = "..." + "." + node.func.attr.value
        if func is not None:
            return f"{func}(...)"
    return text[: limit - 3] + "..."


def all_params(params: cst.Parameters) -> List[cst.Param]:
    """Every parameter of a def or lambda: positional-only, regular, keyword-only, *args, **kwargs."""
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    out += [star for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param)]
    return out
