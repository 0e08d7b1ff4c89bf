"""The scan cache's columns, derived from the record: one per field of `ImageRecord` (the
statistics of `ImageStats` one each), typed from the field's annotation. A field whose stored form
differs from its value (a list, a record, an unsigned hash) has a `Codec` in CODECS; every other
field is stored as it is. The table, the SELECT list, the row written, the row's type check and
the record read back all come from COLUMNS.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

from cnnlint.dataset.loaders import Effect
from cnnlint.dataset.record import LAYOUT_BYTES, ImageRecord, ImageStats
from cnnlint.findings import Finding, Severity

MAX_TEXT = 1 << 20  # a findings or effects column longer than this was not written by cnnlint
NOT_STORED = ("path",)  # the display path: the lookup gives it
KEY = ("real_path", "size", "mtime_ns")  # first, in this order: what a lookup matches

Values = Tuple[Any, ...]


@dataclass(frozen=True)
class Codec:
    sql: Tuple[str, ...]  # the SQL type of each column it fills
    types: Tuple[tuple, ...]  # the Python types each column's value may have
    encode: Callable[[Any], Values]  # field value -> column values
    decode: Callable[[Values, str], Any]  # column values, display path -> field value
    valid: Callable[[Values], bool] = lambda values: True


@dataclass(frozen=True)
class Column:
    field: str
    names: Tuple[str, ...]
    codec: Codec


def _plain(sql: str, types: tuple, read: Callable[[Any], Any] = lambda v: v) -> Codec:
    return Codec((sql,), (types,), lambda v: (v,), lambda vs, _: read(vs[0]))


def _findings_text(findings: List[Finding]) -> Values:
    items = [[f.code, f.severity.value, f.message, f.hint] for f in findings]
    return (json.dumps(items, separators=(",", ":")) if items else None,)


def _findings(values: Values, path: str) -> List[Finding]:
    if not values[0]:
        return []
    items = json.loads(values[0])
    if not isinstance(items, list) or not all(
        isinstance(item, list) and len(item) == 4 and all(isinstance(v, str) for v in item) for item in items
    ):
        raise ValueError("findings of another shape")
    return [Finding(code, Severity(sev), message, path, 0, 0, hint=hint) for code, sev, message, hint in items]


def _phash_in(value: Optional[int]) -> Values:
    from cnnlint.dataset.phash import to_signed  # numpy: not imported by the fork server's preload

    return (None if value is None else to_signed(value),)


def _phash_out(values: Values, _: str) -> Optional[int]:
    from cnnlint.dataset.phash import from_signed

    return None if values[0] is None else from_signed(values[0])


_TEXT = (str, type(None))
_STATS = tuple(f.name for f in dataclasses.fields(ImageStats))

CODECS: Dict[str, Codec] = {
    "findings": Codec(("TEXT",), (_TEXT,), _findings_text, _findings,
                      lambda vs: vs[0] is None or len(vs[0]) <= MAX_TEXT),
    "effects": Codec(("TEXT",), (_TEXT,),
                     lambda v: (json.dumps([e.to_list() for e in v], separators=(",", ":")) if v else None,),
                     lambda vs, _: [Effect(*e) for e in json.loads(vs[0])] if vs[0] else [],
                     lambda vs: vs[0] is None or len(vs[0]) <= MAX_TEXT),
    "phash": Codec(("INTEGER",), ((int, type(None)),), _phash_in, _phash_out),
    "stats": Codec(("REAL",) * len(_STATS), ((float, type(None)),) * len(_STATS),
                   lambda v: v.as_tuple() if v is not None else (None,) * len(_STATS),
                   lambda vs, _: None if vs[0] is None else ImageStats(*vs),
                   lambda vs: all(v is None for v in vs) or not any(v is None for v in vs)),  # all or none
    "digest": Codec(("BLOB",), ((bytes, type(None)),), lambda v: (v,),
                    lambda vs, _: None if vs[0] is None else bytes(vs[0]), lambda vs: vs[0] is None or len(vs[0]) <= 64),
    "layout": Codec(("BLOB",), ((bytes, type(None)),), lambda v: (v,),
                    lambda vs, _: None if vs[0] is None else bytes(vs[0]),
                    lambda vs: vs[0] is None or len(vs[0]) == LAYOUT_BYTES),
}

# annotation -> how a plain field is stored (bool as 0/1: SQLite has no booleans)
PLAIN: Dict[Any, Codec] = {
    str: _plain("TEXT NOT NULL", (str,)),
    Optional[str]: _plain("TEXT", _TEXT),
    int: _plain("INTEGER NOT NULL", (int,)),
    Optional[int]: _plain("INTEGER", (int, type(None))),
    bool: Codec(("INTEGER NOT NULL",), ((int,),), lambda v: (1 if v else 0,), lambda vs, _: bool(vs[0])),
    Optional[bool]: Codec(("INTEGER",), ((int, type(None)),), lambda v: (None if v is None else int(v),),
                          lambda vs, _: None if vs[0] is None else bool(vs[0])),
}


def columns_of(record: type = ImageRecord) -> List[Column]:
    """The columns of a record class: the KEY fields first, then the others in field order."""
    hints = typing.get_type_hints(record)
    columns = []
    for f in dataclasses.fields(record):
        if f.name in NOT_STORED:
            continue
        codec = CODECS.get(f.name) or PLAIN.get(hints[f.name])
        if codec is None:
            raise TypeError(f"{record.__name__}.{f.name}: no column type for {hints[f.name]} (add a Codec to CODECS)")
        columns.append(Column(f.name, _STATS if f.name == "stats" else (f.name,), codec))
    return sorted(columns, key=lambda c: KEY.index(c.field) if c.field in KEY else len(KEY))


COLUMNS = columns_of()
NAMES = tuple(name for c in COLUMNS for name in c.names)
TYPES = tuple(t for c in COLUMNS for t in c.codec.types)


def table_sql(extra: Dict[str, str], key: Tuple[str, ...]) -> str:
    """CREATE TABLE for the record's columns, the `extra` ones (name -> SQL type) after the key."""
    parts = [f"{name} {sql}" for c in COLUMNS[:len(KEY)] for name, sql in zip(c.names, c.codec.sql)]
    parts += [f"{name} {sql}" for name, sql in extra.items()]
    parts += [f"{name} {sql}" for c in COLUMNS[len(KEY):] for name, sql in zip(c.names, c.codec.sql)]
    return ("CREATE TABLE IF NOT EXISTS files (\n    " + ",\n    ".join(parts)
            + f",\n    PRIMARY KEY ({', '.join(key)})\n) WITHOUT ROWID")


def row_of(rec: ImageRecord) -> Values:
    """The column values of a record, in NAMES order."""
    return tuple(v for c in COLUMNS for v in c.codec.encode(getattr(rec, c.field)))


def _split(row: Values) -> List[Tuple[Column, Values]]:
    parts, at = [], 0
    for c in COLUMNS:
        parts.append((c, tuple(row[at:at + len(c.names)])))
        at += len(c.names)
    return parts


def valid_row(row: Values) -> bool:
    """Whether a row read back has the types and shapes `row_of` writes (SQLite keeps whatever type a
    writer gave)."""
    if len(row) != len(TYPES) or not all(isinstance(v, t) for v, t in zip(row, TYPES)):
        return False
    return all(c.codec.valid(values) for c, values in _split(row))


def record_of(row: Values, path: str) -> ImageRecord:
    """The record a valid row holds, shown as `path`; ValueError/TypeError for a damaged one."""
    return ImageRecord(path=path, **{c.field: c.codec.decode(values, path) for c, values in _split(row)})
