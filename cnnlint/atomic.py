"""Write a file the user owns without losing it: the report of `-o`, a baseline, a fixed script.

`write_file` writes through symbolic links to their target and refuses a file that cannot be
opened for writing (a read-only file stays read-only, even when its folder is writable).

A file with one link is replaced atomically: the new content goes to a temporary file in the
same folder, is flushed to disk (fsync), takes the old file's mode and owner, and `os.replace`
puts it in place; on any failure the temporary file is removed and the old file is untouched.

A file with several hard links cannot be replaced without breaking the links (the other names
would keep the old content), so it is rewritten in place: the new content is first written and
flushed to a temporary file beside it (so a full disk fails before the file is touched), then
copied into the file, truncated to its new length and flushed. That keeps the links, the inode,
mode and owner; the trade-off is that a crash or power loss in the middle of the copy can leave
the file half written (a failure cnnlint sees puts the old content back). The same in-place write
is used for a file whose owner a replacement could not keep (cnnlint is not root and the file
belongs to someone else): replacing it would hand the file over to the user running cnnlint.

A path that is not a regular file (`/dev/stdout`, a FIFO) is written directly: it cannot be
replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile
from typing import Optional


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _check_writable(target: str) -> None:
    """Raises PermissionError (or another OSError) when the file cannot be opened for writing."""
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    os.close(fd)


def _temp_beside(target: str, data: bytes, mode: int) -> str:
    """A flushed temporary file holding `data` in the target's folder; its path."""
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".cnnlint-tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.chmod(tmp, mode)
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_folder(folder: str) -> None:
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a folder; the data itself is synced
    finally:
        os.close(fd)


def _owner_kept(tmp: str, st: os.stat_result) -> bool:
    """Give the temporary file the old file's owner and group; False when that is not allowed."""
    mine = os.stat(tmp)
    if (mine.st_uid, mine.st_gid) == (st.st_uid, st.st_gid) or not hasattr(os, "chown"):
        return True
    try:
        os.chown(tmp, st.st_uid, st.st_gid)
    except PermissionError:
        return False
    os.chmod(tmp, stat.S_IMODE(st.st_mode))  # chown clears set-user-ID bits: put the mode back
    return True


def _rewrite_in_place(target: str, data: bytes, mode: int) -> None:
    tmp = _temp_beside(target, data, mode)
    try:
        with open(target, "r+b") as fh:
            old = fh.read()
            try:
                fh.seek(0)
                fh.write(data)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            except BaseException:
                fh.seek(0)
                fh.write(old)
                fh.truncate()
                fh.flush()
                raise
    finally:
        _remove(tmp)


def write_file(path: str, data: bytes) -> None:
    """Put `data` in the file at `path` (see the module's docstring for how); a new file gets
    0o666 less the umask, as `open` gives. Raises OSError when the file cannot be written; then nothing
    has changed and nothing is left behind.
    """
    target = os.path.realpath(path)
    try:
        st: Optional[os.stat_result] = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(target, "wb") as fh:
            fh.write(data)
        return
    if st is not None:
        _check_writable(target)
        mode = stat.S_IMODE(st.st_mode)
        if st.st_nlink > 1:
            _rewrite_in_place(target, data, mode)
            return
    else:
        mode = 0o666 & ~_umask()
    tmp = _temp_beside(target, data, mode)
    try:
        if st is not None and not _owner_kept(tmp, st):
            _remove(tmp)
            _rewrite_in_place(target, data, mode)
            return
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    _sync_folder(os.path.dirname(target))
