"""CNL402 removed-api and CNL403 framework-version-not-recorded.

Both judge the code against the framework versions it will run on, read from
its project by cnnlint/lint/project.py: a pin there, or, with no pin, the
current releases (said as such in the message).

Every CNL402 entry below was checked against the real libraries: the tests run
each bad example under the installed TensorFlow/Keras/torchvision and assert
the exception (or, for `pretrained=`, the warning) the message names.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst
from packaging.version import Version

from cnnlint.findings import Fix, Severity
from cnnlint.lint.dependencies import installed_version
from cnnlint.lint.project import (
    ProjectPins,
    RunVersion,
    at_least,
    display,
    keras_major_for_tf,
    project_pins,
    run_version,
    shell_pins,
)
from cnnlint.lint.rule import Rule
from cnnlint.lint.tree import assigned_names, call_tail, dotted_name, iter_statements, keyword

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
    KerasPath("backend.get_session", False, "3.0", "eager code; `tf.compat.v1.keras.backend.get_session` for TF1 code", module=False),
    KerasPath("wrappers.scikit_learn", False, "2.13",
              "`scikeras.wrappers.KerasClassifier` (the `scikeras` package), or `keras.wrappers.SKLearnClassifier` (Keras 3.8+)"),
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


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


# ---------------------------------------------------------------- shared: versions and guards


def _pins_for(rule: Rule) -> ProjectPins:
    """The project's pins, computed once per file and shared by CNL402 and CNL403."""
    ctx = rule.ctx
    cached = getattr(ctx, "_cnnlint_pins", None)
    if cached is not None:
        return cached
    source = ctx.source
    pins = ProjectPins()
    commands = [c.text for c in getattr(source, "shell", None) or []]
    if commands:
        shell_pins(pins, commands, "this notebook's `pip install`", ctx.read_related, own=True)
    cells = getattr(source, "cells", None) or {}
    if any("tensorflow_version 1" in line for lines in cells.values() for line in lines):
        pins.unknown.add("tensorflow")  # `%tensorflow_version 1.x`: the author chose TF1 on old Colab
    real = ctx.real_path
    if real and os.path.isfile(real):
        pins = project_pins(real, ctx.read_related, pins, ctx.list_related)
    ctx._cnnlint_pins = pins  # type: ignore[attr-defined]
    return pins


def _is_notebook(rule: Rule) -> bool:
    return getattr(rule.ctx.source, "kind", "") == "notebook"


def _where(run: Optional[RunVersion], label: str, notebook: bool) -> str:
    """How a message says which version: `Keras 3 (`tensorflow==2.16.1` in requirements.txt)`."""
    if run is None or run.pin is None:
        if notebook:
            return f"{label} on a current Colab runtime (no version is pinned)"
        return f"{label}, the current release (no version is pinned)"
    pin = run.pin
    if pin.specifier.startswith("==") and "*" not in pin.specifier:
        return f"{label} (`{pin.shown}` in {pin.place})"
    return f"{label} (`{pin.shown}` in {pin.place} installs {display(run.family, run.minor)})"


def _guarded(ancestors: List[cst.CSTNode]) -> bool:
    """Inside a version check (`if tf.__version__ < "2.16":`, `hasattr`) or a try that catches the failure."""
    for node in ancestors:
        if isinstance(node, (cst.If, cst.While)) and _GUARD_WORDS.search(_code(node.test)):
            return True
        if isinstance(node, cst.IfExp) and _GUARD_WORDS.search(_code(node.test)):
            return True
        if isinstance(node, cst.Try):
            for handler in node.handlers:
                if handler.type is None:
                    return True
                names = {dotted_name(e.value) for e in handler.type.elements} if isinstance(handler.type, cst.Tuple) else {dotted_name(handler.type)}
                if any(n and n.rsplit(".", 1)[-1] in _GUARD_EXCEPTIONS for n in names):
                    return True
    return False


