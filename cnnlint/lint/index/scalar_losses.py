"""Which values of a file are 0-dim tensors: a loss that `.backward()` differentiates with no
argument (autograd refuses that on anything but a scalar), or the result of a reducing loss
function of `torch.nn.functional`. `ctx.get(ScalarLosses)`; CNL402 reads it for `loss.data[0]`,
which PyTorch 0.3 allowed and 0.5 (1.0) turned into an IndexError."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Dict, Optional, Set

from cnnlint.lint.index.bindings import Bindings, Scope
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import keyword

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext

# functional losses that return a 0-dim tensor unless told not to reduce
_FUNCTIONAL_LOSSES = frozenset({
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "soft_margin_loss", "multilabel_soft_margin_loss",
    "hinge_embedding_loss", "margin_ranking_loss", "poisson_nll_loss", "multi_margin_loss",
})


class ScalarLosses:
    """An analysis: the names `.backward()` is called on without a `gradient`, per scope."""

    def __init__(self, ctx: "FileContext") -> None:
        self.bindings = ctx.get(Bindings)
        self.imports = ctx.get(ImportTable)
        self._backward: Dict[Scope, Set[str]] = {}
        for site in self.bindings.calls:
            call = site.node
            func = call.func
            if site.tail == "backward" and not call.args and keyword(call, "gradient") is None \
                    and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                self._backward.setdefault(site.scope, set()).add(func.value.id)

    def scalar(self, expr: ast.AST) -> Optional[str]:
        """Why `expr` is a 0-dim tensor (`loss.backward()` / `F.nll_loss(...)`), None when not known."""
        if isinstance(expr, ast.Name):
            if expr in self.bindings.orders and expr.id in self._backward.get(self.bindings.scope_of(expr), ()):
                return f"`{expr.id}.backward()` differentiates it"
            return None
        if isinstance(expr, ast.Call):
            qualified = self.imports.qualify(expr.func) or ""
            module, _, name = qualified.rpartition(".")
            if module == "torch.nn.functional" and name in _FUNCTIONAL_LOSSES:
                reduction = keyword(expr, "reduction")
                reduce = keyword(expr, "reduce")
                if reduction is not None and not (isinstance(reduction.value, ast.Constant)
                                                  and reduction.value.value in ("mean", "sum")):
                    return None
                if reduce is not None and not (isinstance(reduce.value, ast.Constant) and reduce.value.value is True):
                    return None
                return f"`{name}` returns one number"
        return None
