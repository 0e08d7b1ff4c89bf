"""From an expression of the script to the project definition behind it, for the rules: the model
class a prediction comes from, the function a compiled Keras model was built by."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Callable, List, Optional, Tuple

from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.models import strip_device
from cnnlint.lint.project_index.backbones import Backbone
from cnnlint.lint.project_index.imported import Found, ImportedSummaries

if TYPE_CHECKING:
    from cnnlint.lint.index.models import Compiled


def is_torch_class(found: Optional[Found]) -> bool:
    return found is not None and found.definition.kind == "class" and found.definition.framework == "torch"


def imported_model(facts: Bindings, summaries: ImportedSummaries, model: Optional[ast.AST]) -> Optional[Found]:
    """The project's torch.nn.Module class a model object (`Net().to(device)`) is built from."""
    if model is None or not summaries.active:
        return None
    model = through_moves(facts, strip_device(model))
    if not isinstance(model, ast.Call):
        return None
    found = summaries.definition(model.func)
    return found if is_torch_class(found) else None


def through_moves(facts: Bindings, expr: ast.AST) -> ast.AST:
    """`model = Net(); model = model.cuda()`: the value before the device moves."""
    for _ in range(4):
        if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute)
                and expr.func.attr in ("to", "cuda", "cpu", "float", "double", "half", "train", "eval")
                and isinstance(expr.func.value, ast.Name)):
            return expr
        b = facts.binding(expr.func.value.id, expr)
        if b is None or b.value is None or b.conditional or b.unpack is not None:
            return expr
        expr = strip_device(b.value)
    return expr


def predicting_call(facts: Bindings, pred: ast.AST) -> Optional[Tuple[ast.Call, ast.AST]]:
    """(the call, the callee) of a prediction: `out = model(x)` or `model.forward(x)` -> `model`."""
    expr = pred
    if isinstance(expr, ast.Name):
        b = facts.binding(expr.id, expr)
        if b is None or b.value is None or b.conditional or b.unpack is not None:
            return None
        expr = b.value
    if not isinstance(expr, ast.Call):
        return None
    func = expr.func
    if isinstance(func, ast.Attribute) and func.attr == "forward":
        func = func.value
    return expr, func


def called_model(facts: Bindings, func: ast.AST, only_model: Callable[[], Optional[ast.AST]]) -> Optional[ast.AST]:
    """The model object a callee name holds (`model = Net()`); for a parameter, the file's one model."""
    if not isinstance(func, ast.Name):
        return None
    model = facts.value_of(func)
    if model is None and facts.is_param(func):
        model = only_model()
    return model


def imported_torch_output(facts: Bindings, summaries: ImportedSummaries, pred: ast.AST,
                          only_model: Callable[[], Optional[ast.AST]]) -> Optional[Found]:
    """`out = model(x)` (or `model(x)` itself) where `model = Net()` and Net is the project's."""
    if not summaries.active:
        return None
    found = predicting_call(facts, pred)
    if found is None:
        return None
    return imported_model(facts, summaries, called_model(facts, found[1], only_model))


def imported_keras_output(facts: Bindings, summaries: ImportedSummaries, comp: "Compiled") -> Optional[Found]:
    """`model = build_model(); model.compile(...)` where build_model is the project's."""
    if not summaries.active:
        return None
    b = facts.binding(comp.model.id, comp.compile_call)
    if b is None or b.value is None or b.conditional or b.unpack is not None or not isinstance(b.value, ast.Call):
        return None
    found = summaries.definition(b.value.func)
    if found is None or found.definition.framework != "keras" or found.definition.output is None:
        return None
    return found


def imported_backbones(facts: Bindings, summaries: ImportedSummaries, framework: str) -> List[Tuple[ast.Call, Found, Backbone]]:
    """The script's calls of a project definition that builds a pretrained model (`model = build_model(5)`
    with MobileNetV2 inside, `Net()` holding a torchvision resnet50), with each backbone of `framework`."""
    if not summaries.active:
        return []
    out: List[Tuple[ast.Call, Found, Backbone]] = []
    for c in facts.calls:
        if not isinstance(c.node.func, (ast.Name, ast.Attribute)):
            continue
        found = summaries.definition(c.node.func)
        if found is not None:
            out += [(c.node, found, b) for b in found.definition.backbones if b.framework == framework]
    return out
