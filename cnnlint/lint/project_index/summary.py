"""One module's summary: what its definitions mean to a script that imports them.

Computed from the module's own semantic model (Bindings, TorchModels, KerasModels, ImageFlow on
CPython's ast), with nothing followed further (a summary never reads another module, so an import
cycle cannot loop): for each torch.nn.Module class, what its `forward()` ends in; for each
top-level function, what the Keras model it returns ends in and what image data it returns (raw
0-255 or scaled, per tuple element); what it re-exports (`from .resnet import ResNet18` in a
package's `__init__.py`). A summary is plain data, kept by content hash (cnnlint.lint.project_index.memo).
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Set, Tuple

from cnnlint.lint.context import FileContext
from cnnlint.lint.index.bindings import Bindings, argument
from cnnlint.lint.index.flow import ImageFlow, Taint
from cnnlint.lint.index.models import KerasModels, TorchModels, label, out_text
from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.index.scopes import FUNCTIONS, Scopes
from cnnlint.lint.index.syntax import Syntax
from cnnlint.lint.index.torch_modes import TorchModes
from cnnlint.lint.project_index.backbones import BACKBONE_WORDS, Backbone, definition_backbones, may_hold_backbones
from cnnlint.sources.model import SourceFile

# contexts being summarised: their ImportedSummaries stays empty (summaries are local-only)
SUMMARISING: Set[int] = set()
# a helper that may put a model in eval mode (only those change a caller's judgement of modes)
_EVAL_WORDS = (".eval(", "train(False", "train(mode=False")
_MODE_EFFECT_WORDS = _EVAL_WORDS + (".train(", "backward(")
# a class that may hold layers whose behaviour depends on the mode (the judgement is TorchModes')
_MODE_WORDS = ("Dropout", "BatchNorm", "dropout", "DropPath", "drop_path", "StochasticDepth")
_MODEL_WORDS = ("Sequential", "Dense", "Model(")
_PIXEL_WORDS = ("imread", "Image.open", "load_img", "read_image", "imdecode", "read_file")


@dataclass(frozen=True)
class Output:
    """What a model ends in: softmax | log_softmax | sigmoid | linear | other."""

    kind: str
    line: int
    text: str  # the deciding code, as in a message: `F.softmax(x, dim=1)`
    units: Optional[int] = None


@dataclass(frozen=True)
class Pixels:
    """Image data a function returns: a set of images (level 2) or one image (1), scaled or not."""

    level: int
    scaled: bool
    source: str  # the reading call: `cv2.imread`


@dataclass
class Definition:
    name: str
    line: int
    kind: str  # class | function
    framework: str = ""  # torch | keras | ""
    output: Optional[Output] = None
    mode_layers: bool = False  # a model class holding dropout or batch norm (train/eval mode matters)
    # a function's effect on modes and gradients: its parameters, those it puts in eval mode, those it
    # calls (a model's forward), whether it puts anything back in training mode, runs backward()
    # a torchvision transform bound at module level: the steps of its Compose, by key for a dict of them
    # ("" for a single Compose)
    steps: Dict[str, Tuple[str, ...]] = field(default_factory=dict)
    params: Tuple[str, ...] = ()
    evals: Tuple[str, ...] = ()
    calls: Tuple[str, ...] = ()
    trains: bool = False
    backward: bool = False
    # what a training-step helper does to gradients, in order: (back | step | scaler_step | clear, the
    # parameter it acts on); None when not known (a conditional step, the optimizer passed on, ...)
    grads: Optional[Tuple[Tuple[str, str], ...]] = None
    # image data returned: element index of a returned tuple -> Pixels (-1: the whole value)
    pixels: Dict[int, Pixels] = field(default_factory=dict)
    # pretrained models a builder function or a model class builds (CNL303)
    backbones: Tuple[Backbone, ...] = ()

    def title(self) -> str:
        return f"{self.name}.forward" if self.kind == "class" and self.framework == "torch" else f"{self.name}()"


@dataclass
class ModuleSummary:
    definitions: Dict[str, Definition] = field(default_factory=dict)
    # name -> (module, level, attribute) for `from .x import name` (attribute "" : a submodule)
    reexports: Dict[str, Tuple[str, int, str]] = field(default_factory=dict)
    # the top-level packages the module imports at its top level (`from keras.models import *`:
    # keras), which `from module import *` hands on to the script
    packages: Set[str] = field(default_factory=set)


def parse(path: str, text: str) -> Optional[ast.Module]:
    """CPython's tree (its parser is linear and refuses absurd nesting itself; libcst, which
    cnnlint.lint.complexity guards, never sees a summarised module)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _imports(tree: ast.Module) -> List[ast.stmt]:
    return [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]


def _part(tree: ast.Module, text: str, keep: Sequence[ast.stmt]) -> FileContext:
    """A context over the module's imports and the definitions in `keep` only: the semantic model
    of a summary is built over what it reads, not the whole module (the module's own lint does that)."""
    part = ast.Module(body=_imports(tree) + list(keep), type_ignores=[])
    return FileContext(SourceFile(path="", kind="python", text=text), "", Syntax(part, text))


