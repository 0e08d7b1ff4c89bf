"""Per-file lint results, keyed by content hash, cnnlint version and settings.

One JSON file per cache folder; an entry also records the content hashes of the
other files its result depended on (a `-c constraints.txt`), and is used only
while they are unchanged. A cache that cannot be read or written is ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Dict, List, Optional, Tuple

from cnnlint import __version__

_FILE = os.path.join("v1", "lint.json")
_MAX_ENTRIES = 50_000


def code_stamp() -> str:
    """cnnlint's version plus its sources' modification times (editable installs change code)."""
    global _STAMP
    if _STAMP is None:
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        newest = 0.0
        for folder, _, files in os.walk(package):
            for name in files:
                if name.endswith(".py"):
                    try:
                        newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
                    except OSError:
                        pass
        _STAMP = f"{__version__}:{newest}"
    return _STAMP


_STAMP: Optional[str] = None


def content_key(kind: str, real_path: str, data: bytes, fingerprint: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{code_stamp()}\0{fingerprint}\0{kind}\0{real_path}\0".encode("utf-8", "surrogateescape"))
    h.update(data)
    return h.hexdigest()


def listing_hash(names: List[str]) -> str:
    return hashlib.blake2b("\0".join(sorted(names)).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def file_hash(path: str) -> Optional[str]:
    """A related file's content hash; for a folder, the hash of its listing (a new file changes it)."""
    try:
        if os.path.isdir(path):
            return listing_hash(os.listdir(path))
        with open(path, "rb") as fh:
            data = fh.read(4 * 1024 * 1024)
    except OSError:
        return None
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class LintCache:
    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.entries: Dict[str, dict] = {}
        self.used: Dict[str, dict] = {}
        self._hashes: Dict[str, Optional[str]] = {}
        self._dirty = False
        try:
            with open(os.path.join(folder, _FILE), encoding="utf-8") as fh:
                data = json.load(fh)
            if data.get("version") == __version__ and isinstance(data.get("entries"), dict):
                self.entries = data["entries"]
        except (OSError, ValueError, AttributeError):
            pass

    def get(self, key: str) -> Optional[Tuple[List[dict], Dict[str, Optional[str]], Optional[dict]]]:
        entry = self.entries.get(key)
        if entry is None:
            return None
        related = entry.get("related") or {}
        for path, digest in related.items():
            if path not in self._hashes:  # many files share a related file (a project's folders)
                self._hashes[path] = file_hash(path)
            if self._hashes[path] != digest:
                return None
        self.used[key] = entry
        return entry["findings"], related, entry.get("facts")

    def put(self, key: str, findings: List[dict], related: Dict[str, Optional[str]], facts: Optional[dict] = None) -> None:
        entry: dict = {"findings": findings, "related": related}
        if facts is not None:
            entry["facts"] = facts
        self.used[key] = entry
        self.entries[key] = entry
        self._dirty = True

    def save(self) -> None:
        if not self._dirty:
            return
        entries = dict(self.used)
        for key, entry in self.entries.items():
            if len(entries) >= _MAX_ENTRIES:
                break
            entries.setdefault(key, entry)
        try:
            target = os.path.join(self.folder, _FILE)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            _write_markers(self.folder)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".lint-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": __version__, "entries": entries}, fh, separators=(",", ":"))
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only checkout lints without a cache


def _write_markers(folder: str) -> None:
    ignore = os.path.join(folder, ".gitignore")
    if not os.path.exists(ignore):
        with open(ignore, "w", encoding="utf-8") as fh:
            fh.write("# Automatically created by cnnlint.\n*\n")
    tag = os.path.join(folder, "CACHEDIR.TAG")
    if not os.path.exists(tag):
        with open(tag, "w", encoding="utf-8") as fh:
            fh.write("Signature: 8a477f597d28d172789f06886806bc55\n# cnnlint cache\n")
