"""CNL303 pretrained-preprocessing-mismatch: pretrained weights fed another pixel scaling."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import List, Optional, Set, Tuple

from cnnlint.findings import Severity
from cnnlint.lint.index.bindings import Bindings, argument, nth_positional
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.models import KERAS_ROOTS, element_values, keras_name, label
from cnnlint.lint.index.names import call_tail, dotted_name, keyword
from cnnlint.lint.index.pretrained import keras_pretrained, module_of, tv_pretrained, used_later
from cnnlint.lint.index.source_text import full_code
from cnnlint.lint.project_index.imported import ImportedSummaries
from cnnlint.lint.project_index.verdicts import imported_backbones
from cnnlint.lint.rule import Rule
from cnnlint.sources.model import SourceFile

_TO_TENSOR = ("ToTensor", "ToImage", "PILToTensor", "ToDtype", "ConvertImageDtype")
# (the constructor or the project builder's call, the class name, the mode, its words in a message)
_Model = Tuple[ast.Call, str, str, str]


@dataclass
class _Expectation:
    """What one preprocessing mode expects, in the words of a finding."""

    expects: str  # after "the pretrained `X`"
    generator_hint: str
    layer_hint: str
    layer_effect: str  # what a Rescaling(1./255) in front does


def _expectation(mode: str, module: str) -> _Expectation:
    if mode == "caffe":
        return _Expectation(
            "expects its own preprocess_input (\"caffe\" mode: BGR channels with the ImageNet mean "
            "subtracted, values around -124..152)",
            f"replace rescale=1./255 with preprocessing_function=keras.applications.{module}.preprocess_input",
            f"remove the Rescaling layer and apply keras.applications.{module}.preprocess_input to the 0-255 pixels",
            "the pretrained features see inputs they were never trained on",
        )
    if mode == "tf":
        return _Expectation(
            "expects inputs scaled to [-1, 1] (its preprocess_input: x / 127.5 - 1)",
            f"replace rescale=1./255 with preprocessing_function=keras.applications.{module}.preprocess_input",
            "use layers.Rescaling(1./127.5, offset=-1) (scales to [-1, 1]) "
            f"or keras.applications.{module}.preprocess_input",
            "the pretrained features see inputs they were never trained on",
        )
    return _Expectation(
        "rescales 0-255 pixels itself (a Rescaling/Normalization layer inside the model)",
        "drop rescale=1./255 and feed the 0-255 pixels as they are",
        "remove the Rescaling layer: the model expects 0-255 pixels",
        "the network sees values of at most 1/255",
    )


def _applied(facts: Bindings, layer: ast.Call, parent: Optional[ast.AST]) -> Optional[ast.Call]:
    """Where a layer is applied to a tensor: `Rescaling(...)(x)`, or `rescale(x)` with `rescale = Rescaling(...)`
    applied once."""
    if isinstance(parent, ast.Call) and parent.func is layer:
        return parent
    if not (isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name)):
        return None
    name = parent.targets[0].id
    uses = [
        c.node for c in facts.calls
        if isinstance(c.node.func, ast.Name) and c.node.func.id == name and facts.value_of(c.node.func) is layer
    ]
    return uses[0] if len(uses) == 1 else None


def _uses(facts: Bindings, assign: ast.Assign, var: str) -> List[ast.Call]:
    """The calls after `var = ...` that take that value as their first argument."""
    out = []
    for c in facts.calls:
        first = nth_positional(c.node, 0)
        if not isinstance(first, ast.Name) or first.id != var or c.order <= facts.position(assign):
            continue
        b = facts.binding(var, first)
        if b is not None and b.value is assign.value:
            out.append(c.node)
    return out


def _augments(facts: Bindings, layer: Optional[ast.AST]) -> bool:
    """A Keras `Random*` layer, or a `Sequential` made of them only (they keep the pixel scale)."""
    if not isinstance(layer, ast.Call):
        return False
    name = keras_name(facts, layer.func) or ""
    if name.startswith("Random"):
        return True
    arg = argument(layer, "layers", 0)
    if name != "Sequential" or not isinstance(arg, (ast.List, ast.Tuple)):
        return False
    items = element_values(arg)
    return bool(items) and all(isinstance(i, ast.Call) and (keras_name(facts, i.func) or "").startswith("Random")
                               for i in items)


def _preprocess_before_training(facts: Bindings) -> bool:
    """`preprocess_input` written anywhere that may shape the training data: every line that mentions
    it except imports and top-level statements after the last `fit` (prediction on one image)."""
    tree = facts.syntax.tree
    fits = [c.node for c in facts.calls if c.tail in ("fit", "fit_generator") and facts.scope_of(c.node) is None]
    last_fit = max((getattr(n, "end_lineno", n.lineno) for n in fits), default=None)
    harmless: Set[int] = set()
    for stmt in tree.body:
        after = last_fit is not None and stmt.lineno > last_fit and not isinstance(stmt, _DEFS)
        if after or isinstance(stmt, (ast.Import, ast.ImportFrom)):
            harmless.update(range(stmt.lineno, (getattr(stmt, "end_lineno", None) or stmt.lineno) + 1))
    lines = facts.text.splitlines()
    return any("preprocess_input" in line and i not in harmless for i, line in enumerate(lines, 1))


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class PretrainedPreprocessingMismatch(Rule):
    code = "CNL303"
    name = "pretrained-preprocessing-mismatch"
    severity = Severity.WARNING
    summary = "Pretrained weights are fed pixels scaled differently from how they were trained"
    uses = (Bindings, ImportedSummaries)  # a model built by a builder or class of the project's modules

    @classmethod
    def applies(cls, source: SourceFile) -> bool:
        text = source.text
        keras = ("rescale" in text or "Rescaling" in text) and "import" in text  # the model may be imported
        torch = "torchvision" in text and ("weights" in text or "pretrained" in text or "Compose" in text)
        return keras or torch

    def check(self) -> None:
        facts = self.ctx.get(Bindings)
        if facts.keras:
            self._keras(facts)
        if self.ctx.get(ImportTable).imports_any("torchvision"):
            self._torch(facts)

    def _one_over_255(self, facts: Bindings, expr: Optional[ast.AST]) -> bool:
        v = facts.number(expr)
        return v is not None and abs(v - 1 / 255) < 1e-6

    # ---- Keras

    def _keras_models(self, facts: Bindings) -> List[_Model]:
        """The pretrained keras.applications models of the file, and those the project's builders it
        calls build (none when a builder prepares its input itself: then nothing is judged)."""
        models = [(call, name, mode, f"`{name}`") for call, name, mode in keras_pretrained(facts)]
        imported = imported_backbones(facts, self.ctx.get(ImportedSummaries), "keras")
        if any(b.prepared for _, _, b in imported):
            return []
        return models + [(call, b.name, b.mode, f"`{b.name}` ({found.module}:{b.line} {found.definition.name} builds "
                          f"{b.name} with ImageNet weights)") for call, found, b in imported]

    def _keras(self, facts: Bindings) -> None:
        for c in facts.calls:
            if c.tail == "ImageDataGenerator":
                self._rescale_after_preprocess(facts, c.node)
        models = self._keras_models(facts)
        if not models or any(mode == "other" for _, _, mode, _ in models):
            return
        modes = {mode for _, _, mode, _ in models}
        names = sorted({(name, text) for _, name, _, text in models})
        if len(modes) != 1 or _preprocess_before_training(facts):
            return
        mode = modes.pop()
        model_text = " / ".join(text for _, text in names)
        if not any(c.tail in ("fit", "fit_generator") for c in facts.calls):
            return
        if not all(used_later(facts, call) for call, _, _, _ in models):
            return  # a pretrained model built but never put into a model: the generator feeds another
        expect = _expectation(mode, module_of(names[0][0]))
        model_calls = [n for n, _, _, _ in models]
        for c in facts.calls:
            if c.tail == "ImageDataGenerator":
                self._generator(facts, c.node, model_text, expect)
            elif c.tail == "Rescaling":
                self._rescaling(facts, c.node, model_calls, model_text, expect)

    def _generator(self, facts: Bindings, call: ast.Call, model_text: str, expect: _Expectation) -> None:
        if keras_name(facts, call.func) is None:
            return
        arg = keyword(call, "rescale")
        if arg is None or not self._one_over_255(facts, arg.value) or keyword(call, "preprocessing_function"):
            return
        if not self._feeds_fit(facts, call):
            return
        self.report(
            arg,
            f"`rescale={full_code(facts.syntax, arg.value)}` scales pixels to [0, 1], but the pretrained {model_text} "
            f"{expect.expects}: the pretrained features see inputs they were never trained on",
            expect.generator_hint,
        )

    def _rescale_after_preprocess(self, facts: Bindings, call: ast.Call) -> None:
        """`ImageDataGenerator(rescale=1./255, preprocessing_function=preprocess_input)`: the generator
        runs the preprocessing function first and multiplies by `rescale` after it."""
        arg = keyword(call, "rescale")
        fn = keyword(call, "preprocessing_function")
        if arg is None or fn is None or keras_name(facts, call.func) is None or not self._one_over_255(facts, arg.value):
            return
        parts = facts.q(fn.value).split(".")
        if parts[-1] != "preprocess_input" or "applications" not in parts or parts[0] not in KERAS_ROOTS:
            return
        if not self._feeds_fit(facts, call) or not any(c.tail in ("fit", "fit_generator") for c in facts.calls):
            return
        module = parts[-2] if len(parts) > 3 else "applications"
        self.report(
            arg,
            f"`rescale={full_code(facts.syntax, arg.value)}` is applied after "
            f"`preprocessing_function={full_code(facts.syntax, fn.value)}`: the generator divides the pixels "
            f"the pretrained weights' own preprocessing ({module}) just prepared by 255, so the model sees "
            f"values near 0 instead of the scale it was trained on",
            "drop rescale=: the preprocessing function already scales the pixels",
        )

    def _rescaling(
        self, facts: Bindings, call: ast.Call, model_calls: List[ast.Call], model_text: str, expect: _Expectation
    ) -> None:
        if keras_name(facts, call.func) is None:
            return
        arg = argument(call, "scale", 0)
        offset = argument(call, "offset", 1)
        if arg is None or not self._one_over_255(facts, arg) or offset is not None:
            return
        if not self._rescaling_feeds_model(facts, call, model_calls):
            return
        self.report(
            call,
            f"`{label(facts, call)}` scales pixels to [0, 1] before the pretrained {model_text}, "
            f"which {expect.expects}: {expect.layer_effect}",
            expect.layer_hint,
        )

    @staticmethod
    def _feeds_fit(facts: Bindings, idg: ast.Call) -> bool:
        """The generator's flow_* output reaches a fit call (the generator is a training/validation source)."""
        var = None
        parent = facts.parent(idg)
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
            var = parent.targets[0].id
        for c in facts.calls:
            func = c.node.func
            if c.tail in ("flow_from_directory", "flow_from_dataframe", "flow") and isinstance(func, ast.Attribute):
                recv = func.value
                if recv is idg or (var is not None and isinstance(recv, ast.Name) and recv.id == var):
                    return True
        return False

    @staticmethod
    def _rescaling_feeds_model(facts: Bindings, rescale: ast.Call, model_calls: List[ast.Call]) -> bool:
        """Rescaling in the same Sequential list as the pretrained model, or `base(x)` with x = Rescaling(...)(...)."""
        parent = facts.parent(rescale)
        # Sequential([Rescaling(1/255), base, ...])
        if isinstance(parent, (ast.List, ast.Tuple, ast.Set)):
            if isinstance(parent, ast.Set):
                return False
            for v in element_values(parent):
                if any(v is mc for mc in model_calls):
                    return True
                if isinstance(v, ast.Name):
                    val = facts.value_of(v)
                    if any(val is mc for mc in model_calls):
                        return True
            return False
        # x = Rescaling(1/255)(inputs); x = base_model(x, training=False)  (or rescale = Rescaling(...); rescale(x))
        app = _applied(facts, rescale, parent)
        for _ in range(4):  # through augmentation layers: x = data_augmentation(x)
            assign = facts.parent(app) if app is not None else None
            if not (isinstance(assign, ast.Assign) and len(assign.targets) == 1 and isinstance(assign.targets[0], ast.Name)):
                return False
            augmenting = []
            for step in _uses(facts, assign, assign.targets[0].id):
                target = facts.value_of(step.func) if isinstance(step.func, ast.Name) else step.func
                if any(target is mc for mc in model_calls):
                    return True
                if _augments(facts, target):
                    augmenting.append(step)
            if len(augmenting) != 1:
                return False
            app = augmenting[0]
        return False

    # ---- torchvision

    def _torch(self, facts: Bindings) -> None:
        text = facts.text
        if "Normalize" in text or "normalize" in text or ".transforms()" in text or "transforms()" in text:
            return
        if "timm" in text or "AutoImageProcessor" in text or "FeatureExtractor" in text:
            return
        pretrained = [c.node for c in facts.calls if tv_pretrained(facts, c.qname, c.node)]
        if pretrained:
            model_text = f"`{dotted_name(pretrained[0].func) or 'the model'}` loads ImageNet weights"
        else:
            imported = imported_backbones(facts, self.ctx.get(ImportedSummaries), "torch")
            if not imported or any(b.prepared for _, _, b in imported):
                return
            _, found, b = imported[0]
            model_text = f"{found.module}:{b.line} {found.definition.name} builds `{b.name}` with ImageNet weights,"
        composes = []
        for c in facts.calls:
            if c.tail != "Compose" or not c.qname.startswith("torchvision.transforms"):
                continue
            arg = nth_positional(c.node, 0)
            if arg is None or not isinstance(arg, (ast.List, ast.Tuple)):
                return  # a transform list built elsewhere: unknown
            values = element_values(arg)
            tails = [call_tail(e) for e in values if isinstance(e, ast.Call)]
            if len(tails) != len(values):
                return
            if any(t in _TO_TENSOR for t in tails):
                composes.append(c.node)
        for comp in composes:
            self.report(
                comp,
                f"`{label(facts, comp, 40)}` has no `Normalize`, but {model_text} "
                "trained on inputs normalised with the ImageNet mean and std: the pretrained features see "
                "shifted inputs",
                "add transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]) after ToTensor, "
                "or use the weights' own weights.transforms()",
            )
