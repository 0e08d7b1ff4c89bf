"""Bindings and calls of one file, from a single walk of CPython's ast: `ctx.get(Bindings)`.

Every call with its qualified callee, scope and walk order, and every binding of a name (or
`self.attr`) with its value. A name is followed to its last binding before the use in the same
scope (then the module scope); a binding under `if`/`for`/`while`/`try`, or one that is not a
plain assignment, makes the value unknown, and unknown means quiet.

Walk order: nodes are numbered in source order (depth first); an assignment's bindings take
effect once its value has been walked, so `x = f(x)` reads the earlier `x`.
"""

from __future__ import annotations

import ast
import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple, Union

from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import all_args, call_tail, dotted_name
from cnnlint.lint.index.syntax import children
from cnnlint.lint.index.walk_orders import rising_orders

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

Scope = Optional[ast.AST]  # the enclosing def or lambda (None: module level)
Block = Optional[ast.AST]  # the innermost if/for/while/try/match around a node inside its scope
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_CONTROL = frozenset(
    getattr(ast, n) for n in ("If", "For", "AsyncFor", "While", "Try", "TryStar", "Match") if hasattr(ast, n)
)
_LOOPS = (ast.For, ast.AsyncFor)


# the nodes _binds_of looks at
_BINDERS = frozenset({ast.Assign, ast.AnnAssign, ast.AugAssign, ast.comprehension, ast.NamedExpr, ast.withitem})
_NOISE = (ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)

# what the walk does at a node of each type (other types: only walked into)
_CALL, _BLOCK, _FUNCTION, _LAMBDA, _CLASS, _BINDER = "call", "block", "function", "lambda", "class", "binder"
_HOOKED = "hooked"
# the node types the rules' hooks ask for (and expression statements, which CNL203 reads), listed
# apart in walk order (`Bindings.hooked`): the engine dispatches from that shorter list when no
# hook asks for another type
HOOKED_TYPES = frozenset({ast.Call, ast.Attribute, ast.Subscript, ast.Import, ast.ImportFrom, ast.Assign, ast.Expr})
_KINDS: Dict[type, str] = {
    ast.Call: _CALL,
    **{tp: _BLOCK for tp in _CONTROL},
    **{tp: _FUNCTION for tp in FUNCTIONS},
    ast.Lambda: _LAMBDA,
    ast.ClassDef: _CLASS,
    **{tp: _BINDER for tp in _BINDERS},
    ast.Subscript: _HOOKED, ast.Import: _HOOKED, ast.ImportFrom: _HOOKED, ast.Expr: _HOOKED,
}


@dataclass
class Binding:
    """One binding of a name: its walk order, scope, value and the control block around it."""

    order: int
    scope: Scope
    value: Optional[ast.AST]  # the assigned expression; None when not a plain assignment
    block: Block
    unpack: Optional[int] = None  # index into a tuple target (`(x, y), (a, b) = ...` flattens)
    node: Optional[ast.AST] = None
    conditional: bool = False  # set per use: may not have run before the use

    @property
    def unconditional(self) -> bool:
        return self.block is None


@dataclass
class CallSite:
    node: ast.Call
    qname: str  # qualified callee, "" when not a dotted name
    tail: str
    order: int
    scope: Scope
    block: Block


@dataclass
class Mention:
    """A name written where CPython's tree holds a plain string (an attribute, a keyword, a def,
    a parameter, an import): `role` "as" for `import x as name` / `except E as name`, else "other"."""

    scope: Scope
    role: str


_Frame = Tuple[Scope, Block, Optional[ast.ClassDef]]  # what a node is visited in
_NO_FRAME: _Frame = (None, None, None)  # module level (or a node the walk did not reach)


class _Done:
    """Stack marker: the walk has finished an assignment's value."""

    __slots__ = ("binds",)

    def __init__(self, binds: List[Binding]) -> None:
        self.binds = binds


