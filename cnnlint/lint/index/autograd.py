"""Autograd calls as the training rules see them: which tensor a `backward()` differentiates, and
which `with` items or decorators switch gradients off (CNL203, CNL204)."""

from __future__ import annotations

import ast
from typing import Optional

from cnnlint.lint.index.call_args import arguments
from cnnlint.lint.index.names import call_tail, dotted_name

_GRAD_OFF = ("no_grad", "inference_mode")


def backward_key(call: ast.Call) -> Optional[str]:
    """The tensor a backward call differentiates: `loss` in `loss.backward()`,
    `scaler.scale(loss).backward()`, `accelerator.backward(loss)`, `self.manual_backward(loss)`."""
    tail = call_tail(call)
    if tail == "backward" and isinstance(call.func, ast.Attribute):
        recv = call.func.value
        if isinstance(recv, ast.Call) and call_tail(recv) == "scale" and (recv.args or recv.keywords):
            return dotted_name(arguments(recv)[0])
        name = dotted_name(recv)
        if name is not None and name.split(".")[-1] not in ("accelerator", "fabric", "engine", "self"):
            return name
        if call.args or call.keywords:
            return dotted_name(arguments(call)[0])
        return None
    if tail == "manual_backward" and (call.args or call.keywords):
        return dotted_name(arguments(call)[0])
    return None


def is_backward(call: ast.Call) -> bool:
    return call_tail(call) in ("backward", "manual_backward")


def disables_grad(expr: ast.AST) -> bool:
    """`torch.no_grad()`, `torch.inference_mode()`, `torch.set_grad_enabled(False)`, `no_grad` decorator."""
    call = expr if isinstance(expr, ast.Call) else None
    name = dotted_name(call.func if call is not None else expr) or ""
    last = name.split(".")[-1]
    if last in _GRAD_OFF:
        return True
    if last == "set_grad_enabled" and call is not None and (call.args or call.keywords):
        value = arguments(call)[0]
        return isinstance(value, ast.Constant) and value.value is False
    return False
