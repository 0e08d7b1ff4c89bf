"""Dependency manifests: requirements files and conda environment.yml (placeholder)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List


@dataclass
class Manifest:
    path: str
    kind: str  # "requirements" | "conda"
    text: str
    entries: List[object] = field(default_factory=list)


def read_manifest(path: str, data: bytes, kind: str) -> Manifest:
    return Manifest(path=path, kind=kind, text=data.decode("utf-8", "replace"))
