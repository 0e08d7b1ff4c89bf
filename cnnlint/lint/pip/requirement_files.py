"""Constraint and -r files: what a constraints file pins (`load_constraints`), the loose
requirements a `pip install -r file` installs (`loose_requirements`), every requirement of a
file (`file_requirements`)."""

from __future__ import annotations

import os
from typing import Dict, List, Optional

from cnnlint.lint.dependencies import PINNED, Reader, Verdict, constrain, judge_editable, judge_requirement, merge
from cnnlint.sources.manifest import CONSTRAINT, EDITABLE, INCLUDE, REQUIREMENT, Entry, Manifest, read_manifest
from cnnlint.sources.model import SourceError

def _load(read: Reader, path: str) -> Optional[Manifest]:
    data = read(path)
    if data is None:
        return None
    try:
        return read_manifest(path, data, "requirements")
    except SourceError:
        return None


def is_local_entry(entry: Entry) -> bool:
    return bool(entry.value) and "://" not in entry.value and "${" not in entry.value


def load_constraints(read: Reader, path: str, depth: int = 0, seen: Optional[set] = None) -> Optional[Dict[str, Verdict]]:
    """Package key -> best verdict in a constraints file (following its -c/-r); None if unreadable."""
    seen = set() if seen is None else seen
    norm = os.path.normpath(path)
    if norm in seen or depth > 8:
        return {}
    seen.add(norm)
    manifest = _load(read, path)
    if manifest is None:
        return None
    found: Dict[str, Verdict] = {}
    base = os.path.dirname(path)
    for entry in manifest.entries:
        if entry.kind == REQUIREMENT:
            verdict = judge_requirement(entry.value)
            if verdict is not None:
                merge(found, verdict)
        elif entry.kind in (INCLUDE, CONSTRAINT):
            if not is_local_entry(entry):
                return None
            nested = load_constraints(read, os.path.join(base, entry.value), depth + 1, seen)
            if nested is None:
                return None
            for verdict in nested.values():
                merge(found, verdict)
    return found


def loose_requirements(
    read: Reader, path: str, constraints: Optional[Dict[str, Verdict]], depth: int = 0, seen: Optional[set] = None
) -> Optional[List[Verdict]]:
    """The unpinned requirements a `pip install -r path` installs (following -r and -c).

    None when the file, or a file it names, cannot be read: nothing to say then.
    """
    if constraints is None:
        return None
    seen = set() if seen is None else seen
    verdicts = _collect(read, path, constraints, depth, seen)
    if verdicts is None:
        return None
    loose = []
    keys = set()
    for verdict in verdicts:
        verdict = constrain(verdict, constraints)
        if verdict.status != PINNED and verdict.key not in keys:
            keys.add(verdict.key)
            loose.append(verdict)
    return loose


def _collect(read: Reader, path: str, constraints: Dict[str, Verdict], depth: int, seen: set) -> Optional[List[Verdict]]:
    norm = os.path.normpath(path)
    if norm in seen or depth > 8:
        return []
    seen.add(norm)
    manifest = _load(read, path)
    if manifest is None:
        return None
    base = os.path.dirname(path)
    verdicts: List[Verdict] = []
    loaded = set()  # constraint files already merged
    for entry in manifest.entries:
        if entry.kind in (REQUIREMENT, EDITABLE):
            verdict = judge_editable(entry.value) if entry.kind == EDITABLE else judge_requirement(entry.value)
            if verdict is not None:
                verdicts.append(verdict)
        elif entry.kind in (INCLUDE, CONSTRAINT):
            if not is_local_entry(entry):
                return None
            target = os.path.join(base, entry.value)
            if entry.kind == INCLUDE:
                nested = _collect(read, target, constraints, depth + 1, seen)
                if nested is None:
                    return None
                verdicts.extend(nested)
            elif target not in loaded:
                loaded.add(target)
                found = load_constraints(read, target)
                if found is None:
                    return None
                for verdict in found.values():
                    merge(constraints, verdict)
    return verdicts


def file_requirements(read: Reader, path: str) -> Optional[List[Verdict]]:
    """Every requirement a requirements file declares, following its -r and -c files;
    None when it (or a file it names) cannot be read."""
    return _collect(read, path, {}, 0, set())
