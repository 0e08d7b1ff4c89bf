"""CNL204 loss-accumulated-as-tensor: a loss tensor summed or appended across steps without
`.item()`, so every step's autograd history stays alive.

Judged per loop with the file's statement index (`Blocks`); the rule needs a `backward()` on
the very tensor that is accumulated.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator, List, Optional, Set, Tuple

from cnnlint.findings import Fix, Severity
from cnnlint.lint.index.call_args import arguments
from cnnlint.lint.index.autograd import backward_key, disables_grad, is_backward
from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.blocks import LOOPS, NESTED_SCOPES, WITHS, Blocks, own_calls, statement_blocks
from cnnlint.lint.index.names import call_tail, dotted_name
from cnnlint.lint.index.source_text import short_code
from cnnlint.lint.index.syntax import walk
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

_ARITH = (ast.Add, ast.Sub, ast.Mult, ast.Div)
# (statement, under no_grad)
Units = List[Tuple[ast.stmt, bool]]


def _names(node: ast.AST) -> Iterator[str]:
    """Every name under `node`: plain names, dotted chains, attribute and keyword names."""
    for n in walk(node):
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, ast.Attribute):
            name = dotted_name(n)
            if name is not None:
                yield name
            yield n.attr
        elif isinstance(n, ast.keyword) and n.arg is not None:
            yield n.arg
        elif isinstance(n, ast.Constant) and (n.value is None or isinstance(n.value, bool)):
            yield str(n.value)


def _carried(expr: ast.AST, key: str) -> Optional[ast.AST]:
    """The node `key` when `expr` is it, or arithmetic on it (`loss * x.size(0)`); else None."""
    if isinstance(expr, (ast.Name, ast.Attribute)) and dotted_name(expr) == key:
        return expr
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, _ARITH):
        return _carried(expr.left, key) or _carried(expr.right, key)
    if isinstance(expr, ast.UnaryOp):
        return _carried(expr.operand, key)
    return None


def _root(name: str) -> str:
    return name.split("[")[0]


def _accumulation(unit: ast.AST, keys: Set[str]) -> Optional[Tuple[str, ast.AST, str, str]]:
    """(accumulator, carried node, loss key, form) for `t += loss`, `t = t + loss`, `t.append(loss)`."""
    if isinstance(unit, ast.AugAssign) and isinstance(unit.op, ast.Add):
        target = dotted_name(unit.target)
        if target is None and isinstance(unit.target, ast.Subscript):
            target = dotted_name(unit.target.value)
            target = f"{target}[]" if target else None
        if target is None:
            return None
        for key in keys:
            node = _carried(unit.value, key)
            if node is not None:
                return target, node, key, "+="
        return None
    if isinstance(unit, ast.Assign) and len(unit.targets) == 1:
        target = dotted_name(unit.targets[0])
        value = unit.value
        if target is None or not isinstance(value, ast.BinOp) or not isinstance(value.op, ast.Add):
            return None
        for side, other in ((value.left, value.right), (value.right, value.left)):
            if dotted_name(side) == target:
                for key in keys:
                    node = _carried(other, key)
                    if node is not None:
                        return target, node, key, "="
        return None
    if isinstance(unit, ast.Expr) and isinstance(unit.value, ast.Call):
        call = unit.value
        if call_tail(call) == "append" and isinstance(call.func, ast.Attribute) and len(call.args) + len(call.keywords) == 1:
            target = dotted_name(call.func.value)
            if target is None:
                return None
            arg = arguments(call)[0]
            for key in keys:
                if dotted_name(arg) == key:
                    return target, arg, key, "append"
    return None


def _binds(unit: ast.AST, name: str) -> bool:
    targets: List[ast.AST] = []
    if isinstance(unit, ast.Assign):
        targets = list(unit.targets)
    elif isinstance(unit, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
        targets = [unit.target]
    elif isinstance(unit, WITHS):
        targets = [i.optional_vars for i in unit.items if i.optional_vars is not None]
    return any(found == name for t in targets for found in _names(t))


def _reset_in_loop(units: Units, target: str, acc_unit: ast.AST) -> bool:
    """The accumulator is (re)set inside this loop: it collects one step's losses (multi-task)."""
    plain = _root(target)
    for unit, _ in units:
        if unit is acc_unit or not isinstance(unit, (ast.Assign, ast.AnnAssign)):
            continue
        if _binds(unit, plain):
            if isinstance(unit, ast.Assign) and _accumulation(unit, {"\0"}) is None:
                value = unit.value
                if isinstance(value, ast.BinOp) and plain in {dotted_name(value.left), dotted_name(value.right)}:
                    continue
            return True
    return False


