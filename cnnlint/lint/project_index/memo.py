"""Module summaries kept by content hash: each module of a project is summarised once per process,
however many scripts import it (and again only when its content changes)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Optional, Tuple

from cnnlint.lint.project_index.summary import ModuleSummary, summarise
from cnnlint.sources.files import read_regular

MAX_MODULE_BYTES = 512 * 1024  # a larger module (generated, vendored) is not read
_MAX_KEPT = 2048
_kept: "OrderedDict[str, ModuleSummary]" = OrderedDict()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def read_module(path: str) -> Optional[Tuple[str, bytes]]:
    """(content hash, bytes) of a module file; None when unreadable or too large."""
    try:
        data = read_regular(path, MAX_MODULE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_MODULE_BYTES:
        return None
    return content_hash(data), data


def summary_of(path: str, digest: str, data: bytes) -> ModuleSummary:
    key = f"{digest}\0{path}"
    found = _kept.get(key)
    if found is not None:
        _kept.move_to_end(key)
        return found
    text = data.decode("utf-8", "replace")
    found = summarise(path, text)
    _kept[key] = found
    if len(_kept) > _MAX_KEPT:
        _kept.popitem(last=False)
    return found


def clear() -> None:
    """Forget every summary (for measurements that want a cold start)."""
    _kept.clear()
