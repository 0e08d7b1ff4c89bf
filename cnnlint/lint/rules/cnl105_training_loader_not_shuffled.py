"""CNL105 training-loader-not-shuffled: a PyTorch `DataLoader` that feeds training with
`shuffle=False` (or no `shuffle`, the default) and no sampler: every epoch sees the same order.

The loader must be clearly the training loader: a loop of this file (or of a function of this
file it is passed to) iterates it and runs `backward()` or an optimizer step; it is handed to
`trainer.fit(model, loader)` or returned by a `train_dataloader()` method; or its own name says
train (`train_loader`, `loaders["train"]`) in a file that trains and iterates it nowhere without
training. Validation/test loaders, loaders with `sampler=`/`batch_sampler=`, a `shuffle=` that is
not a literal, and files that use iterable datasets (which cannot be shuffled by the loader) are
left alone.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, Iterator, List, Optional, Set, Tuple, Union

from cnnlint.findings import Severity
from cnnlint.lint.context import FileContext
from cnnlint.lint.index.augment import tokens, word_kind
from cnnlint.lint.index.autograd import is_backward
from cnnlint.lint.index.blocks import Blocks
from cnnlint.lint.index.call_args import plain_positional
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import call_tail, dotted_name, has_star_kwargs, keyword, string_value
from cnnlint.lint.index.source_text import short_code
from cnnlint.lint.index.syntax import walk
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

_LOADERS = ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader")
# datasets the loader cannot shuffle (shuffle=True raises): iterable datasets, streams, datapipes
_ITERABLE_WORDS = ("IterableDataset", "webdataset", "WebDataset", "streaming=True", "DataPipe", "datapipe")
_TRAIN_KEYWORDS = ("train_dataloaders", "train_dataloader", "train_loader")
_WRAPPERS = ("enumerate", "tqdm", "iter", "zip", "cycle")
_ORDER_KEYS = ("shuffle", "sampler", "batch_sampler")
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass
class Candidate:
    call: ast.Call
    names: List[str]  # what the loader is bound to: `train_loader`, `loaders['train']`
    trains: bool  # the place it is built says training (`train_dataloader()`, `fit(model, <here>)`)
    shuffle_false: bool  # `shuffle=False` written (else: left to the default)
    only_if: str = ""  # `shuffle=True` comes from a dict merged under a condition: how, for the message


def _loop_names(expr: ast.AST) -> Set[str]:
    """The names a `for` loop iterates: `train_loader` in `enumerate(tqdm(train_loader))`."""
    while isinstance(expr, ast.Call) and call_tail(expr) in _WRAPPERS and expr.args:
        if call_tail(expr) == "zip":
            return {n for a in expr.args for n in _loop_names(a)}
        expr = expr.args[0]
    if isinstance(expr, ast.Subscript):
        key = string_value(expr.slice)
        base = dotted_name(expr.value)
        return {f"{base}[{key!r}]"} if base is not None and key is not None else set()
    name = dotted_name(expr)
    return {name} if name is not None else set()


def _trains(body: List[ast.stmt]) -> bool:
    """The statements run `backward()` or an optimizer step."""
    for stmt in body:
        for n in walk(stmt):
            if isinstance(n, ast.Call) and (is_backward(n) or _is_step(n)):
                return True
    return False


def _is_step(call: ast.Call) -> bool:
    if call_tail(call) != "step" or not isinstance(call.func, ast.Attribute):
        return False
    recv = (dotted_name(call.func.value) or "").lower()
    return "optim" in recv or recv.split(".")[-1] in ("opt", "scaler")


def _dict_keys(node: Optional[ast.AST]) -> Optional[Dict[str, ast.AST]]:
    """The entries of a dict literal with string keys only (no `**`), else None."""
    if not isinstance(node, ast.Dict):
        return None
    keys = [string_value(k) if k is not None else None for k in node.keys]
    if any(k is None for k in keys):
        return None
    return dict(zip(keys, node.values))  # type: ignore[arg-type]


def _statements(body: List[ast.stmt], conds: Tuple[ast.If, ...]) -> Iterator[Tuple[ast.stmt, Tuple[ast.If, ...]]]:
    """Every statement of a scope with the `if`s around it (not entering nested scopes)."""
    for stmt in body:
        yield stmt, conds
        if isinstance(stmt, _SCOPES):
            continue
        if isinstance(stmt, ast.If):
            yield from _statements(stmt.body, conds + (stmt,))
            yield from _statements(stmt.orelse, conds + (stmt,))
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from _statements([s for s in inner if isinstance(s, ast.stmt)], conds)
        for handler in getattr(stmt, "handlers", ()):
            yield from _statements(handler.body, conds)


def conditional_shuffle(scope: List[ast.stmt], name: str, loader: ast.Call, shown: Callable[[ast.AST], str]) -> str:
    """`DataLoader(ds, **name)` where `name` is a dict literal of this scope without `shuffle` or a
    sampler, that gets `shuffle=True` only from `name.update(...)` of dict literals under an `if`
    with no `else` that does not hold the loader: the condition, for the message; "" when the
    dict's story is anything else (written elsewhere, passed on, merged unconditionally)."""
    literals: Dict[str, List[Dict[str, ast.AST]]] = {}
    found = ""
    for stmt, _ in _statements(scope, ()):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            keys = _dict_keys(stmt.value)
            literals.setdefault(stmt.targets[0].id, []).append(keys if keys is not None else {"": stmt})
    base = literals.get(name, [])
    if len(base) != 1 or "" in base[0] or any(k in base[0] for k in _ORDER_KEYS):
        return ""
    merged = {id(loader)}
    for stmt, conds in _statements(scope, ()):
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "update" \
                and isinstance(call.func.value, ast.Name) and call.func.value.id == name:
            merged.add(id(call.func.value))
            if len(call.args) > 1:
                return ""
            arg = call.args[0] if call.args else None
            keys = _dict_keys(arg) if arg is None or isinstance(arg, ast.Dict) else None
            if isinstance(arg, ast.Name):
                bound = literals.get(arg.id, [])
                keys = bound[0] if len(bound) == 1 and "" not in bound[0] else None
            if arg is None:
                keys = {}
            if keys is None or any(k.arg is None for k in call.keywords):
                return ""
            keys = {**keys, **{k.arg: k.value for k in call.keywords if k.arg is not None}}
            if not any(k in keys for k in _ORDER_KEYS):
                continue
            shuffle = keys.get("shuffle")
            if set(keys) & {"sampler", "batch_sampler"} or not (isinstance(shuffle, ast.Constant) and shuffle.value is True):
                return ""
            guard = conds[-1] if conds else None
            if guard is None or guard.orelse or stmt.lineno > loader.lineno \
                    or any(n is loader for n in walk(guard)) or found:
                return ""
            source = f"`{shown(arg)}`, merged into `{name}`" if arg is not None else f"`{name}.update(...)`"
            found = f"{source} under `if {shown(guard.test)}:`"
    stores = 0
    for stmt in scope:
        for node in walk(stmt):
            if not isinstance(node, ast.Name) or node.id != name or id(node) in merged:
                continue
            if isinstance(node.ctx, ast.Store):
                stores += 1
            elif not any(kw.arg is None and kw.value is node for kw in loader.keywords):
                return ""  # read elsewhere: passed on, indexed, written `name["shuffle"] = True`
    return found if stores == 1 else ""


