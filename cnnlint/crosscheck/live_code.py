"""What the executed cells do with the kernel's objects: which names reach `fit`, where each name is
(re)bound, and which array conversions a cell is about to make. The code side of the live checks
(cnnlint.crosscheck.live); positions are in cells (execution counts) and lines within them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from cnnlint.crosscheck.facts import Fact
from cnnlint.lint.index.source_text import shortened
from cnnlint.sources.model import SourceFile

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

    def changed(self, name: str, after: int, before: Optional[int] = None) -> bool:
        """Whether `name` is bound or modified on a joined line in (after, before)."""
        return any(after < line and (before is None or line < before) for line in self.bindings.get(name, ()))


def _fact(source: SourceFile, node: ast.AST, text: Optional[str] = None) -> Fact:
    line = getattr(node, "lineno", 1)
    cell, cell_line = source.locate(line)
    if text is None:
        written = ast.get_source_segment(source.text, node) or ast.unparse(node)
        text = shortened(" ".join(written.split()), node, 60)
    code = text
    return Fact(None, code, cell_line, getattr(node, "col_offset", 0) + 1, cell, source.raw_line(line)[:400])


def _stored_name(target: ast.AST) -> Optional[str]:
    """The name a store changes: `x = ...`, `x[i] = ...`, `x.attr = ...`, `x += ...`."""
    while isinstance(target, (ast.Subscript, ast.Attribute, ast.Starred)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None


def code_uses(source: SourceFile, tree: ast.AST, pending_cell: Optional[int] = None) -> CodeUses:
    """The fits, bindings and (in `pending_cell`) conversions of the joined cells' tree."""
    uses = CodeUses()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            name = _stored_name(node)
            if name is not None:
                uses.bindings.setdefault(name, []).append(node.lineno)
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    old = uses.places.get(name)
                    if old is None or (old.cell or 0, old.line) <= source.locate(node.lineno):
                        uses.places[name] = _fact(source, node, name)
        elif isinstance(node, ast.Call):
            _fit(source, node, uses)
    if pending_cell is not None:
        _conversions(source, tree, pending_cell, uses)
    uses.fits.sort(key=lambda f: f.order)
    return uses


def _fit(source: SourceFile, call: ast.Call, uses: CodeUses) -> None:
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in _FITS and isinstance(func.value, ast.Name)):
        return
    x = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "x"), None)
    name = x.id if isinstance(x, ast.Name) else None
    uses.fits.append(FitCall(func.value.id, name, call.lineno, _fact(source, x if x is not None else call), func.attr))


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


def _conversions(source: SourceFile, tree: ast.AST, cell: int, uses: CodeUses) -> None:
    stack = [tree]
    while stack:
        node = stack.pop()
        line = getattr(node, "lineno", None)
        if line is not None and not isinstance(node, ast.stmt) and source.locate(line)[0] != cell:
            continue
        chain = conversion_steps(node) if isinstance(node, (ast.BinOp, ast.Call)) else None
        if chain is not None and chain[1] and line is not None and source.locate(line)[0] == cell:
            uses.conversions.append(Conversion(chain[0], [(op, dtype or "") for op, dtype in chain[1]], _fact(source, node)))
            continue
        stack.extend(ast.iter_child_nodes(node))


def itemsize(dtype: str) -> Optional[int]:
    return _ITEMSIZE.get(dtype)
