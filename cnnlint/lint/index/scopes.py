"""Scopes and bindings of one file, from one walk of its tree: a flow-insensitive-with-dominance
model of which assignments a use of a name can see.

Every binding of a name (assignment, tuple unpacking, loop target, `with` target, walrus,
`.append`/`.extend`/`x[i] = ...` into a container, augmented assignment, `f(x)` as a statement,
def, class, import, parameter) is recorded with its walk order, its scope, the conditional blocks
and the loops around it. A use of a name sees the bindings before it, starting from the last
unconditional plain assignment, which is enough for notebook and script code written top to
bottom (notebook cells are joined into one module, so a definition in an earlier cell is seen).

The walk also records every call (`CallSite`) and a few file-wide facts the input-pipeline rules
read (scaling operations, `preprocess_input` references, `self.x = ...` in methods).
`Scopes` is an analysis: `ctx.get(Scopes)`.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

from cnnlint.lint.index.arguments import arguments
from cnnlint.lint.index.image_scaling import is_scale_op
from cnnlint.lint.index.syntax import children
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import all_args, dotted_name
from cnnlint.lint.index.walk_orders import rising_orders

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

INF = 1 << 60  # a walk order after every node: "at the end of the file"

# binding kinds that replace a name's value, and those that add to (or change) a container
PLAIN = frozenset({"assign", "unpack", "for", "with", "walrus", "def", "class", "import", "param"})
ACCUMULATE = frozenset({"append", "subassign", "aug", "mutcall"})

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
LOOPS = (ast.For, ast.AsyncFor, ast.While)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
_TRY = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if isinstance(t, type))
_MATCH_CASE = getattr(ast, "match_case", None)  # Python 3.10+

# the node types _statement and _expression look at (every other node is only walked into)
_STATEMENTS = frozenset({
    ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Global, ast.Import, ast.ImportFrom, ast.Expr, ast.Return,
    ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.For, ast.AsyncFor, ast.While, ast.If,
    *_TRY, *((_MATCH_CASE,) if _MATCH_CASE is not None else ()), *COMPREHENSIONS,
})
_EXPRESSIONS = frozenset({
    ast.Call, ast.BinOp, ast.NamedExpr, ast.Yield, ast.YieldFrom, ast.withitem, ast.ExceptHandler,
    ast.Nonlocal,
})

Blocks = Tuple[int, ...]  # ids of the conditional blocks (bodies, branches) around a node, outermost first
Loop = Union[ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp]


@dataclass(eq=False)
class Scope:
    node: ast.AST
    parent: Optional["Scope"]
    kind: str  # module | function | lambda | class | comp
    defs: Dict[str, List["Binding"]] = field(default_factory=dict)
    globals: Set[str] = field(default_factory=set)
    # (value, order, blocks) of each `return value` (a lambda's body)
    returns: List[Tuple[ast.expr, int, Blocks]] = field(default_factory=list)
    has_yield: bool = False

    def function_scope(self) -> "Scope":
        """The scope a `return`/`yield` here belongs to (comprehensions run inside their function)."""
        scope = self
        while scope.kind == "comp" and scope.parent is not None:
            scope = scope.parent
        return scope


@dataclass(eq=False)
class Binding:
    """One binding of `name`: `value` is what was bound (for "unpack" and "for", the whole
    right-hand side / iterable, with `path` the index path into it)."""

    name: str
    kind: str
    value: Optional[ast.AST]
    path: Tuple[int, ...]
    order: int
    scope: Scope  # where the binding statement runs (to evaluate `value`)
    blocks: Blocks
    loops: Tuple[Loop, ...]
    op: Optional[ast.operator] = None  # augmented assignment's operator
    node: Optional[ast.AST] = None


@dataclass(eq=False)
class CallSite:
    """A call (or any expression) and where it runs: scope, walk order, blocks, loops."""

    node: ast.AST
    scope: Scope
    order: int
    blocks: Blocks
    loops: Tuple[Loop, ...]


@dataclass(eq=False)
class SelfAssign:
    """`self.x = value` in a method."""

    target: ast.Attribute
    value: ast.expr
    scope: Scope
    order: int
    blocks: Blocks


def target_paths(target: ast.AST, path: Tuple[int, ...] = ()) -> Iterator[Tuple[str, Tuple[int, ...], ast.AST]]:
    """(name, index path, node) for each plain name an unpacking target binds (starred ones skipped)."""
    if isinstance(target, ast.Name):
        yield target.id, path, target
    elif isinstance(target, (ast.Tuple, ast.List)):
        for i, el in enumerate(target.elts):
            if isinstance(el, ast.Starred):
                continue
            yield from target_paths(el, path + (i,))


def root_name(expr: ast.AST) -> Optional[str]:
    """`X` for `X`, `X[i]`, `X[i][j]`; None for attributes and anything else."""
    while isinstance(expr, ast.Subscript):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


class _CompEnd:
    """Walk marker: popped once a comprehension's subtree is done."""

    __slots__ = ("comp",)

    def __init__(self, comp: ast.AST) -> None:
        self.comp = comp


