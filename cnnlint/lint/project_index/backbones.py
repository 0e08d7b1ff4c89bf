"""Pretrained backbones held by a module's definitions, for CNL303 in the scripts that import them:
a builder function (`def build_model(n): base = MobileNetV2(weights="imagenet", ...)`) or a model
class (`self.base = models.resnet50(pretrained=True)` in an `nn.Module`), with the preprocessing
mode of its weights and whether the definition prepares its input itself (`preprocess_input`, a
`Rescaling` layer, a `Normalize`, a mean/std of its own inside: then nothing is judged)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Tuple

from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.models import walk_no_nested
from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.index.pretrained import keras_pretrained, tv_pretrained, used_later
from cnnlint.lint.index.scopes import FUNCTIONS

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

# a definition that may build a pretrained model (its text mentions one of these)
BACKBONE_WORDS = ("weights", "pretrained", "include_top")
# a definition that prepares its own input: its pixels are not judged from the script
_PREPARES = ("preprocess_input", "Rescaling", "Normalization", "Lambda", "127.5", "255", "preprocessing",
             "Normalize", "normalize", "mean", "std", "transforms()")


@dataclass(frozen=True)
class Backbone:
    """A pretrained model a definition builds: `MobileNetV2` (keras) or `models.resnet50` (torch)."""

    name: str
    mode: str  # caffe | tf | internal | other (keras.applications) | torch (torchvision, ImageNet mean/std)
    line: int  # the constructor's call
    prepared: bool  # the definition scales or normalises its input itself

    @property
    def framework(self) -> str:
        return "torch" if self.mode == "torch" else "keras"


def may_hold_backbones(module_text: str) -> bool:
    return "applications" in module_text or "torchvision" in module_text


def definition_backbones(ctx: "FileContext") -> Dict[str, Tuple[int, str, Tuple[Backbone, ...]]]:
    """name -> (line, class | function, its backbones) for the top-level definitions of the context
    that build a pretrained model (a function only when it returns a value)."""
    assert ctx.syntax is not None
    facts = ctx.get(Bindings)
    calls: List[Tuple[ast.Call, str, str]] = keras_pretrained(facts) if facts.keras else []
    calls += [(c.node, dotted_name(c.node.func) or c.tail, "torch") for c in facts.calls
              if tv_pretrained(facts, c.qname, c.node)]
    lines = ctx.source.text.split("\n")
    out: Dict[str, Tuple[int, str, Tuple[Backbone, ...]]] = {}
    for top in ctx.syntax.tree.body:
        if not isinstance(top, (*FUNCTIONS, ast.ClassDef)):
            continue
        end = top.end_lineno or top.lineno
        inside = [(call, name, mode) for call, name, mode in calls
                  if top.lineno <= call.lineno <= end and used_later(facts, call)]
        if not inside:
            continue
        kind = "class" if isinstance(top, ast.ClassDef) else "function"
        if kind == "function" and not any(isinstance(n, ast.Return) and n.value is not None for n in walk_no_nested(top)):
            continue  # builds a model and keeps it: nothing the script can train
        segment = "\n".join(lines[top.lineno - 1:end])
        prepared = any(w in segment for w in _PREPARES)
        out[top.name] = (top.lineno, kind, tuple(Backbone(name, mode, call.lineno, prepared) for call, name, mode in inside))
    return out
