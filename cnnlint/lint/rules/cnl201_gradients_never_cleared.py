"""CNL201 gradients-never-cleared: a loop runs `backward()` and an optimizer step every
iteration but nothing clears the gradients (or clears them between `backward()` and the step).

The rule judges the whole file in `check()`: a loop is only understood with the functions it
calls, and those may be defined anywhere in the file (in a notebook: in any cell). The events of
each loop body come from the `LoopEvents` analysis. The fix inserts `<optimizer>.zero_grad()`
at the top of the loop body, or moves a misplaced one before the backward statement.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Set, Tuple

from cnnlint.findings import Fix, Severity
from cnnlint.lint.index.loops import (
    BACKWARD,
    CLEAR,
    CLOSURE_STEP,
    CONTINUE,
    OPAQUE,
    OPAQUE_ALL,
    OPAQUE_SELF,
    PRODUCE,
    SETGRAD,
    STEP,
    Event,
    LoopEvents,
    last_name,
    looks_like_optimizer_name,
)
from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.index.statements import Statements, names_of, short_code
from cnnlint.lint.project_index.imported import ImportedSummaries
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.sources.model import SourceFile


def _match_key(key: str) -> str:
    """Identity for matching a clear with a step: the last name (`self.opt` is `opt`)."""
    return last_name(key.replace("()", "").replace("[]", ""))


def _ambiguous(key: str) -> bool:
    """`optimizers[i]`, `self.optimizers()`: which optimizer is not known."""
    return key.endswith("[]") or key.endswith("()")


class GradientsNeverCleared(Rule):
    code = "CNL201"
    name = "gradients-never-cleared"
    severity = Severity.ERROR
    autofix = True
    summary = "Training loop never clears gradients, or clears them between backward() and step()"
    uses = (Statements, LoopEvents, ImportedSummaries)  # the project's training-step helpers (LoopEvents' hook)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = source.text  # without `backward`, the backward may be in a helper of the project's modules
        return ("backward" in text or "import" in text) and "step(" in text

    def check(self) -> None:
        statements = self.ctx.get(Statements)
        loops = self.ctx.get(LoopEvents)
        self.found: List[Tuple[ast.AST, str, str, Optional[FixPlan]]] = []
        for loop in statements.loops:
            self.check_loop(loop, loops, statements)
        fixes = plan_fixes(self.ctx, statements, [plan for _, _, _, plan in self.found if plan is not None])
        for target, message, hint, plan in self.found:
            self.report(target, message, hint, fix=fixes.get(id(plan)) if plan is not None else None)

    def check_loop(self, loop: ast.stmt, loops: LoopEvents, statements: Statements) -> None:
        events = loops.events(loop)
        backs = [e for e in events if e.kind == BACKWARD]
        steps = [e for e in events if e.kind == STEP]
        if not backs or not steps:
            return
        # the training loop is the innermost loop holding both backward and step
        back_loops = {id(loop) for e in backs for loop in e.loops}
        if any(id(loop) in back_loops for e in steps for loop in e.loops):
            return
        keys: List[str] = []
        for e in steps:
            if e.key not in keys:
                keys.append(e.key)  # type: ignore[arg-type]
        step_matches = {_match_key(k) for k in keys}
        for key in keys:
            key_steps = [e for e in steps if e.key == key]
            misplaced = misplaced_clear(events, key, key_steps, len(keys) == 1)
            if misplaced is not None:
                self.found.append(self.misplaced_finding(*misplaced, events, statements))
                continue
            if cleared(events, key, step_matches) or opaque_or_gated(events, key, key_steps, backs):
                continue
            step = key_steps[0]
            back = max((b for b in backs if b.order < step.order), key=lambda b: b.order, default=backs[0])
            self.found.append(self.never_cleared(loop, key, key_steps, back, loops, statements))

    def misplaced_finding(self, clear: Event, back: Event, step: Event, events: List[Event],
                          statements: Statements) -> Tuple[ast.AST, str, str, Optional["FixPlan"]]:
        syntax = statements.syntax
        step_text = short_code(syntax, step.node)
        return (
            clear.node,
            f"`{clear.text}` runs after `{short_code(syntax, back.node)}` and before `{step_text}` "
            f"in the same iteration, so it discards the gradients just computed and the step has nothing to apply",
            f"move `{clear.text}` to the top of the loop body, before the forward pass (or after `{step_text}`)",
            move_plan(statements, clear, events),
        )

    def never_cleared(self, loop: ast.stmt, key: str, key_steps: List[Event], back: Event, loops: LoopEvents,
                      statements: Statements) -> Tuple[ast.AST, str, str, Optional["FixPlan"]]:
        syntax = statements.syntax
        opt = key[:-2] if key.endswith("()") else key
        step_text = short_code(syntax, key_steps[0].node)
        if cleared_in_enclosing_loop(loop, key, loops, statements):
            message = (
                f"`{step_text}` runs every iteration of this loop, but `{opt}`'s gradients are cleared only "
                f"in the enclosing loop, so they pile up across the steps of this loop"
            )
            hint = f"move `{opt}.zero_grad()` into this loop, at the top of its body"
        else:
            message = (
                f"`{step_text}` runs every iteration of this loop, but `{opt}`'s gradients are never cleared, "
                f"so each `backward()` adds to the gradients of all earlier iterations"
            )
            hint = f"call `{opt}.zero_grad()` at the top of the loop body (or right before `{short_code(syntax, back.node)}`)"
        return back.at, message, hint, insert_plan(statements, loop, key, key_steps)


def cleared(events: List[Event], key: str, step_matches: Set[str]) -> bool:
    want = _match_key(key)
    for e in events:
        if e.kind == SETGRAD:
            return True
        if e.kind == CLOSURE_STEP and (e.key is None or _match_key(e.key) == want or _ambiguous(e.key)):
            return True
        if e.kind != CLEAR:
            continue
        if e.key is None or _ambiguous(key) or _ambiguous(e.key):
            return True
        match = _match_key(e.key)
        if match == want or match not in step_matches:
            return True
    return False


def opaque_or_gated(events: List[Event], key: str, key_steps: List[Event], backs: List[Event]) -> bool:
    """Every step of the optimizer is skipped on some iterations, or a call may clear its gradients."""
    return all(gated(e, events, backs) for e in key_steps) or opaque(events, key)


def gated(step: Event, events: List[Event], backs: List[Event]) -> bool:
    """The step is skipped on some iterations that do run backward (accumulation)."""
    for owner, which in step.conds:
        if any((owner, which) in b.conds for b in backs):
            continue
        alternative = any(
            e.kind == STEP and e.key == step.key and any(o == owner and w != which for o, w in e.conds)
            for e in events
        )
        if not alternative:
            return True
    first_back = min(b.order for b in backs)
    return any(e.kind == CONTINUE and first_back < e.order < step.order for e in events)


def opaque(events: List[Event], key: str) -> bool:
    """A call this file cannot see into may clear the optimizer's gradients."""
    names = {key, last_name(key), _match_key(key)}
    for e in events:
        if e.kind == OPAQUE_ALL:
            return True
        if e.kind == OPAQUE:
            if e.names & names or any(looks_like_optimizer_name(last_name(n)) for n in e.names):
                return True
        if e.kind == OPAQUE_SELF and key.startswith("self."):
            return True
    return False


