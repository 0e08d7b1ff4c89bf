"""The scan cache's columns come from ImageRecord's fields (cnnlint/dataset/columns.py)."""

import dataclasses
import sqlite3
from typing import List, Optional

import pytest

from cnnlint.dataset import cache, columns
from cnnlint.dataset.loaders import Effect
from cnnlint.dataset.record import LAYOUT_BYTES, ImageRecord, ImageStats
from cnnlint.findings import Finding, Severity


def _full():
    """A record with every field set to something other than its default."""
    return ImageRecord(
        path="data/a.png", real_path="/abs/data/a.png", size=123, mtime_ns=456, format="PNG", mode="RGB", bits=8,
        width=64, height=48, frames=3, orientation=6, digest=b"\x01" * 16, decoded=True, colour=False,
        phash=(1 << 64) - 5, stats=ImageStats(120.5, 0.1, 0.2, 30.0, 5.5, 0.25), layout=bytes(range(LAYOUT_BYTES)),
        effects=[Effect("tf_decode_image", "fails", "CNL503", "why")],
        findings=[Finding("CNL502", Severity.WARNING, "msg", "data/a.png", 0, 0, hint="hint")],
    )


def test_every_field_of_the_record_has_its_columns():
    stored = {c.field for c in columns.COLUMNS}
    assert stored == {f.name for f in dataclasses.fields(ImageRecord)} - {"path"}
    assert columns.NAMES[:3] == ("real_path", "size", "mtime_ns")
    assert [n for n in columns.NAMES if n in {f.name for f in dataclasses.fields(ImageStats)}] == [
        "luma", "dark", "bright", "contrast", "entropy", "sharpness"]


def test_a_record_round_trips_through_sqlite(tmp_path):
    rec = _full()
    db = sqlite3.connect(str(tmp_path / "t.sqlite"))
    db.execute(cache._TABLE)
    db.execute(cache._INSERT, ("opts", "stamp", *columns.row_of(rec)))
    (row,) = db.execute(f"SELECT {cache._SELECT} FROM files").fetchall()
    assert columns.valid_row(row)
    assert columns.record_of(row, "data/a.png") == rec
    empty = ImageRecord("b.png", "/abs/b.png")
    assert columns.record_of(columns.row_of(empty), "b.png") == empty


@pytest.mark.parametrize("name,bad", [
    ("width", "wide"), ("frames", None), ("digest", b"x" * 65), ("layout", b"\0"), ("luma", None),
    ("findings", 5), ("phash", "abc"), ("real_path", None),
])
def test_a_row_of_other_types_or_shapes_is_refused(name, bad):
    row = list(columns.row_of(_full()))
    assert columns.valid_row(tuple(row))
    row[columns.NAMES.index(name)] = bad
    assert not columns.valid_row(tuple(row))


def test_a_new_field_gets_a_column_or_names_the_codec_it_needs():
    @dataclasses.dataclass
    class Wider(ImageRecord):
        noise: Optional[float] = None

    with pytest.raises(TypeError, match=r"Wider.noise: no column type for typing.Optional\[float\]"):
        columns.columns_of(Wider)

    @dataclasses.dataclass
    class Counted(ImageRecord):
        faces: Optional[int] = None
        tags: List[str] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match=r"Counted.tags"):
        columns.columns_of(Counted)
    columns.CODECS["tags"] = columns.CODECS["findings"]
    try:
        found = columns.columns_of(Counted)
    finally:
        del columns.CODECS["tags"]
    assert [(c.field, c.codec.sql) for c in found][-2:] == [("faces", ("INTEGER",)), ("tags", ("TEXT",))]