class Bindings:
    """An analysis: `ctx.get(Bindings)`."""

    def __init__(self, ctx: "FileContext") -> None:
        assert ctx.syntax is not None
        self.syntax = ctx.syntax
        self.text = ctx.source.text
        self.imports = ctx.get(ImportTable)
        self.calls: List[CallSite] = []
        self.binds: Dict[str, List[Binding]] = {}
        # node -> its walk order, and the (enclosing function, innermost control block inside it,
        # class whose body it is in) it was visited in; keyed by the node itself (hashed by
        # identity), not id(): no int made per node
        self.orders: Dict[ast.AST, int] = {}
        self.where: Dict[ast.AST, _Frame] = {}
        self.block_parent: Dict[int, Block] = {}
        self.classes: List[ast.ClassDef] = []
        self.class_of_scope: Dict[int, ast.ClassDef] = {}
        self.params: Dict[int, Set[str]] = {}  # id(function) -> parameter names
        self.names: Dict[str, List[ast.Name]] = {}  # Name nodes by name
        self.loops: List[ast.AST] = []  # for statements and comprehension clauses, in source order
        self.assigns: List[ast.Assign] = []  # single-target assignments
        self._added: List[Binding] = []
        self._grouped: Dict[str, Dict[Optional[int], _Group]] = {}
        self._class_binds: Dict[str, Dict[int, List[Binding]]] = {}
        self._mentions: Optional[Dict[str, List[Mention]]] = None
        self._parents: Dict[ast.AST, ast.AST] = {}
        # every node of the tree (no contexts or operators) in walk order: the engine dispatches
        # the rules' node hooks from it, so the file is walked once
        self.nodes: List[ast.AST] = []
        self.hooked: List[ast.AST] = []  # the nodes of HOOKED_TYPES, in walk order
        # the defs, calls, for loops and binding nodes (assignments, comprehension clauses, walrus,
        # with items), in walk order: what AugmentBindings reads
        self.defs_calls_binders: List[ast.AST] = []
        self.keras = self.imports.imports_any("tensorflow", "keras", "tf_keras")
        self.torch = self.imports.imports_any("torch", "torchvision", "lightning", "pytorch_lightning")
        self._walk()

    # ---- building

    def _walk(self) -> None:
        # two stacks side by side: the nodes to visit, and the (scope, block, class) each is
        # visited in, one tuple shared by a node's children and recorded as it is (`where`): no
        # tuple is made per node
        order = 0
        orders = self.orders
        where = self.where
        calls = self.calls
        qualify = self.imports.qualify
        parents = self._parents
        names = self.names
        visited = self.nodes.append
        hooked = self.hooked.append
        recorded = self.defs_calls_binders.append
        kinds = _KINDS
        todo: List[Union[ast.AST, _Done]] = [self.syntax.tree]
        frames: List[_Frame] = [_NO_FRAME]
        pop_node, pop_frame, push_node, push_frame = todo.pop, frames.pop, todo.append, frames.append
        name_type, constant_type, attribute_type, done_type = ast.Name, ast.Constant, ast.Attribute, _Done
        assign_type = ast.Assign
        while todo:
            node = pop_node()
            frame = pop_frame()
            order += 1
            tp = type(node)
            if tp is done_type:
                for b in node.binds:  # type: ignore[union-attr]  # the value has been walked: the bindings take effect from here
                    b.order = order
                continue
            orders[node] = order  # type: ignore[index]
            where[node] = frame  # type: ignore[index]
            visited(node)  # type: ignore[arg-type]
            if tp is name_type:  # a leaf
                same = names.get(node.id)  # type: ignore[union-attr]
                if same is None:
                    names[node.id] = [node]  # type: ignore[union-attr, list-item]
                else:
                    same.append(node)  # type: ignore[arg-type]
                continue
            if tp is constant_type:
                continue
            if tp is attribute_type:  # one child, nothing to record
                hooked(node)  # type: ignore[arg-type]
                value = node.value  # type: ignore[union-attr]
                parents[value] = node  # type: ignore[assignment]
                push_node(value)
                push_frame(frame)
                continue
            inner = frame
            kind = kinds.get(tp)
            if kind is None:
                pass
            elif kind is _CALL:
                hooked(node)  # type: ignore[arg-type]
                recorded(node)  # type: ignore[arg-type]
                calls.append(CallSite(node, qualify(node.func) or "", call_tail(node) or "", order, frame[0], frame[1]))  # type: ignore[arg-type, union-attr]
            elif kind is _HOOKED:
                hooked(node)  # type: ignore[arg-type]
            elif kind is _BINDER:
                recorded(node)  # type: ignore[arg-type]
                if tp is assign_type:
                    hooked(node)  # type: ignore[arg-type]
                done = self._binds_of(node, order, frame[0], frame[1])  # type: ignore[arg-type]
                if done is not None:
                    push_node(done)
                    push_frame(frame)
            else:  # a block, def, lambda or class: its children are visited in a frame of their own
                inner = self._enter(node, kind, order, frame)  # type: ignore[arg-type]
            kids = children(node)  # type: ignore[arg-type]
            if kids:
                kids.reverse()
                for k in kids:
                    parents[k] = node  # type: ignore[assignment]
                todo.extend(kids)
                frames.extend([inner] * len(kids))

    def _enter(self, node: ast.AST, kind: str, order: int, frame: _Frame) -> _Frame:
        """Record a control block, def, lambda or class; the frame its children are visited in."""
        scope, cond, klass = frame
        if kind is _BLOCK:
            self.block_parent[id(node)] = cond
            if type(node) in _LOOPS:
                self.defs_calls_binders.append(node)
                self.loops.append(node)
                self._bind(node.target, None, order, scope, node)  # type: ignore[attr-defined]
            return (scope, node, klass)
        if kind is _FUNCTION:
            self.defs_calls_binders.append(node)
            if klass is not None:
                self.class_of_scope[id(node)] = klass  # type: ignore[assignment]
            self.params[id(node)] = {a.arg for a in all_args(node.args)}  # type: ignore[attr-defined]
            return (node, None, None)
        if kind is _LAMBDA:
            return (node, None, klass)
        self.classes.append(node)  # type: ignore[arg-type]  # a class
        return (scope, cond, node)  # type: ignore[return-value]

    def _binds_of(self, node: ast.AST, order: int, scope: Scope, cond: Block) -> Optional[_Done]:
        """Record the bindings a statement or clause makes; a marker when they wait for its value."""
        first = len(self._added)
        if isinstance(node, ast.Assign):
            if len(node.targets) == 1:
                self.assigns.append(node)
            for target in node.targets:
                self._bind(target, node.value, order, scope, cond)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            self._bind(node.target, node.value if isinstance(node, ast.AnnAssign) else None, order, scope, cond)
        elif isinstance(node, ast.comprehension):
            self.loops.append(node)
            self._bind(node.target, None, order, scope, node)
            return None
        elif isinstance(node, ast.NamedExpr):
            self._bind(node.target, None, order, scope, node)
            return None
        elif isinstance(node, ast.withitem):
            if node.optional_vars is not None:
                self._bind(node.optional_vars, None, order, scope, cond)
            return None
        else:
            return None
        return _Done(self._added[first:])

    def _bind(self, target: ast.AST, value: Optional[ast.AST], order: int, scope: Scope, cond: Block) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for i, el in enumerate(_flatten_target(target)):
                if el is not None:
                    self._add(el, value, order, scope, cond, i)
            return
        self._add(target, value, order, scope, cond, None)

    def _add(self, target: ast.AST, value: Optional[ast.AST], order: int, scope: Scope, cond: Block,
             unpack: Optional[int]) -> None:
        key = dotted_name(target) if isinstance(target, (ast.Name, ast.Attribute)) else None
        if key is None:
            return
        b = Binding(order, scope, value, cond, unpack, target)
        self.binds.setdefault(key, []).append(b)
        self._added.append(b)

    # ---- queries

    def q(self, expr: ast.AST) -> str:
        """The qualified dotted name of a Name/Attribute chain, "" for anything else."""
        return self.imports.qualify(expr) or ""

    def position(self, node: ast.AST) -> int:
        return self.orders.get(node, 0)

    def scope_of(self, node: ast.AST) -> Scope:
        return self.where.get(node, _NO_FRAME)[0]

    def block_of(self, node: ast.AST) -> Block:
        return self.where.get(node, _NO_FRAME)[1]

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        """The node's parent (recorded by the walk; contexts and operators have none)."""
        return self._parents.get(node)

    def binding(self, key: str, at: ast.AST) -> Optional[Binding]:
        """The binding of `key` a use at `at` sees: last before it in its scope, else module level."""
        pos = self.position(at)
        scope = self.scope_of(at)
        if key.startswith("self."):
            klass = self.class_of_scope.get(id(scope)) if scope is not None else None
            if klass is None:
                return None
            mine = self._in_class(key, klass)
            # attributes: the one assignment in the class (several: unknown)
            return self._seen(mine[0], None) if len(mine) == 1 and mine[0].unconditional else None
        groups = self._groups(key)
        if scope is not None:
            local = groups.get(id(scope))
            last = _last_before(local, pos) if local is not None else None
            if key in self.params.get(id(scope), ()):
                # a parameter is unknown until the function rebinds it (`x = self.fc(x)`)
                return self._seen(last, self.block_of(at)) if last is not None else None
            if local is not None:
                return self._seen(last, self.block_of(at)) if last is not None else None
        module = groups.get(None)
        if module is None:
            return None
        if scope is not None:
            # a function sees the module's final binding when it runs; only trust a single one
            return self._seen(module[0][0], None) if len(module[0]) == 1 else None
        last = _last_before(module, pos)
        return self._seen(last, self.block_of(at)) if last is not None else None

    def _in_class(self, key: str, klass: ast.ClassDef) -> List[Binding]:
        """The bindings of `self.attr` in the methods of one class (grouped by class once per name:
        a long file has many classes with a `self.fc`)."""
        by_class = self._class_binds.get(key)
        if by_class is None:
            by_class = self._class_binds[key] = {}
            for b in self.binds.get(key, []):
                owner = self.class_of_scope.get(id(b.scope)) if b.scope is not None else None
                if owner is not None:
                    by_class.setdefault(id(owner), []).append(b)
        return by_class.get(id(klass), [])

    def _groups(self, key: str) -> Dict[Optional[int], "_Group"]:
        """The bindings of `key` by scope (id of the def or lambda, None: module level), each in
        walk order with their orders: a use looks at its own scope's, not at every binding of the
        name (a long notebook binds `model` or `x` hundreds of times)."""
        found = self._grouped.get(key)
        if found is None:
            lists: Dict[Optional[int], List[Binding]] = {}
            for b in self.binds.get(key, []):
                lists.setdefault(id(b.scope) if b.scope is not None else None, []).append(b)
            found = self._grouped[key] = {k: _group(v) for k, v in lists.items()}
        return found

    def _seen(self, b: Binding, use_block: Block) -> Binding:
        """The binding, marked conditional unless its block also encloses the use."""
        block = use_block
        while block is not None and block is not b.block:
            block = self.block_parent.get(id(block))
        return Binding(b.order, b.scope, b.value, b.block, b.unpack, b.node, block is not b.block)

    def value_of(self, expr: ast.AST) -> Optional[ast.AST]:
        """Follow a name (or `self.attr`) to the expression bound to it; None when unknown."""
        seen = 0
        while isinstance(expr, (ast.Name, ast.Attribute)) and seen < 8:
            key = dotted_name(expr)
            if key is None or (isinstance(expr, ast.Attribute) and not key.startswith("self.")):
                return expr
            b = self.binding(key, expr)
            if b is None or b.value is None or b.conditional or b.unpack is not None:
                return None
            expr = b.value
            seen += 1
        return expr

    def is_param(self, expr: ast.AST) -> bool:
        if not isinstance(expr, ast.Name):
            return False
        scope = self.scope_of(expr)
        return scope is not None and expr.id in self.params.get(id(scope), ())

    def number(self, expr: Optional[ast.AST], depth: int = 0) -> Optional[float]:
        """A numeric literal, simple arithmetic on literals, or a module constant bound once to one."""
        if expr is None or depth > 6:
            return None
        if isinstance(expr, ast.Constant):
            value = expr.value
            if type(value) not in (int, float) or not _finite(value):  # type: ignore[arg-type]
                return None
            return float(value)  # type: ignore[arg-type]
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
            v = self.number(expr.operand, depth + 1)
            return -v if v is not None else None
        if isinstance(expr, ast.BinOp):
            a, b = self.number(expr.left, depth + 1), self.number(expr.right, depth + 1)
            if a is None or b is None:
                return None
            v = arithmetic(expr.op, a, b)
            return float(v) if v is not None else None
        if isinstance(expr, ast.Name):
            binds = self.binds.get(expr.id, [])
            # a constant: bound exactly once in the whole file, at module level, unconditionally
            if len(binds) == 1 and binds[0].scope is None and binds[0].unconditional and binds[0].unpack is None:
                return self.number(binds[0].value, depth + 1)
        return None

    def integer(self, expr: Optional[ast.AST]) -> Optional[int]:
        v = self.number(expr)
        return int(v) if v is not None and float(v).is_integer() else None

    def mentions(self, name: str) -> List[Mention]:
        """Where `name` is written other than as a Name expression (see Mention), with its scope."""
        if self._mentions is None:
            self._mentions = self._find_mentions()
        return self._mentions.get(name, [])

    def _find_mentions(self) -> Dict[str, List[Mention]]:
        found: Dict[str, List[Mention]] = {}
        scope_of = self.scope_of

        def add(name: Optional[str], scope: Scope, role: str = "other") -> None:
            if name:
                found.setdefault(name, []).append(Mention(scope, role))

        for node in ast.walk(self.syntax.tree):
            if isinstance(node, ast.Attribute):
                add(node.attr, scope_of(node))
            elif isinstance(node, ast.keyword):
                add(node.arg, scope_of(node))
            elif isinstance(node, FUNCTIONS):
                add(node.name, node)
            elif isinstance(node, ast.ClassDef):
                add(node.name, scope_of(node))
            elif isinstance(node, ast.arg):
                add(node.arg, scope_of(node))
            elif isinstance(node, ast.alias):
                for part in node.name.split("."):
                    add(part, scope_of(node))
                add(node.asname, scope_of(node), "as")
            elif isinstance(node, ast.ImportFrom):
                for part in (node.module or "").split("."):
                    add(part, scope_of(node))
            elif isinstance(node, ast.ExceptHandler):
                add(node.name, scope_of(node), "as")
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                for name in node.names:
                    add(name, scope_of(node))
        return found