def _rebound(module: cst.Module) -> Set[str]:
    """Names the module assigns itself (`tf = tf.compat.v1`): imports say nothing about them then."""
    names: Set[str] = set()
    for stmt in iter_statements(module):
        targets: List[cst.CSTNode] = []
        if isinstance(stmt, cst.Assign):
            targets = [t.target for t in stmt.targets]
        elif isinstance(stmt, (cst.AnnAssign, cst.AugAssign)):
            targets = [stmt.target]
        elif isinstance(stmt, (cst.For,)):
            targets = [stmt.target]
        elif isinstance(stmt, (cst.FunctionDef,)):
            names.update(p.name.value for p in stmt.params.params)
        for target in targets:
            names.update(assigned_names(target))
    return names


# ---------------------------------------------------------------- CNL402


@dataclass
class _Pending:
    target: cst.CSTNode
    head: str  # the local name the qualified name starts from, "" for methods
    message: str
    hint: str
    severity: Optional[Severity] = None
    fix_nodes: Tuple[Tuple[cst.CSTNode, str], ...] = ()  # (node, replacement) edits
    fix_description: str = ""


class RemovedApi(Rule):
    code = "CNL402"
    name = "removed-api"
    severity = Severity.ERROR
    autofix = True
    summary = "API removed in the framework version the code will run on"

    _WORDS = ("keras", "tensorflow", "torchvision")

    @classmethod
    def applies(cls, source: object) -> bool:
        text = getattr(source, "text", "")
        return any(word in text for word in cls._WORDS)

    def __init__(self, ctx: object) -> None:
        super().__init__(ctx)  # type: ignore[arg-type]
        self._pending: List[_Pending] = []
        self._keras_cache: Dict[bool, Optional[KerasRun]] = {}
        self._tv_cache: Optional[Tuple[Optional[RunVersion], bool]] = None
        self._tf_cache: Optional[Tuple[Optional[RunVersion], bool]] = None
        self._defined: Optional[Set[str]] = None

    # -- versions

    def _tf(self) -> Tuple[Optional[RunVersion], bool]:
        if self._tf_cache is None:
            self._tf_cache = run_version(_pins_for(self), "tensorflow")
        return self._tf_cache

    def _keras(self, standalone: bool) -> Optional[KerasRun]:
        if standalone in self._keras_cache:
            return self._keras_cache[standalone]
        self._keras_cache[standalone] = run = self._compute_keras(standalone)
        return run

    def _compute_keras(self, standalone: bool) -> Optional[KerasRun]:
        pins = _pins_for(self)
        notebook = _is_notebook(self)
        if standalone:
            keras_pin = pins.first_versioned("keras")
            if keras_pin is not None:
                keras, known = run_version(pins, "keras")
                if not known or keras is None:
                    return None
                return KerasRun(keras.minor, _where(keras, f"Keras {keras.minor}", notebook))
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
            return KerasRun(Version("3.0"), _where(tf, "Keras 3", notebook))
        version = Version(f"2.{release[1]}" if release[0] == 2 else "2.2")
        return KerasRun(version, _where(tf, f"Keras {version}", notebook))

    def _torchvision(self) -> Tuple[Optional[RunVersion], bool]:
        if self._tv_cache is None:
            self._tv_cache = run_version(_pins_for(self), "torchvision")
        return self._tv_cache

    # -- the walk

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        base = dotted_name(node.module) or ""
        if base == "tensorflow.contrib" or base.startswith("tensorflow.contrib."):
            self._tf1(node, "contrib", "")
            return
        if not (base.startswith("keras") or base.startswith("tensorflow.keras")):
            return
        names = [] if isinstance(node.names, cst.ImportStar) else [dotted_name(a.name) or "" for a in node.names]
        standalone, rel = self._keras_rel(base)
        if rel is None:
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

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = dotted_name(alias.name) or ""
            if full == "tensorflow.contrib" or full.startswith("tensorflow.contrib."):
                self._tf1(node, "contrib", "")
                return
            standalone, rel = self._keras_rel(full)
            if rel is None:
                continue
            for entry in KERAS_PATHS:
                if entry.module and (not entry.standalone_only or standalone) and (
                    rel == entry.path or rel.startswith(entry.path + ".")
                ):
                    self._keras_path(node, entry, standalone, f"import {full}", "ModuleNotFoundError")
                    return

    def visit_Attribute(self, node: cst.Attribute) -> None:
        attr = node.attr.value
        if attr not in _TF1_TAILS and attr not in _TV_RENAMED and not _KERAS_TAILS.get(attr):
            return
        if any(isinstance(a, (cst.Import, cst.ImportFrom)) for a in self.ctx.ancestors):
            return
        name = dotted_name(node)
        if name is None or name.split(".")[0] not in self.ctx.imports.aliases:
            return  # not reached through an import: an object of unknown type
        qualified = self.ctx.imports.qualify(node) or ""
        head = (dotted_name(node) or "").split(".")[0]
        if qualified.startswith("tensorflow."):
            rest = qualified[len("tensorflow."):]
            if rest in TF1:
                self._tf1(node, rest, head)
                return
        standalone, rel = self._keras_rel(qualified)
        if rel is not None:
            for entry in KERAS_PATHS:
                if rel == entry.path and (not entry.standalone_only or standalone):
                    error = "ModuleNotFoundError" if entry.module else "AttributeError"
                    self._keras_path(node, entry, standalone, f"`{dotted_name(node)}`", error, head)
                    return
        if attr in _TV_RENAMED and qualified.rsplit(".", 1)[0] in _TV_TRANSFORMS:
            self._tv_renamed(node, attr, head)

    def visit_Call(self, node: cst.Call) -> None:
        tail = call_tail(node)
        if tail is None:
            return
        if tail in _OPTIMIZERS:
            self._optimizer_lr(node)
        elif tail in _GENERATOR_METHODS or tail == "predict_classes":
            self._keras_method(node, tail)
        elif "pretrained" in _code_keywords(node):
            self._pretrained(node)

    # -- entries

    @staticmethod
    def _keras_rel(qualified: str) -> Tuple[bool, Optional[str]]:
        """(standalone, path under keras) for `keras.x` / `tensorflow.keras.x`; rel None otherwise."""
        if qualified == "keras" or qualified.startswith("keras."):
            return True, qualified[len("keras."):] if "." in qualified else ""
        if qualified == "tensorflow.keras" or qualified.startswith("tensorflow.keras."):
            return False, qualified[len("tensorflow.keras."):] if qualified != "tensorflow.keras" else ""
        return False, None

    def _tf1(self, node: cst.CSTNode, name: str, head: str) -> None:
        if _guarded(self.ctx.ancestors):
            return
        tf, known = self._tf()
        if not known or tf is None or not at_least(tf, "2.0"):
            return
        shown = "tf.contrib" if name == "contrib" else f"tf.{name}"
        where = _where(tf, f"TensorFlow {tf.minor}", _is_notebook(self))
        message = f"`{shown}` was removed in TensorFlow 2.0 (AttributeError), and this code runs on {where}"
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            message = f"`tensorflow.contrib` was removed in TensorFlow 2.0 (ModuleNotFoundError), and this code runs on {where}"
        self._pending.append(_Pending(node, head, message, f"use {TF1[name]}"))

    def _keras_path(self, node: cst.CSTNode, entry: KerasPath, standalone: bool, shown: str, error: str, head: str = "") -> None:
        if _guarded(self.ctx.ancestors):
            return
        run = self._keras(standalone)
        if run is None or run.version < Version(entry.since):
            return
        prefix = "keras" if standalone else "tensorflow.keras"
        since = "Keras 3" if entry.since == "3.0" else f"Keras {entry.since} (TensorFlow {entry.since})"
        what = shown if shown.startswith("`") else f"`{shown}`"
        message = f"{what} fails with {error}: `{prefix}.{entry.path}` was removed in {since}, and this code runs on {run.phrase}"
        self._pending.append(_Pending(node, head, message, f"use {entry.instead}"))

    def _tv_renamed(self, node: cst.Attribute, attr: str, head: str) -> None:
        if _guarded(self.ctx.ancestors):
            return
        tv, known = self._torchvision()
        if not known or tv is None or not at_least(tv, "0.12"):
            return
        new = _TV_RENAMED[attr]
        where = _where(tv, f"torchvision {tv.minor}", _is_notebook(self))
        message = (
            f"`transforms.{attr}` was removed in torchvision 0.12 (AttributeError), and this code runs on {where}"
        )
        self._pending.append(
            _Pending(node, head, message, f"use `transforms.{new}`: the same transform under its current name",
                     fix_nodes=((node.attr, new),), fix_description=f"rename `{attr}` to `{new}`")
        )

    def _optimizer_lr(self, node: cst.Call) -> None:
        lr = keyword(node, "lr")
        if lr is None:
            return
        qualified = self.ctx.imports.qualify(node.func) or ""
        module, _, name = qualified.rpartition(".")
        if module not in _OPTIMIZER_MODULES or name not in _OPTIMIZERS:
            return
        if _guarded(self.ctx.ancestors):
            return
        run = self._keras(module.startswith("keras"))
        if run is None or run.version < Version("3.0"):
            return
        value = _code(lr.value).strip()
        message = (
            f"`{name}(lr={value})` raises ValueError (Argument(s) not recognized: {{'lr': ...}}): "
            f"Keras 3 optimizers take only `learning_rate`, and this code runs on {run.phrase}"
        )
        fix_nodes: Tuple[Tuple[cst.CSTNode, str], ...] = ()
        if keyword(node, "learning_rate") is None and lr.keyword is not None:
            fix_nodes = ((lr.keyword, "learning_rate"),)
        head = (dotted_name(node.func) or "").split(".")[0]
        self._pending.append(
            _Pending(lr.keyword or node, head, message, f"write `learning_rate={value}`",
                     fix_nodes=fix_nodes, fix_description="rename `lr=` to `learning_rate=`")
        )

    def _keras_method(self, node: cst.Call, tail: str) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        imports = self.ctx.imports
        if not imports.imports_any("keras", "tensorflow"):
            return
        if tail in self._defined_names():
            return  # the file defines its own fit_generator
        receiver = dotted_name(func.value)
        if receiver is not None:
            head = receiver.split(".")[0]
            resolved = imports.aliases.get(head)
            if resolved is not None and not resolved.startswith(("keras", "tensorflow")):
                return  # `mylib.fit_generator(...)`
        if _guarded(self.ctx.ancestors):
            return
        runs = []
        if imports.imports_any("keras"):
            runs.append(self._keras(True))
        if imports.imports_any("tensorflow"):
            runs.append(self._keras(False))
        if not runs or any(r is None for r in runs):
            return
        since = Version("2.6") if tail == "predict_classes" else Version("3.0")
        if any(r.version < since for r in runs):  # type: ignore[union-attr]
            return
        phrase = runs[0].phrase  # type: ignore[union-attr]
        receiver_text = receiver or "model"
        if tail == "predict_classes":
            message = (
                f"`{receiver_text}.predict_classes()` was removed in TensorFlow 2.6 and Keras 2.6 "
                f"(AttributeError), and this code runs on {phrase}"
            )
            hint = "use `np.argmax(model.predict(x), axis=-1)` (softmax), or `(model.predict(x) > 0.5).astype(\"int32\")` (sigmoid)"
            self._pending.append(_Pending(node, "", message, hint))
            return
        new = _GENERATOR_METHODS[tail]
        message = (
            f"`{receiver_text}.{tail}()` was removed in Keras 3 (AttributeError), and this code runs on {phrase}"
        )
        blocked = [k for k in _NO_FIT_KWARGS if keyword(node, k) is not None]
        positional_count = sum(1 for a in node.args if a.keyword is None and not a.star)
        fix_nodes: Tuple[Tuple[cst.CSTNode, str], ...] = ()
        if blocked:
            listed = ", ".join(f"`{k}`" for k in blocked)
            hint = (
                f"call `{new}()`, which takes generators and datasets; Keras 3 `{new}()` rejects {listed}: "
                "set them on a `keras.utils.PyDataset` instead"
            )
        else:
            hint = f"call `{new}()`: it takes the same generator (and `steps_per_epoch`, `validation_data`...)"
            if positional_count <= 1 and not any(a.star for a in node.args):
                edits = [(func.attr, new)]
                generator_kw = keyword(node, "generator")
                if generator_kw is not None and generator_kw.keyword is not None:
                    edits.append((generator_kw.keyword, "x"))
                fix_nodes = tuple(edits)
        self._pending.append(
            _Pending(func.attr, "", message, hint, fix_nodes=fix_nodes, fix_description=f"call `{new}()`")
        )

    def _pretrained(self, node: cst.Call) -> None:
        qualified = self.ctx.imports.qualify(node.func) or ""
        if not qualified.startswith("torchvision.models."):
            return
        builder = qualified.rsplit(".", 1)[-1]
        if not builder[:1].islower():
            return
        arg = keyword(node, "pretrained") or keyword(node, "pretrained_backbone")
        if arg is None or arg.keyword is None:
            return
        if _guarded(self.ctx.ancestors):
            return
        tv, known = self._torchvision()
        if not known or tv is None or not at_least(tv, "0.13"):
            return
        word = arg.keyword.value
        where = _where(tv, f"torchvision {tv.minor}", _is_notebook(self))
        value = _code(arg.value).strip()
        message = (
            f"`{word}={value}` is deprecated since torchvision 0.13 (a UserWarning; `weights=` replaces it) "
            f"and may be removed in a later release; this code runs on {where}"
        )
        if value == "False":
            hint = f"write `{'weights_backbone' if word == 'pretrained_backbone' else 'weights'}=None`"
        else:
            hint = (
                f"write `{'weights_backbone' if word == 'pretrained_backbone' else 'weights'}=\"IMAGENET1K_V1\"` "
                "(the weights `pretrained=True` loads; \"DEFAULT\" picks the best available, which may differ)"
            )
        self._pending.append(_Pending(arg.keyword, "", message, hint, severity=Severity.INFO))

    def _defined_names(self) -> Set[str]:
        if self._defined is None:
            module = self.ctx.module
            self._defined = {
                s.name.value for s in iter_statements(module) if isinstance(s, cst.FunctionDef)
            } if module is not None else set()
        return self._defined

    def finish(self) -> None:
        if not self._pending or self.ctx.module is None:
            return
        rebound = _rebound(self.ctx.module)
        pending = [p for p in self._pending if not (p.head and p.head in rebound)]
        nodes = [n for p in pending for n, _ in p.fix_nodes]
        ranges = self.ctx.ranges(nodes) if nodes else {}
        for p in pending:
            fix = None
            if p.fix_nodes and all(id(n) in ranges for n, _ in p.fix_nodes):
                edits = []
                for n, text in p.fix_nodes:
                    line, column, end_line, end_column = ranges[id(n)]
                    edits.append((line, column, end_line, end_column, text))
                first, rest = edits[0], tuple(edits[1:])
                fix = Fix(first[0], first[1], first[2], first[3], first[4], description=p.fix_description, edits=rest)
            self.report(p.target, p.message, p.hint, severity=p.severity, fix=fix)
        self._pending = []


