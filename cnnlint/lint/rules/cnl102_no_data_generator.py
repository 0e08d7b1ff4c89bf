"""CNL102 no-data-generator: a whole image set is read into memory and handed to training
instead of being streamed from disk.

The image data flow (cnnlint.lint.index.flow) finds every training input (`fit`, `flow`,
`TensorDataset`, `from_tensor_slices`, `DataLoader`, a Dataset class of the file) that holds an
image set accumulated from a loader in a loop, and every Dataset whose `__init__` reads all its
images. The sets found are also left in `ctx.in_memory` for the cross-check's memory estimate
(CNL607).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, Iterator, List, Optional, Set, Tuple, Union

from cnnlint.findings import Severity
from cnnlint.lint.index.arguments import arguments, nth_positional, plain_positional, unstarred
from cnnlint.lint.index.flow import ImageFlow, Origin
from cnnlint.lint.index.image_apis import is_loader
from cnnlint.lint.index.image_scaling import source_walk, spelled_names
from cnnlint.lint.index.names import call_tail, dotted_name, keyword
from cnnlint.lint.index.scopes import FUNCTIONS, Binding, CallSite, Scope, Scopes
from cnnlint.lint.index.training_inputs import (
    LOADER_KEYS,
    accumulation_text,
    fit_x,
    is_dataset_class,
    is_idg,
    is_model_receiver,
    keras_file,
    mentions,
    short,
    tf1_training_feed,
    trains_torch,
)
from cnnlint.lint.project_index.imported import ImportedSummaries, may_take_project_images
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.sources.model import SourceFile

_HINT = "stream from disk: image_dataset_from_directory / tf.data / a Dataset with __getitem__ / flow_from_directory"

Span = Tuple[int, int, int, int]


@dataclass
class _Blame:
    """Where a finding points (a node, or the span of a name spelled inside one) and its label."""

    target: Union[ast.AST, Span]
    label: str


@dataclass
class _InMemory:
    at: _Blame
    origin: Origin
    label: str  # the sink (`model.fit`) or, for a preloading Dataset, its class name
    sliced: bool = False  # the sink gets slices of the set (`X[i:i + 32]`), in a loop


def _sliced(scopes: Scopes, arg: ast.AST, rec: CallSite) -> Optional[ast.Subscript]:
    """The batch a sink in a loop cuts from the set: `X[i:i + 32]`, or the one a name is bound to."""
    if not rec.loops:
        return None
    if isinstance(arg, ast.Name):
        r = scopes.reaching(arg.id, rec.scope, rec.order, rec.blocks)
        pieces = [_as_slice(_bound_value(d)) for d in r[1]] if r is not None else []
        return pieces[-1] if pieces and all(p is not None for p in pieces) else None
    return _as_slice(arg)


def _as_slice(expr: Optional[ast.AST]) -> Optional[ast.Subscript]:
    """`X[i:i + 32]` itself (a k-fold's `X[train_idx]` is a whole fold, not a batch)."""
    return expr if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Slice) else None


def _bound_value(d: Binding) -> Optional[ast.AST]:
    """The expression a binding gives its name: `v` in `x = v`, `b` in `a, x = a0, b`."""
    if d.kind == "assign":
        return d.value
    value = d.value
    if d.kind != "unpack":
        return None
    for i in d.path:
        if not isinstance(value, (ast.Tuple, ast.List)) or i >= len(value.elts):
            return None
        value = value.elts[i]
    return value


def _init_dataset_class(scopes: Scopes, scope: Scope) -> Optional[ast.ClassDef]:
    """The Dataset/Sequence class whose `__init__` is `scope`, if it is one."""
    fn = scope.node
    if not isinstance(fn, FUNCTIONS) or fn.name != "__init__":
        return None
    cls = scope.parent.node if scope.parent is not None and scope.parent.kind == "class" else None
    if not isinstance(cls, ast.ClassDef) or not is_dataset_class(scopes, cls):
        return None
    return cls


def _getitem_reads_files(scopes: Scopes, cls: ast.ClassDef) -> bool:
    """`__getitem__` (or `__data_generation`, Keras' `Sequence` idiom) calls an image loader itself."""
    for stmt in cls.body:
        if isinstance(stmt, FUNCTIONS) and stmt.name in ("__getitem__", "__data_generation"):
            for n in source_walk(stmt.body):
                if isinstance(n, ast.Call) and isinstance(n.func, (ast.Name, ast.Attribute)) \
                        and is_loader(scopes.qualify(n.func)):
                    return True
    return False


