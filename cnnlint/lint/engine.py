"""Lint one source: parse once, walk once, dispatch to the active rules."""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Sequence, Tuple, Type


from cnnlint.findings import Finding, Fix, Severity
from cnnlint.lint import complexity
from cnnlint.lint.context import FileContext
from cnnlint.lint.index.syntax import Syntax
from cnnlint.lint.project_index.memo import remember_tree
from cnnlint.lint.suppress import is_suppressed
from cnnlint.sources.model import SourceError, SourceFile

if TYPE_CHECKING:
    from cnnlint.lint.rule import Rule
    from cnnlint.sources.manifest import Manifest

PARSE_ERROR = "CNL001"


@dataclass
class FileResult:
    findings: List[Finding] = field(default_factory=list)
    # other files read while linting (path -> content hash or None), for the cache
    related: Dict[str, Optional[str]] = field(default_factory=dict)
    # one line per rule that raised on this file (its findings are dropped)
    internal_errors: List[str] = field(default_factory=list)
    # what the script says about its data (cnnlint.crosscheck.facts.ScriptFacts as a dict), or None
    facts: Optional[dict] = None


def source_error(path: str, exc: SourceError, what: str = "cannot read") -> Finding:
    return Finding(
        code=PARSE_ERROR,
        severity=Severity.ERROR,
        message=f"{what}: {exc.message}",
        path=path,
        line=exc.line,
        column=exc.column,
        cell=exc.cell,
        hint="fix or exclude this file; the other files were still linted",
    )


def _syntax_finding(source: SourceFile, line: int, column: int, message: str,
                    hint: str = "the file (or cell) was not linted; fix the syntax or exclude it") -> Finding:
    cell, cell_line = source.locate(line)
    return Finding(
        code=PARSE_ERROR,
        severity=Severity.ERROR,
        message=f"syntax error: {message}",
        path=source.path,
        line=cell_line,
        column=column,
        cell=cell,
        hint=hint,
    )


def _blank_cell(text: str, source: SourceFile, line: int, keep_before: bool = False) -> Optional[str]:
    """The text with the notebook cell holding `line` blanked (with `keep_before`, only from `line`
    to the cell's end); None for a script."""
    cell, _ = source.locate(line)
    if cell is None or source.line_map is None:
        return None
    lines = text.split("\n")
    for i, (c, _) in enumerate(source.line_map):
        if c == cell and i < len(lines) and not (keep_before and i + 1 < line):
            lines[i] = ""
    return "\n".join(lines)


def _lines_before_parse(text: str, source: SourceFile, line: int) -> bool:
    """Whether the lines of `line`'s notebook cell above it parse on their own (an exercise cell
    that stops at `ps = ` keeps its code above; one cut inside an open block does not)."""
    cell, _ = source.locate(line)
    if source.line_map is None or cell is None:
        return False
    lines = text.split("\n")
    kept = [lines[i] for i, (c, _) in enumerate(source.line_map) if c == cell and i + 1 < line and i < len(lines)]
    if not any(k.strip() for k in kept):
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(ast.parse("\n".join(kept)).body)  # comments alone are nothing to lint
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False


PARTLY_LINTED_HINT = ("the cell was linted only above this line; fix the syntax (or finish the exercise) "
                      "or exclude the notebook")


ASYNC_KEYWORD = ("`async` is a reserved word since Python 3.7: `async=True` (PyTorch before 0.4) "
                 "is now `non_blocking=True`")
ASYNC_HINT = "write `non_blocking=True`; the rest of the file was linted as if it said so"
_ASYNC_ARGUMENT = re.compile(r"(?<![\w.])async(?=\s*=[^=])")


def _rename_async_keyword(text: str, line: int) -> Optional[Tuple[int, str]]:
    """(1-based column, the text with `async=` renamed on that line) when the line passes `async`
    as a keyword argument; the name keeps its length, so every other position stays put."""
    lines = text.split("\n")
    if not 0 < line <= len(lines):
        return None
    found = _ASYNC_ARGUMENT.search(lines[line - 1])
    if found is None or "(" not in lines[line - 1][: found.start()] and "," not in lines[line - 1][: found.start()]:
        return None
    lines[line - 1] = _ASYNC_ARGUMENT.sub("_sync", lines[line - 1])
    return found.start() + 1, "\n".join(lines)