def summarise(path: str, text: str, tree: Optional[ast.Module] = None) -> ModuleSummary:
    """The summary of a module's text (an unparsable module: an empty summary); `tree`: the text's
    tree when it is at hand (the module was just linted)."""
    summary = ModuleSummary()
    tree = tree if tree is not None else parse(path, text)
    if tree is None:
        return summary
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if not node.level and node.module:
                summary.packages.add(node.module.split(".")[0])
            for alias in node.names:
                if alias.name != "*":
                    summary.reexports[alias.asname or alias.name] = (node.module or "", node.level, alias.name)
        elif isinstance(node, ast.Import):
            summary.packages.update(alias.name.split(".")[0] for alias in node.names)
    lines = text.split("\n")
    segments = {id(n): "\n".join(lines[n.lineno - 1:n.end_lineno or n.lineno])
                for n in tree.body if isinstance(n, (*FUNCTIONS, ast.ClassDef))}
    models = [n for n in tree.body if isinstance(n, ast.ClassDef) and "forward" in segments[id(n)]]
    builders = [n for n in tree.body if isinstance(n, FUNCTIONS) and any(w in segments[id(n)] for w in _MODEL_WORDS)]
    loaders = [n for n in tree.body if isinstance(n, FUNCTIONS) and any(w in segments[id(n)] for w in _PIXEL_WORDS)]
    backbones = [n for n in tree.body if id(n) in segments and any(w in segments[id(n)] for w in BACKBONE_WORDS)
                 ] if may_hold_backbones(text) else []
    if "Compose" in text:
        _transforms(tree, summary)
    for fn in tree.body:
        if isinstance(fn, FUNCTIONS) and any(w in segments[id(fn)] for w in _MODE_EFFECT_WORDS):
            _modes(fn, segments[id(fn)], summary)
    for keep, fill in ((models + builders, _models), (loaders, _pixels), (backbones, _backbones)):
        if not keep:
            continue
        ctx = _part(tree, text, keep)
        SUMMARISING.add(id(ctx))
        try:
            fill(ctx, summary)
        except RecursionError:
            pass
        finally:
            SUMMARISING.discard(id(ctx))
            ctx.release()
    return summary


def _models(ctx: FileContext, summary: ModuleSummary) -> None:
    f = ctx.get(Bindings)
    if f.torch:
        torch_models = TorchModels(f)
        modes = ctx.get(TorchModes) if any(w in ctx.source.text for w in _MODE_WORDS) else None
        for name, cls in torch_models.module_classes.items():
            out = torch_models.class_output(cls, 0)
            d = summary.definitions.setdefault(name, Definition(name, cls.lineno, "class", "torch"))
            d.mode_layers = modes is not None and modes.class_holds_mode_layers(cls)
            if out is not None:
                units = None
                if out.kind == "linear" and isinstance(out.node, ast.Call):
                    units = f.integer(argument(out.node, "out_features", 1))
                d.output = Output(out.kind, getattr(out.node, "lineno", cls.lineno), label(f, out.node), units)
    if f.keras:
        keras_models = KerasModels(f)
        for fn in _top_functions(ctx):
            outs = []
            for ret in _returns(fn):
                if isinstance(ret.value, ast.Name):
                    outs.append(keras_models.output(ret.value.id, ret))
            if outs and all(o is not None for o in outs) and len({o.kind for o in outs if o}) == 1:
                o = outs[-1]
                assert o is not None
                d = summary.definitions.setdefault(fn.name, Definition(fn.name, fn.lineno, "function", "keras"))
                d.output = Output(o.kind, o.layer.lineno, out_text(f, o).strip("`"), o.units)


def _backbones(ctx: FileContext, summary: ModuleSummary) -> None:
    for name, (line, kind, found) in definition_backbones(ctx).items():
        summary.definitions.setdefault(name, Definition(name, line, kind)).backbones = found


def _modes(fn: ast.AST, text: str, summary: ModuleSummary) -> None:
    """What a helper does to the train/eval mode of its parameters (`evaluate(model, loader)`): the
    parameters it puts in eval mode and calls are read from its tree when it may put one in eval
    mode; training (`.train()`) and `backward(` are read from its text."""
    args = fn.args  # type: ignore[attr-defined]
    params = tuple(p.arg for p in (*args.posonlyargs, *args.args, *args.kwonlyargs))
    evals: List[str] = []
    calls: List[str] = []
    trains = ".train()" in text or ".train(True" in text or ".train(mode=True" in text
    if any(w in text for w in _EVAL_WORDS):
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in params and node.args:
                calls.append(func.id)
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in params:
                off = func.attr == "train" and len(node.args) == 1 and _is_false(node.args[0])
                if (func.attr == "eval" and not node.args) or off:
                    evals.append(func.value.id)
    name = fn.name  # type: ignore[attr-defined]
    d = summary.definitions.setdefault(name, Definition(name, fn.lineno, "function"))  # type: ignore[attr-defined]
    d.params, d.evals, d.calls, d.trains, d.backward = params, tuple(evals), tuple(calls), trains, "backward(" in text
    if d.backward and "for " not in text and "while " not in text:  # a helper with its own loop is judged there
        d.grads = gradient_events(fn, params)