def misplaced_clear(events: List[Event], key: str, key_steps: List[Event], single: bool) -> Optional[Tuple[Event, Event, Event]]:
    """An unconditional clear after backward() and before this optimizer's step."""
    for clear in events:
        if clear.kind != CLEAR or not clear.straight or clear.loops or clear.site is not None:
            continue
        if not clear.text:
            continue  # `p.grad = None` and friends may touch some parameters only
        if clear.by_name:
            if clear.key != key:
                continue
        elif not single:
            continue
        before = [e for e in events if e.kind == BACKWARD and e.order < clear.order]
        if not before:
            continue
        after = [s for s in key_steps if s.order > clear.order]
        if not after:
            continue
        step = after[0]
        if any(e.kind in (BACKWARD, SETGRAD, PRODUCE) and clear.order < e.order < step.order for e in events):
            continue
        return clear, before[-1], step
    return None


def cleared_in_enclosing_loop(loop: ast.stmt, key: str, loops: LoopEvents, statements: Statements) -> bool:
    for outer in statements.enclosing_loops(loop):
        events = loops.events(outer)
        steps = {_match_key(e.key) for e in events if e.kind == STEP}  # type: ignore[arg-type]
        if cleared(events, key, steps):
            return True
    return False


# ---------------------------------------------------------------------------
# fixes
# ---------------------------------------------------------------------------


class FixPlan:
    """A fix to build once positions are known: insert a zero_grad() at the top of a
    loop body (`insert`), or move a misplaced one before the backward statement (`move`)."""

    __slots__ = ("kind", "anchor", "moved", "text")

    def __init__(self, kind: str, anchor: ast.stmt, moved: Optional[ast.stmt], text: str) -> None:
        self.kind = kind
        self.anchor = anchor  # the statement the new or moved line goes before
        self.moved = moved  # the statement moved (`move`)
        self.text = text  # the call inserted (`insert`), the call moved (`move`)


