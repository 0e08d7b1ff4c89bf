"""What the executed cells do with the kernel's objects: which names reach `fit`, where each name is
(re)bound, and which array conversions a cell is about to make. The code side of the live checks
(cnnlint.crosscheck.live). Each cell is read on its own (and cached by its text); `CodeUses.add`
joins them in execution order: facts in cells and lines within them, `order` and bindings in lines
of the joined cells.
"""

from __future__ import annotations

import ast
import functools
import warnings
from dataclasses import dataclass, field, replace
from typing import Dict, List, Optional, Tuple

from cnnlint.crosscheck.facts import Fact
from cnnlint.lint.index.source_text import shortened

_FITS = ("fit", "fit_generator", "train_on_batch")
_ITEMSIZE = {"float16": 2, "half": 2, "float32": 4, "single": 4, "float64": 8, "float": 8, "double": 8,
             "uint8": 1, "int8": 1, "uint16": 2, "int16": 2, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "int": 8}


@dataclass
class FitCall:
    model: str  # the receiver's name: `model` in `model.fit(x_train, ...)`
    x: Optional[str]  # the name given as the training input, when it is a plain name
    order: int  # line in the joined cells: the order of execution
    fact: Fact  # where: the `x` argument (or the call)
    tail: str = "fit"


@dataclass
class Conversion:
    """An expression that copies an array: `x / 255.`, `x.astype("float32")`, chained."""

    name: str  # the array it starts from
    steps: List[Tuple[str, str]]  # (operation, dtype: given to astype, or "" where NumPy promotes)
    fact: Fact


@dataclass
class CodeUses:
    fits: List[FitCall] = field(default_factory=list)
    bindings: Dict[str, List[int]] = field(default_factory=dict)  # name -> joined lines that bind or modify it
    places: Dict[str, Fact] = field(default_factory=dict)  # name -> its last binding, as a place to report at
    conversions: List[Conversion] = field(default_factory=list)  # in the cell about to run only

    def add(self, cell: "CodeUses", number: int, offset: int) -> None:
        """Take one cell's uses (its lines are the cell's own) as cell `number`, whose first line is
        joined line `offset + 1`; a later cell's binding is the name's place."""
        def at(fact: Fact) -> Fact:
            return replace(fact, cell=number)

        self.fits += [replace(f, order=f.order + offset, fact=at(f.fact)) for f in cell.fits]
        for name, lines in cell.bindings.items():
            self.bindings.setdefault(name, []).extend(line + offset for line in lines)
        self.places.update({name: at(fact) for name, fact in cell.places.items()})
        self.conversions += [replace(c, fact=at(c.fact)) for c in cell.conversions]

    def changed(self, name: str, after: int, before: Optional[int] = None) -> bool:
        """Whether `name` is bound or modified on a joined line in (after, before)."""
        return any(after < line and (before is None or line < before) for line in self.bindings.get(name, ()))


def _fact(text: str, node: ast.AST, lines: List[str], code: Optional[str] = None) -> Fact:
    """A fact at a node of one cell (`line`: in the cell; the cell is set when the cells are joined)."""
    line = getattr(node, "lineno", 1)
    if code is None:
        written = ast.get_source_segment(text, node) or ast.unparse(node)
        code = shortened(" ".join(written.split()), node, 60)
    raw = lines[line - 1][:400] if 0 < line <= len(lines) else ""
    return Fact(None, code, line, getattr(node, "col_offset", 0) + 1, None, raw)


def _stored_name(target: ast.AST) -> Optional[str]:
    """The name a store changes: `x = ...`, `x[i] = ...`, `x.attr = ...`, `x += ...`."""
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


@functools.lru_cache(maxsize=2048)
def cell_uses(text: str, conversions: bool = False) -> Optional[CodeUses]:
    """The fits, bindings and (with `conversions`) the array conversions of one cell's Python text
    (magics already replaced); lines are the cell's own. None when it does not parse. Cached by the
    text: treat the result as read-only (`CodeUses.add` copies what it takes)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    lines = text.split("\n")
    uses = CodeUses()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            name = _stored_name(node)
            if name is not None:
                uses.bindings.setdefault(name, []).append(node.lineno)
                old = uses.places.get(name)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and (old is None or old.line <= node.lineno):
                    uses.places[name] = _fact(text, node, lines, name)
        elif isinstance(node, ast.Call):
            _fit(text, node, lines, uses)
    if conversions:
        _conversions(text, tree, lines, uses)
    uses.fits.sort(key=lambda f: f.order)
    return uses


def _fit(text: str, call: ast.Call, lines: List[str], uses: CodeUses) -> None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in _FITS and isinstance(func.value, ast.Name)):
        return
    x = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "x"), None)
    name = x.id if isinstance(x, ast.Name) else None
    uses.fits.append(FitCall(func.value.id, name, call.lineno, _fact(text, x if x is not None else call, lines), func.attr))


def _dtype_name(node: ast.AST) -> Optional[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Attribute):  # np.float32, tf.float32
        return node.attr
    if isinstance(node, ast.Name) and node.id in ("float", "int"):
        return node.id
    return None


def conversion_steps(node: ast.AST) -> Optional[Tuple[str, List[Tuple[str, Optional[str]]]]]:
    """(array name, [(operation, dtype or None: as NumPy promotes it)]) of a conversion chain."""
    if isinstance(node, ast.Name):
        return node.id, []
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "astype" and node.args:
        inner = conversion_steps(node.func.value)
        dtype = _dtype_name(node.args[0])
        if inner is None or dtype not in _ITEMSIZE:
            return None
        return inner[0], inner[1] + [("astype", dtype)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Mult, ast.Sub, ast.Add)):
        const = node.right if isinstance(node.right, ast.Constant) else node.left
        other = node.left if const is node.right else node.right
        if not (isinstance(const, ast.Constant) and isinstance(const.value, (int, float))) or isinstance(const.value, bool):
            return None
        inner = conversion_steps(other)
        if inner is None:
            return None
        op = "div" if isinstance(node.op, ast.Div) else ("float" if isinstance(const.value, float) else "int")
        return inner[0], inner[1] + [(op, None)]
    return None


def _conversions(text: str, tree: ast.AST, lines: List[str], uses: CodeUses) -> None:
    stack = [tree]
    while stack:
        node = stack.pop()
        chain = conversion_steps(node) if isinstance(node, (ast.BinOp, ast.Call)) else None
        if chain is not None and chain[1]:
            steps = [(op, dtype or "") for op, dtype in chain[1]]
            uses.conversions.append(Conversion(chain[0], steps, _fact(text, node, lines)))
            continue
        stack.extend(ast.iter_child_nodes(node))


def itemsize(dtype: str) -> Optional[int]:
    return _ITEMSIZE.get(dtype)
