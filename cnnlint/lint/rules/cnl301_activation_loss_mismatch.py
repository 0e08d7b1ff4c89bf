"""CNL301 activation-loss-mismatch: the model's output activation and the loss disagree."""

from __future__ import annotations

import ast
from typing import List, Optional, Set, Tuple

from cnnlint.findings import Severity
from cnnlint.lint.index.bindings import Bindings, CallSite, argument, nth_positional
from cnnlint.lint.index.blocks import Blocks
from cnnlint.lint.index.models import (
    Compiled,
    KerasCompiled,
    Loss,
    Out,
    TorchModels,
    TorchOut,
    DEVICE_MOVES,
    keras_layer,
    label,
    out_text,
    strip_device,
    torch_name,
    walk_no_nested,
)
from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.project_index.imported import ImportedSummaries
from cnnlint.lint.project_index.verdicts import (
    called_model,
    imported_keras_output,
    imported_torch_output,
    is_torch_class,
    predicting_call,
    through_moves,
)
from cnnlint.lint.rule import Rule
from cnnlint.sources.model import SourceFile

TORCH_LOSS = {
    "CrossEntropyLoss": "ce", "cross_entropy": "ce",
    "NLLLoss": "nll", "nll_loss": "nll",
    "BCEWithLogitsLoss": "bcel", "binary_cross_entropy_with_logits": "bcel",
    "BCELoss": "bce", "binary_cross_entropy": "bce",
}
_ONE_UNIT_HINT = (
    'for two classes use Dense(1, activation="sigmoid") with binary_crossentropy, '
    'or Dense(2, activation="softmax") with a categorical loss'
)
_MODEL_SOURCES = ("torchvision.models", "timm.", "transformers.", "segmentation_models")