def _same_tensor(units: Units, i: int, j: int, key: str) -> bool:
    """No rebinding of `key` between the accumulation (i) and the backward on it (j)."""
    lo, hi = (i, j) if i < j else (j, i)
    for unit, _ in units[lo + 1 : hi + 1] if i < j else units[lo:hi]:
        if unit is units[i][0]:
            continue
        if _binds(unit, key):
            return False
    return True


class LossAccumulatedAsTensor(Rule):
    code = "CNL204"
    name = "loss-accumulated-as-tensor"
    severity = Severity.WARNING
    autofix = True
    summary = "Loss tensor accumulated across steps without .item(): every step's autograd history stays alive"
    uses = (Blocks, Bindings)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = source.text
        return "backward" in text and ("+=" in text or "append(" in text or "+ " in text)

    def check(self) -> None:
        index = self.ctx.get(Blocks)
        # names whose value some backward call differentiates (multi-task sums, `sum(losses).backward()`)
        self.backed: Set[str] = set()
        for site in self.ctx.get(Bindings).calls:  # every call of the file, from the shared walk
            if is_backward(site.node):
                self.backed.update(_names(site.node))
        found: List[Tuple[ast.AST, str, str, str]] = []
        seen: Set[int] = set()
        for loop in index.loops:
            for item in self.check_loop(index, loop):
                if id(item[0]) not in seen:
                    seen.add(id(item[0]))
                    found.append(item)
        syntax = index.syntax
        for node, message, hint, key in found:
            line, column, end_line, end_column = syntax.span(node)
            fix = Fix(line, column, end_line, end_column, f"{key}.item()",
                      description=f"accumulate `{key}.item()` instead of the tensor")
            self.report(node, message, hint, fix=fix)

    @staticmethod
    def units(index: Blocks, loop: ast.stmt) -> Units:
        units: Units = []
        # depth first with a stack of iterators: a recursive closure would be a reference cycle
        stack: List[Tuple[Iterator[ast.stmt], bool]] = [(iter(loop.body), False)]  # type: ignore[attr-defined]
        while stack:
            block, no_grad = stack[-1]
            stmt = next(block, None)
            if stmt is None:
                stack.pop()
                continue
            units.append((stmt, no_grad))
            if isinstance(stmt, NESTED_SCOPES) or isinstance(stmt, LOOPS):
                continue
            inner = no_grad or (isinstance(stmt, WITHS) and any(disables_grad(i.context_expr) for i in stmt.items))
            subs = [s for sub in statement_blocks(index.syntax, stmt) for s in sub]
            if subs:
                stack.append((iter(subs), inner))
        return units

    def check_loop(self, index: Blocks, loop: ast.stmt) -> Iterator[Tuple[ast.AST, str, str, str]]:
        units = self.units(index, loop)
        backs: List[Tuple[int, str]] = []
        for i, (unit, _) in enumerate(units):
            for call in own_calls(unit):
                key = backward_key(call)
                if key is not None:
                    backs.append((i, key))
        if not backs:
            return
        keys = {k for _, k in backs}
        for i, (unit, no_grad) in enumerate(units):
            if no_grad:
                continue
            acc = _accumulation(unit, keys)
            if acc is None:
                continue
            target, node, key, text = acc
            if target == key or _root(target).split(".")[0] in self.backed or target in self.backed:
                continue
            if _reset_in_loop(units, target, unit):
                continue
            if not any(_same_tensor(units, i, j, key) for j, k in backs if k == key):
                continue
            verb = "appends" if text.startswith("append") else "adds"
            shown = short_code(index.syntax, unit, 60)
            yield (
                node,
                f"`{shown}` {verb} the loss tensor `{key}` itself, which carries the autograd history of its step, "
                f"so `{target}` keeps the history of every step alive and memory grows with each iteration",
                f"accumulate the number instead: `{key}.item()` (or `{key}.detach()`)",
                key,
            )
