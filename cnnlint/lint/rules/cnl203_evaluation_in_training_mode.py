"""CNL203 evaluation-in-training-mode: evaluation runs with the model in training mode, or with
autograd on, or `eval()` is never undone inside the training loop.

Judged per loop with the file's statement index (`Blocks`). The rule speaks only when the
evidence is in the file: a model whose construction this file shows to hold dropout or batch
norm (`TorchModes`).
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Set, Tuple

from cnnlint.findings import Severity
from cnnlint.lint.index.augment import word_kind
from cnnlint.lint.index.call_args import arguments
from cnnlint.lint.index.autograd import disables_grad, is_backward
from cnnlint.lint.index.blocks import FUNCTIONS, WITHS, Block, Blocks, expr_nodes, own_nodes
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import all_args, call_tail, dotted_name, string_value
from cnnlint.lint.index.source_text import short_code
from cnnlint.lint.index.syntax import walk
from cnnlint.lint.index.torch_modes import TorchModes
from cnnlint.lint.project_index.imported import ImportedSummaries, helper
from cnnlint.lint.project_index.modes import effects, evaluates_elsewhere
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

_MC = re.compile(r"(?i)mc[_ ]?dropout|monte[_ ]?carlo|enable_dropout|bayesian")
# (kind, node or name, site in the loop)
Event = Tuple[str, object, ast.AST]


def _iter_kind(expr: ast.AST) -> Optional[str]:
    """"val" when a loop iterates a validation/test loader (`val_loader`, `dataloaders["val"]`)."""
    node = expr
    if isinstance(node, ast.Call):
        if call_tail(node) in ("enumerate", "tqdm", "zip", "iter") and (node.args or node.keywords):
            values = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
            kinds = {_iter_kind(v) for v in values + [kw.value for kw in node.keywords if kw.arg is None]}
            if "train" in kinds:
                return "train"
            return "val" if "val" in kinds else None
        return None
    if isinstance(node, ast.Subscript) and not isinstance(node.slice, (ast.Tuple, ast.Slice)):
        key = string_value(node.slice)
        return word_kind(key) if key is not None else None
    name = dotted_name(node)
    return word_kind(name.split(".")[-1]) if name is not None else None


def _calls(node: "ast.AST | Block") -> Iterator[ast.Call]:
    nodes: List[ast.AST] = list(node) if isinstance(node, list) else [node]
    for stmt in nodes:
        for n in walk(stmt):
            if isinstance(n, ast.Call):
                yield n


def _param_names(fn: ast.AST) -> Set[str]:
    return {p.arg for p in all_args(fn.args)}  # type: ignore[attr-defined]


def _rename(expr: ast.AST, env: Dict[str, str]) -> Optional[str]:
    """The dotted name of `expr`, a helper's parameter standing for the caller's argument
    (`net.eval()` -> `model`)."""
    name = dotted_name(expr)
    if name is None or not env:
        return name
    head, _, rest = name.partition(".")
    if head in env:
        return env[head] + ("." + rest if rest else "")
    return name


def _bind_args(fn: ast.AST, call: ast.Call, env: Dict[str, str]) -> Dict[str, str]:
    out: Dict[str, str] = {}
    params = [p.arg for p in (*fn.args.posonlyargs, *fn.args.args)]  # type: ignore[attr-defined]
    pos = [a for a in call.args if not isinstance(a, ast.Starred)]
    for name, arg in zip(params, pos):
        value = _rename(arg, env)
        if value is not None:
            out[name] = value
    for kw in call.keywords:
        if kw.arg is not None:
            value = _rename(kw.value, env)
            if value is not None:
                out[kw.arg] = value
    return out


class EvaluationInTrainingMode(Rule):
    code = "CNL203"
    name = "evaluation-in-training-mode"
    severity = Severity.WARNING
    summary = "Evaluation runs with the model in training mode, or with autograd on, or eval() is never undone"
    uses = (Blocks, TorchModes, ImportTable, ImportedSummaries)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = source.text
        return "torch" in text and ("no_grad" in text or "eval()" in text or "val" in text or "test" in text)

    def check(self) -> None:
        index = self.ctx.get(Blocks)
        text = self.ctx.source.text
        self.index = index
        self.models = self.ctx.get(TorchModes)
        self.found: List[Tuple[ast.AST, str, str]] = []
        self.mc = bool(_MC.search(text))
        self.evals_anywhere = ".eval()" in text or "train(False)" in text or "train(mode=False)" in text
        self.grad_anywhere = any(w in text for w in ("no_grad", "inference_mode", "set_grad_enabled"))
        self._evals_in_helpers: Optional[bool] = None
        for loop in index.loops:
            if isinstance(loop, (ast.For, ast.AsyncFor)):
                self.check_eval_loop(loop)
            self.check_epoch_loop(loop)
        seen: Set[int] = set()
        for node, message, hint in self.found:
            if id(node) not in seen:
                seen.add(id(node))
                self.report(node, message, hint)

    # -- helpers ------------------------------------------------------------

    def enclosing_function(self, stmt: ast.AST) -> Optional[ast.AST]:
        cur = self.index.enclosing(stmt)
        while cur is not None and not isinstance(cur, FUNCTIONS):
            cur = self.index.enclosing(cur)
        return cur

    def under_no_grad(self, loop: ast.AST) -> bool:
        cur = self.index.enclosing(loop)
        while cur is not None:
            if isinstance(cur, WITHS) and any(disables_grad(i.context_expr) for i in cur.items):
                return True
            if isinstance(cur, FUNCTIONS):
                return any(disables_grad(d) for d in cur.decorator_list)
            cur = self.index.enclosing(cur)
        return False

    def model_called(self, loop: "ast.For | ast.AsyncFor") -> Optional[Tuple[str, ast.Call]]:
        for node in expr_nodes(loop.body):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                name = dotted_name(node.func)
                if name is not None and self.models.has_mode_layers(name):
                    return name, node
        return None

    def preceding(self, stmt: ast.AST) -> Iterator[ast.stmt]:
        """Statements before `stmt`, nearest first, up through its enclosing blocks to the def."""
        for block, i in self.index.path(stmt):
            yield from reversed(block[:i])

    # -- evaluation loops ---------------------------------------------------------

    def check_eval_loop(self, loop: "ast.For | ast.AsyncFor") -> None:
        if any(is_backward(c) or call_tail(c) == "step" for c in _calls(loop.body)):
            return
        kind = _iter_kind(loop.iter)
        no_grad = self.under_no_grad(loop)
        if kind == "train" or (kind != "val" and not no_grad):
            return
        called = self.model_called(loop)
        if called is None:
            return
        model, call = called
        fn = self.enclosing_function(loop)
        if fn is not None and model.split(".")[0] in _param_names(fn):
            return
        loader = short_code(self.index.syntax, loop.iter, 40)
        if not self.evals_anywhere and not self.mc and not self.train_right_before(loop, model) \
                and not self.evals_in_helpers():
            origin = self.models.imported_from(model)  # the class in another module of the project
            self.found.append((
                loop.iter,
                f"the evaluation loop over `{loader}` calls `{model}`"
                + (f" (`{origin}` holds dropout or batch norm)" if origin else "")
                + " in training mode: nothing in this file calls "
                f"`{model}.eval()`, so dropout stays active and batch norm normalizes with (and updates) batch "
                f"statistics",
                f"call `{model}.eval()` before the loop (and `{model}.train()` before training resumes)",
            ))
            return
        if kind == "val" and not no_grad and not self.grad_anywhere and self.eval_before(loop, model):
            self.found.append((
                loop.iter,
                f"the evaluation loop over `{loader}` runs `{model}` with autograd on: every forward pass records "
                f"its graph and keeps activations for a backward() that never comes (more memory, slower)",
                "wrap the loop in `with torch.no_grad():` (or `torch.inference_mode()`)",
            ))

    def evals_in_helpers(self) -> bool:
        """A call of the file runs a project helper that puts a model in eval mode (engine.py's evaluate)."""
        if self._evals_in_helpers is None:
            assert self.ctx.syntax is not None
            self._evals_in_helpers = evaluates_elsewhere(self.ctx, list(_calls(self.ctx.syntax.tree)))
        return self._evals_in_helpers

    def train_right_before(self, loop: ast.AST, model: str) -> bool:
        """`model.train()` before the loop with no training in between: dropout on purpose (MC dropout)."""
        for prev in self.preceding(loop):
            for c in _calls(prev):
                if is_backward(c):
                    return False
                if call_tail(c) == "train" and isinstance(c.func, ast.Attribute) and dotted_name(c.func.value) == model:
                    return True
        return False

    def eval_before(self, loop: "ast.For | ast.AsyncFor", model: str) -> bool:
        def is_eval(c: ast.Call) -> bool:
            return call_tail(c) == "eval" and isinstance(c.func, ast.Attribute) and dotted_name(c.func.value) == model

        if any(is_eval(c) for c in _calls(loop.body)):
            return True
        return any(is_eval(c) for prev in self.preceding(loop) for c in _calls(prev))

    # -- eval() never undone --------------------------------------------------------

    def check_epoch_loop(self, loop: ast.stmt) -> None:
        events: List[Event] = []
        self._scan(loop.body, {}, None, 0, events, set())  # type: ignore[attr-defined]
        if any(kind == "opaque" for kind, _, _ in events):
            return
        if not any(kind == "back" for kind, _, _ in events) or any(kind == "train" for kind, _, _ in events):
            return
        trained: Set[str] = {str(n or "") for kind, n, _ in events if kind == "model"}
        for kind, node, site in events:
            if kind != "eval":
                continue
            model = str(node or "")
            if model not in trained or not self.models.has_mode_layers(model):
                continue
            if any(kind2 == "bind" and n == model for kind2, n, _ in events):
                continue
            shown = short_code(self.index.syntax, site, 48)
            self.found.append((
                site,
                f"`{shown}` puts `{model}` in eval mode inside the training loop and nothing puts it back: from "
                f"the next iteration on it trains with dropout off and batch norm frozen",
                f"call `{model}.train()` at the start of each training epoch",
            ))
            return

    def _scan(self, block: Block, env: Dict[str, str], site: Optional[ast.AST], depth: int,
              events: List[Event], stack: Set[int]) -> None:
        for unit in self.index.flat(block, enter_loops=True):
            if isinstance(unit, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = unit.targets if isinstance(unit, ast.Assign) else [unit.target]
                for t in targets:
                    events.append(("bind", _rename(t, env), site or unit))
            for node in own_nodes(unit):
                if isinstance(node, ast.Call):
                    self._scan_call(node, env, site, depth, events, stack)

    def _scan_call(self, node: ast.Call, env: Dict[str, str], site: Optional[ast.AST], depth: int,
                   events: List[Event], stack: Set[int]) -> None:
        tail = call_tail(node) or ""
        here = site or node
        if is_backward(node):
            events.append(("back", node, here))
        recv = node.func.value if isinstance(node.func, ast.Attribute) else None
        if tail == "train":
            events.append(("train", node, here))
        elif tail == "eval" and recv is not None and not arguments(node):
            events.append(("eval", _rename(recv, env), here))
        elif isinstance(node.func, (ast.Name, ast.Attribute)) and any(not isinstance(a, ast.Starred) for a in node.args):
            events.append(("model", _rename(node.func, env), here))
        local = isinstance(node.func, ast.Name) and bool(self.index.functions.get(node.func.id))
        for kind, arg in ([] if local else effects(self.ctx, node)):  # a helper of the project's modules
            events.append((kind, _rename(arg, env) if arg is not None else node, here))
        if "train" in tail.lower() and tail != "train":
            fns = self.index.functions.get(tail, []) if isinstance(node.func, ast.Name) else []
            if not fns and helper(self.ctx, node) is None:
                events.append(("opaque", node, here))
        if isinstance(node.func, ast.Name) and depth < 3:
            for fn in self.index.functions.get(node.func.id, []):
                if id(fn) in stack:
                    continue
                inner = _bind_args(fn, node, env)
                self._scan(fn.body, inner, here, depth + 1, events, stack | {id(fn)})  # type: ignore[attr-defined]