def _parse(source: SourceFile, errors: List[Finding]) -> Optional[Syntax]:
    """Parse with CPython's parser; in notebooks a cell with a syntax error is reported and
    blanked, and the other cells are linted."""
    text = source.text
    tree = complexity.parsed(text)  # the complexity check parsed this very text already
    if tree is not None:
        return Syntax(tree, text)
    for _ in range(64):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return Syntax(ast.parse(text), text)
        except SyntaxError as err:
            line = err.lineno or 1
            renamed = _rename_async_keyword(text, line)
            if renamed is not None:  # old PyTorch code: `.cuda(async=True)`; the rest is still linted
                column, text = renamed
                errors.append(_syntax_finding(source, line, column, ASYNC_KEYWORD, ASYNC_HINT))
                continue
            # a notebook cell's lines above its error are linted when they parse on their own
            partly = _lines_before_parse(text, source, line)
            errors.append(_syntax_finding(source, line, max(err.offset or 1, 1), err.msg,
                                          *((PARTLY_LINTED_HINT,) if partly else ())))
            blanked = _blank_cell(text, source, line, keep_before=partly)
            if blanked is None:
                return None
            text = blanked
        except (RecursionError, MemoryError):
            errors.append(source_error(source.path, SourceError("too deeply nested to parse"), "cannot parse"))
            return None
        except ValueError as exc:  # NUL bytes
            reason = str(exc).splitlines()[0] if str(exc) else "invalid source"
            errors.append(source_error(source.path, SourceError(reason), "cannot parse"))
            return None
    return None


def _too_complex(source: SourceFile, found: "complexity.TooComplex") -> Finding:
    cell, line = source.locate(found.line)
    return Finding(
        code=PARSE_ERROR,
        severity=Severity.WARNING,
        message=found.message,
        path=source.path,
        line=line,
        column=found.column,
        cell=cell,
        hint="the file was not linted (generated code?); split the expression, or exclude the file",
    )


