"""Module summaries kept by content hash: each module of a project is summarised once per process,
however many scripts import it (and again only when its content changes)."""

from __future__ import annotations

import ast
import hashlib
from collections import OrderedDict
from typing import Optional, Tuple

from cnnlint.lint.project_index.summary import ModuleSummary, summarise
from cnnlint.sources.files import read_regular
from cnnlint.sources.model import SourceError
from cnnlint.sources.python import decode_python, universal_newlines

MAX_MODULE_BYTES = 512 * 1024  # a larger module (generated, vendored) is not read
_MAX_KEPT = 2048
_kept: "OrderedDict[str, ModuleSummary]" = OrderedDict()
# the trees of the last files linted in this process (path -> (text, tree)): a module linted just
# before the scripts that import it is summarised from its tree, not parsed again
# (a tree takes ~54x its text in memory: at most 128 KiB of text is kept, ~7 MiB of trees, so a
# lint worker stays small and a project of small modules still finds most of them here)
_MAX_TREE_TEXT = 32 * 1024
_MAX_TREES_TEXT = 128 * 1024
_trees: "OrderedDict[str, Tuple[str, ast.Module]]" = OrderedDict()
_trees_text = [0]  # the total length of the texts kept


def remember_tree(path: str, text: str, tree: ast.Module) -> None:
    if len(text) > _MAX_TREE_TEXT:
        return
    old = _trees.pop(path, None)
    if old is not None:
        _trees_text[0] -= len(old[0])
    _trees[path] = (text, tree)
    _trees_text[0] += len(text)
    while _trees_text[0] > _MAX_TREES_TEXT:
        _, (gone, _) = _trees.popitem(last=False)
        _trees_text[0] -= len(gone)


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
    try:
        text = universal_newlines(decode_python(data))  # as the module's own lint reads it
    except (SourceError, UnicodeDecodeError, LookupError, SyntaxError):
        text = ""  # undecodable: an empty summary
    seen = _trees.get(path)
    found = summarise(path, text, seen[1] if seen is not None and seen[0] == text else None)
    _kept[key] = found
    if len(_kept) > _MAX_KEPT:
        _kept.popitem(last=False)
    return found


def clear() -> None:
    """Forget every summary (for measurements that want a cold start)."""
    _kept.clear()
    _trees.clear()
    _trees_text[0] = 0
