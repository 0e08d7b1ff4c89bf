"""Which names hold a torch model known to have dropout or batch norm: a torchvision/timm
architecture, an `nn.Module` class or `nn.Sequential` of this file, or a builder function of
this file returning one (CNL203)."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List

from cnnlint.lint.index.call_args import arguments
from cnnlint.lint.index.blocks import Blocks
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import call_tail, dotted_name, string_value
from cnnlint.lint.index.syntax import walk

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

_MODE_LAYER_WORDS = ("Dropout", "BatchNorm", "dropout", "DropPath", "StochasticDepth", "drop_path")
_WRAPPERS = ("DataParallel", "DistributedDataParallel", "compile", "convert_sync_batchnorm")
_MOVES = ("to", "cuda", "cpu", "half", "float", "double", "train")


def identifiers(node: ast.AST) -> Iterator[str]:
    """Every identifier written under `node`: names, attribute names, keyword and parameter
    names, the names a def, class, import, global or except clause binds."""
    for n in walk(node):
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, ast.Attribute):
            yield n.attr
        elif isinstance(n, ast.keyword) and n.arg is not None:
            yield n.arg
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield n.name
        elif isinstance(n, ast.arg):
            yield n.arg
        elif isinstance(n, ast.alias):
            yield n.name
            if n.asname:
                yield n.asname
        elif isinstance(n, ast.ImportFrom) and n.module:
            yield n.module
        elif isinstance(n, (ast.Global, ast.Nonlocal)):
            yield from n.names
        elif isinstance(n, ast.ExceptHandler) and n.name:
            yield n.name


# whether a call builds a model with dropout/batch norm, from the project's other modules
# (cnnlint.lint.project_index registers itself here): (ctx, call) -> where that class is, "" if not
IMPORTED_MODE_LAYERS: List[Callable[["FileContext", ast.Call], str]] = []


class TorchModes:
    """An analysis: `ctx.get(TorchModes)`; `.has_mode_layers(name)`."""

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx
        self.imports = ctx.get(ImportTable)
        self.index = ctx.get(Blocks)
        self.cache: Dict[str, bool] = {}
        self.imported: Dict[int, str] = {}  # id(call) -> where the project class it builds is

    def has_mode_layers(self, name: str) -> bool:
        if name not in self.cache:
            self.cache[name] = False  # cycles
            values = [v for v in self.index.assigned.get(name, []) if not self._moved_self(v, name)]
            self.cache[name] = bool(values) and all(self._value(v, 0) for v in values)
        return self.cache[name]

    @staticmethod
    def _moved_self(expr: ast.AST, name: str) -> bool:
        """`model = model.cuda()`: the name moved and bound again holds what it held."""
        while isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr in _MOVES:
            expr = expr.func.value
            if dotted_name(expr) == name:
                return True
        return False

    def _value(self, expr: ast.AST, depth: int) -> bool:
        if depth > 6 or not isinstance(expr, ast.Call):
            if isinstance(expr, (ast.Name, ast.Attribute)) and depth <= 6:
                return self.has_mode_layers(dotted_name(expr) or "")
            return False
        tail = call_tail(expr) or ""
        args = arguments(expr)
        if isinstance(expr.func, ast.Attribute) and tail in _MOVES:
            return self._value(expr.func.value, depth + 1)
        if tail in _WRAPPERS and args:
            return self._value(args[0], depth + 1)
        q = self.imports.qualify(expr.func) or ""
        written = dotted_name(expr.func) or ""
        if q.startswith("torchvision.models.") or written.startswith("models.") or q.startswith("timm.") or q == "torch.hub.load":
            hub = q.startswith("timm.") or q == "torch.hub.load"
            arch = string_value(args[0] if args else None) if hub else tail
            if q == "torch.hub.load" and len(args) > 1:
                arch = string_value(args[1])
            arch = (arch or "").lower()
            return bool(arch) and not arch[:1].isupper() and "vit" not in arch and "deit" not in arch and tail[:1].islower()
        if tail == "Sequential":
            return self._holds_mode_layers(expr, depth)
        cls = self.index.classes.get(tail) if isinstance(expr.func, ast.Name) else None
        if cls is not None and self._is_module(cls, 0):
            return self._holds_mode_layers(cls, depth)
        fns = self.index.functions.get(tail, []) if isinstance(expr.func, ast.Name) else []
        if len(fns) == 1:  # a builder of this file: judge what it returns
            returned = self._returned(fns[0])
            return bool(returned) and all(self._value(v, depth + 1) for v in returned)
        for hook in IMPORTED_MODE_LAYERS:  # a class of the project's modules
            where = hook(self.ctx, expr)
            if where:
                self.imported[id(expr)] = where
                return True
        return False

    def imported_from(self, name: str) -> str:
        """`model.py:4 Net`: the project module's class that gives `name` its dropout/batch norm, if any."""
        for value in self.index.assigned.get(name, []):
            for node in walk(value):
                if id(node) in self.imported:
                    return self.imported[id(node)]
        return ""

    def class_holds_mode_layers(self, cls: ast.ClassDef) -> bool:
        """A torch.nn.Module class of the file that uses dropout or batch norm (for project summaries)."""
        return self._is_module(cls, 0) and self._holds_mode_layers(cls, 0)

    def _returned(self, fn: ast.stmt) -> List[ast.expr]:
        """The values a builder returns, a returned local name replaced by its assignments."""
        local: Dict[str, List[ast.expr]] = {}
        returns: List[ast.expr] = []
        for node in self.index.flat(fn.body, enter_loops=True):  # type: ignore[attr-defined]
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        local.setdefault(t.id, []).append(node.value)
            elif isinstance(node, ast.Return) and node.value is not None:
                returns.append(node.value)
        out: List[ast.expr] = []
        for value in returns:
            if isinstance(value, ast.Name) and value.id in local:
                out.extend(local[value.id])
            else:
                out.append(value)
        return out

    def _is_module(self, cls: ast.ClassDef, depth: int) -> bool:
        for base in cls.bases:
            base = base.value if isinstance(base, ast.Starred) else base
            name = dotted_name(base) or ""
            if name.endswith("Module") and "keras" not in (self.imports.qualify(base) or ""):
                return True
            local = self.index.classes.get(name)
            if local is not None and depth < 4 and self._is_module(local, depth + 1):
                return True
        return False

    def _holds_mode_layers(self, node: ast.AST, depth: int) -> bool:
        if any(w in name for name in identifiers(node) for w in _MODE_LAYER_WORDS):
            return True
        for n in walk(node):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and depth < 4:
                cls = self.index.classes.get(n.func.id)
                if cls is not None and cls is not node and self._holds_mode_layers(cls, depth + 1):
                    return True
        return False
