"""CNL402 removed-api: an API removed in the framework version the code will run on.

The code is judged against the framework versions it will run on, read from its project by
cnnlint/lint/project.py (`FilePins`): a pin there, or, with no pin, the current releases (said as
such in the message).

Every entry below was checked against the real libraries: the tests run each bad example under
the installed TensorFlow/Keras/torchvision and assert the exception (or, for `pretrained=`, the
warning) the message names. Beyond these hand-written entries the rule reads the derived table
(cnnlint/lint/removed_table.py, made by bench/api_surface/): removed names, methods of a receiver
the file builds itself (a DataLoader iterator, a Keras model) and keywords of resolved callables.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple

from packaging.version import Version

from cnnlint.findings import Fix, Severity
from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.names import assigned_names, call_tail, dotted_name, keyword
from cnnlint.lint.index.pins import FilePins
from cnnlint.lint.index.scalar_losses import ScalarLosses
from cnnlint.lint.index.source_text import short_code
from cnnlint.lint.index.snippets import attribute_name_span, keyword_name_span, keyword_value_text
from cnnlint.lint.index.syntax import Range, iter_statements
from cnnlint.lint.project_index.imported import ImportedSummaries
from cnnlint.lint.project import RunVersion, at_least, display, keras_major_for_tf, run_version
from cnnlint.lint.removed_table import RECEIVER_NOUNS, Removed, receiver_kind, removed_module, removed_table
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.sources.model import SourceFile

# ---------------------------------------------------------------- the tables

_OPTIMIZERS = frozenset(
    "SGD Adam AdamW Adamax Adagrad Adadelta RMSprop Nadam Ftrl Lion Adafactor Lamb Muon".split()
)
_OPTIMIZER_MODULES = ("keras.optimizers", "tensorflow.keras.optimizers", "tensorflow.optimizers")

# TensorFlow 1 names under `tensorflow.`: all gone in TensorFlow 2.0 -> what to use instead
TF1: Dict[str, str] = {
    "Session": "`tf.compat.v1.Session` for TF1 graph code, or eager code and `tf.function`",
    "InteractiveSession": "`tf.compat.v1.InteractiveSession`, or eager code",
    "placeholder": "`tf.compat.v1.placeholder` (with `tf.compat.v1.disable_eager_execution()`), or pass tensors directly",
    "global_variables_initializer": "`tf.compat.v1.global_variables_initializer`; eager variables need no initializer",
    "local_variables_initializer": "`tf.compat.v1.local_variables_initializer`",
    "get_variable": "`tf.Variable`, or `tf.compat.v1.get_variable`",
    "variable_scope": "`tf.compat.v1.variable_scope`, or Keras layers",
    "reset_default_graph": "`tf.keras.backend.clear_session()`, or `tf.compat.v1.reset_default_graph`",
    "get_default_graph": "`tf.compat.v1.get_default_graph`",
    "ConfigProto": "`tf.config.experimental.set_memory_growth(gpu, True)`, or `tf.compat.v1.ConfigProto`",
    "GPUOptions": "`tf.config.experimental.set_memory_growth(gpu, True)`, or `tf.compat.v1.GPUOptions`",
    "set_random_seed": "`tf.random.set_seed`",
    "random_normal": "`tf.random.normal`",
    "random_uniform": "`tf.random.uniform`",
    "truncated_normal": "`tf.random.truncated_normal`",
    "to_float": "`tf.cast(x, tf.float32)`",
    "to_int32": "`tf.cast(x, tf.int32)`",
    "log": "`tf.math.log`",
    "Print": "`tf.print`",
    "logging": "Python's `logging` module, or `tf.get_logger()`",
    "app": "`absl.app` (and `absl.flags`)",
    "flags": "`absl.flags`",
    "gfile": "`tf.io.gfile`",
    "layers": "`tf.keras.layers`",
    "contrib": "its pieces moved into core TensorFlow or TensorFlow Addons; `tf.compat.v1` has no `contrib`",
    "train.AdamOptimizer": "`tf.keras.optimizers.Adam`",
    "train.GradientDescentOptimizer": "`tf.keras.optimizers.SGD`",
    "train.MomentumOptimizer": "`tf.keras.optimizers.SGD(momentum=...)`",
    "train.RMSPropOptimizer": "`tf.keras.optimizers.RMSprop`",
    "train.AdagradOptimizer": "`tf.keras.optimizers.Adagrad`",
    "train.Saver": "`tf.train.Checkpoint`, or `model.save_weights`",
    "image.resize_images": "`tf.image.resize`",
    "summary.FileWriter": "`tf.summary.create_file_writer`",
}
_TF1_TAILS = frozenset(k.rsplit(".", 1)[-1] for k in TF1)


@dataclass(frozen=True)
class KerasPath:
    path: str  # under `keras.` (standalone) or `tensorflow.keras.`
    standalone_only: bool
    since: str  # the Keras version that removed it ("3.0", "2.13")
    instead: str
    module: bool = True


KERAS_PATHS: List[KerasPath] = [
    KerasPath("preprocessing.image.ImageDataGenerator", True, "3.0",
              "`keras.utils.image_dataset_from_directory` with preprocessing layers, or "
              "`tf.keras.preprocessing.image.ImageDataGenerator`, which TensorFlow still ships", module=False),
    KerasPath("preprocessing.image.DirectoryIterator", True, "3.0",
              "`keras.utils.image_dataset_from_directory`", module=False),
    KerasPath("preprocessing.image.NumpyArrayIterator", True, "3.0", "`tf.data.Dataset.from_tensor_slices`", module=False),
    KerasPath("preprocessing.text", True, "3.0", "`keras.layers.TextVectorization`"),
    KerasPath("utils.np_utils", False, "3.0", "`keras.utils` (`to_categorical` is there)"),
    KerasPath("utils.vis_utils", False, "3.0", "`keras.utils` (`plot_model` is there)"),
    KerasPath("utils.data_utils", False, "3.0", "`keras.utils` (`Sequence`/`PyDataset`, `get_file` are there)"),
    KerasPath("utils.generic_utils", False, "3.0", "`keras.utils`"),
    KerasPath("layers.core", False, "3.0", "`keras.layers`"),
    KerasPath("layers.convolutional", False, "3.0", "`keras.layers`"),
    KerasPath("layers.pooling", False, "3.0", "`keras.layers`"),
    KerasPath("layers.normalization", False, "3.0", "`keras.layers`"),
    KerasPath("layers.merge", False, "3.0", "`keras.layers`"),
    KerasPath("layers.recurrent", False, "3.0", "`keras.layers`"),
    KerasPath("layers.advanced_activations", False, "3.0", "`keras.layers`"),
    KerasPath("layers.embeddings", False, "3.0", "`keras.layers`"),
    KerasPath("layers.experimental", False, "3.0", "`keras.layers` (`Rescaling`, `RandomFlip`... moved there)"),
    KerasPath("engine", True, "3.0", "`keras.layers.Layer`, `keras.Model`, `keras.Input`"),
    KerasPath("backend.tensorflow_backend", True, "3.0", "`tf.config` for device settings"),
    KerasPath("backend.set_session", False, "3.0", "`tf.config` for device settings", module=False),
    KerasPath("backend.get_session", False, "3.0", "eager code; `tf.compat.v1.keras.backend.get_session` for TF1 code",
              module=False),
    KerasPath("wrappers.scikit_learn", False, "2.13",
              "`scikeras.wrappers.KerasClassifier` (the `scikeras` package), "
              "or `keras.wrappers.SKLearnClassifier` (Keras 3.8+)"),
]

_GENERATOR_METHODS = {"fit_generator": "fit", "evaluate_generator": "evaluate", "predict_generator": "predict"}
_NO_FIT_KWARGS = ("workers", "use_multiprocessing", "max_queue_size")
_TV_RENAMED = {"Scale": "Resize", "RandomSizedCrop": "RandomResizedCrop"}
_TV_TRANSFORMS = ("torchvision.transforms", "torchvision.transforms.transforms")

_GUARD_WORDS = re.compile(r"version|hasattr|tf1|tf2|keras2|keras3|legacy", re.IGNORECASE)
_GUARD_EXCEPTIONS = frozenset(
    {"ImportError", "ModuleNotFoundError", "AttributeError", "TypeError", "ValueError", "NameError",
     "Exception", "BaseException"}
)


@dataclass(frozen=True)
class KerasRun:
    version: Version  # Keras major.minor
    phrase: str  # "Keras 3 (`tensorflow==2.16.1` in requirements.txt)"


# ---------------------------------------------------------------- versions and guards


def where(run: Optional[RunVersion], label: str, notebook: bool) -> str:
    """How a message says which version: `Keras 3 (`tensorflow==2.16.1` in requirements.txt)`."""
    if run is None or run.pin is None:
        if notebook:
            return f"{label} on a current Colab runtime (no version is pinned)"
        return f"{label}, the current release (no version is pinned)"
    pin = run.pin
    if pin.specifier.startswith("==") and "*" not in pin.specifier:
        return f"{label} (`{pin.shown}` in {pin.place})"
    return f"{label} (`{pin.shown}` in {pin.place} installs {display(run.family, run.minor)})"


def _guard_test(node: ast.AST) -> Optional[ast.expr]:
    if isinstance(node, (ast.If, ast.While, ast.IfExp)):
        return node.test
    return None


def guarded(ctx: "FileContext") -> bool:
    """Inside a version check (`if tf.__version__ < "2.16":`, `hasattr`) or a try that catches the failure."""
    assert ctx.syntax is not None
    ancestors: List[ast.AST] = ctx.ancestors  # type: ignore[assignment]  # the ast walk's
    for node in ancestors:
        test = _guard_test(node)
        if test is not None and _GUARD_WORDS.search(ctx.syntax.segment(test)):
            return True
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                if handler.type is None:
                    return True
                types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                names = {dotted_name(e) for e in types}
                if any(n and n.rsplit(".", 1)[-1] in _GUARD_EXCEPTIONS for n in names):
                    return True
    return False


def rebound(tree: ast.Module) -> Set[str]:
    """Names the module assigns itself (`tf = tf.compat.v1`): imports say nothing about them then."""
    names: Set[str] = set()
    for stmt in iter_statements(tree):
        targets: List[ast.AST] = []
        if isinstance(stmt, ast.Assign):
            targets = list(stmt.targets)
        elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
            targets = [stmt.target]
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.update(p.arg for p in stmt.args.args)
        for target in targets:
            names.update(assigned_names(target))
    return names


def _keras_rel(qualified: str) -> Tuple[bool, Optional[str]]:
    """(standalone, path under keras) for `keras.x` / `tensorflow.keras.x`; rel None otherwise."""
    if qualified == "keras" or qualified.startswith("keras."):
        return True, qualified[len("keras."):] if "." in qualified else ""
    if qualified == "tensorflow.keras" or qualified.startswith("tensorflow.keras."):
        return False, qualified[len("tensorflow.keras."):] if qualified != "tensorflow.keras" else ""
    return False, None


# attribute tails that can end a removed Keras path, for the cheap prefilter in visit_Attribute
_KERAS_TAILS: Dict[str, bool] = {entry.path.rsplit(".", 1)[-1]: True for entry in KERAS_PATHS}


# ---------------------------------------------------------------- the rule


@dataclass
class _Pending:
    target: "ast.AST | Range"
    head: str  # the local name the qualified name starts from, "" for methods
    message: str
    hint: str
    severity: Optional[Severity] = None
    fix_edits: Tuple[Tuple[Range, str], ...] = ()  # (span, replacement) edits
    fix_description: str = ""


class RemovedApi(Rule):
    code = "CNL402"
    name = "removed-api"
    severity = Severity.ERROR
    autofix = True
    summary = "API removed in the framework version the code will run on"
    uses = (ImportTable, FilePins, Bindings, ScalarLosses, ImportedSummaries)

    _WORDS = ("keras", "tensorflow", "torchvision")
    # PyTorch code has table entries only for a DataLoader iterator's `.next()` and lr schedulers;
    # `loss.data[0]` is judged here
    _TORCH_MARKS = (".next(", "lr_scheduler", ".data[0]")

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = getattr(source, "text", "")
        if any(word in text for word in cls._WORDS) or "import *" in text:  # a star import may bring Keras
            return True
        return "torch" in text and any(mark in text for mark in cls._TORCH_MARKS)

    def __init__(self, ctx: "FileContext") -> None:
        super().__init__(ctx)
        self._pending: List[_Pending] = []
        self._keras_cache: Dict[bool, Optional[KerasRun]] = {}
        self._tv_cache: Optional[Tuple[Optional[RunVersion], bool]] = None
        self._tf_cache: Optional[Tuple[Optional[RunVersion], bool]] = None
        self._runs: Dict[str, Tuple[Optional[RunVersion], bool]] = {}
        self._defined: Optional[Set[str]] = None

    # -- versions

    def _pins(self) -> FilePins:
        return self.ctx.get(FilePins)

    def _tf(self) -> Tuple[Optional[RunVersion], bool]:
        if self._tf_cache is None:
            self._tf_cache = run_version(self._pins().pins, "tensorflow")
        return self._tf_cache

    def _keras(self, standalone: bool) -> Optional[KerasRun]:
        if standalone in self._keras_cache:
            return self._keras_cache[standalone]
        self._keras_cache[standalone] = run = self._compute_keras(standalone)
        return run

    def _compute_keras(self, standalone: bool) -> Optional[KerasRun]:
        pins = self._pins().pins
        notebook = self._pins().notebook
        if standalone:
            keras_pin = pins.first_versioned("keras")
            if keras_pin is not None:
                keras, known = run_version(pins, "keras")
                if not known or keras is None:
                    return None
                return KerasRun(keras.minor, where(keras, f"Keras {keras.minor}", notebook))
            if pins.is_unknown("keras"):
                return None
        tf, known = self._tf()
        if not known or tf is None:
            return None
        major = keras_major_for_tf(tf)
        if not standalone and major >= 3:
            text = getattr(self.ctx.source, "text", "")
            if "tf-keras" in pins.pins or "TF_USE_LEGACY_KERAS" in text or pins.is_unknown("tf-keras"):
                return None  # tf.keras may be Keras 2 (the tf_keras package)
        release = tf.minor.release
        if major >= 3:
            return KerasRun(Version("3.0"), where(tf, "Keras 3", notebook))
        version = Version(f"2.{release[1]}" if release[0] == 2 else "2.2")
        return KerasRun(version, where(tf, f"Keras {version}", notebook))

    def _torchvision(self) -> Tuple[Optional[RunVersion], bool]:
        if self._tv_cache is None:
            self._tv_cache = run_version(self._pins().pins, "torchvision")
        return self._tv_cache

    # -- the walk

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            return
        base = node.module
        if base == "tensorflow.contrib" or base.startswith("tensorflow.contrib."):
            self._tf1(node, "contrib", "")
            return
        if not (base.startswith("keras") or base.startswith("tensorflow.keras")):
            return
        names = [a.name for a in node.names if a.name != "*"]
        standalone, rel = _keras_rel(base)
        if rel is None:
            if base.split(".")[0] in ("torch", "torchvision"):
                self._table_import_from(node, base, names)
            return
        for entry in KERAS_PATHS:
            if entry.standalone_only and not standalone:
                continue
            hit = None
            if entry.module and (rel == entry.path or rel.startswith(entry.path + ".")):
                hit = f"from {base} import ..."
            else:
                for name in names:
                    full = f"{rel}.{name}" if rel else name
                    if full == entry.path:
                        hit = f"from {base} import {name}"
            if hit:
                self._keras_path(node, entry, standalone, hit, "ImportError")
                return
        self._table_import_from(node, base, names)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            full = alias.name
            if full == "tensorflow.contrib" or full.startswith("tensorflow.contrib."):
                self._tf1(node, "contrib", "")
                return
            if self._keras_module_import(node, full):
                return
            removed = removed_module(removed_table(), full)
            if removed is not None and self._table_name(node, removed, "import", f"`import {full}`", ""):
                return

    def _keras_module_import(self, node: ast.Import, full: str) -> bool:
        standalone, rel = _keras_rel(full)
        if rel is None:
            return False
        for entry in KERAS_PATHS:
            if entry.module and (not entry.standalone_only or standalone) and (
                rel == entry.path or rel.startswith(entry.path + ".")
            ):
                self._keras_path(node, entry, standalone, f"import {full}", "ModuleNotFoundError")
                return True
        return False

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        table = removed_table()
        if attr not in _TF1_TAILS and attr not in _TV_RENAMED and not _KERAS_TAILS.get(attr) and attr not in table.tails:
            return
        imports = self.ctx.get(ImportTable)
        name = dotted_name(node)
        if name is None or name.split(".")[0] not in imports.aliases:
            return  # not reached through an import: an object of unknown type
        qualified = imports.qualify(node) or ""
        head = name.split(".")[0]
        if qualified.startswith("tensorflow."):
            rest = qualified[len("tensorflow."):]
            if rest in TF1:
                self._tf1(node, rest, head)
                return
        standalone, rel = _keras_rel(qualified)
        if rel is not None:
            for entry in KERAS_PATHS:
                if rel == entry.path and (not entry.standalone_only or standalone):
                    # a removed module reached as an attribute is a missing attribute
                    self._keras_path(node, entry, standalone, f"`{name}`", "AttributeError", head)
                    return
        if attr in _TV_RENAMED and qualified.rsplit(".", 1)[0] in _TV_TRANSFORMS:
            self._tv_renamed(node, attr, head)
            return
        removed = table.names.get(qualified)
        if removed is not None:
            self._table_name(node, removed, "attr", f"`{name}`", head)

    def visit_Call(self, node: ast.Call) -> None:
        tail = call_tail(node)
        if tail is None:
            if isinstance(node.func, ast.Subscript) and any(kw.arg and "pretrained" in kw.arg for kw in node.keywords):
                self._pretrained(node)
            return
        before = len(self._pending)
        if tail in _OPTIMIZERS:
            self._optimizer_lr(node)
        elif tail in _GENERATOR_METHODS or tail == "predict_classes":
            self._keras_method(node, tail)
        elif any(kw.arg and "pretrained" in kw.arg for kw in node.keywords):
            self._pretrained(node)
        if len(self._pending) == before:
            self._table_call(node, tail)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        """`loss.data[0]`: PyTorch 0.3's way to read a loss, an IndexError on a 0-dim tensor since 0.5."""
        data = node.value
        if not (isinstance(data, ast.Attribute) and data.attr == "data" and isinstance(node.slice, ast.Constant)
                and node.slice.value == 0 and type(node.slice.value) is int and isinstance(node.ctx, ast.Load)):
            return
        why = self.ctx.get(ScalarLosses).scalar(data.value)
        if why is None or guarded(self.ctx):
            return
        run, known = self._family_run("torch")
        if not known or run is None or not at_least(run, "0.5"):
            return
        syntax = self.ctx.syntax
        assert syntax is not None
        callee = dotted_name(data.value.func) if isinstance(data.value, ast.Call) else None
        shown = f"{callee}(...).data[0]" if callee else short_code(syntax, node, 40)
        place = where(run, display("torch", run.minor), self._pins().notebook)
        message = (
            f"`{shown}` fails with IndexError: it indexes a 0-dim tensor ({why}), which PyTorch 0.5 and later "
            f"refuse (PyTorch 0.3 returned a 1-element tensor), and this code runs on {place}"
        )
        _, _, end_line, end_column = syntax.span(data.value)
        _, _, last_line, last_column = syntax.span(node)
        edit = ((end_line, end_column, last_line, last_column), ".item()")
        self._pending.append(_Pending(node, "", message, "call `.item()` to read the number",
                                      fix_edits=(edit,), fix_description="call `.item()`"))

    # -- entries

    def _tf1(self, node: ast.AST, name: str, head: str) -> None:
        if guarded(self.ctx):
            return
        tf, known = self._tf()
        if not known or tf is None or not at_least(tf, "2.0"):
            return
        shown = "tf.contrib" if name == "contrib" else f"tf.{name}"
        place = where(tf, f"TensorFlow {tf.minor}", self._pins().notebook)
        message = f"`{shown}` was removed in TensorFlow 2.0 (AttributeError), and this code runs on {place}"
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            message = f"`tensorflow.contrib` was removed in TensorFlow 2.0 (ModuleNotFoundError), and this code runs on {place}"
        self._pending.append(_Pending(node, head, message, f"use {TF1[name]}"))

    def _keras_path(self, node: ast.AST, entry: KerasPath, standalone: bool, shown: str, error: str, head: str = "") -> None:
        if guarded(self.ctx):
            return
        run = self._keras(standalone)
        if run is None or run.version < Version(entry.since):
            return
        prefix = "keras" if standalone else "tensorflow.keras"
        since = "Keras 3" if entry.since == "3.0" else f"Keras {entry.since} (TensorFlow {entry.since})"
        what = shown if shown.startswith("`") else f"`{shown}`"
        message = f"{what} fails with {error}: `{prefix}.{entry.path}` was removed in {since}, and this code runs on {run.phrase}"
        self._pending.append(_Pending(node, head, message, f"use {entry.instead}"))

    def _tv_renamed(self, node: ast.Attribute, attr: str, head: str) -> None:
        if guarded(self.ctx):
            return
        tv, known = self._torchvision()
        if not known or tv is None or not at_least(tv, "0.12"):
            return
        new = _TV_RENAMED[attr]
        place = where(tv, f"torchvision {tv.minor}", self._pins().notebook)
        message = (
            f"`transforms.{attr}` was removed in torchvision 0.12 (AttributeError), and this code runs on {place}"
        )
        assert self.ctx.syntax is not None
        self._pending.append(
            _Pending(node, head, message, f"use `transforms.{new}`: the same transform under its current name",
                     fix_edits=((attribute_name_span(self.ctx.syntax, node), new),),
                     fix_description=f"rename `{attr}` to `{new}`")
        )

    def _optimizer_lr(self, node: ast.Call) -> None:
        lr = keyword(node, "lr")
        if lr is None:
            return
        imports = self.ctx.get(ImportTable)
        qualified = imports.qualify(node.func) or ""
        module, _, name = qualified.rpartition(".")
        if not module and isinstance(node.func, ast.Name) and not self._bound_here(name):
            # `from keras.optimizers import *`: a name the file neither imports nor binds comes from there
            module = next((m for m in imports.star_modules if m in _OPTIMIZER_MODULES), "")
        if module not in _OPTIMIZER_MODULES or name not in _OPTIMIZERS:
            return
        if guarded(self.ctx):
            return
        run = self._keras(module.startswith("keras"))
        if run is None or run.version < Version("3.0"):
            return
        syntax = self.ctx.syntax
        assert syntax is not None
        value = keyword_value_text(syntax, lr)
        message = (
            f"`{name}(lr={value})` raises ValueError (Argument(s) not recognized: {{'lr': ...}}): "
            f"Keras 3 optimizers take only `learning_rate`, and this code runs on {run.phrase}"
        )
        span = keyword_name_span(syntax, lr)
        fix_edits: Tuple[Tuple[Range, str], ...] = ()
        if keyword(node, "learning_rate") is None:
            fix_edits = ((span, "learning_rate"),)
        head = (dotted_name(node.func) or "").split(".")[0]
        self._pending.append(
            _Pending(span, head, message, f"write `learning_rate={value}`",
                     fix_edits=fix_edits, fix_description="rename `lr=` to `learning_rate=`")
        )

    def _bound_here(self, name: str) -> bool:
        """The file binds `name` itself: an assignment, a def or a class of that name."""
        if name in self.ctx.get(Bindings).binds:
            return True
        assert self.ctx.syntax is not None
        return any(isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and stmt.name == name
                   for stmt in iter_statements(self.ctx.syntax.tree))

    def _keras_runs(self, func: ast.Attribute, tail: str) -> Optional[List[KerasRun]]:
        """The Keras versions a `receiver.fit_generator(...)` call may run on; None where the call
        is not Keras's or is guarded."""
        imports = self.ctx.get(ImportTable)
        packages = {p for p in ("keras", "tensorflow") if imports.imports_any(p)}
        if not packages and imports.star_modules:
            # `from model import *` of a project module that imports Keras: its names came with it
            packages = {"keras", "tensorflow"} & self.ctx.get(ImportedSummaries).star_packages()
        if not packages:
            return None
        if tail in self._defined_names():
            return None  # the file defines its own fit_generator
        receiver = dotted_name(func.value)
        if receiver is not None:
            resolved = imports.aliases.get(receiver.split(".")[0])
            if resolved is not None and not resolved.startswith(("keras", "tensorflow")):
                return None  # `mylib.fit_generator(...)`
        if guarded(self.ctx):
            return None
        runs = []
        if "keras" in packages:
            runs.append(self._keras(True))
        if "tensorflow" in packages:
            runs.append(self._keras(False))
        if not runs or any(r is None for r in runs):
            return None
        return runs  # type: ignore[return-value]

    def _keras_method(self, node: ast.Call, tail: str) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        runs = self._keras_runs(func, tail)
        if runs is None:
            return
        since = Version("2.6") if tail == "predict_classes" else Version("3.0")
        if any(r.version < since for r in runs):
            return
        phrase = runs[0].phrase
        receiver_text = dotted_name(func.value) or "model"
        if tail == "predict_classes":
            message = (
                f"`{receiver_text}.predict_classes()` was removed in TensorFlow 2.6 and Keras 2.6 "
                f"(AttributeError), and this code runs on {phrase}"
            )
            hint = ("use `np.argmax(model.predict(x), axis=-1)` (softmax), "
                    "or `(model.predict(x) > 0.5).astype(\"int32\")` (sigmoid)")
            self._pending.append(_Pending(node, "", message, hint))
            return
        self._generator_method(node, func, tail, receiver_text, phrase)

    def _generator_method(self, node: ast.Call, func: ast.Attribute, tail: str, receiver_text: str, phrase: str) -> None:
        syntax = self.ctx.syntax
        assert syntax is not None
        new = _GENERATOR_METHODS[tail]
        message = (
            f"`{receiver_text}.{tail}()` was removed in Keras 3 (AttributeError), and this code runs on {phrase}"
        )
        blocked = [k for k in _NO_FIT_KWARGS if keyword(node, k) is not None]
        starred = any(isinstance(a, ast.Starred) for a in node.args)
        positional_count = sum(1 for a in node.args if not isinstance(a, ast.Starred))
        fix_edits: Tuple[Tuple[Range, str], ...] = ()
        if blocked:
            listed = ", ".join(f"`{k}`" for k in blocked)
            hint = (
                f"call `{new}()`, which takes generators and datasets; Keras 3 `{new}()` rejects {listed}: "
                "set them on a `keras.utils.PyDataset` instead"
            )
        else:
            hint = f"call `{new}()`: it takes the same generator (and `steps_per_epoch`, `validation_data`...)"
            if positional_count <= 1 and not starred and not any(kw.arg is None for kw in node.keywords):
                edits = [(attribute_name_span(syntax, func), new)]
                generator_kw = keyword(node, "generator")
                if generator_kw is not None:
                    edits.append((keyword_name_span(syntax, generator_kw), "x"))
                fix_edits = tuple(edits)
        self._pending.append(
            _Pending(attribute_name_span(syntax, func), "", message, hint, fix_edits=fix_edits,
                     fix_description=f"call `{new}()`")
        )

    def _pretrained(self, node: ast.Call) -> None:
        imports = self.ctx.get(ImportTable)
        func = node.func
        if isinstance(func, ast.Subscript):  # `models.__dict__[arch](pretrained=True)`: a builder by name
            table = func.value
            if not (isinstance(table, ast.Attribute) and table.attr == "__dict__"
                    and imports.qualify(table.value) == "torchvision.models"):
                return
        else:
            qualified = imports.qualify(func) or ""
            if not qualified.startswith("torchvision.models."):
                return
            builder = qualified.rsplit(".", 1)[-1]
            if not builder[:1].islower():
                return
        arg = keyword(node, "pretrained") or keyword(node, "pretrained_backbone")
        if arg is None or arg.arg is None:
            return
        if guarded(self.ctx):
            return
        tv, known = self._torchvision()
        if not known or tv is None or not at_least(tv, "0.13"):
            return
        syntax = self.ctx.syntax
        assert syntax is not None
        word = arg.arg
        place = where(tv, f"torchvision {tv.minor}", self._pins().notebook)
        value = keyword_value_text(syntax, arg)
        message = (
            f"`{word}={value}` is deprecated since torchvision 0.13 (a UserWarning; `weights=` replaces it) "
            f"and may be removed in a later release; this code runs on {place}"
        )
        weights = "weights_backbone" if word == "pretrained_backbone" else "weights"
        if value == "False":
            hint = f"write `{weights}=None`"
        else:
            hint = (
                f"write `{weights}=\"IMAGENET1K_V1\"` "
                "(the weights `pretrained=True` loads; \"DEFAULT\" picks the best available, which may differ)"
            )
        self._pending.append(_Pending(keyword_name_span(syntax, arg), "", message, hint, severity=Severity.INFO))

    # -- the derived table (cnnlint/lint/removed_table.py)

    def _family_run(self, family: str) -> Tuple[Optional[RunVersion], bool]:
        if family not in self._runs:
            self._runs[family] = run_version(self._pins().pins, family)
        return self._runs[family]

    def _table_phrase(self, entry: Removed) -> Optional[str]:
        """How the message says what the code runs on; None when that is unknown or still has it."""
        if entry.family == "keras":
            keras_run = self._keras(entry.root == "keras")
            if keras_run is None or keras_run.version < entry.since:
                return None
            return keras_run.phrase
        run, known = self._family_run(entry.family)
        if not known or run is None or not at_least(run, str(entry.since)):
            return None
        return where(run, display(entry.family, run.minor), self._pins().notebook)

    def _table_gate(self, entry: Removed, form: str) -> Optional[Tuple[str, str]]:
        """(the exception this form raises, what the code runs on) when the entry applies here."""
        error = entry.error(form)
        if error is None or guarded(self.ctx):
            return None
        phrase = self._table_phrase(entry)
        return None if phrase is None else (error, phrase)

    def _table_name(self, node: ast.AST, entry: Removed, form: str, shown: str, head: str) -> bool:
        gate = self._table_gate(entry, form)
        if gate is None:
            return False
        error, phrase = gate
        message = f"{shown} fails with {error}: `{entry.path}` is not in {entry.since_text()}, and this code runs on {phrase}"
        self._pending.append(_Pending(node, head, message, entry.replacement()))
        return True

    def _table_import_from(self, node: ast.ImportFrom, base: str, names: List[str]) -> None:
        table = removed_table()
        removed = removed_module(table, base)
        if removed is not None:
            self._table_name(node, removed, "import", f"`from {base} import ...`", "")
            return
        for name in names:
            removed = table.names.get(f"{base}.{name}")
            if removed is not None and self._table_name(node, removed, "from", f"`from {base} import {name}`", ""):
                return

    def _table_call(self, node: ast.Call, tail: str) -> None:
        table = removed_table()
        func = node.func
        if tail in table.method_names and isinstance(func, ast.Attribute):
            self._table_method(node, func, tail)
        for kw in node.keywords:
            if kw.arg in table.keyword_names:
                qualified = self.ctx.get(ImportTable).qualify(func) or ""
                removed = table.keywords.get((qualified, kw.arg))
                if removed is not None:
                    self._table_keyword(node, kw, removed)

    def _table_method(self, node: ast.Call, func: ast.Attribute, tail: str) -> None:
        """`dataiter.next()`, `model.predict_proba(x)`: only on a receiver the file builds."""
        found = receiver_kind(self.ctx.get(Bindings), func.value)
        if found is None:
            return
        kind, root = found
        entry = next((e for e in removed_table().methods.get((kind, tail), []) if e.root == root), None)
        gate = None if entry is None else self._table_gate(entry, "attr")
        if entry is None or gate is None:
            return
        error, phrase = gate
        syntax = self.ctx.syntax
        assert syntax is not None
        receiver = dotted_name(func.value) or "it"
        message = (
            f"`{receiver}.{tail}()` fails with {error}: {RECEIVER_NOUNS[kind]} has no `{tail}()` "
            f"in {entry.since_text()}, and this code runs on {phrase}"
        )
        self._pending.append(_Pending(attribute_name_span(syntax, func), "", message, entry.replacement()))

    def _table_keyword(self, node: ast.Call, kw: ast.keyword, entry: Removed) -> None:
        gate = self._table_gate(entry, "call")
        if gate is None:
            return
        error, phrase = gate
        syntax = self.ctx.syntax
        assert syntax is not None
        callee = dotted_name(node.func) or entry.path.rsplit(".", 1)[-1]
        message = (
            f"`{callee}({kw.arg}=...)` fails with {error}: `{entry.path}` takes no `{kw.arg}=` "
            f"in {entry.since_text()}, and this code runs on {phrase}"
        )
        head = callee.split(".")[0]
        self._pending.append(_Pending(keyword_name_span(syntax, kw), head, message, entry.replacement()))

    def _defined_names(self) -> Set[str]:
        if self._defined is None:
            assert self.ctx.syntax is not None
            self._defined = {
                s.name for s in iter_statements(self.ctx.syntax.tree)
                if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
        return self._defined

    def check(self) -> None:
        if not self._pending or self.ctx.syntax is None:
            return
        names = rebound(self.ctx.syntax.tree)
        for p in self._pending:
            if p.head and p.head in names:
                continue
            fix = None
            if p.fix_edits:
                edits = [(*span, text) for span, text in p.fix_edits]
                first, rest = edits[0], tuple(edits[1:])
                fix = Fix(first[0], first[1], first[2], first[3], first[4], description=p.fix_description, edits=rest)
            self.report(p.target, p.message, p.hint, severity=p.severity, fix=fix)
        self._pending = []
