"""CNL302 loss-label-mismatch: the loss expects another label encoding (or class count)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from cnnlint.findings import Severity
from cnnlint.lint.index.bindings import FUNCTIONS, Bindings, CallSite, argument, nth_positional
from cnnlint.lint.index.models import (
    KERAS_ROOTS,
    Compiled,
    KerasCompiled,
    Loss,
    Out,
    keeps_labels,
    label,
    out_text,
    walk_no_nested,
)
from cnnlint.lint.index.names import call_tail, dotted_name, keyword, string_value
from cnnlint.lint.project_index.imported import ImportedSummaries
from cnnlint.lint.project_index.verdicts import imported_keras_output
from cnnlint.lint.rule import Rule
from cnnlint.sources.model import SourceFile

_CLASS_COUNT_NAMES = re.compile(
    r"^(num_classes|n_classes|nb_classes|number_of_classes|classes_num|num_class|n_class|nclasses|numclasses)$", re.I
)
_PASSTHROUGH = {"prefetch", "cache", "shuffle", "repeat", "batch", "take", "skip", "with_options", "unbatch"}


@dataclass
class Labels:
    encoding: str  # int | onehot | binary | scaled (integer labels divided by 255)
    node: ast.AST
    text: str


# scikit-learn generators whose second result is one integer class index per sample
_SKLEARN_INT_LABELS = re.compile(
    r"^sklearn\.datasets\.(_samples_generator\.)?(make_classification|make_blobs|make_moons|make_circles|"
    r"make_gaussian_quantiles)$"
)


def _returns_name(fn: ast.AST, name: str) -> bool:
    """Every `return` of the function (none nested) gives back the variable `name`."""
    returns = [n for n in walk_no_nested(fn) if isinstance(n, ast.Return)]
    return bool(returns) and all(isinstance(r.value, ast.Name) and r.value.id == name for r in returns)


def _is_255(value: Optional[float]) -> bool:
    return value is not None and abs(value - 255) < 1e-6


def _is_int_literal(expr: Optional[ast.AST]) -> bool:
    return isinstance(expr, ast.Constant) and type(expr.value) is int


def _mode_labels(facts: Bindings, call: ast.Call, option: str, default: Tuple[str, str], tail: str,
                 encodings: Dict[str, str]) -> Optional[Labels]:
    """The encoding a loader's `class_mode=` / `label_mode=` option gives (default: (encoding, mode))."""
    arg = keyword(call, option)
    if arg is None:
        return Labels(default[0], call, f'`{label(facts, call)}` ({option} defaults to "{default[1]}")')
    mode = string_value(arg.value)
    enc = encodings.get(mode or "")
    return Labels(enc, call, f'`{tail}(..., {option}="{mode}")`') if enc else None


