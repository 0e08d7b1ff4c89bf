"""CNL403 framework-version-not-recorded: TensorFlow, Keras or PyTorch imported, and nothing in the
project records its version (read by cnnlint/lint/project.py, `FilePins`)."""

from __future__ import annotations

import ast
import os
from typing import TYPE_CHECKING, Dict

from cnnlint.findings import Severity
from cnnlint.lint.index.pins import FilePins
from cnnlint.lint.installed import installed_version
from cnnlint.lint.rule import Rule

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext
    from cnnlint.sources.model import SourceFile

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


def import_guarded(ctx: "FileContext") -> bool:
    """Inside a try whose handler catches a failed import."""
    assert ctx.syntax is not None
    for node in ctx.ancestors:
        if isinstance(node, ast.Try):
            for handler in node.handlers:
                if handler.type is None:
                    return True
                text = ctx.syntax.segment(handler.type)
                if "ImportError" in text or "ModuleNotFoundError" in text or "Exception" in text:
                    return True
    return False


class FrameworkVersionNotRecorded(Rule):
    code = "CNL403"
    name = "framework-version-not-recorded"
    severity = Severity.INFO
    summary = "TensorFlow, Keras or PyTorch imported, and nothing in the project records its version"
    uses = (FilePins,)

    @classmethod
    def applies(cls, source: "SourceFile") -> bool:
        text = getattr(source, "text", "")
        return "tensorflow" in text or "keras" in text or "torch" in text

    def __init__(self, ctx: "FileContext") -> None:
        super().__init__(ctx)
        self._first: Dict[str, ast.AST] = {}
        real = self.ctx.real_path
        self._on_disk = bool(real) and os.path.isfile(real)

    def wants_walk(self) -> bool:
        return self._on_disk

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._saw(alias.name.split(".")[0], node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            return
        self._saw(node.module.split(".")[0], node)

    def _saw(self, top: str, node: ast.AST) -> None:
        if top in _FRAMEWORKS and top not in self._first and not import_guarded(self.ctx):
            self._first[top] = node

    def check(self) -> None:
        if not self._first:
            return
        found = self.ctx.get(FilePins)
        pins, notebook = found.pins, found.notebook
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
