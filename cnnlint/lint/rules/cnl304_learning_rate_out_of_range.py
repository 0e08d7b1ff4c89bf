"""CNL304 learning-rate-out-of-range: a literal learning rate no optimizer can train with."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional

from cnnlint.findings import Severity
from cnnlint.lint.index.bindings import Bindings, argument, nth_positional
from cnnlint.lint.index.models import KERAS_ROOTS, keras_name
from cnnlint.lint.index.names import keyword
from cnnlint.lint.index.source_text import full_code
from cnnlint.lint.rule import Rule
from cnnlint.sources.model import SourceFile

# optimizer class -> family; thresholds: family -> (too high at or above, or None)
_OPT_FAMILY = {
    "SGD": "sgd", "ASGD": "sgd",
    "Adam": "adam", "AdamW": "adam", "Adamax": "adam", "Nadam": "adam", "NAdam": "adam", "RAdam": "adam",
    "SparseAdam": "adam", "Lion": "adam", "RMSprop": "rmsprop",
    "Adagrad": "other", "Adadelta": "other", "Ftrl": "other", "LBFGS": "other", "Rprop": "other",
    "Adafactor": "other", "Lamb": "other", "Muon": "other", "LossScaleOptimizer": None,
}
_HIGH = {"sgd": 1.0, "adam": 0.1, "rmsprop": 0.1}
_LOW = 1e-7
_TYPICAL = {"sgd": "0.001-0.1", "adam": "1e-5-1e-2", "rmsprop": "1e-4-1e-2"}
_KERAS_SCHEDULES = {"ExponentialDecay", "InverseTimeDecay", "PolynomialDecay", "CosineDecay", "CosineDecayRestarts"}
_LR_OVERRIDES = re.compile(
    r"\[\s*['\"]lr['\"]\s*\]\s*=|OneCycleLR|CyclicLR|LearningRateScheduler|set_value\(|learning_rate\.assign|lr\.assign|"
    r"adjust_learning_rate|adjust_lr|LRFinder|lr_find|find_lr"
)


@dataclass
class Optimizer:
    call: ast.Call
    name: str
    family: str
    framework: str  # keras | torch


def _is_number_literal(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


class LearningRateOutOfRange(Rule):
    code = "CNL304"
    name = "learning-rate-out-of-range"
    severity = Severity.WARNING
    summary = "A literal learning rate far outside the range the optimizer can train with"
    uses = (Bindings,)

    @classmethod
    def applies(cls, source: SourceFile) -> bool:
        text = source.text
        return "optim" in text and ("lr" in text or "learning_rate" in text or "Adam" in text or "SGD" in text
                                    or "RMSprop" in text or "Nadam" in text or "Lion" in text)

    def check(self) -> None:
        facts = self.ctx.get(Bindings)
        if not (facts.keras or facts.torch):
            return
        overridden = _LR_OVERRIDES.search(facts.text) is not None
        for c in facts.calls:
            opt = self._optimizer(c.qname, c.node)
            if opt is None:
                continue
            lr_arg = self._lr_arg(opt)
            if lr_arg is None:
                continue
            value = lr_arg.value if isinstance(lr_arg, ast.keyword) else lr_arg
            target = facts.value_of(value) if isinstance(value, ast.Name) else value
            if isinstance(target, ast.Call) and opt.framework == "keras":
                self._schedule(facts, opt, target)
                continue
            if overridden:
                continue
            lr = facts.number(value)
            if lr is None:
                continue
            self._judge(facts, opt, lr, value, "learning rate")
        if not overridden or "OneCycleLR" in facts.text:
            self._one_cycle(facts)

    @staticmethod
    def _optimizer(qname: str, call: ast.Call) -> Optional[Optimizer]:
        parts = qname.split(".")
        if len(parts) < 2:
            return None
        name = parts[-1]
        family = _OPT_FAMILY.get(name)
        if family is None:
            return None
        if parts[0] == "torch" and "optim" in parts:
            return Optimizer(call, name, family, "torch")
        if parts[0] in KERAS_ROOTS and "optimizers" in parts:
            return Optimizer(call, name, family, "keras")
        return None

    @staticmethod
    def _lr_arg(opt: Optimizer) -> Optional[ast.AST]:
        """The learning-rate argument: a keyword, or the positional expression."""
        if opt.framework == "torch":
            return keyword(opt.call, "lr") or nth_positional(opt.call, 1)
        return keyword(opt.call, "learning_rate") or keyword(opt.call, "lr") or nth_positional(opt.call, 0)

    def _judge(self, facts: Bindings, opt: Optimizer, lr: float, node: ast.AST, what: str) -> None:
        src = full_code(facts.syntax, node)
        shown = src if _is_number_literal(node) else f"`{src}` = {lr:g}"
        high = _HIGH.get(opt.family)
        if high is not None and lr >= high:
            self.report(
                node,
                f"{what} {shown} for `{opt.name}` is far too high (typical range {_TYPICAL[opt.family]}): "
                "the first updates blow the weights up and the loss becomes NaN or never falls",
                f"start from {'0.01-0.1' if opt.family == 'sgd' else '1e-3'} and tune from there",
            )
        elif 0 <= lr <= _LOW:
            self.report(
                node,
                f"{what} {shown} for `{opt.name}` is so small that the weights barely move: "
                "training runs but the model does not learn",
                "use a learning rate of at least 1e-6 (1e-5 to 1e-3 for fine-tuning)",
            )

    def _schedule(self, facts: Bindings, opt: Optimizer, sched: ast.Call) -> None:
        name = keras_name(facts, sched.func)
        if name not in _KERAS_SCHEDULES:
            return
        warmup = keyword(sched, "warmup_target")
        if name == "CosineDecay" and warmup is not None:
            arg: Optional[ast.AST] = warmup.value
        else:
            arg = argument(sched, "initial_learning_rate", 0)
        if arg is None:
            return
        lr = facts.number(arg)
        if lr is None:
            return
        self._judge(facts, opt, lr, arg, f"`{name}` learning rate")

    def _one_cycle(self, facts: Bindings) -> None:
        for c in facts.calls:
            if c.tail != "OneCycleLR" or not c.qname.startswith("torch."):
                continue
            arg = argument(c.node, "max_lr", 1)
            opt_arg = argument(c.node, "optimizer", 0)
            if arg is None or opt_arg is None:
                continue
            lr = facts.number(arg)
            opt_call = facts.value_of(opt_arg) if isinstance(opt_arg, ast.Name) else opt_arg
            if lr is None or not isinstance(opt_call, ast.Call):
                continue
            opt = self._optimizer(facts.q(opt_call.func), opt_call)
            if opt is None:
                continue
            if opt.family == "sgd" and lr > _LOW:
                continue  # super-convergence runs SGD with max_lr of 1 to 3
            self._judge(facts, opt, lr, arg, "`OneCycleLR` max_lr")