class LossLabelMismatch(Rule):
    code = "CNL302"
    name = "loss-label-mismatch"
    severity = Severity.ERROR
    summary = "The loss expects another label encoding or class count than the data and the output layer give it"
    uses = (Bindings, KerasCompiled, ImportedSummaries)
    _fits_by_name: Optional[Dict[str, list]] = None

    @classmethod
    def applies(cls, source: SourceFile) -> bool:
        text = source.text
        return "rossentropy" in text and "compile" in text

    def check(self) -> None:
        facts = self.ctx.get(Bindings)
        if not facts.keras:
            return
        for comp in self.ctx.get(KerasCompiled).models:
            loss, out = comp.loss, comp.out
            if loss is None:
                continue
            if loss.kind == "bce" and out is not None and out.kind == "softmax" and out.units is not None and out.units > 1:
                self.report(
                    loss.node,
                    f"`{loss.text}` scores each output unit as an independent yes/no, but `{comp.model.id}` ends "
                    f"in {out_text(facts, out)}, whose {out.units} outputs compete and sum to 1",
                    "for one label per image use categorical_crossentropy (one-hot labels) or "
                    "sparse_categorical_crossentropy (integer labels); for multi-label use sigmoid",
                )
                continue
            if loss.kind == "bce" and out is None and self._imported_softmax(facts, comp, loss):
                continue
            labels = self._labels(facts, comp)
            if labels is not None:
                self._check_labels(loss, labels)
            if out is not None and loss.kind in ("cce", "scce"):
                self._check_units(facts, out)

    def _imported_softmax(self, facts: Bindings, comp: Compiled, loss: Loss) -> bool:
        """The same, for a model built by a function of the project's modules (`build_model()`)."""
        found = imported_keras_output(facts, self.ctx.get(ImportedSummaries), comp)
        head = found.definition.output if found is not None else None
        if found is None or head is None or head.kind != "softmax" or head.units is None or head.units < 2:
            return False
        self.report(
            loss.node,
            f"`{loss.text}` scores each output unit as an independent yes/no, but `{comp.model.id}` is built by "
            f"{found.where()}, which ends in `{head.text}` ({found.module}:{head.line}), whose {head.units} "
            "outputs compete and sum to 1",
            "for one label per image use categorical_crossentropy (one-hot labels) or "
            "sparse_categorical_crossentropy (integer labels); for multi-label use sigmoid",
        )
        return True

    def _check_labels(self, loss: Loss, labels: Labels) -> None:
        if loss.kind == "cce" and labels.encoding in ("int", "binary"):
            what = "integer class indices" if labels.encoding == "int" else "a single 0/1 value per image"
            self.report(
                loss.node,
                f"`{loss.text}` expects one-hot labels, but {labels.text} gives {what}",
                "use sparse_categorical_crossentropy for integer labels"
                if labels.encoding == "int" else 'use binary_crossentropy with Dense(1, activation="sigmoid"), '
                'or class_mode="categorical"',
            )
        elif loss.kind == "scce" and labels.encoding == "scaled":
            self.report(
                labels.node,
                f"{labels.text} is the integer class labels divided by 255 like pixels, but `{loss.text}` expects "
                "integer class indices: it casts the fractions back to integers, so every label becomes class 0",
                "scale only the images (x / 255.); keep the labels as the integers they are",
            )
        elif loss.kind == "scce" and labels.encoding == "onehot":
            self.report(
                loss.node,
                f"`{loss.text}` expects integer class indices, but {labels.text} gives one-hot vectors",
                "use categorical_crossentropy for one-hot labels (or keep integer labels)",
            )

    def _fits(self, facts: Bindings) -> Dict[str, list]:
        """The file's `name.fit(...)` (and `fit_generator`) calls by receiver name, in order (listed once per file)."""
        if self._fits_by_name is None:
            self._fits_by_name = {}
            for c in facts.calls:
                func = c.node.func
                if c.tail in ("fit", "fit_generator") and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    self._fits_by_name.setdefault(func.value.id, []).append(c)
        return self._fits_by_name

    def _fits_of(self, facts: Bindings, comp: Compiled) -> List[CallSite]:
        """The fits of the compiled model: on the same binding, or, when a function of the file compiles
        and returns it (`def build_model(): ...; return model`), on the names bound to its calls."""
        fits = self._fits(facts)
        name = comp.model.id
        same = []
        for c in fits.get(name, ()):
            b_fit, b_compile = facts.binding(name, c.node), facts.binding(name, comp.compile_call)
            if b_fit is not None and b_compile is not None and b_fit.order == b_compile.order:
                same.append(c)
        fn = facts.scope_of(comp.compile_call)
        if same or not isinstance(fn, FUNCTIONS) or not _returns_name(fn, name):
            return same
        built = []
        for recv, calls in fits.items():
            for c in calls:
                value = facts.value_of(c.node.func.value)  # type: ignore[attr-defined]
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == fn.name:
                    built.append(c)
        return [c for c in built if not self._recompiled(facts, comp, c)]

    def _recompiled(self, facts: Bindings, comp: Compiled, fit: CallSite) -> bool:
        """`model = build_model(); model.compile(...)`: the model is compiled again, with that loss."""
        name = fit.node.func.value.id  # type: ignore[attr-defined]
        b_fit = facts.binding(name, fit.node)
        for other in self.ctx.get(KerasCompiled).models:
            if other is comp or other.model.id != name:
                continue
            b = facts.binding(name, other.compile_call)
            if b is None or b_fit is None or b.order == b_fit.order:
                return True
        return False

    def _labels(self, facts: Bindings, comp: Compiled) -> Optional[Labels]:
        """The label encoding of the data the compiled model is fit on (all fits must agree)."""
        found: List[Labels] = []
        for c in self._fits_of(facts, comp):
            x = argument(c.node, "x", 0)
            y = argument(c.node, "y", 1)
            labels = None
            if y is not None:
                labels = self._array_labels(facts, y)
            elif x is not None:
                labels = self._dataset_labels(facts, x)
            if labels is None:
                return None
            found.append(labels)
        if not found or len({lab.encoding for lab in found}) != 1:
            return None
        return found[0]

    def _dataset_labels(self, facts: Bindings, expr: Optional[ast.AST]) -> Optional[Labels]:
        for _ in range(12):
            if isinstance(expr, ast.Name):
                expr = facts.value_of(expr)
                if expr is None:
                    return None
                continue
            if not isinstance(expr, ast.Call):
                return None
            tail = call_tail(expr) or ""
            if isinstance(expr.func, ast.Attribute) and (tail in _PASSTHROUGH or (tail == "map" and keeps_labels(expr))):
                expr = expr.func.value
                continue
            return self._source_labels(facts, expr, tail)
        return None

    def _source_labels(self, facts: Bindings, expr: ast.Call, tail: str) -> Optional[Labels]:
        """The labels a Keras data source gives: flow_from_directory, flow, image_dataset_from_directory."""
        if tail in ("flow_from_directory", "flow_from_dataframe"):
            return _mode_labels(facts, expr, "class_mode", ("onehot", "categorical"), tail,
                                {"categorical": "onehot", "sparse": "int", "binary": "binary"})
        if tail == "flow":
            y = argument(expr, "y", 1)
            return self._array_labels(facts, y) if y is not None else None
        if tail == "image_dataset_from_directory":
            given = keyword(expr, "labels")
            if given is not None and string_value(given.value) != "inferred":
                return None
            return _mode_labels(facts, expr, "label_mode", ("int", "int"), tail,
                                {"categorical": "onehot", "int": "int", "binary": "binary"})
        return None

    def _array_labels(self, facts: Bindings, expr: ast.AST, depth: int = 0) -> Optional[Labels]:
        if not isinstance(expr, ast.Name):
            if isinstance(expr, ast.Call):
                return self._call_labels(facts, expr, expr)
            return self._scaled_labels(facts, expr, expr, depth)
        b = facts.binding(expr.id, expr)
        if b is None or b.conditional or b.value is None:
            return None
        value = b.value
        if b.unpack is not None and isinstance(value, ast.Tuple) and len(value.elts) > b.unpack:
            if not any(isinstance(e, ast.Starred) for e in value.elts) and isinstance(b.node, ast.Name):
                parent = facts.parent(b.node)  # `x, y = x / 255., y / 255.`: a flat pair of targets
                if isinstance(parent, ast.Tuple) and len(parent.elts) == len(value.elts):
                    return self._scaled_labels(facts, value.elts[b.unpack], expr, depth)
        if isinstance(value, ast.BinOp):
            return self._scaled_labels(facts, value, expr, depth)
        if b.unpack is not None:
            if isinstance(value, ast.Call) and call_tail(value) == "load_data" and b.unpack in (1, 3):
                q = facts.q(value.func)
                if ".datasets." in f".{q}." and q.split(".")[0] in KERAS_ROOTS:
                    return Labels("int", b.node or expr, f"`{expr.id}` (integer labels from `{dotted_name(value.func)}()`)")
            if isinstance(value, ast.Call) and b.unpack == 1 and _SKLEARN_INT_LABELS.match(facts.q(value.func)):
                return Labels("int", b.node or expr, f"`{expr.id}` (integer labels from `{dotted_name(value.func)}()`)")
            return None
        if isinstance(value, ast.Call):
            return self._call_labels(facts, value, expr)
        return None

    def _scaled_labels(self, facts: Bindings, expr: ast.AST, name: ast.AST, depth: int) -> Optional[Labels]:
        """`y / 255` (or `y * (1/255)`) of integer class labels: scaled like pixels."""
        if not isinstance(expr, ast.BinOp) or depth > 4:
            return None
        inner: Optional[ast.AST] = None
        if isinstance(expr.op, ast.Div) and _is_255(facts.number(expr.right)):
            inner = expr.left
        elif isinstance(expr.op, ast.Mult):
            for factor, other in ((expr.right, expr.left), (expr.left, expr.right)):
                v = facts.number(factor)
                if v is not None and v != 0 and _is_255(1 / v):
                    inner = other
        if inner is None:
            return None
        labels = self._array_labels(facts, inner, depth + 1)
        if labels is None or labels.encoding != "int":
            return None
        who = f"`{name.id}`" if isinstance(name, ast.Name) else f"`{label(facts, expr)}`"
        return Labels("scaled", expr, who)

    @staticmethod
    def _call_labels(facts: Bindings, call: ast.Call, name: ast.AST) -> Optional[Labels]:
        tail = call_tail(call) or ""
        q = facts.q(call.func)
        who_name = dotted_name(name) if isinstance(name, ast.Name) else None
        if tail == "to_categorical" and (q.split(".")[0] in KERAS_ROOTS or q == "to_categorical"):
            who = f"`{who_name}` (from `to_categorical`)" if who_name else "`to_categorical(...)`"
            return Labels("onehot", call, who)
        if tail == "one_hot" and q.split(".")[0] in KERAS_ROOTS:
            func = dotted_name(call.func)
            who = f"`{who_name}` (from `{func}`)" if who_name else f"`{func}(...)`"
            return Labels("onehot", call, who)
        return None

    def _check_units(self, facts: Bindings, out: Out) -> None:
        if out.units is None or out.units < 2 or out.dense is None:
            return
        units = argument(out.dense, "units", 0)
        if not _is_int_literal(units):
            return  # units from a name: the rule cannot tell the names apart
        stated = self._stated_classes(facts)
        if stated is None:
            return
        count, name = stated
        if count == out.units or count < 2:
            return
        self.report(
            units,  # type: ignore[arg-type]
            f"the output layer has {out.units} units, but `{name}` says there are {count} classes: "
            f"the model predicts over {out.units} classes",
            f"use Dense({name}, ...) so the output matches the classes",
        )

    def _stated_classes(self, facts: Bindings) -> Optional[Tuple[int, str]]:
        """A class count the code states once: `num_classes = 10` or `len(class_names)` of a literal list."""
        found = []
        for key, binds in facts.binds.items():
            if "." in key or len(binds) != 1 or binds[0].scope is not None or not binds[0].unconditional:
                continue
            b = binds[0]
            if b.unpack is not None or b.value is None or not _CLASS_COUNT_NAMES.match(key):
                continue
            count = facts.integer(b.value)
            if count is None and isinstance(b.value, ast.Call) and call_tail(b.value) == "len":
                arg = nth_positional(b.value, 0)
                count = self._literal_len(facts, arg) if arg is not None else None
            if count is not None:
                found.append((count, key))
        # the name must not be used as units somewhere (then the file has several models)
        if len(found) != 1:
            return None
        for c in facts.calls:
            if c.tail == "Dense":
                units = argument(c.node, "units", 0)
                if units is not None and not _is_int_literal(units):
                    return None
        return found[0]

    @staticmethod
    def _literal_len(facts: Bindings, expr: ast.AST) -> Optional[int]:
        value = facts.value_of(expr) if isinstance(expr, ast.Name) else expr
        if isinstance(value, (ast.List, ast.Tuple)) and not any(isinstance(e, ast.Starred) for e in value.elts):
            return len(value.elts)
        return None
