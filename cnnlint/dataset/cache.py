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

import os
import sqlite3
import stat
import zlib
from typing import Dict, List, Optional, Sequence, Tuple

from cnnlint.cachedir import code_stamp, write_markers
from cnnlint.dataset.columns import NAMES, record_of, row_of, table_sql, valid_row
from cnnlint.dataset.record import ImageRecord

_FILE = os.path.join("v1", "dataset.sqlite")
_BATCH = 500  # host parameters per lookup, rows per write
# the table: the record's columns (cnnlint.dataset.columns), and what a row was written under
_TABLE = table_sql({"options": "TEXT NOT NULL", "stamp": "TEXT NOT NULL"}, ("real_path", "options"))
_SELECT = ", ".join(NAMES)
_INSERT = f"INSERT OR REPLACE INTO files (options, stamp, {_SELECT}) VALUES ({','.join('?' * (len(NAMES) + 2))})"
# the table's layout, as SQLite's user_version: a table of another layout (an older cnnlint's, or
# one from before a field was added to the record) is dropped and the cache starts afresh
SCHEMA_VERSION = zlib.crc32(_TABLE.encode()) & 0x7FFFFFFF


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
                db.execute(_TABLE)
                if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:  # another layout: afresh
                    db.execute("DROP TABLE files")
                    db.execute(_TABLE)
                    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
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
                    f"SELECT {_SELECT} FROM files WHERE options = ? AND stamp = ? AND real_path IN ({marks})",
                    [options, self._stamp, *chunk],
                )
                for row in rows:
                    if not valid_row(row) or row[0] not in wanted:
                        continue  # written by something else: scanned again
                    path, size, mtime = wanted[row[0]]
                    if row[1] != size or row[2] != mtime:
                        continue
                    try:
                        found[row[0]] = record_of(row, path)
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
        self._pending.append((options, self._stamp, *row_of(rec)))
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
            db.executemany(_INSERT, rows)
            db.execute("COMMIT")
        except sqlite3.Error:
            self._drop()

    def close(self) -> None:
        self.flush()
        self._drop()


def options_key(quick: bool, max_pixels: int, max_decode_memory: int) -> str:
    return f"quick={int(bool(quick))};max_pixels={int(max_pixels)};max_decode_memory={int(max_decode_memory)}"


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