def _code_keywords(node: cst.Call) -> str:
    return " ".join(a.keyword.value for a in node.args if a.keyword is not None)


# attribute tails that can end a removed Keras path, for the cheap prefilter in visit_Attribute
_KERAS_TAILS: Dict[str, bool] = {entry.path.rsplit(".", 1)[-1]: True for entry in KERAS_PATHS}


# ---------------------------------------------------------------- CNL403

_FRAMEWORKS = ("tensorflow", "keras", "torch")
# families whose pin records the framework's version
_RECORDED_BY = {
    "tensorflow": ("tensorflow",),
    "keras": ("keras", "tensorflow", "tf-keras"),
    "torch": ("torch",),
}
# an exact pin of these fixes torch's version too (each release requires one torch release)
_PINS_TORCH = ("torchvision", "torchaudio")
_PIP_NAME = {"tensorflow": "tensorflow", "keras": "keras", "torch": "torch"}
# where the installed version is looked up, for the hint
_DISTRIBUTIONS = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos"),
    "keras": ("keras",),
    "torch": ("torch",),
}


def _import_guarded(ancestors: List[cst.CSTNode]) -> bool:
    for node in ancestors:
        if isinstance(node, cst.Try):
            for handler in node.handlers:
                if handler.type is None:
                    return True
                text = _code(handler.type)
                if "ImportError" in text or "ModuleNotFoundError" in text or "Exception" in text:
                    return True
    return False