def _transforms(tree: ast.Module, summary: ModuleSummary) -> None:
    """Module-level `val_tf = transforms.Compose([...])` and `data_transforms = {"val": Compose(...)}`:
    the name of each step (the rules judge which are random)."""
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            continue
        name, value = node.targets[0].id, node.value
        steps: Dict[str, Tuple[str, ...]] = {}
        if isinstance(value, ast.Dict):
            for key, item in zip(value.keys, value.values):
                found = _compose_steps(item)
                if isinstance(key, ast.Constant) and isinstance(key.value, str) and found is not None:
                    steps[key.value] = found
        else:
            found = _compose_steps(value)
            if found is not None:
                steps[""] = found
        if steps:
            summary.definitions[name] = Definition(name, node.lineno, "transform", steps=steps)


def _compose_steps(expr: Optional[ast.AST]) -> Optional[Tuple[str, ...]]:
    """The step names of `transforms.Compose([...])` (`T.v2.Compose` too); None for anything else."""
    if not (isinstance(expr, ast.Call) and (dotted_name(expr.func) or "").rsplit(".", 1)[-1] == "Compose"):
        return None
    if len(expr.args) != 1 or expr.keywords or not isinstance(expr.args[0], (ast.List, ast.Tuple)):
        return None
    out = []
    for el in expr.args[0].elts:
        if not isinstance(el, ast.Call):
            return None  # a step built elsewhere: not known
        out.append((dotted_name(el.func) or "?").rsplit(".", 1)[-1])
    return tuple(out)


def gradient_events(fn: ast.AST, params: Tuple[str, ...]) -> Optional[Tuple[Tuple[str, str], ...]]:
    """The backward/step/zero_grad calls of a helper, in order, when each runs exactly once per call
    (a plain statement of its body) on a parameter; None otherwise."""
    plain: Set[int] = set()
    for stmt in fn.body:  # type: ignore[attr-defined]
        if isinstance(stmt, (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return)):
            plain.update(id(n) for n in ast.walk(stmt))
    found: List[Tuple[int, int, str, str]] = []
    passed: Set[str] = set()
    for node in ast.walk(fn):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        attr = func.attr if isinstance(func, ast.Attribute) else ""
        recv = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        arg = node.args[0].id if len(node.args) == 1 and isinstance(node.args[0], ast.Name) else ""
        if attr in ("backward", "step", "zero_grad") and id(node) not in plain:
            return None
        if attr == "backward":
            found.append((node.lineno, node.col_offset, "back", ""))
        elif attr == "step" and recv in params and not node.args:
            found.append((node.lineno, node.col_offset, "step", recv))
        elif attr == "step" and arg in params:
            found.append((node.lineno, node.col_offset, "scaler_step", arg))
        elif attr == "zero_grad" and recv in params:
            found.append((node.lineno, node.col_offset, "clear", recv))
        elif attr in ("step", "zero_grad"):
            return None
        else:
            passed.update(a.id for a in node.args if isinstance(a, ast.Name))
    stepped = {p for _, _, kind, p in found if kind != "back"}
    if passed & stepped:
        return None  # the optimizer goes on to another function: what it does is not known
    return tuple((kind, p) for _, _, kind, p in sorted(found))


def _is_false(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Constant) and expr.value is False


def _top_functions(ctx: FileContext) -> List[ast.FunctionDef]:
    assert ctx.syntax is not None
    return [n for n in ctx.syntax.tree.body if isinstance(n, FUNCTIONS)]  # type: ignore[misc]


def _returns(fn: ast.AST) -> List[ast.Return]:
    from cnnlint.lint.index.models import walk_no_nested

    return [n for n in walk_no_nested(fn) if isinstance(n, ast.Return)]


def _pixels(ctx: FileContext, summary: ModuleSummary) -> None:
    scopes = ctx.get(Scopes)
    flow = ctx.get(ImageFlow)
    for fn in _top_functions(ctx):
        inner = scopes.fn_scope.get(id(fn))
        if inner is None or inner.has_yield or not inner.returns:
            continue
        found: Dict[int, Pixels] = {}
        for value, order, blocks in inner.returns:
            elements = value.elts if isinstance(value, ast.Tuple) else [value]
            for i, elt in enumerate(elements):
                t = flow.taint(elt, inner, order, blocks)
                key = i if isinstance(value, ast.Tuple) else -1
                p = _as_pixels(t)
                if p is not None and key not in found:
                    found[key] = p
        if found:
            d = summary.definitions.setdefault(fn.name, Definition(fn.name, fn.lineno, "function"))
            d.pixels = found


def _as_pixels(t: Taint) -> Optional[Pixels]:
    if not t[0] or t[2] is None:
        return None
    return Pixels(t[0], t[1], t[2].name)
