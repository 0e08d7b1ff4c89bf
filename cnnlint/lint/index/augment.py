"""What the augmentation rule reads: words that say train or validation/test in names and paths
(CNL103, CNL203), and the file's bindings and calls (`AugmentBindings`, CNL103)."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Set, Tuple

from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.names import all_args, dotted_name

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_VAL_TOKEN = re.compile(
    r"^(val|valid|validation|validate|test|testing|eval|evaluation)"
    r"(dir|path|data|set|ds|loader|dl|gen|generator|dataset|images|imgs|folder|root|x|y|df)?$"
)
_TRAIN_TOKEN = re.compile(r"^train(ing)?")


def tokens(text: str) -> List[str]:
    """The lower-cased words of a name or path (`valDir` -> `val`, `dir`)."""
    return [t.lower() for t in _SPLIT.findall(text)]


def word_kind(text: str) -> Optional[str]:
    """"val" when a name or path says validation/test (and not train), "train" when it says train."""
    found = tokens(text)
    if any(_TRAIN_TOKEN.match(t) for t in found):
        return "train"
    if any(_VAL_TOKEN.match(t) for t in found):
        return "val"
    return None


def parameter_names(fn: ast.AST) -> Set[str]:
    """The parameters of a def or lambda (none for anything else)."""
    args = getattr(fn, "args", None)
    return {p.arg for p in all_args(args)} if isinstance(args, ast.arguments) else set()


def _unknown() -> ast.expr:
    """What a binding whose value is not known (`for x in ...`, an unpacked tuple) holds."""
    return ast.Name(id="None", ctx=ast.Load())


_NO_PARAMS: FrozenSet[str] = frozenset()


def _params_in(bindings: Bindings, scope: Optional[ast.AST], cache: Dict[int, FrozenSet[str]]) -> FrozenSet[str]:
    """The parameters of `scope` and of the functions around it (a module-level function, not a
    closure: a closure that calls itself is a reference cycle, which would keep the file's tree
    alive until the next garbage collection)."""
    if scope is None:
        return _NO_PARAMS
    found = cache.get(id(scope))
    if found is None:
        found = cache[id(scope)] = _params_in(bindings, bindings.scope_of(scope), cache) | parameter_names(scope)
    return found
_DEF, _CALL, _BINDS = "def", "call", "binds"
_RECORDED: Dict[type, str] = {
    ast.FunctionDef: _DEF, ast.AsyncFunctionDef: _DEF, ast.Call: _CALL,
    **{tp: _BINDS for tp in (ast.Assign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.AugAssign, ast.NamedExpr,
                             ast.withitem)},
}


class AugmentBindings:
    """An analysis: `ctx.get(AugmentBindings)`. Bindings (dotted target -> values), every call with
    the parameters in scope there, the functions by name, and the names each call is assigned to
    (`val_ds = ImageFolder(...)`), read off the shared walk (`Bindings`). Calls are listed last
    first (the order CNL103 reports in)."""

    def __init__(self, ctx: "FileContext") -> None:
        assert ctx.syntax is not None
        self.bound: Dict[str, List[ast.expr]] = {}
        self.calls: List[Tuple[ast.Call, FrozenSet[str]]] = []
        self.functions: Dict[str, List[ast.AST]] = {}
        self.targets: Dict[int, List[str]] = {}
        self.unpacked: Dict[int, List[str]] = {}  # call -> the names a tuple target unpacks it into
        self._unpacked_from: Dict[int, int] = {}  # id(unknown value) -> id(the call a tuple target unpacked)
        bindings = ctx.get(Bindings)
        scope_of = bindings.scope_of
        in_scope: Dict[int, FrozenSet[str]] = {}  # id(def or lambda) -> the parameters seen inside it
        # the shared walk's defs, calls and binders, last first: a node's own record comes after
        # those of the nodes written after it, and after those inside it (`f(g(x))`: g, then f)
        for node in reversed(bindings.defs_calls_binders):
            tp = type(node)
            kind = _RECORDED.get(tp)
            if kind is None:
                continue
            if kind is _DEF:
                self.functions.setdefault(node.name, []).append(node)  # type: ignore[attr-defined]
            elif kind is _CALL:
                self.calls.append((node, _params_in(bindings, scope_of(node), in_scope)))  # type: ignore[arg-type]
            elif tp is ast.Assign:
                for t in node.targets:  # type: ignore[attr-defined]
                    self._bind(t, node.value)  # type: ignore[attr-defined]
            elif tp is ast.AnnAssign:
                if node.value is not None:  # type: ignore[attr-defined]
                    self._bind(node.target, node.value)  # type: ignore[attr-defined]
            elif tp is ast.NamedExpr:
                self._bind(node.target, node.value)  # type: ignore[attr-defined]
            elif tp is ast.withitem:
                if node.optional_vars is not None:  # type: ignore[attr-defined]
                    self._bind(node.optional_vars, None)  # type: ignore[attr-defined]
            else:  # for loops, augmented assignments
                self._bind(node.target, None)  # type: ignore[attr-defined]

    def _bind(self, target: ast.AST, value: Optional[ast.expr]) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self._bind(el, None)  # unpacked: value unknown
            if isinstance(value, ast.Call):  # `train_ds, val_ds = random_split(...)`
                names = [dotted_name(el) for el in target.elts]
                self.unpacked.setdefault(id(value), []).extend(n for n in names if n is not None)
                for bound in names:
                    if bound is not None:  # the unknown value just bound to it
                        self._unpacked_from[id(self.bound[bound][-1])] = id(value)
            return
        if isinstance(target, ast.Starred):
            self._bind(target.value, None)
            return
        name = dotted_name(target)
        if name is None:
            return
        self.bound.setdefault(name, []).append(value if value is not None else _unknown())
        if isinstance(value, ast.Call):
            self.targets.setdefault(id(value), []).append(name)

    def values(self, expr: ast.AST, params: FrozenSet[str]) -> Optional[List[ast.expr]]:
        """Every value a name may hold; None when unknown (a parameter, never bound, not a name)."""
        name = dotted_name(expr)
        if name is None:
            return None
        if name.split(".")[0] in params:
            return None
        found = self.bound.get(name)
        return list(found) if found else None

    def values_before(self, expr: ast.AST, params: FrozenSet[str], call: ast.Call) -> Optional[List[ast.expr]]:
        """values() of an argument of `call`, without what unpacking `call` itself binds:
        `train_ds` in `train_ds, val_ds = random_split(train_ds, ...)` holds the earlier dataset."""
        found = self.values(expr, params)
        if found is None:
            return None
        kept = [v for v in found if self._unpacked_from.get(id(v)) != id(call)]
        return kept or None