class _Guard:
    """Calls a rule's hooks; a hook that raises disables that rule for the file and is recorded,
    so one rule's bug costs its own findings, not the other rules' or the run. Code nested too
    deeply for a rule's judgement (RecursionError) silences the rule for the file, unrecorded:
    absurdly deep code gets no finding rather than a guess. Rules guard neither themselves."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.failed: Dict[int, Tuple[str, str]] = {}  # id(rule) -> (code, message)
        self.silenced: Dict[int, str] = {}  # id(rule) -> code

    def wrap(self, rule: "Rule", fn: Callable) -> Callable:
        key = id(rule)
        failed = self.failed

        def call(*args: object) -> None:
            if key in failed or key in self.silenced:
                return
            try:
                fn(*args)
            except Exception as exc:  # noqa: BLE001 - reported as an internal error
                self.record(rule, exc, args[0] if args else None)

        return call

    def record(self, rule: "Rule", exc: Exception, at: object = None) -> None:
        """A hook of `rule` raised `exc` (at node `at`): the rule is done for this file."""
        if isinstance(exc, RecursionError):
            self.silenced[id(rule)] = rule.code
            return
        where = f" at a {type(at).__name__} node" if isinstance(at, ast.AST) else ""
        self.failed[id(rule)] = (rule.code, f"{self.path}: internal error in {rule.code}{where}: {type(exc).__name__}: {exc}")

    @property
    def errors(self) -> List[str]:
        return [message for _, message in self.failed.values()]

    @property
    def dropped_codes(self) -> set:
        """The codes whose findings in this file are dropped: rules that failed or were silenced."""
        return {code for code, _ in self.failed.values()} | set(self.silenced.values())



Hooks = Dict[type, List[Tuple["Rule", Callable]]]  # node type -> (rule, its hook) in rule order


def _dispatch_table(rules: Sequence["Rule"]) -> Tuple[Hooks, Hooks]:
    visit: Dict[str, List[Tuple["Rule", Callable]]] = {}
    leave: Dict[str, List[Tuple["Rule", Callable]]] = {}
    for rule in rules:
        if not rule.wants_walk():
            continue
        for node_name, (on_visit, on_leave) in type(rule).node_hooks.items():
            if on_visit:
                visit.setdefault(node_name, []).append((rule, getattr(rule, on_visit)))
            if on_leave:
                leave.setdefault(node_name, []).append((rule, getattr(rule, on_leave)))
    return (
        {getattr(ast, k): fns for k, fns in visit.items()},
        {getattr(ast, k): fns for k, fns in leave.items()},
    )


def _without(hooks: Hooks, rule: "Rule") -> Hooks:
    return {tp: [(r, fn) for r, fn in fns if r is not rule] for tp, fns in hooks.items()}


def _walk(ctx: FileContext, visit: Hooks, leave: Hooks, guard: _Guard) -> None:
    """Call the hooks over the nodes in the order of the shared walk (Bindings'), so the tree is
    walked once for the analyses and the rules together. `ctx.at` is the node being visited (its
    ancestors follow from it); a node is left once the walk has moved past its last descendant."""
    from cnnlint.lint.index.bindings import HOOKED_TYPES, Bindings

    bindings = ctx.get(Bindings)
    ctx.parent_of = bindings.parent
    if not leave:
        # the hooks' node types listed apart by the walk: a third of the nodes (names and
        # constants are most of the rest)
        nodes = bindings.hooked if HOOKED_TYPES.issuperset(visit) else bindings.nodes
        visit_get = visit.get
        for node in nodes:
            fns = visit_get(type(node))
            if fns:
                ctx.at = node
                for rule, fn in fns:
                    try:
                        fn(node)
                    except Exception as exc:  # noqa: BLE001 - the guard records it; the rule stops here
                        guard.record(rule, exc, node)
                        visit = _without(visit, rule)
                        visit_get = visit.get
        ctx.at = None
        return
    on_visit = {tp: [guard.wrap(r, hook) for r, hook in fns] for tp, fns in visit.items()}
    on_leave = {tp: [guard.wrap(r, hook) for r, hook in fns] for tp, fns in leave.items()}
    parent = bindings.parent
    entered: List[ast.AST] = []

    def leave_until(up: Optional[ast.AST]) -> None:
        while entered and entered[-1] is not up:
            done = entered.pop()
            ctx.at = done
            for call in on_leave.get(type(done)) or ():
                call(done)

    for node in bindings.nodes:
        leave_until(parent(node))
        ctx.at = node
        for call in on_visit.get(type(node)) or ():
            call(node)
        entered.append(node)
    leave_until(None)
    ctx.at = None


def _fix_in_cell(fix: "Fix", source: SourceFile, cell: Optional[int]) -> Optional["Fix"]:
    """A notebook fix in the cell's own lines, like findings; None when an edit leaves the finding's cell."""
    edits = []
    for line, column, end_line, end_column, text in fix.all_edits():
        start_cell, start = source.locate(line)
        end_cell, end = source.locate(end_line)
        if start_cell != cell or end_cell != cell:
            return None
        edits.append((start, column, end, end_column, text))
    (line, column, end_line, end_column, text), rest = edits[0], tuple(edits[1:])
    return replace(fix, line=line, end_line=end_line, edits=rest)


def _resolve(ctx: FileContext, text: str, path: str) -> List[Finding]:
    source = ctx.source
    if isinstance(source, SourceFile):
        raw_line = source.raw_line
    else:
        lines = text.split("\n")
        raw_line = lambda n: lines[n - 1] if 0 < n <= len(lines) else ""  # noqa: E731
    findings: List[Finding] = []
    seen = set()
    for r in ctx.reports:
        line, column, end_line, end_column = ctx.span(r.target)
        if is_suppressed(raw_line(line), r.code):
            continue
        cell, cell_line = ctx.source.locate(line) if isinstance(ctx.source, SourceFile) else (None, line)
        _, cell_end_line = ctx.source.locate(end_line) if isinstance(ctx.source, SourceFile) else (None, end_line)
        fix = r.fix
        if fix is not None and isinstance(source, SourceFile) and source.line_map is not None:
            fix = _fix_in_cell(fix, source, cell)
        finding = Finding(
            code=r.code,
            severity=r.severity,
            message=r.message,
            path=path,
            line=cell_line,
            column=column,
            end_line=cell_end_line,
            end_column=end_column,
            hint=r.hint,
            cell=cell,
            fix=fix,
        )
        key = (finding.code, finding.line, finding.column, finding.cell, finding.message)
        if key not in seen:
            seen.add(key)
            findings.append(finding)
    return findings


def lint_python(source: SourceFile, rule_classes: Sequence[Type["Rule"]], real_path: str, fact_positions: bool = True,
                fact_rules: Sequence[Type["Rule"]] = (), facts: bool = True) -> FileResult:
    """`fact_rules`: rules not selected that leave facts the cross-check reads (`feeds_facts`): run
    only when the file has facts to extract, their findings dropped. `facts=False`: no facts at all
    (the editor's lint as you type; the cross-check runs on save)."""
    from cnnlint.crosscheck import extract

    wants_facts = facts and extract.applies(source.text)
    if wants_facts:
        rule_classes = [*rule_classes, *(cls for cls in fact_rules if cls not in rule_classes)]
    rule_classes = [cls for cls in rule_classes if "python" in cls.inputs and cls.applies(source)]
    verdict = complexity.check(source.text)
    if verdict.too_complex is not None:  # before the parser, whose work grows far faster than the nesting
        return FileResult(findings=list(source.notes) + [_too_complex(source, verdict.too_complex)])
    if not rule_classes and not wants_facts and verdict.clean:
        complexity.parsed(source.text)  # let the tree go
        return FileResult(findings=list(source.notes))  # nothing to look for, and the syntax is fine
    errors: List[Finding] = list(source.notes)  # what the reader reports of a file it still read
    result = FileResult(findings=errors)
    syntax = _parse(source, errors)
    if syntax is None:
        return result
    if source.kind == "python" and not errors:
        remember_tree(real_path, source.text, syntax.tree)  # for the scripts that import this module
    ctx = FileContext(source, real_path, syntax)
    guard = _Guard(source.path)
    rules = [cls(ctx) for cls in rule_classes]
    visit, leave = _dispatch_table(rules)
    if visit or leave:
        try:
            _walk(ctx, visit, leave, guard)
        except RecursionError:  # the shared walk gave up on absurdly deep code: no hooks run
            guard.silenced.update((id(rule), rule.code) for rule in rules if type(rule).node_hooks)
        except Exception as exc:  # noqa: BLE001 - an analysis bug costs the hooks' rules, not the run
            for rule in rules:
                if type(rule).node_hooks:
                    guard.failed.setdefault(id(rule), (rule.code, f"{source.path}: internal error in the walk "
                                                       f"for {rule.code}: {type(exc).__name__}: {exc}"))
    for rule in rules:
        check_shell = guard.wrap(rule, rule.check_shell)
        for command in source.shell:
            check_shell(command)
        guard.wrap(rule, rule.check)()
    dropped = guard.dropped_codes
    ctx.reports = [r for r in ctx.reports if r.code not in dropped]
    fact_errors: List[str] = []
    if wants_facts:
        try:
            result.facts = extract.facts_dict(ctx, fact_positions)
        except RecursionError:
            pass  # absurdly deep code: no facts rather than a guess
        except Exception as exc:  # noqa: BLE001 - an extraction bug costs the cross-check, not the lint
            fact_errors.append(f"{source.path}: internal error in the cross-check facts: {type(exc).__name__}: {exc}")
    unselected = {cls.code for cls in fact_rules}
    result.findings.extend(f for f in _resolve(ctx, source.text, source.path) if f.code not in unselected)
    result.related = ctx.related
    result.internal_errors = guard.errors + fact_errors
    ctx.release()
    return result


def lint_manifest(manifest: "Manifest", rule_classes: Sequence[Type["Rule"]], real_path: str) -> FileResult:
    from cnnlint.sources.manifest import unreadable_includes

    ctx = FileContext(manifest, real_path)  # type: ignore[arg-type]
    guard = _Guard(manifest.path)
    rules = [cls(ctx) for cls in rule_classes if "manifest" in cls.inputs]
    for rule in rules:
        guard.wrap(rule, rule.check_manifest)(manifest)
    missing = unreadable_includes(manifest, ctx.read_related, real_path)  # pip fails on them: CNL001
    result = FileResult(findings=missing + _resolve(ctx, manifest.text, manifest.path))
    result.related = ctx.related
    result.internal_errors = guard.errors
    return result


def lint_source(source: "SourceFile | Manifest", rule_classes: Sequence[Type["Rule"]], real_path: str,
                fact_positions: bool = True, fact_rules: Sequence[Type["Rule"]] = (), facts: bool = True) -> FileResult:
    """Lint what a source reader returned: a script or notebook, or a manifest."""
    if isinstance(source, SourceFile):
        return lint_python(source, rule_classes, real_path, fact_positions, fact_rules, facts)
    return lint_manifest(source, rule_classes, real_path)