class FrameworkVersionNotRecorded(Rule):
    code = "CNL403"
    name = "framework-version-not-recorded"
    severity = Severity.INFO
    summary = "TensorFlow, Keras or PyTorch imported, and nothing in the project records its version"

    @classmethod
    def applies(cls, source: object) -> bool:
        text = getattr(source, "text", "")
        return "tensorflow" in text or "keras" in text or "torch" in text

    def __init__(self, ctx: object) -> None:
        super().__init__(ctx)  # type: ignore[arg-type]
        self._first: Dict[str, cst.CSTNode] = {}
        real = self.ctx.real_path
        self._on_disk = bool(real) and os.path.isfile(real)

    def wants_walk(self) -> bool:
        return self._on_disk

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._saw((dotted_name(alias.name) or "").split(".")[0], node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None:
            return
        self._saw((dotted_name(node.module) or "").split(".")[0], node)

    def _saw(self, top: str, node: cst.CSTNode) -> None:
        if top in _FRAMEWORKS and top not in self._first and not _import_guarded(self.ctx.ancestors):
            self._first[top] = node

    def finish(self) -> None:
        if not self._first:
            return
        pins = _pins_for(self)
        notebook = _is_notebook(self)
        # a notebook is its own project (Colab: the runtime's version is whatever it is that day);
        # a lone script with no project around it has nowhere to record a version
        if (not pins.found and not notebook) or pins.unknown_all:
            return
        for framework, node in sorted(self._first.items(), key=lambda item: _FRAMEWORKS.index(item[0])):
            families = _RECORDED_BY[framework]
            if any(pins.first_versioned(f) or pins.is_unknown(f) for f in families):
                continue
            if framework == "torch" and any(
                p.specifier.startswith("==") for f in _PINS_TORCH for p in pins.pins.get(f, [])
            ):
                continue
            listed = [p for f in families for p in pins.pins.get(f, [])]
            if any(p.own for p in listed):
                continue  # `!pip install torch` in this notebook: CNL401 reports it
            if framework == "keras" and "tensorflow" in self._first:
                continue  # one finding: pinning TensorFlow also bounds the Keras it installs
            name = _PIP_NAME[framework]
            version = next(filter(None, (installed_version(n) for n in _DISTRIBUTIONS[framework])), None)
            pin_text = f"{name}=={version}" if version else f"{name}==X.Y.Z"
            if listed:
                first = listed[0]
                message = (
                    f"`{framework}` is imported, and {first.place} lists `{first.shown}` without a version: "
                    "the run depends on whatever version the runtime has that day"
                )
            else:
                where = (
                    "this notebook installs no version of it and nothing beside it records one"
                    if notebook and not pins.found
                    else "nothing in the project records its version "
                    "(requirements, environment.yml, pyproject.toml, setup.py)"
                )
                message = (
                    f"`{framework}` is imported, and {where}: the run depends on whatever "
                    "version the runtime has that day"
                )
            if notebook:
                hint = f"install the version you tested with in the first cell: `%pip install {pin_text}`"
            else:
                hint = f"record the version you tested with, e.g. `{pin_text}` in requirements.txt"
            self.report(node, message, hint)


RULES = [RemovedApi, FrameworkVersionNotRecorded]
