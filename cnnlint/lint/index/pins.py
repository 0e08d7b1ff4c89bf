"""The framework versions a file's project records: its own install commands, then the manifests
around it (cnnlint.lint.project). Shared by CNL402 and CNL403."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from cnnlint.lint.project import ProjectPins, project_pins, shell_pins

if TYPE_CHECKING:
    from cnnlint.lint.context import FileContext


class FilePins:
    """An analysis: `ctx.get(FilePins)`. `.pins` the project's pins as this file sees them,
    `.notebook` whether the file is a notebook (its own project on Colab)."""

    def __init__(self, ctx: "FileContext") -> None:
        source = ctx.source
        self.notebook = getattr(source, "kind", "") == "notebook"
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
        self.pins = pins