def _rebinds(block: List[ast.stmt], key: str) -> bool:
    """Whether the block binds the optimizer's name (or assigns the attribute) itself."""
    root = key.split(".", 1)[0]
    for stmt in block:
        if root in names_of(stmt)[0]:
            return True
    for stmt in block:
        for n in ast.walk(stmt):
            tp = type(n)
            if tp is ast.Global or tp is ast.Nonlocal:
                if root in n.names:  # type: ignore[attr-defined]
                    return True  # a statement before it would use the name before its declaration
                continue
            if "." not in key:
                continue
            if tp is ast.Assign:
                targets = n.targets  # type: ignore[attr-defined]
            elif tp is ast.AnnAssign or tp is ast.AugAssign:
                targets = [n.target]  # type: ignore[attr-defined]
            else:
                continue
            if any(dotted_name(t) == key for target in targets for t in ast.walk(target)):
                return True
    return False


def insert_plan(statements: Statements, loop: ast.stmt, key: str, key_steps: List[Event]) -> Optional[FixPlan]:
    """`<optimizer>.zero_grad()` as the first statement of the loop body, when that is safe:
    the body is an indented block, every step of this optimizer is in the body itself (not
    in a helper, where the name may differ, nor in a nested loop or comprehension), and the
    body does not bind the optimizer's name."""
    if _ambiguous(key):
        return None
    body: List[ast.stmt] = loop.body  # type: ignore[attr-defined]
    if not statements.indented(body):
        return None
    if any(e.site is not None or e.loops for e in key_steps):
        return None
    if _rebinds(body, key):
        return None
    return FixPlan("insert", body[0], None, f"{key}.zero_grad()")


def move_plan(statements: Statements, clear: Event, events: List[Event]) -> Optional[FixPlan]:
    """Move the statement `optimizer.zero_grad()` to just before the statement holding the
    one backward() that runs before it, when both are statements of one block."""
    backs = [e for e in events if e.kind == BACKWARD and e.order < clear.order]
    if len(backs) != 1:
        return None  # with several backward() calls the right place is not clear
    syntax = statements.syntax
    line = syntax.parent(clear.node)
    if type(line) is not ast.Expr or id(line) not in statements.position or not statements.on_own_line(line):
        return None
    block, index = statements.position[id(line)]
    if statements.owner.get(id(block)) is None:
        return None  # module level
    stmt: Optional[ast.AST] = backs[0].at
    while stmt is not None and not (id(stmt) in statements.position and statements.position[id(stmt)][0] is block):
        stmt = syntax.parent(stmt)
    if stmt is None:
        return None
    anchor = statements.line_start(stmt)  # type: ignore[arg-type]
    if statements.position[id(anchor)][1] >= index:
        return None
    return FixPlan("move", anchor, line, clear.text)


def plan_fixes(ctx: "FileContext", statements: Statements, plans: List[FixPlan]) -> Dict[int, Fix]:
    """The Fix of each plan (by id), from the positions of the statements involved."""
    if not plans:
        return {}
    syntax = statements.syntax
    raw_line = _raw_lines(ctx)
    fixes: Dict[int, Fix] = {}
    for plan in plans:
        line, column, _, _ = syntax.span(plan.anchor)
        indent = raw_line(line)[: column - 1]
        if indent.strip():
            continue
        if plan.kind == "insert":
            at = line - len(statements.leading_lines(plan.anchor))
            fixes[id(plan)] = Fix(
                at, 1, at, 1, f"{indent}{plan.text}\n",
                description=f"insert `{plan.text}` at the top of the loop body",
            )
            continue
        assert plan.moved is not None
        moved_line, _, moved_end, _ = syntax.span(plan.moved)
        first = moved_line - statements.attached_comments(plan.moved)
        text = "".join(raw_line(n).rstrip("\r") + "\n" for n in range(first, moved_end + 1))
        at = line - statements.attached_comments(plan.anchor)
        fixes[id(plan)] = Fix(
            at, 1, at, 1, text,
            description=f"move `{plan.text}` before the backward() call",
            edits=((first, 1, moved_end + 1, 1, ""),),
        )
    return fixes


def _raw_lines(ctx: "FileContext") -> Callable[[int], str]:
    """Line number -> the line as written (a notebook cell's own text, magics included)."""
    source = ctx.source
    if getattr(source, "cells", None) is not None:
        return source.raw_line
    lines = source.text.split("\n")
    return lambda n: lines[n - 1] if 0 < n <= len(lines) else ""
