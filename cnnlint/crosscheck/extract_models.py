"""Model facts of a script: input shapes, output layers and losses (Keras), classifier heads (PyTorch)."""

from __future__ import annotations

import ast
import re
from typing import Any, Dict, List, Optional, Set

from cnnlint.crosscheck.extract_base import ScriptReader
from cnnlint.lint.index.bindings import argument
from cnnlint.lint.index.models import KerasCompiled, KerasModels, Out, TorchModels, keras_name, plain_args, torch_name
from cnnlint.lint.index.names import dotted_name, keyword
from cnnlint.lint.project_index.heads import imported_heads, imported_keras_head

# keras.applications: the input size when include_top=True and no input_shape is given
APP_SIZES = {
    **{n: 224 for n in ("VGG16", "VGG19", "ResNet50", "ResNet101", "ResNet152", "ResNet50V2", "ResNet101V2",
                        "ResNet152V2", "MobileNet", "MobileNetV2", "MobileNetV3Small", "MobileNetV3Large",
                        "DenseNet121", "DenseNet169", "DenseNet201", "ConvNeXtTiny", "ConvNeXtSmall",
                        "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtXLarge", "RegNetX002", "RegNetY002",
                        "EfficientNetV2B0", "NASNetMobile")},
    **{n: 299 for n in ("InceptionV3", "InceptionResNetV2", "Xception")},
    "NASNetLarge": 331, "EfficientNetB0": 224, "EfficientNetB1": 240, "EfficientNetB2": 260, "EfficientNetB3": 300,
    "EfficientNetB4": 380, "EfficientNetB5": 456, "EfficientNetB6": 528, "EfficientNetB7": 600,
    "EfficientNetV2B1": 240, "EfficientNetV2B2": 260, "EfficientNetV2B3": 300, "EfficientNetV2S": 384,
    "EfficientNetV2M": 480, "EfficientNetV2L": 480,
}
TORCH_HEADS = {"fc", "classifier", "head", "heads", "last_linear", "fc_out", "out", "output", "logits"}
_CLASSIFICATION_LOSS = re.compile(r"CrossEntropyLoss|NLLLoss|BCEWithLogitsLoss|BCELoss|cross_entropy|nll_loss")


def shape_of(v: List[Any]) -> List[Optional[int]]:
    return [x if isinstance(x, int) and not isinstance(x, bool) and x > 0 else None for x in v]


class KerasModelFacts:
    """Losses, output layers and input shapes of the Keras models of a script."""

    def __init__(self, reader: ScriptReader) -> None:
        self.r = reader
        self.f = reader.f
        self.compiled = reader.ctx.get(KerasCompiled).models

    def run(self) -> None:
        r, f = self.r, self.f
        if not f.keras:
            return
        seen: Set[int] = set()
        for comp in self.compiled:
            if comp.loss is not None:
                r.out.losses.append(r.fact(comp.loss.node, comp.loss.kind, text=comp.loss.text))
            # a classifier: a known classification loss or a softmax/sigmoid head (not an embedding
            # trained with a triplet loss, nor a regression)
            if comp.loss is not None or (comp.out is not None and comp.out.kind in ("softmax", "sigmoid")):
                self._output(comp.out, seen)
            if comp.out is None and comp.loss is not None:  # a model built by a function of the project
                for node, value, text in imported_keras_head(r.ctx, f, comp):
                    r.out.outputs.append(r.fact(node, value, text=text))
        compiled = {comp.model.id for comp in self.compiled}
        models = KerasModels(f)
        classifies = "rossentropy" in r.text
        for var, at in self._trained_models(compiled).items():
            out = models.output(var, at)
            if out is not None and (classifies or out.kind in ("softmax", "sigmoid")):
                self._output(out, seen)
        self.input_shapes()

    def input_shapes(self) -> None:
        """The input shapes the script's Keras models state (Input, an application's default)."""
        f = self.f
        if not f.keras:
            return
        for c in f.calls:
            name = keras_name(f, c.node.func)
            if name is not None:
                self._input_shape(c.node, name)

    def _input_shape(self, call: ast.Call, name: str) -> None:
        r = self.r
        shape: Optional[List[Any]] = None
        at: ast.AST = call
        if name in ("Input", "InputLayer"):
            arg = keyword(call, "shape") or keyword(call, "input_shape")
            value = arg.value if arg is not None else plain_args(call)[0] if plain_args(call) else None
            if value is None:
                batch = keyword(call, "batch_shape") or keyword(call, "batch_input_shape")
                v = r.value(batch.value) if batch is not None else None
                shape = v[1:] if isinstance(v, list) and len(v) == 4 else None
                at = batch.value if batch is not None else at
            else:
                shape, at = r.value(value), value
        elif name in APP_SIZES:
            arg = keyword(call, "input_shape")
            if arg is None:
                top = keyword(call, "include_top")
                if (top is None or r.value(top.value) is True) and keyword(call, "input_tensor") is None:
                    size = APP_SIZES[name]
                    r.out.input_shapes.append(r.fact(call, shape_of([size, size, 3]), default=True))
                return
            shape, at = r.value(arg.value), arg.value
        else:
            arg = keyword(call, "input_shape")
            if arg is None:
                return
            shape, at = r.value(arg.value), arg.value
        if isinstance(shape, list) and len(shape) == 3:
            r.out.input_shapes.append(r.fact(at, shape_of(shape)))

    def _output(self, out: Optional[Out], seen: Set[int]) -> None:
        if out is None or out.units is None:
            return
        node = out.dense if out.dense is not None else out.layer
        if id(node) in seen:
            return
        seen.add(id(node))
        self.r.out.outputs.append(self.r.fact(node, {"units": out.units, "activation": out.kind}))

    def _trained_models(self, compiled: Set[str]) -> Dict[str, ast.AST]:
        """Keras models of the file that are never compiled but trained by hand (a GradientTape
        loop): name -> its last use, where its layers are all added."""
        f = self.f
        if not any(t.value == "apply_gradients" for t in self.r.out.training):
            return {}
        names: Dict[str, None] = {}
        for c in f.calls:
            if keras_name(f, c.node.func) in ("Sequential", "Model", "Functional"):
                var = self.r.assigned_to(c.node)
                if var and "." not in var and var not in compiled:
                    names[var] = None
        last: Dict[str, ast.AST] = {}
        for c in f.calls:
            func = c.node.func
            head = func if isinstance(func, ast.Name) else func.value if isinstance(func, ast.Attribute) else None
            if isinstance(head, ast.Name) and head.id in names:
                last[head.id] = c.node
            for a in [*c.node.args, *(kw.value for kw in c.node.keywords)]:
                if isinstance(a, ast.Starred):
                    a = a.value
                if isinstance(a, ast.Attribute) and isinstance(a.value, ast.Name) and a.value.id in names:
                    last[a.value.id] = c.node
        return last


