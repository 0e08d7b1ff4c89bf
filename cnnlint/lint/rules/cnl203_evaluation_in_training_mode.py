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

from packaging.version import Version

from cnnlint.findings import Severity
from cnnlint.lint.index.augment import word_kind
from cnnlint.lint.index.call_args import arguments
from cnnlint.lint.index.autograd import disables_grad, is_backward
from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.blocks import FUNCTIONS, WITHS, Block, Blocks, expr_nodes, own_calls
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import all_args, call_tail, dotted_name, is_falsy_literal, string_value
from cnnlint.lint.index.pins import FilePins
from cnnlint.lint.index.source_text import short_code
from cnnlint.lint.index.statements import definitions_in_force
from cnnlint.lint.index.syntax import walk
from cnnlint.lint.index.torch_modes import TorchModes
from cnnlint.lint.project import allowed_minors
from cnnlint.lint.project_index.imported import ImportedSummaries, helper
from cnnlint.lint.project_index.modes import effects, evaluates_elsewhere
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

# a constructor argument that gives a model built elsewhere dropout or batch norm
_MODE_ARG = re.compile(r"(?i)drop|batch_?norm|^bn$|_bn$|^use_bn|norm_layer")
_MOVES = ("to", "cuda", "cpu", "half", "float", "double")
_MC = re.compile(r"(?i)mc[_ ]?dropout|monte[_ ]?carlo|enable_dropout|bayesian")
# the same words for lower-cased ASCII text: a case-blind pattern is tried at every position of
# the file, this one skips to the letters its words start with (0.27 -> 0.06 CPU s on the corpus)
_MC_LOWER = re.compile(r"mc[_ ]?dropout|monte[_ ]?carlo|enable_dropout|bayesian")
# `.train(...)` with an argument that may be False (`train(False)`, `train(phase == "train")`)
_MODE_SWITCH = re.compile(r"\.train\((?!\s*\)|\s*(?:mode\s*=\s*)?True\s*\))")
# what an evaluation loop that needs gradients writes (`x.requires_grad_()`, `torch.autograd.grad(...)`, `x.grad`)
_WANTS_GRAD = ("requires_grad", "requires_grad_", "grad", "retain_grad")
_VOLATILE = re.compile(r"\bvolatile\s*=\s*True\b")
# `Variable(x, volatile=True)` turned autograd off until PyTorch 0.4, which ignores it (with a warning)
_VOLATILE_IGNORED = Version("0.4")
# (kind, node or name, site in the loop)
Event = Tuple[str, object, ast.AST]


def _iter_kind(expr: ast.AST) -> Optional[str]:
    """"val" when a loop iterates a validation/test loader (`val_loader`, `dataloaders["val"]`)."""
    node = expr
    if isinstance(node, ast.Call):
        tail = call_tail(node) or ""
        values = [a.value if isinstance(a, ast.Starred) else a for a in node.args]
        if tail in ("enumerate", "tqdm", "zip", "iter"):
            kinds = {_iter_kind(v) for v in values + [kw.value for kw in node.keywords if kw.arg is None]}
        else:  # a batch iterator of the file or a library: `batches(X_val, y_val, 32)`, `range(len(X_test))`
            own = word_kind(tail) if isinstance(node.func, ast.Name) else None
            if own is not None:
                return own
            kinds = {_iter_kind(v) for v in values}
        if "train" in kinds:
            return "train"
        return "val" if "val" in kinds else None
    if isinstance(node, ast.Subscript) and not isinstance(node.slice, (ast.Tuple, ast.Slice)):
        key = string_value(node.slice)
        return word_kind(key) if key is not None else None
    name = dotted_name(node)
    return word_kind(name.split(".")[-1]) if name is not None else None


def _is_self(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Name) and expr.id == "self"


