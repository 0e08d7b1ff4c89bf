"""Reading a file that may be anything: a FIFO, a device, a symbolic link to either."""

from __future__ import annotations

import errno
import os
import stat


def read_regular(path: str, limit: int, follow_symlinks: bool = True) -> bytes:
    """At most `limit` bytes of a regular file; OSError for anything else, so a FIFO is never
    waited on and a device (`/dev/zero`) never read; with follow_symlinks=False, a symbolic
    link is refused too (ELOOP)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        if not hasattr(os, "O_NOFOLLOW") and os.path.islink(path):
            raise OSError(errno.ELOOP, "a symbolic link", path)
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        chunks = []
        left = limit
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