class TorchHeadFacts:
    """The class count a PyTorch classifier's last layer states."""

    def __init__(self, reader: ScriptReader) -> None:
        self.r = reader
        self.f = reader.f

    def run(self) -> None:
        r, f = self.r, self.f
        if not f.torch or not _CLASSIFICATION_LOSS.search(r.text):
            return  # no classification loss: the last layer's units are not a class count
        for n in f.assigns:
            target = n.targets[0]
            head = target.value if isinstance(target, ast.Subscript) else target
            if not isinstance(head, ast.Attribute) or head.attr not in TORCH_HEADS:
                continue
            if (dotted_name(head) or "self.").startswith("self."):
                continue  # a module's own layer, judged through its forward()
            units = self._linear_units(n.value)
            if units is not None:
                r.out.outputs.append(r.fact(n.value, {"units": units, "activation": "linear"}))
        for c in f.calls:
            root = c.qname.split(".")[0]
            if root in ("torchvision", "timm") or (root == "models" and f.torch):
                arg = keyword(c.node, "num_classes")
                if arg is not None:
                    v = r.value(arg.value)
                    if isinstance(v, int) and not isinstance(v, bool):
                        r.out.outputs.append(r.fact(arg.value, {"units": v, "activation": "linear"}))
        models = TorchModels(f)
        instantiated = {c.tail for c in f.calls}
        for name, cls in models.module_classes.items():
            if name not in instantiated:
                continue
            out = models.class_output(cls, 0)
            if out is None or out.kind != "linear":
                continue
            units = self._linear_units(out.node)
            if units is not None:
                r.out.outputs.append(r.fact(out.node, {"units": units, "activation": "linear"}))
        for node, value, text in imported_heads(r.ctx, f):  # model classes of the project's modules
            r.out.outputs.append(r.fact(node, value, text=text))

    def _linear_units(self, expr: ast.AST) -> Optional[int]:
        if not isinstance(expr, ast.Call):
            return None
        name = torch_name(self.f, expr.func)
        if name == "Linear":
            arg = argument(expr, "out_features", 1)
            v = self.r.value(arg) if arg is not None else None
            return v if isinstance(v, int) and not isinstance(v, bool) else None
        if name == "Sequential":
            for item in reversed(plain_args(expr)):
                if isinstance(item, ast.Call):
                    tail = torch_name(self.f, item.func)
                    if tail == "Linear":
                        return self._linear_units(item)
                    if tail in ("Dropout", "ReLU", "Identity"):
                        continue
                    return None
        return None
