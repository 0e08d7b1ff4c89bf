"""Per-file scan results, cached by (real path, size, mtime) in an SQLite file.

Beside the lint cache: `<cache folder>/v1/dataset.sqlite`, with the same
.gitignore / CACHEDIR.TAG markers. A row is used only while the file's size and
modification time, cnnlint's code stamp and the options that change results
(--quick, the pixel limit) are the same. Lookups and writes go in batches, so
memory stays flat whatever the number of files. A cache that cannot be read or
written is dropped and the scan goes on without it.

The database is input like any other file: a symbolic link, FIFO or device in
its place (or its -wal, -shm, -journal files) is removed, never opened, and a
row whose values do not have their column's type is a miss.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from cnnlint.dataset.loaders import Effect
from cnnlint.dataset.record import LAYOUT_BYTES, ImageRecord, ImageStats
from cnnlint.findings import Finding, Severity
from cnnlint.cachedir import code_stamp, write_markers

_FILE = os.path.join("v1", "dataset.sqlite")
_VERSION = 3  # the table layout: 2 added the loader effects, 3 the hash, statistics and layout; another: afresh
_BATCH = 500  # host parameters per lookup, rows per write
_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    real_path TEXT NOT NULL,
    options TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    stamp TEXT NOT NULL,
    format TEXT, mode TEXT, bits INTEGER, width INTEGER, height INTEGER,
    frames INTEGER NOT NULL, orientation INTEGER, digest BLOB, decoded INTEGER NOT NULL,
    findings TEXT, colour INTEGER, effects TEXT,
    phash INTEGER, luma REAL, dark REAL, bright REAL, contrast REAL, entropy REAL, sharpness REAL, layout BLOB,
    PRIMARY KEY (real_path, options)
) WITHOUT ROWID
"""
_COLUMNS = ("real_path, size, mtime_ns, format, mode, bits, width, height, frames, orientation, digest, decoded, "
            "findings, colour, effects, phash, luma, dark, bright, contrast, entropy, sharpness, layout")