def _idg_receiver(scopes: Scopes, recv: ast.AST, rec: CallSite) -> bool:
    if isinstance(recv, ast.Call):
        return is_idg(scopes, recv)
    if isinstance(recv, ast.Name):
        r = scopes.reaching(recv.id, rec.scope, rec.order, rec.blocks)
        if r is None or not r[1]:
            return False
        return all(d.kind == "assign" and is_idg(scopes, d.value) for d in r[1])
    return False


def _tape_step(scopes: Scopes, rec: CallSite, func: ast.Name, steps: Dict[int, bool]) -> bool:
    """`train_step(xb, yb)`: a function of the file that runs a `tf.GradientTape` training step."""
    fn = scopes.local_function(func.id, rec.scope, rec.order, rec.blocks)
    if not isinstance(fn, FUNCTIONS):
        return False
    if id(fn) not in steps:
        steps[id(fn)] = any(
            isinstance(n, ast.Call) and call_tail(n) in ("GradientTape", "apply_gradients") for n in source_walk(fn.body)
        )
    return steps[id(fn)]


def _training_call(node: ast.Call) -> bool:
    """`model(xb, training=True)`: a Keras model's forward pass in training mode (a GradientTape loop)."""
    arg = keyword(node, "training")
    return arg is not None and isinstance(arg.value, ast.Constant) and arg.value.value is True


def _label(func: ast.expr, tail: str) -> str:
    """How a training input's call is named in the message (computed only for the few that are)."""
    return dotted_name(func) or tail


def _sinks(scopes: Scopes, tape: bool) -> Iterator[Tuple[CallSite, List[ast.AST], str]]:
    """(call, the arguments that would hold the data, the call's name) for each training input;
    with `tape`, also the calls of the file's own GradientTape training steps."""
    keras = keras_file(scopes)
    trains = keras or trains_torch(scopes)
    steps: Dict[int, bool] = {}
    for rec in scopes.calls:
        node: ast.Call = rec.node  # type: ignore[assignment]
        func = node.func
        if not isinstance(func, (ast.Name, ast.Attribute)):
            continue
        tail = call_tail(node) or ""
        if tail == "run" and isinstance(func, ast.Attribute):
            fed = tf1_training_feed(scopes, rec)  # `sess.run(train_op, feed_dict={x: images})`
            if fed:
                yield rec, list(fed), _label(func, tail)
            continue
        if tail in ("fit", "flow", "train_on_batch") and isinstance(func, ast.Attribute):
            if keras:
                x = _keras_sink_input(scopes, node, func, rec)
                if x is not None:
                    yield rec, [x], _label(func, tail)
            continue
        q = scopes.qualify(func) or ""
        qtail = q.rsplit(".", 1)[-1]
        if qtail == "TensorDataset" and (q.startswith("torch.") or q == "TensorDataset"):
            if trains:
                yield rec, list(plain_positional(node)), _label(func, tail)
            continue
        if qtail in ("from_tensor_slices", "from_tensors") and ("tensorflow" in q.split(".") or "Dataset" in q.split(".")):
            value = _first_or_keyword(node, "tensors")
            if value is not None:
                yield rec, _displayed(value), _label(func, tail)
            continue
        if qtail == "DataLoader" and (q.startswith("torch.") or q == "DataLoader"):
            value = _first_or_keyword(node, "dataset")
            if value is not None and trains:
                yield rec, [value], _label(func, tail)
            continue
        if isinstance(func, ast.Name):
            cls = scopes.local_class(func.id, rec.scope)
            if cls is not None and is_dataset_class(scopes, cls):
                yield rec, [a.value for a in arguments(node) if not a.star], _label(func, tail)
            elif tape and rec.loops and (_tape_step(scopes, rec, func, steps) or _training_call(node)):
                yield rec, list(plain_positional(node)), _label(func, tail)


def _keras_sink_input(scopes: Scopes, node: ast.Call, func: ast.Attribute, rec: CallSite) -> Optional[ast.AST]:
    """The data of `model.fit(x, ...)` or `generator.flow(x, ...)`."""
    if func.attr == "fit":
        return fit_x(node) if is_model_receiver(scopes, func.value, rec) else None
    if func.attr == "train_on_batch":
        return _first_or_keyword(node, "x") if is_model_receiver(scopes, func.value, rec) else None
    if _idg_receiver(scopes, func.value, rec):
        return _first_or_keyword(node, "x", keyword_first=True)
    return None


