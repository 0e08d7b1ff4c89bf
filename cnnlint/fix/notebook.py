"""Rewriting one cell's source in a notebook's JSON text, leaving every other byte alone.

The notebook is not re-serialized: the cell's "source" value is found in the
original text (a JSON-aware scan that steps over values with
json.JSONDecoder.raw_decode) and only it is replaced. A source kept as a list
of lines stays a list, with the unchanged lines' JSON text reused as written
and the original separator between items; a source kept as one string stays
one string.
"""

from __future__ import annotations

import json
import re
from typing import Dict, List, Tuple

from cnnlint.fix.text import FixError

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]


def _value_end(text: str, i: int) -> int:
    try:
        return _DECODER.raw_decode(text, i)[1]
    except (json.JSONDecodeError, RecursionError):
        raise FixError("the notebook's JSON cannot be scanned") from None


def _expect(text: str, i: int, char: str) -> None:
    if text[i : i + 1] != char:
        raise FixError("the notebook's JSON cannot be scanned")


def object_members(text: str, i: int) -> List[Tuple[str, int, int]]:
    """(key, value start, value end) of the object starting at text[i]."""
    _expect(text, i, "{")
    members: List[Tuple[str, int, int]] = []
    i = _skip(text, i + 1)
    if text[i : i + 1] == "}":
        return members
    while True:
        _expect(text, i, '"')
        key_end = _value_end(text, i)
        key = json.loads(text[i:key_end])
        i = _skip(text, key_end)
        _expect(text, i, ":")
        start = _skip(text, i + 1)
        end = _value_end(text, start)
        members.append((key, start, end))
        i = _skip(text, end)
        if text[i : i + 1] == ",":
            i = _skip(text, i + 1)
            continue
        _expect(text, i, "}")
        return members


def array_items(text: str, i: int) -> List[Tuple[int, int]]:
    """(start, end) of each item of the array starting at text[i]."""
    _expect(text, i, "[")
    items: List[Tuple[int, int]] = []
    i = _skip(text, i + 1)
    if text[i : i + 1] == "]":
        return items
    while True:
        end = _value_end(text, i)
        items.append((i, end))
        i = _skip(text, end)
        if text[i : i + 1] == ",":
            i = _skip(text, i + 1)
            continue
        _expect(text, i, "]")
        return items


def _member(members: List[Tuple[str, int, int]], key: str) -> Tuple[int, int]:
    found = [(s, e) for k, s, e in members if k == key]
    if not found:
        raise FixError(f"the notebook's JSON has no {key!r}")
    return found[-1]  # json.loads keeps the last of duplicate keys


def source_span(text: str, index: int) -> Tuple[int, int]:
    """Where the "source" value of cell `index` (0-based) lies in the notebook's text."""
    cells_start, _ = _member(object_members(text, _skip(text, 0)), "cells")
    items = array_items(text, cells_start)
    if not 0 <= index < len(items):
        raise FixError(f"the notebook has no cell {index + 1}")
    return _member(object_members(text, items[index][0]), "source")


def _line_style(values: List[str]) -> bool:
    """A source list with one line per item (the way Jupyter writes it)."""
    for k, value in enumerate(values):
        breaks = value.count("\n")
        last = k == len(values) - 1
        if breaks > 1 or (not last and not value.endswith("\n")) or (breaks == 1 and not value.endswith("\n")):
            return False
    return True


def _pieces(text: str) -> List[str]:
    out = []
    start = 0
    while start < len(text):
        i = text.find("\n", start)
        end = len(text) if i < 0 else i + 1
        out.append(text[start:end])
        start = end
    return out


def _dumps(value: str, ensure_ascii: bool) -> str:
    """A JSON string; escaped when the notebook is pure ASCII or the text holds a lone surrogate."""
    return json.dumps(value, ensure_ascii=ensure_ascii or any("\ud800" <= c <= "\udfff" for c in value))


def new_source_json(text: str, start: int, end: int, old: str, new: str, ensure_ascii: bool) -> str:
    """The JSON text to put in place of text[start:end] (a cell source holding `old`) so it holds `new`."""
    raw = text[start:end]
    if raw.startswith('"'):
        return _dumps(new, ensure_ascii)
    items = array_items(text, start)
    values = [json.loads(text[s:e]) for s, e in items]
    if not items or not all(isinstance(v, str) for v in values) or "".join(values) != old:
        raise FixError("the cell's source in the notebook's JSON is not the one linted")
    # the changed region, by common prefix and suffix, widened to whole items
    p = 0
    limit = min(len(old), len(new))
    while p < limit and old[p] == new[p]:
        p += 1
    q = 0
    while q < limit - p and old[len(old) - 1 - q] == new[len(new) - 1 - q]:
        q += 1
    offsets = []
    pos = 0
    for value in values:
        offsets.append(pos)
        pos += len(value)
    b = len(old) - q
    touched = [
        k
        for k, value in enumerate(values)
        if value
        and (offsets[k] < b and offsets[k] + len(value) > p if b > p else offsets[k] <= p < offsets[k] + len(value))
    ]
    if not touched:  # an insertion at the very end goes into the last line
        touched = [k for k, value in enumerate(values) if value][-1:]
    if not touched:
        raise FixError("the cell's source is empty")
    first, last = touched[0], touched[-1]
    region_start = offsets[first]
    region_end = offsets[last] + len(values[last])
    new_region = new[region_start : len(new) - (len(old) - region_end)]
    pieces = _pieces(new_region) if _line_style(values) else ([new_region] if new_region else [])
    # reuse the JSON text of unchanged lines as written
    reusable: Dict[str, List[str]] = {}
    for k in range(first, last + 1):
        reusable.setdefault(values[k], []).append(text[items[k][0] : items[k][1]])
    encoded = []
    for piece in pieces:
        found = reusable.get(piece)
        encoded.append(found.pop(0) if found else _dumps(piece, ensure_ascii))
    if len(items) >= 2:
        sep = text[items[0][1] : items[1][0]]
    else:
        sep = "," + text[start + 1 : items[0][0]]
    s, e = items[first][0], items[last][1]
    if not encoded:
        if first > 0:
            s = items[first - 1][1]
        elif last + 1 < len(items):
            e = items[last + 1][0]
    return raw[: s - start] + sep.join(encoded) + raw[e - start :]