class ScanCache:
    """Open with the cache folder (the one the lint cache uses); `flush()` when the scan ends."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.path = os.path.join(folder, _FILE)
        self.hits = 0
        self.misses = 0
        self._db: Optional[sqlite3.Connection] = None
        self._pending: List[tuple] = []
        self._stamp = code_stamp()
        self._opened = False

    # ---- connection -------------------------------------------------------------------------
    def _connect(self) -> Optional[sqlite3.Connection]:
        if self._opened:
            return self._db
        self._opened = True
        for attempt in range(2):
            try:
                os.makedirs(os.path.dirname(self.path), exist_ok=True)
                write_markers(self.folder)
                if not _only_regular_files(self.path):
                    break
                db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=OFF")
                db.execute(_SCHEMA)
                if db.execute("PRAGMA user_version").fetchone()[0] != _VERSION:  # an older cnnlint's: afresh
                    db.execute("DROP TABLE files")
                    db.execute(_SCHEMA)
                    db.execute(f"PRAGMA user_version = {_VERSION}")
                self._db = db
                return db
            except sqlite3.DatabaseError:
                # not a database (a damaged file): start afresh once
                if attempt == 0 and os.path.isfile(self.path):
                    try:
                        os.remove(self.path)
                        continue
                    except OSError:
                        pass
                break
            except (sqlite3.Error, OSError):
                break
        self._db = None
        return None

    def _drop(self) -> None:
        db, self._db = self._db, None
        self._pending = []
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    # ---- reads ------------------------------------------------------------------------------
    def lookup(self, entries: Sequence[Tuple[str, str, int, int]], options: str
               ) -> Dict[str, ImageRecord]:
        """Cached records for (display path, real path, size, mtime_ns) entries, keyed by real path.

        Only rows whose size and mtime match are returned; the caller scans the rest.
        """
        db = self._connect()
        found: Dict[str, ImageRecord] = {}
        if db is None or not entries:
            self.misses += len(entries)
            return found
        wanted = {real: (path, size, mtime) for path, real, size, mtime in entries}
        reals = list(wanted)
        try:
            for start in range(0, len(reals), _BATCH):
                chunk = reals[start:start + _BATCH]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT {_COLUMNS} FROM files WHERE options = ? AND stamp = ? AND real_path IN ({marks})",
                    [options, self._stamp, *chunk],
                )
                for row in rows:
                    if not _valid_row(row) or row[0] not in wanted:
                        continue  # written by something else: scanned again
                    path, size, mtime = wanted[row[0]]
                    if row[1] != size or row[2] != mtime:
                        continue
                    try:
                        found[row[0]] = _record(path, row)
                    except (ValueError, TypeError, RecursionError):
                        continue
        except (sqlite3.Error, ValueError, TypeError, KeyError):
            self._drop()
            found = {}
        self.hits += len(found)
        self.misses += len(entries) - len(found)
        return found

    # ---- writes -----------------------------------------------------------------------------
    def put(self, rec: ImageRecord, options: str) -> None:
        if self._db is None and self._opened:
            return
        if rec.size == 0 and rec.mtime_ns == 0:
            return  # never read (unreadable path): ask again next time
        self._pending.append((
            rec.real_path, options, rec.size, rec.mtime_ns, self._stamp,
            rec.format, rec.mode, rec.bits, rec.width, rec.height, rec.frames, rec.orientation,
            rec.digest, 1 if rec.decoded else 0, _findings_text(rec.findings),
            None if rec.colour is None else int(rec.colour),
            json.dumps([e.to_list() for e in rec.effects], separators=(",", ":")) if rec.effects else None,
            *_pixel_columns(rec),
        ))
        if len(self._pending) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        db = self._connect()
        rows, self._pending = self._pending, []
        if db is None:
            return
        try:
            db.execute("BEGIN")
            db.executemany(f"INSERT OR REPLACE INTO files VALUES ({','.join('?' * 25)})", rows)
            db.execute("COMMIT")
        except sqlite3.Error:
            self._drop()

    def close(self) -> None:
        self.flush()
        self._drop()


def options_key(quick: bool, max_pixels: int, max_decode_memory: int) -> str:
    return f"quick={int(bool(quick))};max_pixels={int(max_pixels)};max_decode_memory={int(max_decode_memory)}"


def _findings_text(findings: Iterable[Finding]) -> Optional[str]:
    items = [[f.code, f.severity.value, f.message, f.hint] for f in findings]
    return json.dumps(items, separators=(",", ":")) if items else None


def _pixel_columns(rec: ImageRecord) -> tuple:
    """The perceptual hash (as SQLite's signed 64-bit INTEGER), the six statistics and the layout, or NULLs."""
    from cnnlint.dataset.phash import to_signed

    phash = None if rec.phash is None else to_signed(rec.phash)
    return (phash, *(rec.stats.as_tuple() if rec.stats is not None else (None,) * 6), rec.layout)


def _pixel_facts(phash, stats: tuple):
    from cnnlint.dataset.phash import from_signed

    return (None if phash is None else from_signed(phash),
            None if stats[0] is None else ImageStats(*stats))


def _only_regular_files(path: str) -> bool:
    """Whether the database and its side files are absent or regular files; a symbolic link (to
    /dev/zero, to someone's database), FIFO or device there is removed (False if it cannot be)."""
    for name in (path, path + "-wal", path + "-shm", path + "-journal"):
        try:
            mode = os.lstat(name).st_mode
            if stat.S_ISREG(mode):
                continue
            if stat.S_ISDIR(mode):
                return False
            os.remove(name)  # the link itself, not what it points to
        except FileNotFoundError:
            continue
        except OSError:
            return False
    return True


_MAX_FINDINGS_TEXT = 1 << 20
_INT = (int,)
_ROW_TYPES = (
    (str,), _INT, _INT, (str, type(None)), (str, type(None)), (int, type(None)), (int, type(None)),
    (int, type(None)), _INT, (int, type(None)), (bytes, type(None)), _INT, (str, type(None)), (int, type(None)),
    (str, type(None)), (int, type(None)), *((float, type(None)),) * 6, (bytes, type(None)),
)


def _valid_row(row: tuple) -> bool:
    """Whether a row has the types `put` writes (SQLite keeps whatever type a writer gave)."""
    if len(row) != len(_ROW_TYPES) or not all(isinstance(v, t) for v, t in zip(row, _ROW_TYPES)):
        return False
    digest, findings = row[10], row[12]
    effects, stats, layout = row[14], row[16:22], row[22]
    return ((digest is None or len(digest) <= 64) and (findings is None or len(findings) <= _MAX_FINDINGS_TEXT)
            and (effects is None or len(effects) <= _MAX_FINDINGS_TEXT)
            and (all(v is None for v in stats) or not any(v is None for v in stats))  # six statistics or none
            and (layout is None or len(layout) == LAYOUT_BYTES))


def _record(path: str, row: tuple) -> ImageRecord:
    (real, size, mtime, fmt, mode, bits, width, height, frames, orientation, digest, decoded,
     findings, colour, effects, phash) = row[:16]
    rec = ImageRecord(path=path, real_path=real, size=size, mtime_ns=mtime, format=fmt, mode=mode,
                      bits=bits, width=width, height=height, frames=frames, orientation=orientation,
                      digest=bytes(digest) if digest is not None else None, decoded=bool(decoded),
                      colour=None if colour is None else bool(colour))
    rec.phash, rec.stats = _pixel_facts(phash, row[16:22])
    rec.layout = None if row[22] is None else bytes(row[22])
    if effects:
        rec.effects = [Effect(*e) for e in json.loads(effects)]
    if findings:
        items = json.loads(findings)
        if not isinstance(items, list) or not all(
            isinstance(item, list) and len(item) == 4 and all(isinstance(v, str) for v in item) for item in items
        ):
            raise ValueError("findings of another shape")
        rec.findings = [Finding(code, Severity(sev), message, path, 0, 0, hint=hint)
                        for code, sev, message, hint in items]
    return rec