class ActivationLossMismatch(Rule):
    code = "CNL301"
    name = "activation-loss-mismatch"
    severity = Severity.ERROR
    summary = ("The model's output activation and the loss disagree "
               "(softmax with from_logits=True, logits into a probability loss)")
    uses = (Bindings, KerasCompiled, Blocks, ImportedSummaries)

    @classmethod
    def applies(cls, source: SourceFile) -> bool:
        text = source.text
        return any(k in text for k in ("ntropy", "from_logits", "softmax", "Softmax", "BCE", "nll", "NLL", "cross_entropy"))

    def check(self) -> None:
        facts = self.ctx.get(Bindings)
        self._the_loss: Optional[Tuple[Optional[ast.Call]]] = None
        self._the_model: Optional[Tuple[Optional[ast.Call]]] = None
        if facts.keras:
            self._keras(facts)
        if facts.torch:
            self._torch(facts)

    # ---- Keras

    def _keras(self, facts: Bindings) -> None:
        reported: Set[int] = set()
        for c in facts.calls:
            if c.tail != "Dense":
                continue
            out = keras_layer(facts, c.node)
            if out is not None and out.kind == "softmax" and out.units == 1:
                reported.add(id(c.node))
                self.report(
                    c.node,
                    f'`{label(facts, c.node)}` always outputs 1.0: a softmax over a single unit normalises it '
                    "to one, so the loss is constant and the model cannot learn",
                    _ONE_UNIT_HINT,
                )
        for comp in self.ctx.get(KerasCompiled).models:
            out, loss = comp.out, comp.loss
            if out is None:
                self._keras_imported(facts, comp)
                continue
            if out.kind == "softmax" and out.units == 1 and id(out.layer) not in reported and out.dense is not None:
                reported.add(id(out.layer))
                self.report(
                    out.layer,
                    f"{out_text(facts, out)} always outputs 1.0: a softmax over a single unit normalises it to one, "
                    "so the loss is constant and the model cannot learn",
                    _ONE_UNIT_HINT,
                )
                continue
            if loss is None:
                continue
            if out.kind in ("softmax", "sigmoid") and loss.from_logits is True:
                target = loss.logits_arg if loss.logits_arg is not None else loss.node
                self.report(
                    target,
                    f"`{comp.model.id}` ends in {out_text(facts, out)}, which outputs probabilities, but "
                    f"`{loss.text}` treats its input as logits and applies {out.kind} again: the loss is computed "
                    "on squashed values and training stalls",
                    f"remove from_logits=True (or drop the {out.kind} from the last layer and keep from_logits=True)",
                )
            elif out.kind == "linear" and loss.from_logits is False:
                self.report(
                    loss.node,
                    f"`{comp.model.id}` ends in {out_text(facts, out)} with no activation (raw logits), but "
                    f"`{loss.text}` expects probabilities (from_logits=False): the loss is computed on "
                    "unnormalised scores and training goes wrong",
                    self._linear_hint(loss),
                )
            elif out.kind == "sigmoid" and loss.kind == "cce" and loss.from_logits is False:
                self._sigmoid_categorical(facts, comp.model.id, out, loss)

    def _sigmoid_categorical(self, facts: Bindings, model: str, out: Out, loss: Loss) -> None:
        """Sigmoid outputs under categorical cross-entropy: Keras divides them by their sum."""
        if out.units == 1:
            self.report(
                out.layer,
                f"`{model}` ends in {out_text(facts, out)}, a single sigmoid unit, but `{loss.text}` divides the "
                "outputs by their sum over the units: one unit always becomes 1.0, the loss is always 0 and the "
                "model learns nothing",
                'use loss="binary_crossentropy" with one sigmoid unit',
            )
            return
        self.report(
            out.layer,
            f"`{model}` ends in {out_text(facts, out)}, whose units are independent yes/no probabilities, but "
            f"`{loss.text}` expects one distribution over the classes (a softmax): the sigmoid outputs do not "
            "sum to 1 and do not compete, so training optimises the wrong objective",
            'use activation="softmax" for one label per image (binary_crossentropy for multi-label)',
        )

    def _keras_imported(self, facts: Bindings, comp: Compiled) -> None:
        """The compiled model comes from a function of the project (`model = build_model()`)."""
        found, loss = imported_keras_output(facts, self.ctx.get(ImportedSummaries), comp), comp.loss
        if found is None or found.definition.output is None or loss is None:
            return
        out = found.definition.output
        made = f"`{comp.model.id}` is built by {found.where()}, which ends in `{out.text}` ({found.where(out.line)})"
        if out.kind in ("softmax", "sigmoid") and loss.from_logits is True:
            self.report(
                loss.logits_arg if loss.logits_arg is not None else loss.node,
                f"{made}, which outputs probabilities, but `{loss.text}` treats its input as logits and applies "
                f"{out.kind} again: the loss is computed on squashed values and training stalls",
                f"remove from_logits=True (or drop the {out.kind} from the last layer and keep from_logits=True)",
            )
        elif out.kind == "linear" and loss.from_logits is False:
            self.report(
                loss.node,
                f"{made} with no activation (raw logits), but `{loss.text}` expects probabilities "
                "(from_logits=False): the loss is computed on unnormalised scores and training goes wrong",
                self._linear_hint(loss),
            )

    @staticmethod
    def _linear_hint(loss: Loss) -> str:
        cls = {"cce": "CategoricalCrossentropy", "scce": "SparseCategoricalCrossentropy", "bce": "BinaryCrossentropy"}[loss.kind]
        act = "sigmoid" if loss.kind == "bce" else "softmax"
        return f'use loss=keras.losses.{cls}(from_logits=True), or add activation="{act}" to the last Dense layer'

    # ---- PyTorch

    def _torch(self, facts: Bindings) -> None:
        models = TorchModels(facts)
        done: Set[int] = set()
        for c in facts.calls:
            loss_kind, loss_node = self._loss_at(facts, c)
            if loss_kind is None or loss_node is None:
                continue
            pred = nth_positional(c.node, 0) or argument(c.node, "input")
            if pred is None:
                continue
            out = self._prediction(facts, models, pred)
            if out is None:
                self._torch_imported(facts, models, c, loss_kind, loss_node, pred)
                continue
            if id(out.node) in done:
                continue
            if self._judge(facts, c, loss_kind, loss_node, out):
                done.add(id(out.node))

    def _judge(self, facts: Bindings, c: CallSite, loss_kind: str, loss_node: ast.AST, out: TorchOut) -> bool:
        where = label(facts, loss_node) if isinstance(loss_node, ast.Call) else (dotted_name(loss_node) or "the loss")
        if out.kind == "softmax" and loss_kind in ("ce", "nll"):
            expects = "raw logits (it applies log_softmax itself)" if loss_kind == "ce" else "log-probabilities (log_softmax)"
            self.report(
                out.node,
                f"the model's output goes through `{label(facts, out.node)}` before `{where}`, which expects "
                f"{expects}: the loss is computed on probabilities, gradients nearly vanish and training stalls",
                "return the raw output of the last Linear layer (apply softmax only for predictions)"
                if loss_kind == "ce" else "use log_softmax instead of softmax before NLLLoss",
            )
        elif out.kind == "sigmoid" and loss_kind == "bcel":
            self.report(
                out.node,
                f"the model's output goes through `{label(facts, out.node)}` before `{where}`, which applies "
                "the sigmoid itself: the loss sees sigmoid(sigmoid(x)), always between 0.5 and 0.73, and "
                "training stalls",
                "return the raw output of the last Linear layer, or keep the sigmoid and use BCELoss",
            )
        elif out.kind == "linear" and loss_kind == "bce":
            self.report(
                loss_node,
                f"`{where}` expects probabilities in [0, 1], but the model ends in `{label(facts, out.node)}` "
                "with no sigmoid (raw logits): the loss fails or is meaningless on values outside [0, 1]",
                "use BCEWithLogitsLoss (numerically stable, applies the sigmoid itself)",
            )
        else:
            return False
        return True

    def _torch_imported(self, facts: Bindings, models: TorchModels, c: CallSite, loss_kind: str,
                        loss_node: ast.AST, pred: ast.AST) -> None:
        """The prediction comes from a model class of the project (`from model import Net`)."""
        found = imported_torch_output(facts, self.ctx.get(ImportedSummaries), pred, lambda: self._only_model(facts, models))
        if found is None or found.definition.output is None:
            return
        out = found.definition.output
        where = label(facts, loss_node) if isinstance(loss_node, ast.Call) else (dotted_name(loss_node) or "the loss")
        ends = f"{found.where(out.line)} ends in `{out.text}`"
        if out.kind == "softmax" and loss_kind in ("ce", "nll"):
            expects = "raw logits (it applies log_softmax itself)" if loss_kind == "ce" else "log-probabilities (log_softmax)"
            self.report(c.node, f"the model's output goes through a softmax ({ends}) before `{where}`, which expects "
                        f"{expects}: the loss is computed on probabilities, gradients nearly vanish and training stalls",
                        f"return the raw output of the last Linear layer in {found.module}" if loss_kind == "ce"
                        else f"use log_softmax instead of softmax in {found.module}")
        elif out.kind == "sigmoid" and loss_kind == "bcel":
            self.report(c.node, f"the model's output goes through a sigmoid ({ends}) before `{where}`, which applies "
                        "the sigmoid itself: the loss sees sigmoid(sigmoid(x)), always between 0.5 and 0.73, and "
                        "training stalls", f"return the raw output of the last Linear layer in {found.module}")
        elif out.kind == "linear" and loss_kind == "bce":
            self.report(c.node, f"`{where}` expects probabilities in [0, 1], but {ends} with no sigmoid (raw "
                        "logits): the loss fails or is meaningless on values outside [0, 1]",
                        "use BCEWithLogitsLoss (numerically stable, applies the sigmoid itself)")

    def _loss_at(self, facts: Bindings, c: CallSite) -> Tuple[Optional[str], Optional[ast.AST]]:
        """(kind, node describing the loss) when the call computes a known loss."""
        func = c.node.func
        # `F.cross_entropy(...)`: an attribute (names are qualified at their head only, so the
        # torch name is the attribute's own)
        if isinstance(func, ast.Attribute) and func.attr in TORCH_LOSS and func.attr[0].islower():
            if torch_name(facts, func) == func.attr and "." in (dotted_name(func) or ""):
                return TORCH_LOSS[func.attr], c.node
        if isinstance(func, (ast.Name, ast.Attribute)):
            key = func.id if isinstance(func, ast.Name) else (dotted_name(func) or "")
            named = isinstance(func, ast.Name) or key.startswith("self.")
            if key not in facts.binds and not (isinstance(func, ast.Name) and facts.is_param(func)):
                return None, None  # never bound in the file (`print`, `len`, `torch.cat`): no loss object
            value = facts.value_of(func) if named else None
            if value is None and isinstance(func, ast.Name) and facts.is_param(func):
                value = self._only_loss(facts)
            if isinstance(value, ast.Call):
                value = through_moves(facts, value)  # `criterion = criterion.cuda()`
            if isinstance(value, ast.Call):
                lname = torch_name(facts, value.func)
                if lname in TORCH_LOSS and lname[0].isupper():  # type: ignore[index]
                    return TORCH_LOSS[lname], value  # type: ignore[index]
        return None, None

    def _only_loss(self, facts: Bindings) -> Optional[ast.Call]:
        if self._the_loss is None:
            losses = [
                c.node for c in facts.calls
                if c.tail in TORCH_LOSS and c.tail[0].isupper() and torch_name(facts, c.node.func) == c.tail
            ]
            self._the_loss = (losses[0] if len(losses) == 1 else None,)
        return self._the_loss[0]

    def _prediction(self, facts: Bindings, models: TorchModels, expr: ast.AST) -> Optional[TorchOut]:
        found = predicting_call(facts, expr)
        if found is None:
            return None
        call, func = found
        if isinstance(func, ast.Name) and func.id == "self":
            scope = facts.scope_of(call)
            cls = facts.class_of_scope.get(id(scope)) if scope is not None else None
            return models.class_output(cls, 0) if cls is not None and cls.name in models.module_classes else None
        model = self._built(facts, models, called_model(facts, func, lambda: self._only_model(facts, models)))
        return models.module_output(model) if model is not None else None

    def _built(self, facts: Bindings, models: TorchModels, model: Optional[ast.AST]) -> Optional[ast.AST]:
        """The constructor behind a model: through `model = model.to(device)` and a builder function
        of this file with one return (`def make_model(): return nn.Sequential(...)`)."""
        for _ in range(4):
            model = strip_device(model) if model is not None else None
            if not isinstance(model, ast.Call) or not isinstance(model.func, (ast.Name, ast.Attribute)):
                return model
            func = model.func
            if isinstance(func, ast.Attribute) and func.attr in DEVICE_MOVES and isinstance(func.value, ast.Name):
                model = facts.value_of(func.value)  # `model = model.to(device)`: the earlier binding
                continue
            if not isinstance(func, ast.Name) or func.id in models.module_classes:
                return model
            defs = self.ctx.get(Blocks).functions.get(func.id, [])
            returns = [n for n in walk_no_nested(defs[0]) if isinstance(n, ast.Return)] if len(defs) == 1 else []
            if len(returns) != 1 or returns[0].value is None:
                return model
            value = returns[0].value
            model = facts.value_of(value) if isinstance(value, ast.Name) else value
        return model

    def _only_model(self, facts: Bindings, models: TorchModels) -> Optional[ast.Call]:
        """The one model this file builds, when a loop receives it as a parameter."""
        if self._the_model is None:
            inside = {id(m) for cls in models.module_classes.values() for m in cls.body}
            imported = self.ctx.get(ImportedSummaries)
            built: List[ast.Call] = [
                c.node for c in facts.calls
                if (isinstance(c.node.func, ast.Name) and c.node.func.id in models.module_classes)
                or is_torch_class(imported.definition(c.node.func))
            ]
            # `net.load_state_dict(torch.load(p))` loads weights into the model, not another model
            weights = {id(n) for c in facts.calls if c.tail == "load_state_dict"
                       for a in c.node.args for n in ast.walk(a)}
            others = [
                c for c in facts.calls
                if c.qname.startswith(_MODEL_SOURCES)
                or (c.tail in ("from_pretrained", "load", "load_state_dict_from_url", "create_model")
                    and id(c.node) not in weights)
                or (c.tail == "Sequential" and id(c.scope) not in inside)
            ]
            self._the_model = (built[0] if len(built) == 1 and not others else None,)
        return self._the_model[0]
