"""The file's statement structure: blocks, owners, definitions, assignments, names per statement.

`Statements` (an analysis: `ctx.get(Statements)`) walks statements only, never expressions, once
per file. Blocks are the statement lists of the tree (`loop.body`, `node.orelse`, a handler's
body); each knows the compound statement that owns it. An `elif` is no statement of its own
here: its blocks belong to the first `if` (so `if`/`elif`/`else` read as one statement with
several blocks, as the source shows them).

Also the helpers the loop rules share: the identifiers an expression mentions, the names a
statement binds, a node's code on one line (`short_code`), and the blank and comment lines
above a statement (where a fix inserts or moves a line).
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from cnnlint.lint.index.names import assigned_names, dotted_name
from cnnlint.lint.index.source_text import shortened
from cnnlint.lint.index.syntax import Syntax, children, walk

_NAME, _CONSTANT = ast.Name, ast.Constant

# match-statement patterns (Python 3.10+; none before)
PATTERNS: Tuple[type, ...] = (ast.pattern,) if hasattr(ast, "pattern") else ()

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

Block = List[ast.stmt]

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
LOOPS = (ast.For, ast.AsyncFor, ast.While)
FOR_LOOPS = (ast.For, ast.AsyncFor)
WITHS = (ast.With, ast.AsyncWith)
TRIES: Tuple[type, ...] = tuple(t for t in (getattr(ast, n, None) for n in ("Try", "TryStar")) if isinstance(t, type))
MATCH: Optional[type] = getattr(ast, "Match", None)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPOUND = LOOPS + WITHS + TRIES + DEFINITIONS + (ast.If,) + ((MATCH,) if MATCH is not None else ())


def is_compound(stmt: ast.AST) -> bool:
    return isinstance(stmt, _COMPOUND)


def is_elif(syntax: Syntax, node: ast.AST) -> bool:
    """An `elif` clause (ast makes it an `if` alone in the `orelse` of the one before)."""
    if type(node) is not ast.If:
        return False
    line = syntax.lines[node.lineno - 1] if node.lineno <= len(syntax.lines) else ""
    return line[syntax.column(node.lineno, node.col_offset) - 1 :].startswith("elif")


def statement_blocks(syntax: Syntax, stmt: ast.AST) -> List[Block]:
    """The blocks directly inside a compound statement, clauses included (an `elif`'s too)."""
    tp = type(stmt)
    if tp is ast.If:
        out = [stmt.body]  # type: ignore[attr-defined]
        orelse = stmt.orelse  # type: ignore[attr-defined]
        if len(orelse) == 1 and is_elif(syntax, orelse[0]):
            out.extend(statement_blocks(syntax, orelse[0]))
        elif orelse:
            out.append(orelse)
        return out
    if tp in TRIES:
        return [stmt.body, *(h.body for h in stmt.handlers), *(b for b in (stmt.orelse, stmt.finalbody) if b)]  # type: ignore[attr-defined]
    if MATCH is not None and tp is MATCH:
        return [case.body for case in stmt.cases]  # type: ignore[attr-defined]
    if tp in LOOPS:
        return [stmt.body, stmt.orelse] if stmt.orelse else [stmt.body]  # type: ignore[attr-defined]
    if tp in WITHS or tp in DEFINITIONS:
        return [stmt.body]  # type: ignore[attr-defined]
    return []


# ---------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------


def own_identifiers(node: ast.AST) -> List[str]:
    """The identifiers written at this node itself (not its children): a name, an attribute,
    a keyword argument, a parameter, a def's name, imported names, `global` names, pattern
    captures."""
    tp = type(node)
    if tp is ast.Name:
        return [node.id]  # type: ignore[attr-defined]
    if tp is ast.Attribute:
        return [node.attr]  # type: ignore[attr-defined]
    if tp is ast.keyword:
        return [node.arg] if node.arg is not None else []  # type: ignore[attr-defined]
    if tp is ast.arg:
        return [node.arg]  # type: ignore[attr-defined]
    if tp in DEFINITIONS:
        return [node.name]  # type: ignore[attr-defined]
    if tp is ast.alias:
        out = node.name.split(".")  # type: ignore[attr-defined]
        return out + [node.asname] if node.asname else out  # type: ignore[attr-defined]
    if tp is ast.ImportFrom:
        return node.module.split(".") if node.module else []  # type: ignore[attr-defined]
    if tp is ast.Global or tp is ast.Nonlocal or tp is ast.ExceptHandler or isinstance(node, PATTERNS):
        return _other_identifiers(node)
    return []


def _other_identifiers(node: ast.AST) -> List[str]:
    names = getattr(node, "names", None)
    if isinstance(names, list):  # global / nonlocal
        return list(names)
    out = [getattr(node, field, None) for field in ("name", "rest")]
    found = [n for n in out if isinstance(n, str)]
    found.extend(getattr(node, "kwd_attrs", ()))
    return found


def identifiers(node: ast.AST) -> Iterator[str]:
    """Every identifier under `node` (itself included), attribute and keyword names too."""
    for n in walk(node):
        yield from own_identifiers(n)


def names_of(node: ast.AST) -> Tuple[Set[str], Set[str]]:
    """(plain names bound anywhere under `node`, every identifier mentioned under it)."""
    written: Set[str] = set()
    mentioned: Set[str] = set()
    for n in walk(node):
        tp = type(n)
        if tp is _NAME:  # the most common node: a name is written, never binds here
            mentioned.add(n.id)  # type: ignore[attr-defined]
            continue
        if tp is _CONSTANT:
            continue
        mentioned.update(own_identifiers(n))
        if tp is ast.Assign:
            for t in n.targets:  # type: ignore[attr-defined]
                written.update(assigned_names(t))
        elif tp in (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension, ast.NamedExpr):
            written.update(assigned_names(n.target))  # type: ignore[attr-defined]
        elif tp is ast.withitem:
            if n.optional_vars is not None:  # type: ignore[attr-defined]
                written.update(assigned_names(n.optional_vars))  # type: ignore[attr-defined]
        elif tp is ast.ExceptHandler:
            if n.name:  # type: ignore[attr-defined]
                written.add(n.name)  # type: ignore[attr-defined]
        elif tp is ast.alias:
            if n.asname:  # type: ignore[attr-defined]
                written.add(n.asname)  # type: ignore[attr-defined]
        elif tp in DEFINITIONS:
            written.add(n.name)  # type: ignore[attr-defined]
    return written, mentioned


def call_arguments(call: ast.Call) -> List[ast.expr]:
    """The argument expressions in source order, keyword and starred ones unwrapped."""
    out: List[ast.expr] = []
    for arg in children(call)[1:]:
        out.append(arg.value if isinstance(arg, (ast.keyword, ast.Starred)) else arg)  # type: ignore[arg-type]
    return out


def field_order_children(node: ast.AST) -> List[ast.AST]:
    """Children in the order the rules have always searched them: a def's or class's body
    before its decorators and bases, a handler's and a case's body before its type or guard."""
    tp = type(node)
    if tp in FUNCTIONS:
        return [node.args, *node.body, *node.decorator_list, *([node.returns] if node.returns else [])]  # type: ignore[attr-defined]
    if tp is ast.ClassDef:
        return [*node.body, *node.bases, *node.keywords, *node.decorator_list]  # type: ignore[attr-defined]
    if tp is ast.ExceptHandler:
        return [*node.body, *([node.type] if node.type is not None else [])]  # type: ignore[attr-defined]
    if tp.__name__ == "match_case":
        return [node.pattern, *node.body, *([node.guard] if node.guard is not None else [])]  # type: ignore[attr-defined]
    return children(node)


def field_order_walk(node: ast.AST) -> Iterator[ast.AST]:
    """Every node under `node`, depth first, in `field_order_children` order."""
    return walk(node, kids_of=field_order_children)


# ---------------------------------------------------------------------------
# code on one line
# ---------------------------------------------------------------------------


def _own_parentheses(syntax: Syntax, node: ast.AST) -> Tuple[Tuple[int, int], Tuple[int, int]]:
    """(line, index) of the node's first character and (line, index) just past its last, with
    the parentheses around it that are its own (not a call's around its only argument)."""
    line, column, end_line, end_column = syntax.span(node)
    opens = _opening_parentheses(syntax.lines, line, column - 1)
    if not opens:
        return (line, column - 1), (end_line, end_column - 1)
    closes = _closing_parentheses(syntax.lines, end_line, end_column - 1)
    count = min(len(opens) - _parent_owned(syntax, node), len(closes))
    if count <= 0:
        return (line, column - 1), (end_line, end_column - 1)
    return opens[count - 1], closes[count - 1]


def _opening_parentheses(lines: List[str], line: int, index: int) -> List[Tuple[int, int]]:
    """The `(` right before (line, index), innermost first, across blank and comment lines."""
    found: List[Tuple[int, int]] = []
    text = lines[line - 1][:index]
    while True:
        stripped = text.rstrip(" \t\f\\")
        if stripped.endswith("("):
            found.append((line, len(stripped) - 1))
            text = stripped[:-1]
            continue
        if stripped or line <= 1:
            return found
        line -= 1
        text = _code_part(lines[line - 1].rstrip("\r"))


def _closing_parentheses(lines: List[str], line: int, index: int) -> List[Tuple[int, int]]:
    """(line, index past) of each `)` right after (line, index), innermost first."""
    found: List[Tuple[int, int]] = []
    while line <= len(lines):
        text = lines[line - 1]
        while index < len(text) and text[index] in " \t\f\r\\":
            index += 1
        if index < len(text) and text[index] == ")":
            index += 1
            found.append((line, index))
            continue
        if index < len(text) and text[index] != "#":
            break
        line, index = line + 1, 0
    return found


def _code_part(text: str) -> str:
    cut = text.find("#")
    return text if cut < 0 else text[:cut]


def _parent_owned(syntax: Syntax, node: ast.AST) -> int:
    """1 when the nearest `(` before the node is its parent call's (the node is the only argument)."""
    parent = syntax.parent(node)
    if isinstance(parent, ast.Call) and not parent.keywords and len(parent.args) == 1 and parent.args[0] is node:
        return 1
    if isinstance(parent, ast.ClassDef) and not parent.keywords and len(parent.bases) == 1 and parent.bases[0] is node:
        return 1
    return 0


def node_code(syntax: Syntax, node: ast.AST) -> str:
    """The node's source text with its own parentheses, whitespace runs made one space."""
    (line, start), (end_line, end) = _own_parentheses(syntax, node)
    lines = syntax.lines
    if line == end_line:
        text = lines[line - 1][start:end]
    else:
        text = "\n".join([lines[line - 1][start:], *lines[line : end_line - 1], lines[end_line - 1][:end]])
    return " ".join(text.split())


def short_code(syntax: Syntax, node: ast.AST, limit: int = 48) -> str:
    """The node's code on one line, calls with long arguments shortened to `f(...)`."""
    try:
        text = node_code(syntax, node)
    except (IndexError, ValueError):
        return "..."
    return shortened(text, node, limit)


# ---------------------------------------------------------------------------
# the analysis
# ---------------------------------------------------------------------------

_BLANK_OR_COMMENT = re.compile(r"[ \t\f]*(#.*)?\r?$")


# more definitions of one name than this, and a call expands only the one in force (long files
# that define `train` again and again would otherwise expand every copy at every call)
MANY_DEFINITIONS = 4


def definitions_in_force(defs: Sequence[ast.stmt], line: int) -> List[ast.stmt]:
    """The definitions a call on `line` may run: all of them, or, past MANY_DEFINITIONS, the last
    one before the call (the first one when none is before it)."""
    if len(defs) <= MANY_DEFINITIONS:
        return list(defs)
    before = [d for d in defs if d.lineno < line]
    return [max(before, key=lambda d: d.lineno) if before else min(defs, key=lambda d: d.lineno)]


class Statements:
    """What the file's statements are and where: an analysis (`ctx.get(Statements)`).

    `position[id(stmt)]`: (block, index in it); `owner[id(block)]`: the compound statement whose
    block it is; `loops`: every for/while statement in source order; `functions` / `methods`:
    defs by name (a def directly in a class body is a method); `classes` by name;
    `class_methods[id(class)]`; `self_class[id(def or loop)]`: the class whose `self` it sees;
    `assigned[dotted target]`: the values assigned to it by assignment statements;
    `global_names`: names declared global or nonlocal anywhere.
    """

    def __init__(self, ctx: "FileContext") -> None:
        assert ctx.syntax is not None
        self.syntax = ctx.syntax
        self.position: Dict[int, Tuple[Block, int]] = {}
        self.owner: Dict[int, ast.stmt] = {}
        self.loops: List[ast.stmt] = []
        self.functions: Dict[str, List[ast.stmt]] = {}
        self.methods: Dict[str, List[ast.stmt]] = {}
        self.classes: Dict[str, ast.ClassDef] = {}
        self.class_methods: Dict[int, Dict[str, List[ast.stmt]]] = {}
        self.self_class: Dict[int, Optional[ast.ClassDef]] = {}
        self.assigned: Dict[str, List[ast.expr]] = {}
        self.global_names: Set[str] = set()
        # assignments whose every target is a plain name, with their blocks
        self.plain_assignments: List[ast.Assign] = []
        self._names: Dict[int, Tuple[Set[str], Set[str]]] = {}
        self._build(ctx.syntax.tree.body)

    def _build(self, module: Block) -> None:
        # (block, the class whose `self` its code sees, the class whose body it is)
        stack: List[Tuple[Block, Optional[ast.ClassDef], Optional[ast.ClassDef]]] = [(module, None, None)]
        while stack:
            block, self_cls, def_cls = stack.pop()
            inner: List[Tuple[Block, Optional[ast.ClassDef], Optional[ast.ClassDef]]] = []
            for i, stmt in enumerate(block):
                self.position[id(stmt)] = (block, i)
                if not is_compound(stmt):
                    self._simple(stmt)
                    continue
                inner_self, inner_def = self._definition(stmt, self_cls, def_cls)
                if isinstance(stmt, LOOPS):
                    self.loops.append(stmt)
                    self.self_class[id(stmt)] = self_cls
                for sub in statement_blocks(self.syntax, stmt):
                    self.owner[id(sub)] = stmt
                    inner.append((sub, inner_self, inner_def))
            inner.reverse()
            stack.extend(inner)
        self.loops.sort(key=self.order_key)

    def _definition(self, stmt: ast.stmt, self_cls: Optional[ast.ClassDef],
                    def_cls: Optional[ast.ClassDef]) -> Tuple[Optional[ast.ClassDef], Optional[ast.ClassDef]]:
        """Records a def or class; the (self class, defining class) of the blocks inside."""
        if isinstance(stmt, FUNCTIONS):
            if def_cls is not None:
                self.methods.setdefault(stmt.name, []).append(stmt)
                self.class_methods.setdefault(id(def_cls), {}).setdefault(stmt.name, []).append(stmt)
                self_cls = def_cls
            else:
                self.functions.setdefault(stmt.name, []).append(stmt)
            self.self_class[id(stmt)] = self_cls
            return self_cls, None
        if isinstance(stmt, ast.ClassDef):
            self.classes.setdefault(stmt.name, stmt)
            return self_cls, stmt
        return self_cls, None

    def _simple(self, stmt: ast.stmt) -> None:
        tp = type(stmt)
        if tp is ast.Assign:
            plain = 0
            for t in stmt.targets:  # type: ignore[attr-defined]
                name = dotted_name(t)
                if name is not None:
                    self.assigned.setdefault(name, []).append(stmt.value)  # type: ignore[attr-defined]
                    plain += type(t) is ast.Name
                elif type(t) in (ast.Tuple, ast.List):
                    for n in assigned_names(t):
                        self.assigned.setdefault(n, []).append(stmt.value)  # type: ignore[attr-defined]
            if plain == len(stmt.targets):  # type: ignore[attr-defined]
                self.plain_assignments.append(stmt)  # type: ignore[arg-type]
        elif tp is ast.AnnAssign and stmt.value is not None:  # type: ignore[attr-defined]
            name = dotted_name(stmt.target)  # type: ignore[attr-defined]
            if name is not None:
                self.assigned.setdefault(name, []).append(stmt.value)  # type: ignore[attr-defined]
        elif tp is ast.Global or tp is ast.Nonlocal:
            self.global_names.update(stmt.names)  # type: ignore[attr-defined]

    def order_key(self, stmt: ast.stmt) -> Tuple[int, ...]:
        """Sorts statements in source order (indices of the statement and those around it)."""
        path: List[int] = []
        current: Optional[ast.stmt] = stmt
        while current is not None:
            pos = self.position.get(id(current))
            if pos is None:
                break
            path.append(pos[1])
            current = self.owner.get(id(pos[0]))
        path.reverse()
        return tuple(path)

    def names(self, node: ast.AST) -> Tuple[Set[str], Set[str]]:
        """names_of(node), cached."""
        found = self._names.get(id(node))
        if found is None:
            found = self._names[id(node)] = names_of(node)
        return found

    # -- navigation -----------------------------------------------------

    def path(self, stmt: ast.stmt) -> List[Tuple[Block, int]]:
        """(block, index) of `stmt` and of each statement around it, up to the enclosing def."""
        out: List[Tuple[Block, int]] = []
        current: Optional[ast.stmt] = stmt
        while current is not None:
            pos = self.position.get(id(current))
            if pos is None:
                break
            out.append(pos)
            owner = self.owner.get(id(pos[0]))
            if owner is None or isinstance(owner, DEFINITIONS):
                break
            current = owner
        return out

    def enclosing(self, stmt: ast.stmt) -> Optional[ast.stmt]:
        """The compound statement whose block holds `stmt` (None at module level)."""
        pos = self.position.get(id(stmt))
        return self.owner.get(id(pos[0])) if pos is not None else None

    def enclosing_loops(self, stmt: ast.stmt) -> Iterator[ast.stmt]:
        """Loops around `stmt`, innermost first, up to the enclosing def."""
        current = self.enclosing(stmt)
        while current is not None and not isinstance(current, DEFINITIONS):
            if isinstance(current, LOOPS):
                yield current
            current = self.enclosing(current)

    # -- lines ----------------------------------------------------------

    def same_line_end(self, stmt: ast.stmt) -> int:
        """Index (in its block) of the last statement sharing `stmt`'s line through `;`."""
        block, i = self.position[id(stmt)]
        while i + 1 < len(block) and block[i + 1].lineno == block[i].end_lineno:
            i += 1
        return i

    def line_start(self, stmt: ast.stmt) -> ast.stmt:
        """The first statement of the `;`-joined line `stmt` is on."""
        block, i = self.position[id(stmt)]
        while i > 0 and block[i].lineno == block[i - 1].end_lineno:
            i -= 1
        return block[i]

    def on_own_line(self, stmt: ast.stmt) -> bool:
        """No other statement shares the statement's lines, and it is not after a header's colon."""
        block, i = self.position[id(stmt)]
        if i + 1 < len(block) and block[i + 1].lineno == stmt.end_lineno:
            return False
        if i > 0:
            return block[i - 1].end_lineno != stmt.lineno
        return self.indented(block)

    def indented(self, block: Block) -> bool:
        """The block starts on a line of its own (not `for x in y: body`, nor after a `\\`)."""
        first = block[0]
        if is_compound(first):  # a compound statement is never on its header's line
            return True
        text = self.syntax.lines[first.lineno - 1]
        if text[: self.syntax.column(first.lineno, first.col_offset) - 1].strip():
            return False
        return not (first.lineno > 1 and self.syntax.lines[first.lineno - 2].rstrip("\r").endswith("\\"))

    def leading_lines(self, stmt: ast.stmt) -> List[str]:
        """The blank and comment lines right above the statement (above its decorators) that go
        with it, not with the end of the block before it."""
        lines = self.syntax.lines
        first = first_line(stmt)
        block, i = self.position[id(stmt)]
        if i == 0:
            lower = first - 1
            while lower >= 1 and _BLANK_OR_COMMENT.match(lines[lower - 1]):
                lower -= 1
            return lines[lower : first - 1]
        prev = block[i - 1]
        between = lines[prev.end_lineno : first - 1]  # type: ignore[misc]
        indent = self._footer_indent(prev)
        if indent is not None:
            last = max((k for k, text in enumerate(between) if text.startswith(indent)), default=-1)
            between = between[last + 1 :]
        return between

    def _footer_indent(self, stmt: ast.stmt) -> Optional[str]:
        """The indentation of the last block of a compound statement, which keeps the lines after
        it indented as deep (None: no block, or one on the header's line)."""
        blocks = statement_blocks(self.syntax, stmt)
        if not blocks or not self.indented(blocks[-1]):
            return None
        text = self.syntax.lines[first_line(blocks[-1][0]) - 1]
        return text[: len(text) - len(text.lstrip(" \t\f"))]

    def attached_comments(self, stmt: ast.stmt) -> int:
        """How many comment lines sit right above the statement (they move and insert with it)."""
        count = 0
        for text in reversed(self.leading_lines(stmt)):
            if not text.strip().startswith("#"):
                break
            count += 1
        return count


def first_line(stmt: ast.stmt) -> int:
    """The statement's first line: its first decorator's, for a decorated def or class."""
    decorators = getattr(stmt, "decorator_list", None)
    return min(stmt.lineno, decorators[0].lineno) if decorators else stmt.lineno