def _says_val(name: str) -> bool:
    return any(word_kind(t) == "val" for t in tokens(name))


class TrainingLoaderNotShuffled(Rule):
    code = "CNL105"
    name = "training-loader-not-shuffled"
    severity = Severity.WARNING
    summary = "A training DataLoader without shuffle=True or a sampler: every epoch sees the samples in the same order"
    uses = (ImportTable, Blocks)

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.candidates: List[Candidate] = []
        self.passed: Dict[str, List[Tuple[str, Union[int, str]]]] = {}  # name -> (function, its slot)
        self.fitted: Set[str] = set()  # names handed to `trainer.fit(model, <name>)`

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = source.text
        return "DataLoader" in text and not any(w in text for w in _ITERABLE_WORDS)

    def visit_Call(self, node: ast.Call) -> None:
        self._note_arguments(node)
        if self.ctx.get(ImportTable).qualify(node.func) not in _LOADERS:
            return
        only_if = self._conditional_shuffle(node) if has_star_kwargs(node) else ""
        if has_star_kwargs(node) and not only_if:
            return
        if any(keyword(node, k) is not None for k in ("sampler", "batch_sampler")) or len(node.args) > 3:
            return  # positional: dataset, batch_size, shuffle, sampler, batch_sampler, ...
        shuffle = keyword(node, "shuffle")
        value = shuffle.value if shuffle is not None else plain_positional(node, 2)
        if value is not None and not (isinstance(value, ast.Constant) and value.value is False):
            return
        names, trains = self._place(node)
        self.candidates.append(Candidate(node, names, trains, value is not None, only_if))

    def _conditional_shuffle(self, node: ast.Call) -> str:
        """`DataLoader(ds, **train_kwargs)` whose one `**` dict of the scope gets `shuffle=True` only
        under a condition (pytorch/examples' `if use_accel: train_kwargs.update(accel_kwargs)`)."""
        stars = [kw.value for kw in node.keywords if kw.arg is None]
        if len(stars) != 1 or not isinstance(stars[0], ast.Name):
            return ""
        scope = next((a for a in reversed(self.ctx.ancestors) if isinstance(a, (ast.FunctionDef, ast.AsyncFunctionDef))),
                     None)
        body = scope.body if scope is not None else (self.ctx.syntax.tree.body if self.ctx.syntax is not None else [])
        syntax = self.ctx.syntax
        return conditional_shuffle(body, stars[0].id, node, lambda n: short_code(syntax, n, 40)) if syntax else ""

    def _note_arguments(self, node: ast.Call) -> None:
        """Names handed to a function of the file, or to `fit` as its training data."""
        if call_tail(node) == "fit":
            kw = keyword(node, "train_dataloaders")
            data = kw.value if kw is not None else plain_positional(node, 1)
            name = dotted_name(data) if data is not None else None
            if name is not None:
                self.fitted.add(name)
        if not isinstance(node.func, ast.Name):
            return
        slots: List[Tuple[ast.AST, Union[int, str]]] = [
            (a, i) for i, a in enumerate(node.args) if not isinstance(a, ast.Starred)
        ]
        slots += [(k.value, k.arg) for k in node.keywords if k.arg is not None]
        for arg, slot in slots:
            name = dotted_name(arg)
            if name is not None:
                self.passed.setdefault(name, []).append((node.func.id, slot))

    def _place(self, node: ast.Call) -> Tuple[List[str], bool]:
        """What the loader is bound to, and whether the place it is built says training."""
        ancestors = self.ctx.ancestors
        parent = ancestors[-1] if ancestors else None
        if isinstance(parent, ast.Assign) and parent.value is node:
            return [n for n in (dotted_name(t) for t in parent.targets) if n is not None], False
        if isinstance(parent, ast.Dict):
            for key, value in zip(parent.keys, parent.values):
                owner = ancestors[-2] if len(ancestors) > 1 else None
                if value is node and isinstance(owner, ast.Assign) and string_value(key) is not None:
                    base = dotted_name(owner.targets[0])
                    return ([f"{base}[{string_value(key)!r}]"] if base is not None else []), False
            return [], False
        if isinstance(parent, ast.keyword):
            return [], parent.arg in _TRAIN_KEYWORDS
        if isinstance(parent, ast.Call) and call_tail(parent) == "fit" and plain_positional(parent, 1) is node:
            return [], True  # Lightning: trainer.fit(model, DataLoader(...))
        if isinstance(parent, ast.Return):
            for anc in reversed(ancestors):
                if isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    return [], anc.name == "train_dataloader"
        return [], False

    def check(self) -> None:
        if not self.candidates:
            return
        blocks = self.ctx.get(Blocks)
        for cand in self.candidates:
            dataset = plain_positional(cand.call, 0)
            if dataset is None:
                kw = keyword(cand.call, "dataset")
                dataset = kw.value if kw is not None else None
            words = cand.names + ([dotted_name(dataset) or ""] if dataset is not None else [])
            if any(_says_val(w) for w in words):
                continue
            if cand.trains or self._feeds_training(blocks, cand.names):
                self._report(cand)

    def _feeds_training(self, blocks: Blocks, names: List[str]) -> bool:
        if not names:
            return False
        wanted = set(names)
        trained = evaluated = False
        for loop in blocks.loops:
            if isinstance(loop, (ast.For, ast.AsyncFor)) and _loop_names(loop.iter) & wanted:
                if _trains(loop.body):
                    trained = True
                else:
                    evaluated = True
        if trained or self._passed_to_training(blocks, wanted):
            return True
        if evaluated:
            return False  # iterated without training: it serves evaluation or statistics
        text = self.ctx.source.text
        by_name = any(word_kind(n.split(".")[-1]) == "train" for n in names)
        return by_name and ("backward(" in text or ".fit(" in text)

    def _passed_to_training(self, blocks: Blocks, wanted: Set[str]) -> bool:
        """`trainer.fit(model, train_loader)`; `train(model, train_loader)` where the file's `train`
        loops over that parameter and runs backward() or a step."""
        if wanted & self.fitted:
            return True
        for name in wanted:
            for func, slot in self.passed.get(name, ()):
                fns = blocks.functions.get(func, [])
                if len(fns) != 1:
                    continue
                params = [p.arg for p in (*fns[0].args.posonlyargs, *fns[0].args.args)]  # type: ignore[attr-defined]
                param = params[slot] if isinstance(slot, int) and slot < len(params) else slot
                if isinstance(param, str) and self._loops_train(fns[0], param):
                    return True
        return False

    @staticmethod
    def _loops_train(fn: ast.stmt, param: str) -> bool:
        for stmt in fn.body:  # type: ignore[attr-defined]
            for n in walk(stmt):
                if isinstance(n, (ast.For, ast.AsyncFor)) and param in _loop_names(n.iter) and _trains(n.body):
                    return True
        return False

    def _report(self, cand: Candidate) -> None:
        syntax = self.ctx.syntax
        assert syntax is not None
        shown = cand.names[0] if cand.names else short_code(syntax, cand.call, 48)
        how = "with `shuffle=False`" if cand.shuffle_false else "without `shuffle=True` (the DataLoader default is False)"
        if cand.only_if:
            how = f"with `shuffle=True` only from {cand.only_if}, otherwise without it"
        self.report(
            cand.call,
            f"the training loader `{shown}` is built {how} and no sampler: every epoch visits the samples in the "
            "same order (a dataset stored class by class gives whole batches of one class), so the gradient "
            "steps are correlated and the model learns the order",
            "pass `shuffle=True` (or a `sampler=`, e.g. `RandomSampler`, `WeightedRandomSampler` or `DistributedSampler`)",
        )