def _first_or_keyword(call: ast.Call, name: str, keyword_first: bool = False) -> Optional[ast.expr]:
    kw = keyword(call, name)
    first = nth_positional(call, 0)
    if keyword_first:
        return kw.value if kw is not None else first
    return first if first is not None else (kw.value if kw is not None else None)


def _displayed(value: ast.expr) -> List[ast.AST]:
    """The parts of `(x, y)` / `[x, y]` / `{"a": x}`, or the value itself."""
    if isinstance(value, (ast.Tuple, ast.List)):
        return [unstarred(el) for el in value.elts]
    if isinstance(value, ast.Dict):
        return [v for k, v in zip(value.keys, value.values) if k is not None]
    return [value]


class NoDataGenerator(Rule):
    code = "CNL102"
    name = "no-data-generator"
    severity = Severity.WARNING
    summary = "A whole image set is read into memory in a loop and handed to training instead of streamed from disk"
    uses = (Scopes, ImageFlow, ImportedSummaries)  # image sets read by the project's loading helpers
    feeds_facts = True  # ctx.in_memory, for the cross-check's memory estimate (CNL607)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        return mentions(source, LOADER_KEYS) or may_take_project_images(source)

    def check(self) -> None:
        if self.ctx.syntax is None:
            return
        self._run(self.ctx.get(Scopes), self.ctx.get(ImageFlow))

    def _chunked(self, scopes: Scopes, rec: CallSite, arg: ast.AST, origin: Origin) -> bool:
        """The sink sits in a loop that also builds its input: data is fed chunk by chunk."""
        if not rec.loops:
            return False
        loop = rec.loops[-1]
        acc = origin.acc
        if acc is not None:
            if acc is loop or any(lp is loop for lp in scopes.loop_parents.get(id(acc), ())):
                return True
            if scopes.loop_scope.get(id(acc)) is rec.scope:
                return False  # loaded once before the loop (k-fold, epochs): the whole set is in memory
        for name, _ in spelled_names(arg):
            r = scopes.reaching(name, rec.scope, rec.order, rec.blocks)
            if r and r[0] is not None and any(any(lp is loop for lp in d.loops) for d in r[1]):
                return True
        return False

    def _run(self, scopes: Scopes, flow: ImageFlow) -> None:
        found: List[_InMemory] = []
        seen: Set[int] = set()
        tape = "GradientTape" in self.ctx.source.text
        for rec, args, label in _sinks(scopes, tape):
            for arg in args:
                t = flow.taint(arg, rec.scope, rec.order, rec.blocks)
                origin = t[2]
                if t[0] != 2 or origin is None or origin.kind != "loader" or (origin.acc is None and not origin.imported):
                    continue
                if self._chunked(scopes, rec, arg, origin):
                    continue
                built = origin.acc if origin.acc is not None else origin.call  # a project helper's call
                if id(built) in seen:
                    break
                seen.add(id(built))
                blame = self._blame(flow, arg, rec)
                piece = _sliced(scopes, arg, rec)
                if piece is not None and isinstance(piece.value, ast.Name) and isinstance(arg, ast.Name):
                    blame.label = piece.value.id  # `xb = X[i:i + 32]`: the set is X
                found.append(_InMemory(blame, origin, label, piece is not None))
                break
        preloads = _preloading_datasets(scopes, flow, seen)
        if not found and not preloads:
            return
        # for the cross-check's memory estimate (CNL607): where, and the reader call
        self._leave_in_memory(found + preloads)
        for item in found:
            where = accumulation_text(self.ctx, item.origin.acc)
            how = f"is fed to `{item.label}` in slices" if item.sliced else f"is passed whole to `{item.label}`"
            self.report(
                item.at.target,
                f"`{item.at.label}` holds every image read by `{item.origin.name}`{where} and {how}: "
                "the whole image set sits in memory at once",
                _HINT,
            )
        for item in preloads:
            where = accumulation_text(self.ctx, item.origin.acc)
            self.report(
                item.at.target,
                f"`self.{item.at.label}` holds every image read by `{item.origin.name}`{where}: `{item.label}` loads "
                f"the whole image set when it is created instead of one image per `__getitem__`",
                "keep only the file paths in __init__ and read each image in __getitem__",
            )

    def _leave_in_memory(self, items: List[_InMemory]) -> None:
        """Each set's (reported node, reader call, accumulator) for the cross-check's memory estimate;
        a finding placed on the span of a name (an attribute's, which the ast holds as a string) is
        handed over as a Name node at that span."""
        syntax = self.ctx.syntax
        assert syntax is not None
        for item in items:
            target = item.at.target
            at = target if isinstance(target, ast.AST) else _name_at(syntax.lines, target, item.at.label)
            self.ctx.in_memory.append((at, item.origin.call, item.origin.acc))

    def _blame(self, flow: ImageFlow, arg: ast.AST, rec: CallSite) -> _Blame:
        """The clearest node to point at: the argument itself, or the tainted name inside it."""
        if isinstance(arg, ast.Name):
            return _Blame(arg, arg.id)
        for name, holder in spelled_names(arg):
            if isinstance(holder, ast.Name):
                t = flow.taint(holder, rec.scope, rec.order, rec.blocks)
            else:  # an attribute's or keyword's name that is also a variable here
                t = flow.name_taint(name, rec.scope, rec.order, rec.blocks, (), 1)
            if t[0] == 2:
                return _Blame(holder if isinstance(holder, ast.Name) else self._name_span(holder, name), name)
        return _Blame(arg, short(self.ctx, arg))

    def _name_span(self, holder: ast.AST, name: str) -> Span:
        """Where a name spelled inside `holder` is: an attribute's name ends the attribute; a keyword
        argument's name and a lambda parameter start their node."""
        assert self.ctx.syntax is not None
        line, column, end_line, end_column = self.ctx.syntax.span(holder)
        if isinstance(holder, ast.Attribute):
            return (end_line, end_column - len(name), end_line, end_column)
        return (line, column, line, column + len(name))