def _switch(call: ast.Call) -> Optional[str]:
    """"eval" for `m.eval()`, `m.train(False)`, `m.train(mode=False)`; "train" for `m.train()`,
    `m.train(True)`; None for anything else (`m.train(phase == "train")` may be either)."""
    if not isinstance(call.func, ast.Attribute):
        return None
    tail = call.func.attr
    args = arguments(call)
    if tail == "eval":
        return "eval" if not args else None
    if tail != "train" or len(args) > 1 or any(kw.arg not in (None, "mode") for kw in call.keywords):
        return None
    if not args:
        return "train"
    value = args[0].value if isinstance(args[0], ast.Constant) else None
    return {True: "train", False: "eval"}.get(value) if isinstance(value, bool) else None


def _phases(expr: ast.AST) -> List[str]:
    """The string literals of a literal list or tuple (`["train", "val"]`)."""
    if not isinstance(expr, (ast.List, ast.Tuple)):
        return []
    values = [string_value(e) for e in expr.elts]
    return [v for v in values if v is not None]


def _names(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in walk(node))


def _indexed_by(expr: ast.AST, name: str) -> bool:
    """`dataloaders[phase]`, `enumerate(tqdm(loaders[phase]))`."""
    while isinstance(expr, ast.Call) and call_tail(expr) in ("enumerate", "tqdm", "iter") and expr.args:
        expr = expr.args[0]
    return isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Name) and expr.slice.id == name


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
    if isinstance(call.func, ast.Attribute) and params[:1] == ["self"]:
        params = params[1:]  # `self.validate(loader)`: `self` is bound already
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
    uses = (Blocks, Bindings, TorchModes, ImportTable, ImportedSummaries, FilePins)

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
        self.mc = bool(_MC_LOWER.search(text.lower()) if text.isascii() else _MC.search(text))
        self.evals_anywhere = ".eval()" in text or bool(_MODE_SWITCH.search(text))
        writes_volatile = "volatile" in text and bool(_VOLATILE.search(text))
        self.volatile = writes_volatile and not self.volatile_works()
        self.grad_anywhere = any(w in text for w in ("no_grad", "inference_mode", "set_grad_enabled")) \
            or (writes_volatile and not self.volatile)
        self._evals_in_helpers: Optional[bool] = None
        for loop in index.loops:
            if isinstance(loop, (ast.For, ast.AsyncFor)):
                self.check_eval_loop(loop)
                self.check_phase_loop(loop)
            self.check_epoch_loop(loop)
        self.check_uncalled_switches()
        seen: Set[int] = set()
        for node, message, hint in self.found:
            if id(node) not in seen:
                seen.add(id(node))
                self.report(node, message, hint)

    # -- helpers ------------------------------------------------------------

    def volatile_works(self) -> bool:
        """`volatile=True` turns autograd off: every PyTorch release the project's pin allows is
        older than 0.4 (unpinned, or a pin that allows 0.4 on: it is ignored)."""
        pin = self.ctx.get(FilePins).pins.first_versioned("torch")
        minors = allowed_minors("torch", pin.specifier) if pin is not None else []
        return bool(minors) and all(m < _VOLATILE_IGNORED for m in minors)

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

    def has_modes(self, model: str) -> bool:
        """The model's construction shows dropout or batch norm: its layers (`TorchModes`), or, for a
        model built elsewhere (`Net(dropout=0.5)`), a dropout or batch-norm argument. A model the
        file merely switches with `model.train()` is not enough: plain RNNs and MLPs get it too."""
        if self.models.has_mode_layers(model):
            return True
        values = self.index.assigned.get(model, [])
        return bool(values) and all(self._built_with_modes(v, 0) for v in values)

    def _built_with_modes(self, value: ast.AST, depth: int) -> bool:
        """`Net(dropout=0.5)`, `Net(num_classes=10, use_bn=True).to(device)`, `model.to(device)`."""
        while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in _MOVES:
            value = value.func.value
        if isinstance(value, ast.Name) and depth < 3:
            earlier = self.index.assigned.get(value.id, [])
            return bool(earlier) and all(v is not value and self._built_with_modes(v, depth + 1) for v in earlier)
        if not isinstance(value, ast.Call):
            return False
        return any(kw.arg is not None and _MODE_ARG.search(kw.arg) and not is_falsy_literal(kw.value)
                   for kw in value.keywords)

    def model_called(self, loop: "ast.For | ast.AsyncFor") -> Optional[Tuple[str, ast.Call]]:
        for node in expr_nodes(loop.body):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                name = dotted_name(node.func)
                if name is not None and self.has_modes(name):
                    return name, node
        return None

    def preceding(self, stmt: ast.AST) -> Iterator[ast.stmt]:
        """Statements before `stmt`, nearest first, up through its enclosing blocks to the def."""
        for block, i in self.index.path(stmt):
            yield from reversed(block[:i])

    def check_uncalled_switches(self) -> None:
        """`model.train` or `model.eval` written as a statement without the call: an attribute read that
        changes nothing. Judged for a name the file switches with a call elsewhere (`model.eval()`)
        or shows to have dropout or batch norm; a notebook's top-level statement is left alone (the
        last one of a cell shows its value)."""
        walked = self.ctx.get(Bindings)  # the shared walk's calls and nodes, in source order
        switched = {dotted_name(c.node.func.value) for c in walked.calls  # type: ignore[attr-defined]
                    if isinstance(c.node.func, ast.Attribute) and c.node.func.attr in ("eval", "train")}
        top = set(map(id, self.index.tree.body)) if self.ctx.source.kind == "notebook" else set()
        expr = ast.Expr
        for node in walked.hooked:  # the walk's calls, attributes, ... and expression statements
            if type(node) is not expr or id(node) in top or not isinstance(node.value, ast.Attribute):  # type: ignore[attr-defined]
                continue
            attr = node.value.attr
            model = dotted_name(node.value.value)
            if attr not in ("train", "eval") or model is None or not (model in switched or self.has_modes(model)):
                continue
            mode = "training" if attr == "train" else "eval"
            self.found.append((
                node,
                f"`{model}.{attr}` without parentheses does nothing: it reads the method and never calls it, so "
                f"`{model}` is not switched to {mode} mode and stays in whatever mode it was left in",
                f"call it: `{model}.{attr}()`",
            ))

    # -- evaluation loops ---------------------------------------------------------

    def check_eval_loop(self, loop: "ast.For | ast.AsyncFor") -> None:
        if any(is_backward(c) or call_tail(c) == "step" for c in _calls(loop.body)):
            return
        # a loop that wraps its batches in `Variable(x, volatile=True)` is an evaluation loop by its author's word
        kind = _iter_kind(loop.iter) or ("val" if self.volatile_in(loop) else None)
        no_grad = self.under_no_grad(loop)
        if kind == "train" or (kind != "val" and not no_grad):
            return
        fn = self.enclosing_function(loop)
        loader = short_code(self.index.syntax, loop.iter, 40)
        if kind == "val" and not no_grad and not self.grad_anywhere:
            evaluated = self.evaluated_call(loop, fn)
            if evaluated is not None:
                self.found.append(self.autograd_on(loop.iter, f"the evaluation loop over `{loader}`", evaluated))
                return
        called = self.model_called(loop)
        if called is None:
            return
        model, call = called
        if fn is not None and model.split(".")[0] in _param_names(fn):
            return
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

    def evaluated_call(self, loop: "ast.For | ast.AsyncFor", fn: Optional[ast.AST]) -> Optional[str]:
        """The model the loop calls right after `model.eval()` (its dropout and batch norm do not
        matter here: the forward passes record their graphs whatever the layers). A model that is a
        parameter counts when the function also trains (no caller wraps a training function in
        `no_grad`) or the file is a notebook (every caller is in it), or the loop itself turns
        autograd off with a `volatile=True` that the project's PyTorch ignores (its author counted on it)."""
        params = _param_names(fn) if fn is not None and not self.volatile_in(loop) else set()
        if any(isinstance(n, ast.Attribute) and n.attr in _WANTS_GRAD for n in expr_nodes(loop.body)):
            return None  # gradients wanted on purpose (an adversarial attack, saliency maps)
        for node in expr_nodes(loop.body):
            if not isinstance(node, ast.Call) or not isinstance(node.func, (ast.Name, ast.Attribute)):
                continue
            func = node.func.value if isinstance(node.func, ast.Attribute) and node.func.attr == "forward" else node.func
            name = dotted_name(func)  # `model(x)` or `model.forward(x)`
            if name is None or not self.eval_before(loop, name):
                continue
            if name.split(".")[0] in params and self.ctx.source.kind != "notebook" and fn is not None \
                    and not any(is_backward(c) for c in _calls(fn)):
                continue
            return name
        return None

    def volatile_in(self, loop: "ast.For | ast.AsyncFor") -> bool:
        """The loop writes `Variable(x, volatile=True)` and the project's PyTorch ignores it."""
        return self.volatile and any(
            isinstance(n, ast.Call) and any(kw.arg == "volatile" and isinstance(kw.value, ast.Constant)
                                            and kw.value.value is True for kw in n.keywords)
            for n in expr_nodes(loop.body))

    def autograd_on(self, site: ast.AST, what: str, model: str) -> Tuple[ast.AST, str, str]:
        volatile = (" (`volatile=True` does not turn it off: PyTorch ignores it since 0.4)"
                    if self.volatile else "")
        return (
            site,
            f"{what} runs `{model}` with autograd on{volatile}: every forward pass records its graph and keeps "
            f"activations for a backward() that never comes (more memory, slower)",
            "wrap the loop in `with torch.no_grad():` (or `torch.inference_mode()`)",
        )

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
                if _switch(c) == "train" and dotted_name(c.func.value) == model:  # type: ignore[attr-defined]
                    return True
        return False

    def eval_before(self, loop: "ast.For | ast.AsyncFor", model: str) -> bool:
        def is_eval(c: ast.Call) -> bool:
            return _switch(c) == "eval" and dotted_name(c.func.value) == model  # type: ignore[attr-defined]

        if any(is_eval(c) for c in _calls(loop.body)):
            return True
        return any(is_eval(c) for prev in self.preceding(loop) for c in _calls(prev))

    # -- phases: `for phase in ["train", "val"]` ----------------------------------------

    def check_phase_loop(self, loop: "ast.For | ast.AsyncFor") -> None:
        """The transfer-learning tutorial's shape without its `model.eval()`: one loop runs a training
        and a validation phase over `dataloaders[phase]`, and nothing ever leaves training mode."""
        if self.mc or not isinstance(loop.target, ast.Name) or (self.evals_anywhere and self.grad_anywhere):
            return
        phases = _phases(loop.iter)
        val = next((p for p in phases if word_kind(p) == "val"), None)
        train = next((p for p in phases if word_kind(p) == "train"), None)
        if val is None or train is None:
            return
        phase = loop.target.id
        if not any(isinstance(n, ast.Compare) and _names(n, phase) for n in expr_nodes(loop.body)):
            return  # the phases do not differ: no sign of a validation phase in this body
        for inner in self.index.flat(loop.body, enter_loops=True):
            if not isinstance(inner, (ast.For, ast.AsyncFor)) or not _indexed_by(inner.iter, phase):
                continue
            if self.evals_anywhere:
                self.check_phase_grad(loop, inner, phase, val)
                return
            called = self.model_called(inner)
            if called is None:
                continue
            model = called[0]
            loader = short_code(self.index.syntax, inner.iter, 40)
            self.found.append((
                inner.iter,
                f"the `{val}` phase of the loop over `{loader}` calls `{model}` in training mode: nothing in this "
                f"file calls `{model}.eval()`, so dropout stays active and batch norm normalizes with (and updates) "
                f"batch statistics",
                f"call `{model}.train({phase} == {train!r})` at the start of each phase",
            ))
            return

    def check_phase_grad(self, loop: "ast.For | ast.AsyncFor", inner: "ast.For | ast.AsyncFor", phase: str,
                         val: str) -> None:
        """The tutorial's shape with `model.eval()` for the validation phase but no
        `torch.set_grad_enabled(phase == "train")` (nor any `no_grad` in the file): the validation
        phase records graphs. The loop trains only in the training phase (every `backward()` under an
        `if` on the phase), so no caller wraps it in `no_grad`."""
        backward = [c for c in _calls(inner.body) if is_backward(c)]
        guarded = {id(c) for n in walk(inner) if isinstance(n, ast.If) and _names(n.test, phase)
                   for c in _calls(n.body) if is_backward(c)}
        if not backward or any(id(c) not in guarded for c in backward):
            return
        switched = {dotted_name(c.func.value) for c in _calls(loop.body)  # type: ignore[attr-defined]
                    if isinstance(c.func, ast.Attribute) and c.func.attr in ("eval", "train") and _switch(c) != "train"}
        for node in expr_nodes(inner.body):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                model = dotted_name(node.func)
                if model is not None and model in switched:
                    loader = short_code(self.index.syntax, inner.iter, 40)
                    self.found.append(self.autograd_on(inner.iter, f"the `{val}` phase of the loop over `{loader}`", model))
                    return

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
            if model not in trained or not self.has_modes(model):
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

    def _callees(self, node: ast.Call) -> List[ast.stmt]:
        """The file's functions a call runs: `evaluate(...)`, and `self.validate(...)` when one class
        of the file defines a method of that name."""
        func = node.func
        if isinstance(func, ast.Name):
            return definitions_in_force(self.index.functions.get(func.id, []), node.lineno)
        if not isinstance(func, ast.Attribute) or not _is_self(func.value):
            return []
        found: List[ast.stmt] = [stmt for cls in self.index.classes.values() for stmt in cls.body
                                 if isinstance(stmt, FUNCTIONS) and stmt.name == func.attr]
        return found if len(found) == 1 else []

    def _scan(self, block: Block, env: Dict[str, str], site: Optional[ast.AST], depth: int,
              events: List[Event], stack: Set[int]) -> None:
        for unit in self.index.flat(block, enter_loops=True):
            if isinstance(unit, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = unit.targets if isinstance(unit, ast.Assign) else [unit.target]
                for t in targets:
                    events.append(("bind", _rename(t, env), site or unit))
            for node in own_calls(unit):
                self._scan_call(node, env, site, depth, events, stack)

    def _scan_call(self, node: ast.Call, env: Dict[str, str], site: Optional[ast.AST], depth: int,
                   events: List[Event], stack: Set[int]) -> None:
        tail = call_tail(node) or ""
        here = site or node
        if is_backward(node):
            events.append(("back", node, here))
        recv = node.func.value if isinstance(node.func, ast.Attribute) else None
        switch = _switch(node)
        if switch == "train" or (tail == "train" and switch is None):
            events.append(("train", node, here))
        elif switch == "eval":
            events.append(("eval", _rename(recv, env), here))  # type: ignore[arg-type]
        elif isinstance(node.func, (ast.Name, ast.Attribute)) and any(not isinstance(a, ast.Starred) for a in node.args):
            events.append(("model", _rename(node.func, env), here))
        fns = self._callees(node)
        for kind, arg in ([] if fns else effects(self.ctx, node)):  # a helper of the project's modules
            events.append((kind, _rename(arg, env) if arg is not None else node, here))
        if "train" in tail.lower() and tail != "train" and not fns and helper(self.ctx, node) is None:
            events.append(("opaque", node, here))
        if depth < 3:
            for fn in fns:
                if id(fn) in stack:
                    continue
                inner = _bind_args(fn, node, env)
                self._scan(fn.body, inner, here, depth + 1, events, stack | {id(fn)})  # type: ignore[attr-defined]
