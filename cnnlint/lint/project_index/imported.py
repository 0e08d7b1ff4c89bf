"""ImportedSummaries: what the names a script imports from its own project are.

An analysis (`ctx.get(ImportedSummaries)`): `definition(expr)` follows a name or dotted name
(`Net`, `ud.load_data`, `models.resnet.ResNet18`) through the script's imports to the project
module that defines it (re-exports by a package's `__init__.py` followed, at most `MAX_HOPS`), and
returns that definition's summary with where it is (`model.py:41`). Every module read is recorded
on the context (`ctx.related`), so the script's cached result is used only while those modules are
unchanged: editing model.py re-lints model.py and the scripts that consulted it, nothing else.

Bounded: at most `MAX_MODULES` modules read per script, each at most MAX_MODULE_BYTES; installed
packages, files outside the project and unparsable modules are never followed (nothing found).
"""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple

from cnnlint.lint.index.arguments import argument_for
from cnnlint.lint.index.flow import IMPORTED_TAINT, Origin, Taint
from cnnlint.lint.index.loops import BACKWARD, CLEAR, IMPORTED_GRADIENTS, STEP
from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.index.imports import ImportTable
from cnnlint.lint.index.torch_modes import IMPORTED_MODE_LAYERS
from cnnlint.lint.project_index.locate import module_inside, project_root, resolve, script_root
from cnnlint.lint.project_index.memo import read_module, summary_of
from cnnlint.lint.project_index.summary import SUMMARISING, Definition, ModuleSummary

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.sources.model import SourceFile

MAX_MODULES = 64
MAX_STARS = 8
_RUN = re.compile(r"^\s*%run\s+(?:-\w+\s+)*['\"]?([\w./\\-]+\.py)\b")
MAX_HOPS = 4
# an import: (module, level, attribute) - attribute "" for `import a.b` / `import a.b as c`
_Ref = Tuple[str, int, str]


@dataclass(frozen=True)
class Found:
    definition: Definition
    module: str  # the module file, relative to the project root: `model.py`, `models/resnet.py`

    def where(self, line: Optional[int] = None) -> str:
        """`model.py:41 Net.forward`: the definition (or a line in it) named in a message."""
        return f"{self.module}:{line or self.definition.line} {self.definition.title()}"


class ImportedSummaries:
    """An analysis: the project modules a script imports, summarised."""

    def __init__(self, ctx: "FileContext") -> None:
        self.ctx = ctx
        self.root: Optional[str] = None
        self._names: Dict[str, _Ref] = {}  # local name -> what it imports
        self._read: Dict[str, Optional[ModuleSummary]] = {}
        self._found: Dict[str, Optional[Found]] = {}  # dotted name -> what it is (asked once)
        self._paths: Dict[Tuple[str, str, int], Optional[str]] = {}  # import -> module file
        # `from model import *` and a notebook's `%run helper.py`: (module, level) / the file, in order
        self._stars: List[Tuple[str, int]] = []
        self._runs: List[str] = []
        if id(ctx) in SUMMARISING or ctx.syntax is None or not os.path.isfile(ctx.real_path):
            return
        self.root = project_root(ctx.real_path) or script_root(ctx.real_path)
        self._collect(ctx.get(ImportTable).statements)
        self._runs = run_magics(ctx.source, ctx.real_path, self.root)

    def _collect(self, statements: List[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        self._names[alias.asname] = (alias.name, 0, "")
                    else:
                        head = alias.name.split(".")[0]
                        self._names.setdefault(head, (head, 0, ""))
            elif isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name != "*":
                        self._names[alias.asname or alias.name] = (node.module or "", node.level, alias.name)
                    elif len(self._stars) < MAX_STARS:
                        self._stars.append((node.module or "", node.level))

    @property
    def active(self) -> bool:
        return bool(self._names or self._stars or self._runs)

    # ---- lookups

    def definition(self, expr: Optional[ast.AST]) -> Optional[Found]:
        """The project definition a name or dotted name refers to through the imports, if any."""
        if expr is None or not self.active:
            return None
        if not self._stars and not self._runs:  # only imported names can lead to a definition
            root = expr
            while type(root) is ast.Attribute:
                root = root.value  # type: ignore[attr-defined]
            if type(root) is not ast.Name or root.id not in self._names:  # type: ignore[attr-defined]
                return None
        name = dotted_name(expr)
        if name is None:
            return None
        if name not in self._found:
            self._found[name] = self._definition(name)
        return self._found[name]

    def _definition(self, name: str) -> Optional[Found]:
        head, *rest = name.split(".")
        ref = self._names.get(head)
        origin = self.ctx.real_path
        if ref is None:
            return None if rest else self._unqualified(head)
        module, level, attr = ref
        if not attr:  # `import utils.data as ud` / `import models`: the rest names modules, then the definition
            if not rest:
                return None
            dotted = ".".join([module, *rest[:-1]]) if module else ".".join(rest[:-1])
            return self._lookup(origin, dotted, level, rest[-1], 0)
        if not rest:
            return self._lookup(origin, module, level, attr, 0)
        sub = f"{module}.{attr}" if module else attr  # `from models import resnet` ... resnet.ResNet18
        return self._lookup(origin, ".".join([sub, *rest[:-1]]), level, rest[-1], 0)

    def _unqualified(self, name: str) -> Optional[Found]:
        """A name brought in by `from module import *` or a `%run` (the last one that defines it wins)."""
        found = None
        for module, level in self._stars:
            found = self._lookup(self.ctx.real_path, module, level, name, 0) or found
        for path in self._runs:
            found = self._in_module(path, name, 0) or found
        return found

    def _lookup(self, origin: str, module: str, level: int, attr: str, hops: int) -> Optional[Found]:
        if hops > MAX_HOPS or self.root is None:
            return None
        path = self._module_path(origin, module, level)
        if path is None:
            return None
        return self._in_module(path, attr, hops)

    def _module_path(self, origin: str, module: str, level: int) -> Optional[str]:
        """The project file an import in `origin` names (resolved once)."""
        assert self.root is not None
        key = (origin, module, level)
        if key not in self._paths:
            self._paths[key] = resolve(origin, self.root, module, level)
        return self._paths[key]

    def _in_module(self, path: str, attr: str, hops: int) -> Optional[Found]:
        assert self.root is not None
        summary = self._summary(path)
        if summary is None:
            return None
        found = summary.definitions.get(attr)
        if found is not None:
            return Found(found, os.path.relpath(path, self.root).replace(os.sep, "/"))
        again = summary.reexports.get(attr)
        if again is not None:
            return self._lookup(path, again[0], again[1], again[2], hops + 1)
        return None

    def _summary(self, path: str) -> Optional[ModuleSummary]:
        if path in self._read:
            return self._read[path]
        if len(self._read) >= MAX_MODULES:
            return None
        got = read_module(path)
        summary = None
        if got is not None:
            digest, data = got
            self.ctx.related[path] = digest
            summary = summary_of(path, digest, data)
        self._read[path] = summary
        return summary

    def star_packages(self) -> Set[str]:
        """The top-level packages the project modules this file star-imports import themselves
        (`from model import *` with model.py's `from keras.models import *`: keras)."""
        found: Set[str] = set()
        if self.root is None:
            return found
        for module, level in self._stars:
            path = self._module_path(self.ctx.real_path, module, level)
            summary = self._summary(path) if path is not None else None
            if summary is not None:
                found |= summary.packages
        return found

    def modules_read(self) -> List[str]:
        return sorted(p for p, s in self._read.items() if s is not None)


_TRAINING_SINKS = (".fit(", "from_tensor_slices", "TensorDataset", "feed_dict")


def may_take_project_images(source: "SourceFile") -> bool:
    """A cheap text test for a rule's `applies`: the file hands arrays to training and imports
    something, so the images may come from a loading helper of the project."""
    text = source.text
    return any(k in text for k in _TRAINING_SINKS) and "import" in text


def run_magics(source: "SourceFile", real_path: str, root: str) -> List[str]:
    """The project scripts a notebook (or IPython script) runs with `%run helper.py`."""
    if source.cells is None and source.raw_text is None:
        return []
    found: List[str] = []
    for i, line in enumerate(source.text.split("\n"), 1):
        if line.strip() != "pass" or len(found) >= MAX_STARS:
            continue
        m = _RUN.match(source.raw_line(i))
        if m:
            path = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(real_path)), m.group(1)))
            if module_inside(path, root):
                found.append(path)
    return found


