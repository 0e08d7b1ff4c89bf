"""The derived removed-API table CNL402 reads: cnnlint/lint/data/removed_api.json.

bench/api_surface/ makes the table: it walks the public API of old and current Keras, TensorFlow,
PyTorch and torchvision releases installed side by side, diffs them, and keeps each candidate
whose bad snippet works on the old release and fails on every surveyed later one, and whose good
snippet runs on the current one (tests/test_removed_api_table.py runs them again). Read once per
process, on first use.
"""

from __future__ import annotations

import ast
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional, Tuple

from packaging.version import Version

if TYPE_CHECKING:
    from cnnlint.lint.index.bindings import Bindings

TABLE_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "removed_api.json")

LABELS = {"keras": "Keras", "torch": "PyTorch", "torchvision": "torchvision"}
RECEIVER_NOUNS = {"keras_model": "a Keras model", "dataloader_iter": "a DataLoader iterator"}
_KERAS_MODEL_CALLS = ("Sequential", "Model", "models.Sequential", "models.Model", "models.load_model",
                      "saving.load_model")
_DATALOADERS = ("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader")


@dataclass(frozen=True)
class Removed:
    """One verified removal: a name (`path`), a receiver's method, or a callable's keyword."""

    kind: str  # "name", "method", "keyword"
    root: str  # "keras", "tf.keras", "torch", "torchvision"
    key: str  # the qualified path; `receiver.method`; `path(keyword)`
    what: str  # module/class/function/other; the receiver kind; the keyword
    family: str  # keras, torch, torchvision: whose version gates it
    since: Version  # the first surveyed release where it fails
    present_in: str  # "keras 2.15": a release that had it
    errors: Tuple[Tuple[str, str], ...]  # (form, exception): attr, from, import, call
    instead: str  # the replacement's path, or ""
    hint: str  # a hand-written hint, or ""

    def error(self, form: str) -> Optional[str]:
        return dict(self.errors).get(form)

    @property
    def path(self) -> str:
        """The callable of a keyword entry, the qualified name of a name entry."""
        return self.key.split("(")[0]

    def release(self, version: Version) -> str:
        label = LABELS[self.family]
        if self.family == "keras" and version == Version("3.0"):
            return "Keras 3"
        return f"{label} {version}"

    def since_text(self) -> str:
        """`Keras 3 (Keras 2.15 had it)`."""
        lib, _, old = self.present_in.partition(" ")
        had = f"{LABELS.get(lib, 'TensorFlow' if lib == 'tensorflow' else lib)} {old}"
        return f"{self.release(self.since)} or later ({had} had it)"

    def replacement(self) -> str:
        if self.hint:
            return self.hint
        if self.kind == "keyword":
            return f"remove `{self.what}=`: the current release has no such parameter"
        if self.kind == "method":
            return f"call `{self.instead}()`"
        if self.what == "module":
            home = self.instead.rsplit(".", 1)[0]
            return f"import from `{home}` (`{self.instead}` is there)"
        return f"use `{self.instead}`"


@dataclass(frozen=True)
class RemovedTable:
    names: Dict[str, Removed]
    modules: Tuple[str, ...]  # the removed module paths, for `from a.removed.sub import x`
    methods: Dict[Tuple[str, str], List[Removed]]  # (receiver kind, method) -> one per root
    keywords: Dict[Tuple[str, str], Removed]  # (callable path, keyword)
    tails: FrozenSet[str]  # the last part of every name: visit_Attribute's prefilter
    method_names: FrozenSet[str]
    keyword_names: FrozenSet[str]


def _entry(raw: dict) -> Removed:
    return Removed(raw["kind"], raw["root"], raw["key"], raw["what"], raw["family"], Version(raw["since"]),
                   raw["present_in"], tuple(sorted(raw["errors"].items())), raw["instead"], raw["hint"])


@lru_cache(maxsize=1)
def removed_table() -> RemovedTable:
    with open(TABLE_PATH, encoding="utf-8") as fh:
        entries = [_entry(raw) for raw in json.load(fh)["entries"]]
    names = {e.key: e for e in entries if e.kind == "name"}
    methods: Dict[Tuple[str, str], List[Removed]] = {}
    for e in entries:
        if e.kind == "method":
            methods.setdefault((e.what, e.key.rsplit(".", 1)[-1]), []).append(e)
    keywords = {(e.path, e.what): e for e in entries if e.kind == "keyword"}
    return RemovedTable(
        names=names,
        modules=tuple(sorted(k for k, e in names.items() if e.what == "module")),
        methods=methods,
        keywords=keywords,
        tails=frozenset(k.rsplit(".", 1)[-1] for k in names),
        method_names=frozenset(m for _, m in methods),
        keyword_names=frozenset(k for _, k in keywords),
    )


def removed_module(table: RemovedTable, module: str) -> Optional[Removed]:
    """The removed module `module` is, or lies under (`keras.layers.core.dense`)."""
    for path in table.modules:
        if module == path or module.startswith(path + "."):
            return table.names[path]
    return None


def receiver_kind(bindings: "Bindings", expr: ast.AST) -> Optional[Tuple[str, str]]:
    """(receiver kind, root) of a method's receiver the file itself builds: `iter(<DataLoader>)`
    ("dataloader_iter", "torch"), a Keras model from `Sequential`/`Model`/`load_model`/
    `keras.applications` ("keras_model", "keras" or "tf.keras"). None for anything else."""
    value = bindings.value_of(expr)
    if not isinstance(value, ast.Call):
        return None
    if isinstance(value.func, ast.Name) and value.func.id == "iter" and len(value.args) == 1 and not value.keywords:
        loader = bindings.value_of(value.args[0])
        if isinstance(loader, ast.Call) and bindings.q(loader.func) in _DATALOADERS:
            return "dataloader_iter", "torch"
        return None
    called = bindings.q(value.func)
    for prefix, root in (("keras.", "keras"), ("tensorflow.keras.", "tf.keras")):
        if called.startswith(prefix):
            rel = called[len(prefix):]
            if rel in _KERAS_MODEL_CALLS or (rel.startswith("applications.") and rel.rsplit(".", 1)[-1][:1].isupper()):
                return "keras_model", root
    return None
