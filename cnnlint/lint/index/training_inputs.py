"""What the input-pipeline rules (CNL101, CNL102) share: the training calls of a file, the
generators and datasets they are fed from, and how the findings name code."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, List, Optional, Sequence, Tuple

from cnnlint.lint.index.arguments import nth_positional
from cnnlint.lint.index.names import call_tail, dotted_name, keyword
from cnnlint.lint.index.scopes import LOOPS, CallSite, Scopes
from cnnlint.lint.index.syntax import Range

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.lint.index.syntax import Syntax
    from cnnlint.sources.model import SourceFile

# text pre-filters: a file that mentions none of these cannot trigger the rule
LOADER_KEYS = ("imread", "Image.open", "load_img", "read_image", "read_file", "imdecode")


def mentions(source: "SourceFile", keys: Sequence[str]) -> bool:
    text = source.text
    return any(k in text for k in keys)


def keras_file(scopes: Scopes) -> bool:
    return scopes.imports.imports_any("tensorflow", "keras", "tf_keras")


def is_idg(scopes: Scopes, call: Optional[ast.AST]) -> bool:
    """A Keras `ImageDataGenerator(...)` call (not a class of the file so named)."""
    if not isinstance(call, ast.Call):
        return False
    q = scopes.qualify(call.func) if isinstance(call.func, (ast.Name, ast.Attribute)) else None
    if not q or q.rsplit(".", 1)[-1] != "ImageDataGenerator":
        return False
    if q == "ImageDataGenerator":
        return scopes.local_class("ImageDataGenerator", scopes.module_scope) is None
    return q.startswith(("keras", "tensorflow.", "tf_keras.")) or ".keras." in q


def is_model_receiver(scopes: Scopes, recv: ast.AST, rec: CallSite) -> bool:
    """Not an ImageDataGenerator (its `fit` computes statistics) nor a scikit-learn estimator."""
    if isinstance(recv, ast.Name):
        r = scopes.reaching(recv.id, rec.scope, rec.order, rec.blocks)
        if r is None:
            return True
        for d in r[1]:
            if d.kind == "assign" and isinstance(d.value, ast.Call):
                if is_idg(scopes, d.value):
                    return False
                q = scopes.qualify(d.value.func) or ""
                if q.split(".")[0] in ("sklearn", "xgboost", "lightgbm", "catboost", "imblearn"):
                    return False
    elif isinstance(recv, ast.Call):
        if is_idg(scopes, recv):
            return False
        q = scopes.qualify(recv.func) or ""
        if q.split(".")[0] in ("sklearn", "xgboost", "lightgbm", "catboost"):
            return False
    return True


def fit_calls(scopes: Scopes) -> List[CallSite]:
    """`model.fit(...)` / `fit_generator(...)` on something that may be a model."""
    out = []
    for rec in scopes.calls:
        func = rec.node.func  # type: ignore[attr-defined]
        if isinstance(func, ast.Attribute) and func.attr in ("fit", "fit_generator"):
            if is_model_receiver(scopes, func.value, rec):
                out.append(rec)
    return out


def fit_x(call: ast.Call) -> Optional[ast.expr]:
    """The training input of a `fit` call."""
    for name in ("x", "generator"):
        arg = keyword(call, name)
        if arg is not None:
            return arg.value
    return nth_positional(call, 0)


_TRAINING_OPS = ("minimize", "apply_gradients")


def tf1_training_feed(scopes: Scopes, rec: CallSite) -> List[ast.expr]:
    """What a TensorFlow 1 graph trains on: the values of `feed_dict` in `sess.run(train_op,
    feed_dict={x: images, ...})` or `train_op.run(feed_dict=...)` (also through `tf.compat.v1`),
    where `train_op` is bound to an optimizer's `minimize(...)`; [] for any other call."""
    call: ast.Call = rec.node  # type: ignore[assignment]
    func = call.func
    feed = keyword(call, "feed_dict")
    if not isinstance(func, ast.Attribute) or func.attr != "run" or feed is None or not isinstance(feed.value, ast.Dict):
        return []
    fetches = func.value if not call.args else call.args[0]  # `op.run(...)` / `sess.run(op, ...)`
    names = [e for e in (fetches.elts if isinstance(fetches, (ast.List, ast.Tuple)) else [fetches])
             if isinstance(e, ast.Name)]
    for name in names:
        found = scopes.reaching(name.id, rec.scope, rec.order, rec.blocks)
        values = [b.value for b in found[1]] if found is not None else []
        if values and all(isinstance(v, ast.Call) and call_tail(v) in _TRAINING_OPS for v in values):
            return [v for v in feed.value.values if v is not None]
    return []