def _imported_taint(ctx: "FileContext", func: ast.AST, call: ast.Call, element: int) -> Optional[Taint]:
    """ImageFlow's hook: image data returned by a loading function of the project."""
    summaries = ctx.get(ImportedSummaries)
    if not summaries.active or not isinstance(func, (ast.Name, ast.Attribute)):
        return None
    found = summaries.definition(func)
    if found is None:
        return None
    pixels = found.definition.pixels.get(element)
    if pixels is None:
        return None
    return (pixels.level, pixels.scaled, Origin("loader", call, f"{pixels.source}` in `{found.where()}", None, True))


def _imported_mode_layers(ctx: "FileContext", call: ast.Call) -> str:
    """TorchModes' hook: where the model class of the project the call builds is, when it holds
    dropout or batch norm ("" otherwise)."""
    summaries = ctx.get(ImportedSummaries)
    found = summaries.definition(call.func) if summaries.active else None
    if found is None or found.definition.kind != "class" or not found.definition.mode_layers:
        return ""
    return f"{found.module}:{found.definition.line} {found.definition.name}"


def helper(ctx: "FileContext", call: ast.Call) -> Optional[Found]:
    """The project function a call runs, when its mode effects are known."""
    summaries = ctx.get(ImportedSummaries)
    if not summaries.active or not isinstance(call.func, (ast.Name, ast.Attribute)):
        return None
    found = summaries.definition(call.func)
    if found is None or found.definition.kind != "function" or not found.definition.params:
        return None
    return found


_KINDS = {"back": BACKWARD, "step": STEP, "scaler_step": STEP, "clear": CLEAR}


def gradient_effects(ctx: "FileContext", call: ast.Call) -> Optional[List[Tuple[int, Optional[ast.AST], bool]]]:
    found = helper(ctx, call)
    if found is None or found.definition.grads is None:
        return None
    out: List[Tuple[int, Optional[ast.AST], bool]] = []
    for kind, param in found.definition.grads:
        arg = argument_for(call, found.definition.params, param) if param else None
        if param and arg is None:
            return None  # passed by *args or left to its default: not known
        out.append((_KINDS[kind], arg, kind == "scaler_step"))
    return out


IMPORTED_TAINT.append(_imported_taint)
IMPORTED_MODE_LAYERS.append(_imported_mode_layers)
IMPORTED_GRADIENTS.append(gradient_effects)