_Item = Tuple[object, Scope, Blocks, Tuple[Loop, ...], Optional[ast.ClassDef]]


class Scopes:
    """One walk of the module: scopes, bindings, calls and a few file-wide facts."""

    def __init__(self, ctx: "FileContext") -> None:
        assert ctx.syntax is not None
        self.tree: ast.Module = ctx.syntax.tree
        self.lines: List[str] = ctx.syntax.lines
        self.imports: ImportTable = ctx.get(ImportTable)
        self.calls: List[CallSite] = []
        self.fn_scope: Dict[int, Scope] = {}
        self.comp_scope: Dict[int, Scope] = {}
        self._class_scopes: List[Scope] = []
        self.loop_parents: Dict[int, Tuple[Loop, ...]] = {}
        # id(loop or comprehension) -> the scope it runs in
        self.loop_scope: Dict[int, Scope] = {}
        # id(comprehension) -> the last walk order inside it (walrus targets bound in it are seen)
        self.comp_end: Dict[int, int] = {}
        # scaling operations: (operation, scope, the class it is written in)
        self.divisions: List[Tuple[ast.BinOp, Scope, Optional[ast.ClassDef]]] = []
        self.aug_divisions: List[ast.AugAssign] = []
        # every spelling of `preprocess_input` outside imports and definitions (a name, or an
        # object standing for an attribute, keyword or `as` name spelled so)
        self.preprocess_refs: List[object] = []
        self.attr_assigns: Set[str] = set()
        self.self_assigns: List[SelfAssign] = []
        # id(call) -> the names `x = call(...)` / `a, b = call(...)` binds
        self.call_targets: Dict[int, List[str]] = {}
        self.module_scope = Scope(self.tree, None, "module")
        self._pending: List[Binding] = []
        # id(a name's bindings in a scope) -> (those bindings, without `f(name)` statements unless
        # asked, their orders when they rise along the list): `reaching` bisects instead of
        # filtering every binding at every use (a long notebook binds `model` hundreds of times)
        self._sorted: Dict[Tuple[int, bool], Tuple[List[Binding], List[Binding], Optional[List[int]]]] = {}
        self._build()

    def release(self) -> None:
        """Break the scope <-> binding cycles once the file is done, so the file's bindings (and
        the tree nodes they hold) go when the engine drops the analysis, not at a full collection."""
        for scope in [self.module_scope, *self.fn_scope.values(), *self.comp_scope.values(), *self._class_scopes]:
            scope.defs.clear()
            scope.parent = None
        self._sorted.clear()

    # ---- building

    def _bind(self, scope: Scope, d: Binding) -> None:
        if d.kind in ACCUMULATE:
            self._pending.append(d)
            return
        target = scope
        if d.name in scope.globals:
            target = self.module_scope
        elif d.kind == "walrus":
            target = scope.function_scope()
        target.defs.setdefault(d.name, []).append(d)

    def _binding_scope(self, name: str, scope: Scope) -> Scope:
        return self._lookup(name, scope)[0] or self.module_scope

    @staticmethod
    def _lookup(name: str, scope: Scope) -> Tuple[Optional[Scope], bool]:
        """The scope whose bindings of `name` a use in `scope` sees (class bodies are seen only from
        inside themselves), and whether only comprehensions lie between the two."""
        s: Optional[Scope] = scope
        same = True
        first = True
        while s is not None:
            if s.kind == "class" and not first:
                s = s.parent
                continue
            if name in s.defs:
                return s, same
            if s.kind != "comp":
                same = False
            first = False
            s = s.parent
        return None, False

    def _build(self) -> None:
        order = 0
        stack: List[_Item] = [(self.tree, self.module_scope, (), (), None)]
        self._stack = stack
        pop = stack.pop
        name_type, constant_type, attribute_type, keyword_type = ast.Name, ast.Constant, ast.Attribute, ast.keyword
        while stack:
            item = pop()
            node, scope, blocks, loops, klass = item
            order += 1
            t = type(node)
            if t is _CompEnd:
                self.comp_end[id(node.comp)] = order  # type: ignore[attr-defined]
                continue
            if t is ast.Module:
                self._push_block(node.body, scope, blocks, loops, klass)  # type: ignore[attr-defined]
                continue
            if t is name_type:
                if node.id == "preprocess_input":  # type: ignore[attr-defined]
                    self.preprocess_refs.append(node)
                continue
            if t is constant_type:  # a leaf, neither statement nor expression of interest
                continue
            if t is attribute_type:  # its one child is walked; the attribute's own name may count
                if node.attr == "preprocess_input":  # type: ignore[attr-defined]
                    self.preprocess_refs.append(node)
                    self.preprocess_refs.append(object())  # the attribute's name, spelled too
                stack.append((node.value, scope, blocks, loops, klass))  # type: ignore[attr-defined]
                continue
            if t is keyword_type:  # `f(x=...)`: its value is walked; its name may count
                if node.arg == "preprocess_input":  # type: ignore[attr-defined]
                    self.preprocess_refs.append(object())
            elif t in _STATEMENTS:
                if self._statement(node, item, order):  # handled, children pushed as needed
                    continue
            elif t in _EXPRESSIONS:
                self._expression(node, item, order)
            kids = children(node)  # type: ignore[arg-type]
            # leaves are looked at here rather than pushed (walk orders only ever compare, so
            # counting fewer nodes changes none of the comparisons)
            for kid in reversed(kids):
                kind = type(kid)
                if kind is name_type:
                    if kid.id == "preprocess_input":  # type: ignore[attr-defined]
                        self.preprocess_refs.append(kid)
                elif kind is not constant_type:
                    stack.append((kid, scope, blocks, loops, klass))
        for d in self._pending:
            target = self._binding_scope(d.name, d.scope)
            if d.name in d.scope.globals:
                target = self.module_scope
            target.defs.setdefault(d.name, []).append(d)
        self._pending = []
        for s in [self.module_scope, *self.fn_scope.values(), *self.comp_scope.values()]:
            for defs in s.defs.values():
                defs.sort(key=lambda d: d.order)

    def _push_block(self, stmts: Sequence[ast.AST], scope: Scope, blocks: Blocks, loops: Tuple[Loop, ...],
                    klass: Optional[ast.ClassDef]) -> None:
        push = self._stack.append
        for stmt in reversed(stmts):
            push((stmt, scope, blocks, loops, klass))

    def _expression(self, node: Any, item: _Item, order: int) -> None:
        """Calls, attributes, operations and other nodes whose children are all walked."""
        _, scope, blocks, loops, klass = item
        t = type(node)
        if t is ast.Call:
            self._call(node, item, order)
        elif t is ast.BinOp:
            if is_scale_op(node, self.lines):
                self.divisions.append((node, scope, klass))
        elif t is ast.NamedExpr:
            if isinstance(node.target, ast.Name):
                self._bind(scope, Binding(node.target.id, "walrus", node.value, (), order, scope, blocks, loops,
                                          node=node))
        elif t is ast.Yield or t is ast.YieldFrom:
            scope.function_scope().has_yield = True
        elif t is ast.withitem:
            if node.optional_vars is not None:
                for name, path, _ in target_paths(node.optional_vars):
                    kind = "with" if not path else "unpack"
                    self._bind(scope, Binding(name, kind, node.context_expr, path, order, scope, blocks, loops,
                                              node=node))
        elif t is ast.ExceptHandler:
            if node.name == "preprocess_input":
                self.preprocess_refs.append(object())
        elif t is ast.Nonlocal:
            self.preprocess_refs.extend(object() for name in node.names if name == "preprocess_input")

    def _call(self, node: ast.Call, item: _Item, order: int) -> None:
        _, scope, blocks, loops, _klass = item
        self.calls.append(CallSite(node, scope, order, blocks, loops))
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("append", "extend", "insert"):
            name = root_name(func.value)
            args = [a for a in arguments(node) if not a.star]
            if name is not None and args:
                self._bind(scope, Binding(name, "append", args[-1].value, (), order, scope, blocks, loops, node=node))

    def _statement(self, node: Any, item: _Item, order: int) -> bool:
        """Statements that bind names or open scopes and blocks; True when the node's children
        were pushed (or deliberately left out) here."""
        _, scope, blocks, loops, klass = item
        t = type(node)
        if t is ast.Assign:
            for target in node.targets:
                self._bind_target(target, node.value, item, order, node)
        elif t is ast.AnnAssign:
            if node.value is not None:
                self._bind_target(node.target, node.value, item, order, node)
        elif t is ast.AugAssign:
            self._aug_assign(node, item, order)
        elif t is ast.Global:
            scope.globals.update(node.names)
            return True
        elif t is ast.Import or t is ast.ImportFrom:
            for alias in node.names:
                local = alias.asname or (alias.name if alias.name != "*" else "").split(".")[0]
                if local:
                    self._bind(scope, Binding(local, "import", None, (), order, scope, blocks, loops))
            return True
        elif t is ast.Expr:
            self._statement_call(node.value, item, order)
        elif t is ast.Return:
            if node.value is not None:
                scope.function_scope().returns.append((node.value, order, blocks))
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef):
            self._definition(node, item, order)
            return True
        elif t in (ast.For, ast.AsyncFor, ast.While, ast.If) or t in _TRY or t is _MATCH_CASE:
            self._compound(node, item, order)
            return True
        elif t in COMPREHENSIONS:
            self._comprehension(node, item, order)
            return True
        return False

    def _aug_assign(self, node: ast.AugAssign, item: _Item, order: int) -> None:
        _, scope, blocks, loops, _klass = item
        name = root_name(node.target)
        if name is not None:
            self._bind(scope, Binding(name, "aug", node.value, (), order, scope, blocks, loops, op=node.op, node=node))
        if isinstance(node.op, (ast.Div, ast.Mult)):
            self.aug_divisions.append(node)

    def _statement_call(self, call: ast.AST, item: _Item, order: int) -> None:
        """`normalize(X)` as a statement may change X in place."""
        _, scope, blocks, loops, _klass = item
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
            for a in arguments(call):
                if isinstance(a.value, ast.Name) and not a.star:
                    self._bind(scope, Binding(a.value.id, "mutcall", call, (), order, scope, blocks, loops, node=call))

    def _definition(self, node: Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef],
                    item: _Item, order: int) -> None:
        _, scope, blocks, loops, klass = item
        push = self._stack.append
        if isinstance(node, ast.ClassDef):
            self._bind(scope, Binding(node.name, "class", node, (), order, scope, blocks, loops))
            inner = Scope(node, scope, "class")
            self._class_scopes.append(inner)
            self._push_block(node.body, inner, (), (), node)
            for base in reversed(node.bases):
                push((base, scope, blocks, loops, klass))
            return
        kind = "lambda" if isinstance(node, ast.Lambda) else "function"
        inner = Scope(node, scope, kind)
        self.fn_scope[id(node)] = inner
        if isinstance(node, ast.Lambda):
            self._bind_params(node.args, inner, order)
            inner.returns.append((node.body, order, ()))
            push((node.body, inner, (), (), klass))
            return
        self._bind(scope, Binding(node.name, "def", node, (), order, scope, blocks, loops))
        self._bind_params(node.args, inner, order)
        for dec in reversed(node.decorator_list):
            push((dec, scope, blocks, loops, klass))
        self._push_block(node.body, inner, (), (), klass)

    def _compound(self, node: ast.AST, item: _Item, order: int) -> None:
        """Loops, conditionals, try and match cases: each body a block of its own."""
        _, scope, blocks, loops, klass = item
        push = self._stack.append
        block = self._push_block
        if isinstance(node, (ast.For, ast.AsyncFor)):
            for name, path, _ in target_paths(node.target):
                self._bind(scope, Binding(name, "for", node.iter, path, order, scope, blocks, loops, node=node))
        if isinstance(node, LOOPS):
            self.loop_parents[id(node)] = loops
            self.loop_scope[id(node)] = scope
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While, ast.If)):
            if node.orelse:
                block(node.orelse, scope, blocks + (id(node.orelse),), loops, klass)
            inner_loops = loops + (node,) if isinstance(node, LOOPS) else loops
            block(node.body, scope, blocks + (id(node.body),), inner_loops, klass)
            push((node.iter if isinstance(node, (ast.For, ast.AsyncFor)) else node.test, scope, blocks, loops, klass))
        elif type(node) is _MATCH_CASE:
            block(node.body, scope, blocks + (id(node.body),), loops, klass)  # type: ignore[attr-defined]
        else:  # try: body, each handler, else, finally
            parts: List[object] = [node.body, *node.handlers, node.orelse, node.finalbody]  # type: ignore[attr-defined]
            for part in reversed(parts):
                if isinstance(part, list):
                    if part:
                        block(part, scope, blocks + (id(part),), loops, klass)
                else:
                    push((part, scope, blocks + (id(part),), loops, klass))

    def _comprehension(self, node: Any, item: _Item, order: int) -> None:
        _, scope, blocks, loops, klass = item
        inner = Scope(node, scope, "comp")
        self.comp_scope[id(node)] = inner
        self.loop_parents[id(node)] = loops
        self.loop_scope[id(node)] = scope
        inner_loops = loops + (node,)
        for gen in node.generators:
            for name, path, _ in target_paths(gen.target):
                inner.defs.setdefault(name, []).append(
                    Binding(name, "for", gen.iter, path, order, inner, blocks, inner_loops, node=node)
                )
        push = self._stack.append
        push((_CompEnd(node), scope, blocks, loops, klass))
        for kid in reversed(children(node)):
            push((kid, inner, blocks, inner_loops, klass))

    def _bind_params(self, args: ast.arguments, scope: Scope, order: int) -> None:
        for p in all_args(args):
            scope.defs.setdefault(p.arg, []).append(Binding(p.arg, "param", p, (), order, scope, (), ()))

    def _bind_target(self, target: ast.AST, value: ast.expr, item: _Item, order: int, node: ast.AST) -> None:
        _, scope, blocks, loops, _klass = item
        if isinstance(value, ast.Call) and isinstance(target, (ast.Name, ast.Tuple, ast.List)):
            self.call_targets[id(value)] = [n for n, _, _ in target_paths(target)]
        if isinstance(target, ast.Name):
            self._bind(scope, Binding(target.id, "assign", value, (), order, scope, blocks, loops, node=node))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for name, path, _ in target_paths(target):
                self._bind(scope, Binding(name, "unpack", value, path, order, scope, blocks, loops, node=node))
        elif isinstance(target, ast.Subscript):
            root = root_name(target)
            if root is not None:
                self._bind(scope, Binding(root, "subassign", value, (), order, scope, blocks, loops, node=node))
        elif isinstance(target, ast.Attribute):
            self.attr_assigns.add(target.attr)
            if isinstance(target.value, ast.Name) and target.value.id == "self" and scope.kind == "function":
                self.self_assigns.append(SelfAssign(target, value, scope, order, blocks))

    # ---- names

    def qualify(self, expr: ast.AST) -> Optional[str]:
        return self.imports.qualify(expr)

    def is_imported_head(self, expr: ast.AST, scope: Optional[Scope] = None) -> bool:
        """`np.array`, `cv2.resize`: a name path that starts at an import, not at a local value."""
        name = dotted_name(expr)
        if name is None:
            return False
        head = name.split(".")[0]
        if head not in self.imports.aliases:
            return False
        if scope is not None:
            r = self.reaching(head, scope, INF, ())
            if r is not None and any(d.kind != "import" for d in r[1]):
                return False
        return True

    def reaching(
        self, name: str, scope: Scope, pos: int, blocks: Blocks, mutcalls: bool = False,
        outer: Optional[Tuple[int, int, Blocks]] = None,
    ) -> Optional[Tuple[Scope, List[Binding]]]:
        """The bindings of `name` a use at (scope, pos, blocks) can see, or None if unbound here.

        `f(name)` statements (possible in-place changes) are left out unless `mutcalls`.
        A name bound in an enclosing scope is seen as it is at the end of the file, unless
        `outer` = (id(scope), pos, blocks) says where the function was called from in that
        scope: then the bindings before that call count (`X = []; def f(): X.append(..);
        return X` seen from `X = f()`).
        """
        s, same = self._lookup(name, scope)
        if s is None:
            return None
        defs, orders = self._bindings_of(s.defs[name], mutcalls)
        if s.kind == "comp":
            return s, list(defs)
        if not same:
            if outer is not None and outer[0] == id(s):
                pos, blocks = outer[1], outer[2]
            else:
                pos, blocks = INF, ()
        if orders is None:  # out of order (an accumulation bound after the walk): filter them all
            cands = [d for d in defs if d.order < pos]
        else:
            cands = defs[: bisect.bisect_left(orders, pos)]
        for d in reversed(cands):
            if d.kind in PLAIN and d.blocks == blocks[: len(d.blocks)]:
                # the last plain binding that surely ran: it and what follows it
                if orders is None:
                    return s, [c for c in cands if c.order >= d.order]
                return s, cands[bisect.bisect_left(orders, d.order, 0, len(cands)):]
        return s, cands

    def _bindings_of(self, defs: List[Binding], mutcalls: bool) -> Tuple[List[Binding], Optional[List[int]]]:
        """(the bindings, less `f(name)` statements unless `mutcalls`; their orders when rising)."""
        key = (id(defs), mutcalls)
        found = self._sorted.get(key)
        if found is None or found[0] is not defs:
            kept = defs if mutcalls else [d for d in defs if d.kind != "mutcall"]
            found = self._sorted[key] = (defs, kept, rising_orders(kept))
        return found[1], found[2]

    def local_function(self, name: str, scope: Scope, pos: int, blocks: Blocks) -> Optional[ast.AST]:
        """The function `name` stands for when every plain binding it has here is a def."""
        r = self.reaching(name, scope, pos, blocks)
        if r is None:
            return None
        plain = [d for d in r[1] if d.kind in PLAIN]
        if plain and all(d.kind == "def" for d in plain):
            return plain[-1].value
        return None

    def calls_of(self, fn: ast.AST) -> Optional[List[CallSite]]:
        """The calls of one of the file's functions by its name (`train(...)`); None when one of
        those calls may reach something else (the name rebound)."""
        name = getattr(fn, "name", None)
        found = []
        for site in self.calls:
            func = site.node.func  # type: ignore[attr-defined]
            if not isinstance(func, ast.Name) or func.id != name:
                continue
            if self.local_function(func.id, site.scope, site.order, site.blocks) is not fn:
                return None
            found.append(site)
        return found

    def is_local(self, name: str, scope: Scope) -> bool:
        r = self.reaching(name, scope, INF, ())
        return r is not None and any(d.kind != "import" for d in r[1])

    def local_class(self, name: str, scope: Scope) -> Optional[ast.ClassDef]:
        r = self.reaching(name, scope, INF, ())
        if r is None:
            return None
        plain = [d for d in r[1] if d.kind in PLAIN]
        if plain and plain[-1].kind == "class":
            return plain[-1].value  # type: ignore[return-value]
        return None
