"""Per-file lint results, keyed by content hash, cnnlint version and settings.

One JSON file per cache folder; an entry also records the content hashes of the
other files its result depended on (a `-c constraints.txt`), and is used only
while they are unchanged. A cache that cannot be read or written is ignored.

The cache is input like any other file (a cloned repository may carry one): it
is read only when it is a regular file, not through a symbolic link, up to
_MAX_BYTES, and an entry is used only when every field has its type; anything
else is a miss, and the next save replaces the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from typing import Dict, List, Optional, Tuple

from cnnlint import __version__
from cnnlint.cachedir import code_stamp, write_markers
from cnnlint.findings import Severity
from cnnlint.sources.files import read_regular

_FILE = os.path.join("v1", "lint.json")
_MAX_ENTRIES = 50_000
_MAX_BYTES = 128 * 1024 * 1024  # a cache of _MAX_ENTRIES files is a few tens of MiB


def content_key(kind: str, real_path: str, data: bytes, fingerprint: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{code_stamp()}\0{fingerprint}\0{kind}\0{real_path}\0".encode("utf-8", "surrogateescape"))
    h.update(data)
    return h.hexdigest()


def listing_hash(names: List[str]) -> str:
    return hashlib.blake2b("\0".join(sorted(names)).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def project_listing(folder: str) -> List[str]:
    """The names in a folder, less the cache folders in it (cnnlint's own, made by the very run that
    listed the folder, or any other that carries a CACHEDIR.TAG): a result that depends on a folder's
    listing must not be invalidated by the cache it is stored in."""
    names = []
    with os.scandir(folder) as entries:
        for entry in entries:
            name = entry.name
            # only a folder can hold a CACHEDIR.TAG: the listing says which entries are folders,
            # so the other entries cost no stat
            if name == ".cnnlint_cache" or (_is_folder(entry) and os.path.isfile(os.path.join(folder, name, "CACHEDIR.TAG"))):
                continue
            names.append(name)
    return sorted(names)


def _is_folder(entry: "os.DirEntry[str]") -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return True  # cannot tell: look for the tag as before


def file_hash(path: str) -> Optional[str]:
    """A related file's content hash; for a folder, the hash of its listing (a new file changes it)."""
    try:
        if os.path.isdir(path):
            return listing_hash(project_listing(path))
        data = read_regular(path, 4 * 1024 * 1024)  # a related file turned FIFO is not waited on
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
            raw = read_regular(os.path.join(folder, _FILE), _MAX_BYTES + 1, follow_symlinks=False)
            data = json.loads(raw) if len(raw) <= _MAX_BYTES else None
            if isinstance(data, dict) and data.get("version") == __version__ and isinstance(data.get("entries"), dict):
                self.entries = data["entries"]
        except (OSError, ValueError, RecursionError):
            self._dirty = True  # a damaged cache: the next save replaces it

    def get(self, key: str) -> Optional[Tuple[List[dict], Dict[str, Optional[str]], Optional[dict]]]:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if not _valid_entry(entry):
            del self.entries[key]
            self._dirty = True
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
            write_markers(self.folder)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".lint-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"version": __version__, "entries": entries}, fh, separators=(",", ":"))
            os.replace(tmp, target)
        except OSError:
            pass  # a read-only checkout lints without a cache


_FINDING_FIELDS = {
    "code": (str,), "message": (str,), "path": (str,), "hint": (str,), "line": (int,), "column": (int,),
    "end_line": (int, type(None)), "end_column": (int, type(None)), "cell": (int, type(None)),
}
_FIX_FIELDS = {"line": (int,), "column": (int,), "end_line": (int,), "end_column": (int,), "text": (str,),
               "description": (str,)}


def _typed(d: object, fields: Dict[str, tuple], extra: Tuple[str, ...]) -> bool:
    """Whether `d` is a dict holding exactly these fields (and optionally `extra`), each of its type."""
    if not isinstance(d, dict) or not set(fields) <= set(d) <= set(fields) | set(extra):
        return False
    return all(isinstance(d[k], types) and not isinstance(d[k], bool) for k, types in fields.items())


def _valid_fix(fix: object) -> bool:
    if fix is None:
        return True
    if not isinstance(fix, dict) or not _typed(fix, _FIX_FIELDS, ("edits",)):
        return False
    edits = fix.get("edits", ())
    return isinstance(edits, (list, tuple)) and all(
        isinstance(e, (list, tuple)) and len(e) == 5 and all(isinstance(v, int) for v in e[:4]) and isinstance(e[4], str)
        for e in edits
    )


def _valid_finding(d: object) -> bool:
    if not isinstance(d, dict) or not _typed(d, _FINDING_FIELDS, ("severity", "fix")) or "severity" not in d:
        return False
    return d["severity"] in {s.value for s in Severity} and _valid_fix(d.get("fix"))


def _valid_entry(entry: object) -> bool:
    """Whether a cache entry read from disk has the shape put() writes."""
    if not isinstance(entry, dict) or not isinstance(entry.get("findings"), list):
        return False
    related = entry.get("related") or {}
    facts = entry.get("facts")
    return (
        isinstance(related, dict)
        and all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in related.items())
        and (facts is None or isinstance(facts, dict))
        and all(_valid_finding(d) for d in entry["findings"])
    )
