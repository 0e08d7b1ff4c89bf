"""CNL202 accumulator-never-accumulated: a gradient/loss accumulator is set to a neutral value
before a micro-batch loop, only overwritten inside it, and then used to update the model.

The rule judges the whole file in `check()`, from the `Statements` analysis: the assignments
of a neutral value (`grads = None`, `acc = [tf.zeros_like(v) for v in vs]`) in the blocks
around each loop, what the loop does with the name, and what the statements after it do.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Set, Tuple

from cnnlint.findings import Severity
from cnnlint.lint.index.loops import neutral_kind
from cnnlint.lint.index.names import call_tail, dotted_name
from cnnlint.lint.index.statements import (
    PATTERNS,
    COMPREHENSIONS,
    DEFINITIONS,
    FOR_LOOPS,
    LOOPS,
    TRIES,
    WITHS,
    Block,
    Statements,
    call_arguments,
    field_order_children,
    field_order_walk,
    identifiers,
    is_compound,
    own_identifiers,
    short_code,
)
from cnnlint.lint.index.syntax import Syntax, walk
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

WRITE, AUG, BIND, READ = range(4)
Use = Tuple[int, ast.AST]
Unit = Tuple[ast.AST, bool]  # a piece of the loop body, and whether it runs straight through

_LOSS_WORDS = ("loss", "criterion", "entropy", "mse", "nll")


def _is_grad_or_loss_name(name: str) -> bool:
    lower = name.lower()
    return "grad" in lower or "loss" in lower


def _quoted(update: str) -> str:
    """The update as a message shows it: code in backticks, a description as it is."""
    return update if update.startswith("the ") else f"`{update}`"


def _neutral_text(kind: str) -> str:
    return {"None": "reset to None", "0": "set to 0", "[]": "set to an empty list"}.get(kind, "set to zeros")


# ---------------------------------------------------------------------------
# uses of a name
# ---------------------------------------------------------------------------


def name_uses(node: ast.AST, name: str, out: List[Use]) -> None:
    """Every use of the plain name `name` under `node`: written, augmented, bound otherwise, read."""
    stack: List[ast.AST] = [node]
    while stack:
        cur = stack.pop()
        tp = type(cur)
        if tp is ast.Name:
            if cur.id == name:  # type: ignore[attr-defined]
                out.append((READ, cur))
        elif tp is ast.Assign or tp is ast.AnnAssign:
            targets = cur.targets if tp is ast.Assign else [cur.target]  # type: ignore[attr-defined]
            for t in targets:
                _target_uses(t, name, cur, out, stack)
            if cur.value is not None:  # type: ignore[attr-defined]
                stack.append(cur.value)  # type: ignore[attr-defined]
        elif tp is ast.AugAssign:
            if isinstance(cur.target, ast.Name) and cur.target.id == name:  # type: ignore[attr-defined]
                out.append((AUG, cur))
            else:
                stack.append(cur.target)  # type: ignore[attr-defined]
            stack.append(cur.value)  # type: ignore[attr-defined]
        elif tp in DEFINITIONS or tp is ast.Lambda or tp is ast.Delete:
            # a closure or nested def that mentions the name: anything may happen
            if name in identifiers(cur):
                out.append((BIND, cur))
        elif tp is ast.Global or tp is ast.Nonlocal:
            if name in cur.names:  # type: ignore[attr-defined]
                out.append((BIND, cur))
        elif tp is ast.Attribute or tp is ast.keyword:
            stack.append(cur.value)  # type: ignore[attr-defined]
        elif not _binding_uses(cur, name, out, stack):
            kids = field_order_children(cur)
            kids.reverse()
            stack.extend(kids)


def _binding_uses(cur: ast.AST, name: str, out: List[Use], stack: List[ast.AST]) -> bool:
    """Uses at nodes that bind names besides assignments; True when `cur` is fully handled."""
    tp = type(cur)
    if tp in FOR_LOOPS or tp is ast.comprehension:
        if name in identifiers(cur.target):  # type: ignore[attr-defined]
            out.append((BIND, cur))
        return False
    if tp is ast.NamedExpr:
        if isinstance(cur.target, ast.Name) and cur.target.id == name:  # type: ignore[attr-defined]
            out.append((BIND, cur))
            stack.append(cur.value)  # type: ignore[attr-defined]
            return True
        return False
    if tp is ast.withitem:
        stack.append(cur.context_expr)  # type: ignore[attr-defined]
        target = cur.optional_vars  # type: ignore[attr-defined]
        if isinstance(target, ast.Name) and target.id == name:
            out.append((BIND, cur))
        return True
    if tp is ast.ExceptHandler:
        if cur.name == name:  # type: ignore[attr-defined]
            out.append((BIND, cur))
        return False
    if tp is ast.alias or tp is ast.ImportFrom:
        head = (cur.name if tp is ast.alias else cur.module or "").split(".")[0]  # type: ignore[attr-defined]
        if head == name:
            out.append((READ, cur))
        if tp is ast.alias and cur.asname == name:  # type: ignore[attr-defined]
            out.append((BIND, cur))
        return tp is ast.alias
    if isinstance(cur, PATTERNS) and name in own_identifiers(cur):
        out.append((READ, cur))
    return False


def _target_uses(target: ast.AST, name: str, stmt: ast.AST, out: List[Use], stack: List[ast.AST]) -> None:
    if isinstance(target, ast.Name):
        if target.id == name:
            out.append((WRITE, stmt))
    elif isinstance(target, (ast.Tuple, ast.List)):
        for el in target.elts:
            _target_uses(el, name, stmt, out, stack)
    elif isinstance(target, ast.Starred):
        _target_uses(target.value, name, stmt, out, stack)
    else:  # `acc[i] = ...`, `acc.x = ...`: reads the accumulator
        stack.append(target)


def _reads(node: ast.AST, names: Set[str]) -> bool:
    return any(n in names for n in identifiers(node))


def _is_grad_or_loss_expr(expr: ast.AST) -> bool:
    for n in ast.walk(expr):
        if isinstance(n, ast.Call):
            tail = (call_tail(n) or "").lower()
            if tail in ("gradient", "grad", "gradients", "compute_gradients") or any(w in tail for w in _LOSS_WORDS):
                return True
        for ident in own_identifiers(n):
            low = ident.lower()
            if "grad" in low or "loss" in low or "criterion" in low:
                return True
    return False


def _is_loss_value(name: str, value: ast.AST) -> bool:
    if "loss" in name.lower():
        return True
    if "grad" in name.lower():
        return False
    for n in walk(value):
        if isinstance(n, ast.Call):
            tail = (call_tail(n) or "").lower()
            if "grad" in tail:
                return False
            if any(w in tail for w in _LOSS_WORDS):
                return True
    return False


# ---------------------------------------------------------------------------
# the loop
# ---------------------------------------------------------------------------


def _loop_flat_units(loop: ast.stmt) -> List[Unit]:
    """The loop body in execution order as (unit, straight): `with` blocks opened up."""
    units: List[Unit] = []
    if isinstance(loop, ast.While):
        units.append((loop.test, False))

    # depth first with a stack of iterators: a recursive closure would be a reference cycle
    stack: List[Iterator[ast.stmt]] = [iter(loop.body)]  # type: ignore[attr-defined]
    while stack:
        unit = next(stack[-1], None)
        if unit is None:
            stack.pop()
        elif isinstance(unit, WITHS):
            for item in unit.items:
                units.append((item, False))
            stack.append(iter(unit.body))
        else:
            units.append((unit, not is_compound(unit)))
    return units


def _single_pass(syntax: Syntax, loop: ast.stmt) -> bool:
    """`for x, y in ds.take(1)`, `for _ in range(1)`: a loop that grabs one batch."""
    if not isinstance(loop, FOR_LOOPS):
        return False
    it = loop.iter
    if isinstance(it, ast.Call) and call_tail(it) in ("take", "range", "islice"):
        args = call_arguments(it)
        if args:
            last = args[-1]
            one = isinstance(last, ast.Constant) and type(last.value) is int and syntax.segment(last) == "1"
            return one and (call_tail(it) != "range" or len(args) == 1)
    return False


def _loop_own_nodes(loop: ast.stmt) -> Iterator[ast.AST]:
    """Nodes of the loop body outside nested loops and defs (to find its own `break`)."""
    stop = LOOPS + DEFINITIONS + (ast.Lambda,) + COMPREHENSIONS
    for child in loop.body:  # type: ignore[attr-defined]
        yield from walk(child, stop)


def _grad_target(targets: List[ast.expr]) -> bool:
    return any(isinstance(t, ast.Attribute) and t.attr == "grad" for t in targets)


def _update_use(unit: ast.AST, tracked: Set[str], syntax: Syntax) -> Optional[str]:
    """`apply_gradients(zip(acc, ...))`, `acc.backward()`, `p.grad = acc[i]` in this statement."""
    for n in field_order_walk(unit):
        if isinstance(n, ast.Call):
            tail = call_tail(n)
            if tail == "apply_gradients" and any(_reads(a, tracked) for a in call_arguments(n)):
                func = dotted_name(n.func) or "apply_gradients"
                return f"{func}(...)"
            if tail in ("backward", "manual_backward"):
                recv = n.func.value if isinstance(n.func, ast.Attribute) else None
                if (recv is not None and _reads(recv, tracked)) or any(_reads(a, tracked) for a in call_arguments(n)):
                    return short_code(syntax, n, 40)
        elif isinstance(n, ast.Assign):
            if _grad_target(n.targets) and _reads(n.value, tracked):
                return "the `.grad` assignment"
        elif isinstance(n, FOR_LOOPS):
            if _reads(n.iter, tracked):
                for stmt in n.body:
                    for m in walk(stmt):
                        if isinstance(m, ast.Assign) and _grad_target(m.targets):
                            return "the `.grad` assignment"
    return None


class AccumulatorNeverAccumulated(Rule):
    code = "CNL202"
    name = "accumulator-never-accumulated"
    severity = Severity.ERROR
    summary = "Gradient/loss accumulator is overwritten in the micro-batch loop instead of summed"
    uses = (Statements,)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = source.text
        return "apply_gradients" in text or "backward" in text or ".grad" in text

    def check(self) -> None:
        statements = self.ctx.get(Statements)
        syntax = statements.syntax
        # block -> [(index in block, names, assignment)] for `name = <neutral value>`
        self.inits: Dict[int, List[Tuple[int, List[str], ast.Assign]]] = {}
        for assign in statements.plain_assignments:
            if neutral_kind(syntax, assign.value) is not None:
                block, i = statements.position[id(assign)]
                names = [t.id for t in assign.targets]  # type: ignore[attr-defined]
                self.inits.setdefault(id(block), []).append((i, names, assign))
        if not self.inits:
            return
        for loop in statements.loops:
            self.check_loop(loop, statements)

    def check_loop(self, loop: ast.stmt, statements: Statements) -> None:
        if _single_pass(statements.syntax, loop):
            return
        path = statements.path(loop)
        # the closest `name = <neutral>` before the loop, for each name: (level, index, assignment)
        inits: Dict[str, Tuple[int, int, ast.Assign]] = {}
        for level, (block, i) in enumerate(path):
            for j, names, assign in reversed(self.inits.get(id(block), ())):
                if j < i:
                    for name in names:
                        inits.setdefault(name, (level, j, assign))
        if not inits:
            return
        written, mentioned = statements.names(loop)
        units: Optional[List[Unit]] = None
        for name, (level, j, assign) in inits.items():
            if name in statements.global_names:
                continue
            if name in mentioned:
                if name not in written:
                    continue  # read only: not what this rule is about
            elif not _is_grad_or_loss_name(name) and not self.unused_accumulator(loop, name, statements):
                continue
            if units is None:
                units = _loop_flat_units(loop)
            self.check_name(loop, units, name, assign, (level, j), path, statements)

    @staticmethod
    def between(name: str, start: Tuple[int, int], path: List[Tuple[Block, int]], statements: Statements) -> Optional[bool]:
        """Statements between the initialisation and the loop: None if one rebinds `name`,
        else whether any mentions it (an alias may accumulate into it)."""
        level, j = start
        seen = False
        for lvl, (block, i) in enumerate(path[: level + 1]):
            # from the line after the initialisation's (statements after a `;` on it do not count)
            lo = statements.same_line_end(block[j]) + 1 if lvl == level else 0
            for stmt in block[lo:i]:
                w, m = statements.names(stmt)
                if name in w:
                    return None
                seen = seen or name in m
        return seen

    @staticmethod
    def uses_in(units: List[Unit], name: str) -> List[List[Use]]:
        per_unit: List[List[Use]] = []
        for unit, _ in units:
            uses: List[Use] = []
            name_uses(unit, name, uses)
            per_unit.append(uses)
        return per_unit

    def check_name(self, loop: ast.stmt, units: List[Unit], name: str, init: ast.Assign, start: Tuple[int, int],
                   path: List[Tuple[Block, int]], statements: Statements) -> None:
        per_unit = self.uses_in(units, name)
        flat = [u for uses in per_unit for u in uses]
        if any(k in (AUG, BIND) for k, _ in flat):
            return
        writes = [n for k, n in flat if k == WRITE]
        reads = [n for k, n in flat if k == READ]
        kill_at: Optional[int] = None
        if writes:
            # the first unconditional overwrite that does not read the old value
            for i, ((_unit, straight), uses) in enumerate(zip(units, per_unit)):
                if straight and any(k == WRITE for k, _ in uses) and not any(k == READ for k, _ in uses):
                    kill_at = i
                    break
            if kill_at is None:
                if reads:
                    return
            elif any(k == READ for uses in per_unit[:kill_at] for k, _ in uses):
                return
            values = [w.value for w in writes if isinstance(w, (ast.Assign, ast.AnnAssign)) and w.value is not None]
            if not _is_grad_or_loss_name(name) and not any(_is_grad_or_loss_expr(v) for v in values):
                return
        elif reads or not self.computes_gradients(loop):
            return
        if any(type(n) is ast.Break for n in _loop_own_nodes(loop)):
            return  # a search or retry loop: the last value is the one wanted
        if self.helper_touches(loop, name, statements):
            return
        update = self.update_after(loop, name, statements)
        if update is None:
            return
        aliased = self.between(name, start, path, statements)
        if aliased is None or (aliased and not writes):
            return
        kind = neutral_kind(statements.syntax, init.value) or "zeros"
        if not writes:
            self.report(
                init,
                f"`{name}` is {_neutral_text(kind)} before the loop but the loop never adds to it; "
                f"{_quoted(update)} receives the initial value, not the micro-batches' gradients",
                f"add each micro-batch's result into `{name}` inside the loop "
                f"(e.g. `{name}[i].assign_add(g)` or `{name} += ...`)",
            )
            return
        first = units[kill_at][0] if kill_at is not None else writes[0]
        self.report_overwrite(first, name, kind, update, kill_at is not None, statements.syntax)

    def report_overwrite(self, first: ast.AST, name: str, kind: str, update: str, every: bool, syntax: Syntax) -> None:
        value = first.value if isinstance(first, (ast.Assign, ast.AnnAssign)) and first.value is not None else None
        rhs = short_code(syntax, value, 40) if value is not None else name
        where = "in every iteration" if every else "inside the loop"
        message = (
            f"`{name}` is {_neutral_text(kind)} before the loop and overwritten by `{rhs}` {where}; "
            f"only the last micro-batch reaches {_quoted(update)}"
        )
        if value is not None and _is_loss_value(name, value):
            hint = f"accumulate instead of overwriting: `{name} += {rhs}` (or `{name} = {name} + ...`)"
        elif kind == "None":
            hint = (f"accumulate: `{name} = g if {name} is None else [a + b for a, b in zip({name}, g)]` "
                    f"(or `{name}[i].assign_add(g)`)")
        else:
            hint = f"accumulate: `{name} = [a + b for a, b in zip({name}, g)]` (or `{name}[i].assign_add(g)`)"
        self.report(first, message, hint)

    @staticmethod
    def unused_accumulator(loop: ast.stmt, name: str, statements: Statements) -> bool:
        """`accum = [tf.zeros_like(v) ...]` that the loop never mentions, while the loop overwrites
        gradients (`grads = tape.gradient(...)`) and the first statement after it that mentions
        `accum` applies it (`apply_gradients(zip(accum, ...))`): whatever the accumulator's name."""
        overwritten = any(
            type(n) is ast.Assign and isinstance(n.value, ast.Call)  # type: ignore[attr-defined]
            and call_tail(n.value) in ("gradient", "grad", "gradients")  # type: ignore[attr-defined]
            and all(isinstance(t, (ast.Name, ast.Tuple)) for t in n.targets)  # type: ignore[attr-defined]
            for stmt in loop.body for n in walk(stmt)  # type: ignore[attr-defined]
        )
        pos = statements.position.get(id(loop))
        if not overwritten or pos is None:
            return False
        block, i = pos
        for unit in block[i + 1:]:
            if name in statements.names(unit)[1]:
                return _update_use(unit, {name}, statements.syntax) is not None
        return False

    @staticmethod
    def computes_gradients(loop: ast.stmt) -> bool:
        for stmt in loop.body:  # type: ignore[attr-defined]
            for n in walk(stmt):
                if type(n) is ast.Call:
                    tail = (call_tail(n) or "").lower()  # type: ignore[arg-type]
                    if tail in ("gradient", "backward", "grad") or "loss" in tail:
                        return True
        return False

    @staticmethod
    def helper_touches(loop: ast.stmt, name: str, statements: Statements) -> bool:
        """The loop calls a function of this file whose body mentions the accumulator."""
        for stmt in loop.body:  # type: ignore[attr-defined]
            for n in walk(stmt):
                if type(n) is not ast.Call:
                    continue
                func = n.func  # type: ignore[attr-defined]
                called = func.id if type(func) is ast.Name else func.attr if type(func) is ast.Attribute else None
                if called is None:
                    continue
                for fn in statements.functions.get(called, []) + statements.methods.get(called, []):
                    if name in statements.names(fn)[1]:
                        return True
        return False

    @staticmethod
    def update_after(loop: ast.stmt, name: str, statements: Statements) -> Optional[str]:
        """How the statements after the loop feed `name` into a model update, if they do."""
        tracked = {name}
        stmt: Optional[ast.stmt] = loop
        while stmt is not None:
            pos = statements.position.get(id(stmt))
            if pos is None:
                return None
            block, i = pos
            for unit in block[i + 1 :]:
                written, mentioned = statements.names(unit)
                if not mentioned & tracked:
                    continue
                found = _update_use(unit, tracked, statements.syntax)
                if found is not None:
                    return found
                derives = type(unit) is ast.Assign and _reads(unit.value, tracked)  # type: ignore[attr-defined]
                if name in written and not derives:
                    return None
                if derives:
                    tracked |= written
            owner = statements.owner.get(id(block))
            if owner is None or not isinstance(owner, (ast.If,) + WITHS + TRIES):
                return None
            stmt = owner
        return None