def _name_at(lines: List[str], span: Span, name: str) -> ast.Name:
    """A Name node placed at a span of characters (ast positions count bytes)."""
    line, column, end_line, end_column = span

    def offset(row: int, col: int) -> int:
        return len(lines[row - 1][: col - 1].encode("utf-8")) if 0 < row <= len(lines) else col - 1

    return ast.Name(id=name, ctx=ast.Load(), lineno=line, col_offset=offset(line, column),
                    end_lineno=end_line, end_col_offset=offset(end_line, end_column))


def _preloading_datasets(scopes: Scopes, flow: ImageFlow, seen: Set[int]) -> List[_InMemory]:
    """Every image of the set read in the `__init__` of a Dataset/Sequence class of the file:
    `self.images = [...every image...]`, or `self.images.append(<image>)` in a loop.

    Quiet when the class's `__getitem__` reads images from disk itself: the preload is then
    an optional cache (`if preload: ...`, with a fallback to reading the file).
    """
    found: List[Tuple[ast.Attribute, Origin, ast.ClassDef]] = []
    for assign in scopes.self_assigns:
        cls = _init_dataset_class(scopes, assign.scope)
        if cls is None:
            continue
        t = flow.taint(assign.value, assign.scope, assign.order, assign.blocks)
        origin = t[2]
        if t[0] != 2 or origin is None or origin.kind != "loader" or origin.acc is None:
            continue
        found.append((assign.target, origin, cls))
    found += _appended_in_init(scopes, flow)
    out: List[_InMemory] = []
    reported: Set[Tuple[int, str]] = set()  # one finding per attribute of a class
    for target, origin, cls in found:
        key = (id(cls), target.attr)
        if id(origin.acc) in seen or key in reported or _getitem_reads_files(scopes, cls):
            continue
        seen.add(id(origin.acc))
        reported.add(key)
        out.append(_InMemory(_Blame(target, target.attr), origin, cls.name))
    return out


def _appended_in_init(scopes: Scopes, flow: ImageFlow) -> List[Tuple[ast.Attribute, Origin, ast.ClassDef]]:
    """`self.images.append(<image>)` / `.extend(<images>)` in a loop of a Dataset's `__init__`."""
    found: List[Tuple[ast.Attribute, Origin, ast.ClassDef]] = []
    for rec in scopes.calls:
        func = rec.node.func  # type: ignore[attr-defined]
        if not rec.loops or not isinstance(func, ast.Attribute) or func.attr not in ("append", "extend"):
            continue
        target = func.value
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self"):
            continue
        cls = _init_dataset_class(scopes, rec.scope)
        arg = nth_positional(rec.node, 0)  # type: ignore[arg-type]
        if cls is None or arg is None:
            continue
        t = flow.taint(arg, rec.scope, rec.order, rec.blocks)
        origin = t[2]
        want = 1 if func.attr == "append" else 2
        if t[0] != want or origin is None or origin.kind != "loader":
            continue
        acc = origin.acc if want == 2 and origin.acc is not None else rec.loops[-1]
        found.append((target, Origin(origin.kind, origin.call, origin.name, acc), cls))
    return found
