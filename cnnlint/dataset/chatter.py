"""What native decoders write straight to file descriptor 2, caught per inspection.

libtiff, libwebp and libjpeg print warnings and errors with fprintf(stderr)
("TIFFFillStrip: Read error on strip 0"), past Python's sys.stderr. Around
each inspection fd 2 points at a temporary file; what lands there is handed
back to become part of that file's finding, and the user's terminal carries
only cnnlint's own lines.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from typing import Iterator, List, Optional

_MAX_READ = 4096  # bytes of decoder output kept per file
_MAX_TEXT = 200  # characters of it in a message
_PILLOW_NAME = "tempfile.tif: "

_sink: Optional[int] = None  # the temporary file's descriptor, one per process (made on first use)
_sink_pid = 0


def _sink_fd() -> int:
    global _sink, _sink_pid
    if _sink is None or _sink_pid != os.getpid():  # a forked child makes its own
        fh = tempfile.TemporaryFile(prefix="cnnlint-stderr-")
        _sink, _sink_pid = os.dup(fh.fileno()), os.getpid()
        fh.close()
    return _sink


_for_good = 0  # the pid whose fd 2 points at the sink for good (a worker), 0: none


def redirect_for_good() -> None:
    """A worker process: fd 2 goes to the sink once, so each inspection only looks at what came."""
    global _for_good
    try:
        sys.stderr.flush()
        os.dup2(_sink_fd(), 2)
    except (OSError, ValueError, AttributeError):
        return
    _for_good = os.getpid()


@contextlib.contextmanager
def captured(lines: List[str]) -> Iterator[None]:
    """Route fd 2 to a temporary file for the block; its non-empty lines are appended to `lines`."""
    if _for_good == os.getpid():
        try:
            yield
        finally:
            _collect(_sink_fd(), lines)
        return
    try:
        sink = _sink_fd()
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no fd 2 to redirect (a closed stderr): nothing can reach the terminal anyway
        return
    try:
        os.dup2(sink, 2)
        yield
    finally:
        _flush()
        os.dup2(saved, 2)
        os.close(saved)
        _collect(sink, lines)


def _flush() -> None:
    try:
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def _collect(sink: int, lines: List[str]) -> None:
    """Append the sink's lines to `lines` and empty it."""
    _flush()
    size = os.lseek(sink, 0, os.SEEK_CUR)
    if size:
        os.lseek(sink, 0, os.SEEK_SET)
        text = os.read(sink, min(size, _MAX_READ)).decode("utf-8", "replace")
        os.ftruncate(sink, 0)
        os.lseek(sink, 0, os.SEEK_SET)
        lines.extend(line.strip() for line in text.splitlines() if line.strip())


def summary(lines: List[str]) -> str:
    """The decoder's lines, each once, shortened to fit a message."""
    seen: List[str] = []
    for line in lines:
        if line.startswith(_PILLOW_NAME):  # the name Pillow gives libtiff for an in-memory file
            line = line[len(_PILLOW_NAME):]
        if line not in seen:
            seen.append(line)
    text = "; ".join(seen)
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 3] + "..."