# a scope's bindings of one name in walk order, with their orders when those rise along the list
_Group = Tuple[List[Binding], Optional[List[int]]]


def _group(binds: List[Binding]) -> _Group:
    return binds, rising_orders(binds)


def _last_before(group: _Group, pos: int) -> Optional[Binding]:
    """The last binding in the list whose order is before `pos` (a bisection when the orders rise
    along the list, as they do but for a walrus inside an assignment's value)."""
    binds, orders = group
    if orders is not None:
        i = bisect.bisect_left(orders, pos)
        return binds[i - 1] if i else None
    before = [b for b in binds if b.order < pos]
    return before[-1] if before else None


def _finite(value: float) -> bool:
    try:
        float(value)
    except OverflowError:
        return False
    return True


def _flatten_target(target: Union[ast.Tuple, ast.List]) -> List[Optional[ast.AST]]:
    out: List[Optional[ast.AST]] = []
    for el in target.elts:
        if isinstance(el, (ast.Tuple, ast.List)):
            out.extend(_flatten_target(el))
        elif isinstance(el, ast.Starred):
            out.append(None)
        else:
            out.append(el)
    return out


def arithmetic(op: ast.operator, a: float, b: float) -> Optional[float]:
    """`a op b` for + - * / // ** on known numbers; None for other operators or on overflow."""
    try:
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return a * b
        if isinstance(op, ast.Div):
            return a / b
        if isinstance(op, ast.FloorDiv):
            return a // b
        if isinstance(op, ast.Pow):
            return float(a) ** float(b)  # floats: `10 ** 10 ** 10` overflows instead of running for ever
    except (ZeroDivisionError, OverflowError):
        return None
    return None


def nth_positional(call: ast.Call, index: int) -> Optional[ast.expr]:
    """The index-th positional argument, counting only the plain ones (`*args` skipped)."""
    plain = [a for a in call.args if not isinstance(a, ast.Starred)]
    return plain[index] if index < len(plain) else None


def argument(call: ast.Call, name: str, index: Optional[int] = None) -> Optional[ast.AST]:
    """The value of keyword `name`, else of the index-th plain positional argument."""
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return nth_positional(call, index) if index is not None else None