def trains_torch(scopes: Scopes) -> bool:
    """The file runs a training step itself (`loss.backward()`, Lightning's `trainer.fit`)."""
    for rec in scopes.calls:
        func = rec.node.func  # type: ignore[attr-defined]
        if isinstance(func, ast.Attribute) and func.attr in ("backward", "manual_backward", "fit"):
            return True
    return False


def is_dataset_class(scopes: Scopes, cls: ast.ClassDef) -> bool:
    for base in cls.bases:
        q = scopes.qualify(base) or ""
        if q.rsplit(".", 1)[-1] in ("Dataset", "IterableDataset", "Sequence", "PyDataset", "VisionDataset"):
            return True
    return False


# ---- how findings name code


def call_label(node: ast.Call) -> str:
    """`ImageDataGenerator()`, `ImageDataGenerator(...)`: how a call is named in messages."""
    name = dotted_name(node.func) or call_tail(node) or "call"
    return f"{name}()" if not node.args and not node.keywords else f"{name}(...)"


def assigned_name(scopes: Scopes, node: ast.AST) -> Optional[str]:
    """The variable(s) a call is assigned to (`x = call(...)`, `a, b = call(...)`)."""
    names = scopes.call_targets.get(id(node))
    return ", ".join(names) if names else None


def short(ctx: "FileContext", node: ast.AST, limit: int = 40) -> str:
    """The node's code on one line, with the parentheses that are its own, cut to `limit` characters."""
    syntax = ctx.syntax
    assert syntax is not None
    line, column, end_line, end_column = _with_own_parentheses(syntax, node)
    lines = syntax.lines
    if line == end_line:
        text = lines[line - 1][column - 1 : end_column - 1]
    else:
        text = "\n".join([lines[line - 1][column - 1 :], *lines[line : end_line - 1], lines[end_line - 1][: end_column - 1]])
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _with_own_parentheses(syntax: "Syntax", node: ast.AST) -> Range:
    """The node's span widened by the parentheses written around it (`(x)`), except those of a call
    whose only argument it is (`f(x)`)."""
    line, column, end_line, end_column = syntax.span(node)
    if not 0 < line <= end_line <= len(syntax.lines):
        return (line, column, end_line, end_column)
    parent = syntax.parent(node)
    shared = isinstance(parent, ast.Call) and not parent.keywords and len(parent.args) == 1 and parent.args[0] is node
    layers: List[Range] = []
    while True:
        before = _next_char(syntax.lines, line, column - 2, -1)
        after = _next_char(syntax.lines, end_line, end_column - 1, 1)
        if before is None or after is None or before[2] != "(" or after[2] != ")":
            break
        line, column, end_line, end_column = before[0], before[1] + 1, after[0], after[1] + 2
        layers.append((line, column, end_line, end_column))
    if shared and layers:
        layers.pop()
    return layers[-1] if layers else syntax.span(node)


def _next_char(lines: List[str], line: int, index: int, step: int) -> Optional[Tuple[int, int, str]]:
    """(line, 0-based index, character) of the first non-blank character from `index` of `line`
    (1-based) going in direction `step`, across lines; None at either end of the file."""
    while 0 < line <= len(lines):
        text = lines[line - 1]
        while 0 <= index < len(text):
            if not text[index].isspace() and text[index] != "\\":
                return line, index, text[index]
            index += step
        line += step
        if not 0 < line <= len(lines):
            return None
        index = len(lines[line - 1]) - 1 if step < 0 else 0
    return None


def where(ctx: "FileContext", node: Optional[ast.AST]) -> str:
    """`line N` or `cell C, line N` of a node, "" when it has no position. A generator expression
    that is a call's only argument starts at its element (the parentheses are the call's)."""
    if node is None or getattr(node, "lineno", None) is None or ctx.syntax is None:
        return ""
    line = ctx.syntax.span(node)[0]
    if isinstance(node, ast.GeneratorExp):
        parent = ctx.syntax.parent(node)
        if isinstance(parent, ast.Call) and (parent.end_lineno, parent.end_col_offset) == (node.end_lineno, node.end_col_offset):
            line = node.elt.lineno
    locate = getattr(ctx.source, "locate", None)
    cell = None
    if locate is not None:
        cell, line = locate(line)
    return f"cell {cell}, line {line}" if cell is not None else f"line {line}"


def accumulation_text(ctx: "FileContext", acc: Optional[ast.AST]) -> str:
    """` in the loop at line N`: where an image set was accumulated, for messages."""
    at = where(ctx, acc)
    if acc is None or not at:
        return ""
    if isinstance(acc, LOOPS):
        what = "the loop"
    elif isinstance(acc, ast.Call):
        what = "the map()"
    else:
        what = "the comprehension"
    return f" in {what} at {at}"
