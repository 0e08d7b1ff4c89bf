"""Image data flow (taint) over the bindings of cnnlint.lint.index.scopes.

A loader call (`cv2.imread`, `Image.open`, `load_img`, ...) is one image; accumulating one image
per loop iteration (append in a loop, comprehension, `map(loader, paths)`) makes an image *set*;
numpy/torch/tf conversions, slicing, arithmetic, `train_test_split` and functions defined in the
file carry the taint along; any call we do not know drops it (precision first). The taint also
records whether the pixels were scaled on the way (a division, `preprocess_input`, centring, ...).

`ImageFlow` is an analysis: `ctx.get(ImageFlow)`; `taint(expr, scope, pos, blocks)` answers.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Optional, Set, Tuple

from cnnlint.lint.index import image_apis as apis
from cnnlint.lint.index.arguments import arguments, nth_positional, plain_positional
from cnnlint.lint.index.image_scaling import is_int_literal, is_scale_op, names_in, source_walk
from cnnlint.lint.index.names import call_tail, dotted_name, keyword
from cnnlint.lint.index.scopes import (
    COMPREHENSIONS,
    INF,
    PLAIN,
    Binding,
    Blocks,
    Scope,
    Scopes,
)

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

MAX_DEPTH = 40
# what a call to a name imported from the project returns (cnnlint.lint.project_index registers
# itself here): (ctx, callee, call, tuple element or -1) -> taint, None when it does not know
IMPORTED_TAINT: List[Callable[["FileContext", ast.AST, ast.Call, int], Optional["Taint"]]] = []


@dataclass(frozen=True, eq=False)
class Origin:
    """Where image data came from: the loader call and the loop that accumulated it."""

    kind: str  # "loader" (read from files) | "dataset" (keras.datasets)
    call: ast.AST
    name: str
    acc: Optional[ast.AST]
    imported: bool = False  # returned by a loading function of the project (its loop is in that module)


Taint = Tuple[int, bool, Optional[Origin]]  # (0 none | 1 one image | 2 image set, scaled, origin)
NONE: Taint = (0, False, None)
# where a function's free names are read: (id(function scope), parameter taints, (id(caller scope), pos, blocks))
Env = tuple


def join(a: Taint, b: Taint) -> Taint:
    if not a[0]:
        return b
    if not b[0]:
        return a
    oa, ob = a[2], b[2]
    if oa is None:
        origin = ob
    elif ob is None:
        origin = oa
    elif (oa.kind == "loader") != (ob.kind == "loader"):
        origin = oa if oa.kind == "loader" else ob
    elif b[0] > a[0]:
        origin = ob
    else:
        origin = oa
    return (max(a[0], b[0]), a[1] or b[1], origin)


def scaled(t: Taint) -> Taint:
    return (t[0], True, t[2]) if t[0] else t


def element(t: Taint) -> Taint:
    """One element of a collection with taint t."""
    if t[0] == 2:
        return (1, t[1], t[2])
    return NONE


def promote(t: Taint, acc: ast.AST) -> Taint:
    """One image per iteration of `acc` (a loop, comprehension or map()): an image set."""
    if not t[0]:
        return t
    o = t[2]
    if o is not None and o.acc is None:
        o = Origin(o.kind, o.call, o.name, acc)
    return (2, t[1], o)


def is_true(expr: Optional[ast.AST]) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is True


def _element_index(expr: ast.Subscript, lines: List[str]) -> bool:
    """`x[0]`, `x[-1]`, `x[~i]`, `x[0,]`: a subscript that picks one element."""
    inner = expr.slice
    if isinstance(inner, ast.Tuple) and len(inner.elts) == 1 and 0 < inner.lineno <= len(lines):
        if lines[inner.lineno - 1].encode("utf-8")[inner.col_offset : inner.col_offset + 1] != b"(":
            inner = inner.elts[0]  # `x[0,]`: one index, a trailing comma
    return (isinstance(inner, ast.Constant) and type(inner.value) is int) or isinstance(inner, ast.UnaryOp)


class ImageFlow:
    """Image data taint on top of the file's `Scopes`."""

    def __init__(self, ctx: "FileContext") -> None:
        self.scopes: Scopes = ctx.get(Scopes)
        self.ctx = ctx
        self.lines = self.scopes.lines
        self._memo: Dict[tuple, Taint] = {}
        self._busy: Set[tuple] = set()

    def taint(self, expr: ast.AST, scope: Scope, pos: int, blocks: Blocks, env: Env = (), depth: int = 0) -> Taint:
        if depth > MAX_DEPTH:
            return NONE
        key = (id(expr), id(scope), pos, blocks, env)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        if key in self._busy:
            return NONE
        self._busy.add(key)
        try:
            result = self._taint(expr, scope, pos, blocks, env, depth + 1)
        finally:
            self._busy.discard(key)
        self._memo[key] = result
        return result

    def _taint(self, expr: ast.AST, scope: Scope, pos: int, blocks: Blocks, env: Env, depth: int) -> Taint:
        def T(e: ast.AST) -> Taint:
            return self.taint(e, scope, pos, blocks, env, depth)

        if isinstance(expr, ast.Name):
            return self.name_taint(expr.id, scope, pos, blocks, env, depth)
        if isinstance(expr, ast.Call):
            return self.call_taint(expr, scope, pos, blocks, env, depth)
        if isinstance(expr, ast.BinOp):
            return self._binop_taint(expr, T)
        if isinstance(expr, ast.Subscript):
            t = T(expr.value)
            return element(t) if t[0] == 2 and _element_index(expr, self.lines) else t
        if isinstance(expr, ast.Attribute):
            return T(expr.value) if expr.attr == "T" else NONE
        if isinstance(expr, (ast.Tuple, ast.List, ast.Set)):
            out = NONE
            for el in expr.elts:
                out = join(out, T(el))
            return out
        if isinstance(expr, ast.Dict):
            out = NONE
            for k, v in zip(expr.keys, expr.values):
                if k is not None:
                    out = join(out, T(v))
            return out
        if isinstance(expr, COMPREHENSIONS):
            inner = self.scopes.comp_scope.get(id(expr))
            if inner is None:
                return NONE
            elt = expr.value if isinstance(expr, ast.DictComp) else expr.elt
            t = self.taint(elt, inner, max(pos, self.scopes.comp_end.get(id(expr), pos)), blocks, env, depth)
            return promote(t, expr) if t[0] else NONE
        if isinstance(expr, ast.IfExp):
            return join(T(expr.body), T(expr.orelse))
        if isinstance(expr, ast.UnaryOp):
            return T(expr.operand)
        if isinstance(expr, (ast.NamedExpr, ast.Await, ast.Starred)):
            return T(expr.value)
        return NONE

    def _binop_taint(self, expr: ast.BinOp, T: Callable[[ast.AST], Taint]) -> Taint:
        left = T(expr.left)
        right = T(expr.right)
        if not left[0] and not right[0]:
            return NONE
        if isinstance(expr.op, ast.MatMult):
            return NONE
        t = join(left, right)
        if left[0] and (is_scale_op(expr, self.lines) or isinstance(expr.op, ast.Sub)):
            t = scaled(t)
        if isinstance(expr.op, ast.Mult) and left[0] and not right[0] and not is_int_literal(expr.right):
            t = scaled(t)
        return t

    def name_taint(self, name: str, scope: Scope, pos: int, blocks: Blocks, env: Env, depth: int) -> Taint:
        outer = env[2] if len(env) > 2 and env[0] == id(scope) else None
        r = self.scopes.reaching(name, scope, pos, blocks, mutcalls=True, outer=outer)
        if r is None:
            return NONE
        binding_scope, defs = r
        out = NONE
        scale_after = False
        for d in defs:
            if d.kind == "aug" and isinstance(d.op, (ast.Div, ast.Sub, ast.Mult)):
                if not (isinstance(d.op, ast.Mult) and is_int_literal(d.value)):
                    scale_after = True
                continue
            if d.kind == "mutcall":
                scale_after = scale_after or self.may_scale_in_place(d.value, d.scope)  # type: ignore[arg-type]
                continue
            out = join(out, self.def_taint(d, binding_scope, env, depth))
        return scaled(out) if scale_after else out

    def may_scale_in_place(self, call: ast.Call, scope: Scope) -> bool:
        """`f(X)` as a statement: could f scale X in place? Library calls and builtins: no."""
        func = call.func
        if not isinstance(func, ast.Name):
            return False
        fn = self.scopes.local_function(func.id, scope, INF, ())
        if fn is not None:
            for n in source_walk(fn.body):  # type: ignore[attr-defined]
                if isinstance(n, ast.AugAssign) and isinstance(n.op, (ast.Div, ast.Sub, ast.Mult)):
                    return True
                if isinstance(n, ast.BinOp) and is_scale_op(n, self.lines):
                    return True
                if isinstance(n, ast.Call) and (call_tail(n) or "") in apis.SCALING_CALLS:
                    return True
            return False
        if self.scopes.reaching(func.id, scope, INF, ()) is not None:
            return False  # imported from a library, or a local value
        return func.id not in apis.BUILTIN_NAMES and func.id not in ("display", "exec")

    @staticmethod
    def _env_for(scope: Scope, env: Env) -> dict:
        if env and env[0] == id(scope):
            return dict(env[1])
        return {}

    def def_taint(self, d: Binding, binding_scope: Scope, env: Env, depth: int) -> Taint:
        kind = d.kind
        if kind in ("assign", "walrus", "with"):
            t = self.taint(d.value, d.scope, d.order, d.blocks, env, depth)  # type: ignore[arg-type]
            if t[0] and d.loops and d.name in names_in(d.value):  # type: ignore[arg-type]
                acc = self._acc_loop(d, binding_scope)
                if acc is not None:
                    t = promote(t, acc)
            return t
        if kind == "unpack":
            return self.elem_taint(d.value, d.path, d.scope, d.order, d.blocks, env, depth)  # type: ignore[arg-type]
        if kind == "for":
            return self._for_taint(d.value, d.path, d.scope, d.order, d.blocks, env, depth)  # type: ignore[arg-type]
        if kind in ("append", "subassign") or (kind == "aug" and isinstance(d.op, ast.Add)):
            value = d.value
            t = self.taint(value, d.scope, d.order, d.blocks, env, depth)  # type: ignore[arg-type]
            if kind == "aug" and not isinstance(value, (ast.List, ast.Tuple)):
                return t  # `total += img` is arithmetic, not accumulation into a container
            if t[0]:
                acc = self._acc_loop(d, binding_scope)
                if acc is not None:
                    return promote(t, acc)
            return t
        if kind == "param":
            return self._env_for(d.scope, env).get(d.name, NONE)  # type: ignore[no-any-return]
        return NONE

    def _acc_loop(self, d: Binding, binding_scope: Scope) -> Optional[ast.AST]:
        """The innermost loop around `d` that does not also enclose the container's creation."""
        if not d.loops:
            return None
        init = None
        same = binding_scope is d.scope or (d.scope.kind == "comp")
        for other in reversed(binding_scope.defs.get(d.name, [])):
            if other.order < d.order and other.kind in PLAIN and other is not d:
                if not same or other.blocks == d.blocks[: len(other.blocks)]:
                    init = other
                    break
        if init is None or init.scope is not d.scope:
            return d.loops[-1]
        candidates = [lp for lp in d.loops if all(lp is not il for il in init.loops)]
        return candidates[-1] if candidates else None

    def _for_taint(self, it: ast.AST, path: Tuple[int, ...], scope: Scope, pos: int, blocks: Blocks,
                   env: Env, depth: int) -> Taint:
        if path and isinstance(it, ast.Call) and isinstance(it.func, ast.Name):
            fname = it.func.id
            if fname == "zip" and not self.scopes.is_local(fname, scope):
                arg = nth_positional(it, path[0])
                if arg is None:
                    return NONE
                return self._for_taint(arg, path[1:], scope, pos, blocks, env, depth)
            if fname == "enumerate" and not self.scopes.is_local(fname, scope):
                arg = nth_positional(it, 0)
                if path[0] != 1 or arg is None:
                    return NONE
                return self._for_taint(arg, path[1:], scope, pos, blocks, env, depth)
        return element(self.taint(it, scope, pos, blocks, env, depth))

    def _function_alias(self, name: str, scope: Scope, pos: int, blocks: Blocks) -> Optional[str]:
        """`prep = tf.keras.applications.vgg16.preprocess_input`: the qualified name `prep` stands for."""
        r = self.scopes.reaching(name, scope, pos, blocks)
        if r is None or len(r[1]) != 1:
            return None
        d = r[1][0]
        if d.kind != "assign" or not isinstance(d.value, (ast.Name, ast.Attribute)):
            return None
        if isinstance(d.value, ast.Name) and self.scopes.is_local(d.value.id, d.scope):
            return None
        return self.scopes.qualify(d.value)

    def _is_transform_object(self, name: str, scope: Scope, pos: int, blocks: Blocks) -> bool:
        """`tf = transforms.Compose([...])`: calling `tf(img)` gives the image back as a tensor."""
        r = self.scopes.reaching(name, scope, pos, blocks)
        if r is None or not r[1]:
            return False
        for d in r[1]:
            if d.kind != "assign" or not isinstance(d.value, ast.Call):
                return False
            func = d.value.func
            q = self.scopes.qualify(func) if isinstance(func, (ast.Name, ast.Attribute)) else None
            if not q or not q.startswith("torchvision.transforms."):
                return False
        return True

    def elem_taint(self, expr: ast.AST, path: Tuple[int, ...], scope: Scope, pos: int, blocks: Blocks,
                   env: Env, depth: int) -> Taint:
        """The taint of element `path` of `expr` (`a, b = expr`)."""
        if not path:
            return self.taint(expr, scope, pos, blocks, env, depth)
        if depth > MAX_DEPTH:
            return NONE
        if isinstance(expr, (ast.Tuple, ast.List)):
            els = expr.elts
            if any(isinstance(e, ast.Starred) for e in els):
                return self.taint(expr, scope, pos, blocks, env, depth)
            if path[0] < len(els):
                return self.elem_taint(els[path[0]], path[1:], scope, pos, blocks, env, depth + 1)
            return NONE
        if isinstance(expr, ast.Call):
            return self._call_elem_taint(expr, path, scope, pos, blocks, env, depth)
        if isinstance(expr, ast.Name):
            r = self.scopes.reaching(expr.id, scope, pos, blocks)
            if r is None:
                return NONE
            out = NONE
            for d in r[1]:
                if d.kind == "unpack":
                    out = join(out, self.elem_taint(d.value, d.path + tuple(path), d.scope, d.order, d.blocks, env, depth + 1))  # type: ignore[arg-type]
                elif d.kind in ("assign", "walrus"):
                    out = join(out, self.elem_taint(d.value, path, d.scope, d.order, d.blocks, env, depth + 1))  # type: ignore[arg-type]
                else:
                    out = join(out, self.def_taint(d, r[0], env, depth + 1))
            return out
        return self.taint(expr, scope, pos, blocks, env, depth)

    def _call_elem_taint(self, expr: ast.Call, path: Tuple[int, ...], scope: Scope, pos: int, blocks: Blocks,
                         env: Env, depth: int) -> Taint:
        q = self.scopes.qualify(expr.func) or ""
        tail = q.rsplit(".", 1)[-1]
        if isinstance(expr.func, ast.Name) and self.scopes.is_local(expr.func.id, scope):
            fn = self.scopes.local_function(expr.func.id, scope, pos, blocks)
            if fn is None:
                return NONE
            return self.fn_return(fn, expr, scope, pos, blocks, env, depth, path)
        if tail == "train_test_split":
            arg = nth_positional(expr, path[0] // 2)
            return self.elem_taint(arg, path[1:], scope, pos, blocks, env, depth + 1) if arg else NONE
        if tail == "shuffle" and (q.startswith("sklearn") or q == "shuffle"):
            arg = nth_positional(expr, path[0])
            return self.elem_taint(arg, path[1:], scope, pos, blocks, env, depth + 1) if arg else NONE
        imported = self._imported(expr, path[0]) if len(path) == 1 else None
        if imported is not None:
            return imported
        if apis.is_keras_image_dataset(q):
            if len(path) == 2 and path[1] == 0:
                return (2, False, Origin("dataset", expr, dotted_name(expr.func) or "load_data", None))
            return NONE
        return self.taint(expr, scope, pos, blocks, env, depth)

    def fn_return(self, fn: ast.AST, call: ast.Call, scope: Scope, pos: int, blocks: Blocks, env: Env,
                  depth: int, path: Tuple[int, ...] = ()) -> Taint:
        """What calling the file's own function `fn` with these arguments returns."""
        inner = self.scopes.fn_scope.get(id(fn))
        if inner is None or inner.has_yield:
            return NONE
        bindings: Dict[str, Taint] = {}
        params = list(fn.args.posonlyargs) + list(fn.args.args)  # type: ignore[attr-defined]
        for p, a in zip(params, plain_positional(call)):
            t = self.taint(a, scope, pos, blocks, env, depth + 1)
            if t[0]:
                bindings[p.arg] = t
        for kw in call.keywords:
            if kw.arg is not None:
                t = self.taint(kw.value, scope, pos, blocks, env, depth + 1)
                if t[0]:
                    bindings[kw.arg] = t
        # free names of the function are read as they are where it is called
        new_env = (id(inner), tuple(sorted(bindings.items(), key=lambda kv: kv[0])), (id(scope), pos, blocks))
        out = NONE
        for value, order, ret_blocks in inner.returns:
            if path:
                out = join(out, self.elem_taint(value, path, inner, order, ret_blocks, new_env, depth + 1))
            else:
                out = join(out, self.taint(value, inner, order, ret_blocks, new_env, depth + 1))
        return out

    def call_taint(self, node: ast.Call, scope: Scope, pos: int, blocks: Blocks, env: Env, depth: int) -> Taint:
        func = node.func
        q: Optional[str] = None
        if isinstance(func, ast.Name) and self.scopes.is_local(func.id, scope):
            fn = self.scopes.local_function(func.id, scope, pos, blocks)
            if fn is not None:
                return self.fn_return(fn, node, scope, pos, blocks, env, depth)
            if self._is_transform_object(func.id, scope, pos, blocks):
                arg = nth_positional(node, 0)
                return self.taint(arg, scope, pos, blocks, env, depth) if arg is not None else NONE
            q = self._function_alias(func.id, scope, pos, blocks)
            if q is None:
                return NONE
        elif isinstance(func, (ast.Name, ast.Attribute)):
            q = self.scopes.qualify(func)
            imported = self._imported(node, -1)
            if imported is not None:
                return imported
        if apis.is_loader(q):
            return (1, q in apis.FLOAT_LOADERS, Origin("loader", node, dotted_name(func) or (q or "imread"), None))
        args = [a for a in arguments(node) if a.star != "**"]

        def join_args(first_only: bool = False) -> Taint:
            out = NONE
            for a in args:
                if a.keyword is not None:
                    continue
                out = join(out, self.taint(a.value, scope, pos, blocks, env, depth))
                if first_only:
                    break
            return out

        if isinstance(func, ast.Attribute) and not self.scopes.is_imported_head(func, scope):
            return self._method_taint(func, call_tail(node) or "", join_args, scope, pos, blocks, env, depth)
        if q is None:
            return NONE
        if q == "map" and len(args) >= 2 and args[0].keyword is None:
            return self._map_taint(node, args[0].value, scope, pos, blocks, env, depth)
        return self._library_taint(node, q, join_args)

    def _imported(self, call: ast.Call, element: int) -> Optional[Taint]:
        for hook in IMPORTED_TAINT:
            found = hook(self.ctx, call.func, call, element)
            if found is not None:
                return found
        return None

    def _method_taint(self, func: ast.Attribute, tail: str, join_args: Callable[..., Taint], scope: Scope,
                      pos: int, blocks: Blocks, env: Env, depth: int) -> Taint:
        """A method on a value: carry the receiver's image data along."""
        recv = self.taint(func.value, scope, pos, blocks, env, depth)
        if recv[0]:
            if tail in apis.METHOD_CARRY:
                return recv
            if tail in apis.METHOD_SCALE or tail in ("mul", "mul_"):
                return scaled(recv)
            return NONE
        if tail in ("fit_transform", "transform", "preprocess_input"):
            return scaled(join_args(True))
        return NONE

    def _library_taint(self, node: ast.Call, q: str, join_args: Callable[..., Taint]) -> Taint:
        head = q.split(".")[0]
        tail = q.rsplit(".", 1)[-1]  # the real name behind `import ... as alias`
        if tail in apis.SCALING_CALLS and tail not in ("scale", "standardize") or (
            tail in ("scale", "standardize") and head == "sklearn"
        ):
            return scaled(join_args(True))
        if head == "numpy":
            return join_args() if tail in apis.NP_CARRY else NONE
        if head == "cv2":
            return join_args(True) if tail not in apis.CV2_NOT_IMAGE else NONE
        if head == "torch":
            return join_args() if tail in apis.TORCH_CARRY else NONE
        if head in ("tensorflow", "keras", "tf_keras"):
            if tail in apis.TF_CARRY or tail == "img_to_array":
                return join_args(True) if tail != "stack" and tail != "concat" else join_args()
            return NONE
        if head == "skimage":
            if tail not in apis.SKIMAGE_CARRY:
                return NONE
            t = join_args(True)
            if tail in ("resize", "rescale", "rotate", "resize_local_mean", "warp"):
                pr = keyword(node, "preserve_range")
                return t if pr is not None and is_true(pr.value) else scaled(t)
            return t
        if head == "PIL":
            return join_args(True)
        if head == "sklearn" or q in ("train_test_split", "shuffle"):
            if tail in ("train_test_split", "shuffle"):
                return join_args(True)
            return NONE
        if q in apis.BUILTIN_CARRY:
            return join_args()
        if q == "img_to_array":
            return join_args(True)
        return NONE

    def _map_taint(self, node: ast.Call, fn_ref: ast.expr, scope: Scope, pos: int, blocks: Blocks, env: Env,
                   depth: int) -> Taint:
        """`map(loader, paths)`: one image per path, an image set."""
        one = NONE
        fq = self.scopes.qualify(fn_ref) if isinstance(fn_ref, (ast.Name, ast.Attribute)) else None
        if apis.is_loader(fq) and not (isinstance(fn_ref, ast.Name) and self.scopes.is_local(fn_ref.id, scope)):
            one = (1, fq in apis.FLOAT_LOADERS, Origin("loader", fn_ref, dotted_name(fn_ref) or "imread", None))
        elif isinstance(fn_ref, ast.Name):
            fn = self.scopes.local_function(fn_ref.id, scope, pos, blocks)
            if fn is not None:
                one = self.fn_return(fn, ast.Call(func=fn_ref, args=[], keywords=[]), scope, pos, blocks, env, depth)
        elif isinstance(fn_ref, ast.Lambda):
            inner = self.scopes.fn_scope.get(id(fn_ref))
            if inner is not None:
                one = self.taint(fn_ref.body, inner, pos, blocks, env, depth)
        return promote(one, node) if one[0] == 1 else NONE
