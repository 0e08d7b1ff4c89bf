"""Inspect a stream of files on every core, with the cache in front: records out, as they come.

Memory does not grow with the number of files: the input is read in windows,
the cache is asked per window, and at most two windows of work are in flight.
Small inputs run in this process (a pool costs more than it saves).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass
from itertools import chain, islice
from typing import Iterable, Iterator, List, Optional, TextIO, Tuple

from cnnlint.dataset.cache import ScanCache, options_key
from cnnlint.dataset.inspect import DEFAULT_MAX_PIXELS, inspect_file
from cnnlint.dataset.record import ImageRecord
from cnnlint.findings import Finding, Severity

SMALL = 64  # fewer files than this: no worker processes
WINDOW = 2048  # files read from the input, looked up in the cache and handed out at a time


@dataclass
class ScanOptions:
    quick: bool = False  # header, PNG CRC and JPEG end-marker checks only: no full decode
    max_pixels: int = DEFAULT_MAX_PIXELS  # larger images are refused without decoding (CNL513)
    jobs: Optional[int] = None  # worker processes; None or 0: one per available core


def scan_files(
    files: Iterable[Tuple[str, str]],
    options: ScanOptions,
    cache: Optional[ScanCache] = None,
    progress: bool = False,
) -> Iterator[ImageRecord]:
    """One ImageRecord per (display path, real path), in no particular order."""
    total = len(files) if hasattr(files, "__len__") else None  # type: ignore[arg-type]
    bar = Progress(total) if progress and Progress.wanted(sys.stderr) else None
    key = options_key(options.quick, options.max_pixels)
    it = iter(files)
    head = list(islice(it, SMALL))
    jobs = _jobs(options.jobs)
    pool = None
    finished = False
    try:
        if len(head) < SMALL or jobs <= 1:
            for window in _windows(chain(head, it), WINDOW):
                todo = yield from _cached(window, cache, key, bar)
                for path, real in todo:
                    rec = _inspect_one(path, real, options)
                    yield _done(rec, cache, key, bar)
        else:
            pending: deque = deque()
            for window in _windows(chain(head, it), WINDOW):
                todo = yield from _cached(window, cache, key, bar)
                if not todo:
                    continue
                if pool is None:
                    pool = _pool(jobs, options)
                chunk = max(1, min(64, len(todo) // (jobs * 8)))
                pending.append(pool.imap_unordered(_work, todo, chunk))
                if len(pending) >= 2:  # keep the workers busy while the older window drains
                    for rec in pending.popleft():
                        yield _done(rec, cache, key, bar)
            while pending:
                for rec in pending.popleft():
                    yield _done(rec, cache, key, bar)
        finished = True
    finally:
        if pool is not None:
            if finished:
                pool.close()
            else:
                pool.terminate()
            pool.join()
        if cache is not None:
            cache.flush()
        if bar is not None:
            bar.close()


def _windows(items: Iterator[Tuple[str, str]], size: int) -> Iterator[List[Tuple[str, str]]]:
    while True:
        window = list(islice(items, size))
        if not window:
            return
        yield window


def _cached(window, cache: Optional[ScanCache], key: str, bar):
    """Yields the cache hits of a window; returns the (display, real) pairs still to inspect."""
    if cache is None:
        return window
    entries = []
    todo = []
    for path, real in window:
        try:
            st = os.stat(real)
        except OSError:
            todo.append((path, real))  # the inspection reports why
            continue
        entries.append((path, real, st.st_size, st.st_mtime_ns))
    hits = cache.lookup(entries, key)
    for path, real, _, _ in entries:
        rec = hits.get(real)
        if rec is None:
            todo.append((path, real))
        else:
            if rec.path != path:  # the same file reached by two paths (links)
                rec = _retarget(rec, path)
            if bar is not None:
                bar.tick()
            yield rec
    return todo


def _retarget(rec: ImageRecord, path: str) -> ImageRecord:
    from dataclasses import replace

    return replace(rec, path=path, findings=[replace(f, path=path) for f in rec.findings])


def _done(rec: ImageRecord, cache: Optional[ScanCache], key: str, bar) -> ImageRecord:
    if cache is not None:
        cache.put(rec, key)
    if bar is not None:
        bar.tick()
    return rec


def _jobs(jobs: Optional[int]) -> int:
    if jobs:
        return max(1, int(jobs))
    try:
        return max(1, len(os.sched_getaffinity(0)))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


# ---- worker processes ------------------------------------------------------------------------

_OPTIONS: Optional[ScanOptions] = None


def _init(options: ScanOptions) -> None:
    global _OPTIONS
    _OPTIONS = options
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    except (ValueError, OSError):
        pass


def _work(item: Tuple[str, str]) -> ImageRecord:
    assert _OPTIONS is not None
    return _inspect_one(item[0], item[1], _OPTIONS)


def _inspect_one(path: str, real: str, options: ScanOptions) -> ImageRecord:
    try:
        return inspect_file(path, real, options)
    except Exception as exc:  # a bug of ours must not stop the scan of the other files
        rec = ImageRecord(path=path, real_path=real)
        rec.findings.append(Finding(
            "CNL514", Severity.ERROR, f"cannot inspect: internal error {type(exc).__name__}: {exc}",
            path, 0, 0, hint="please report this to cnnlint with the file, if you can share it",
        ))
        return rec


def _pool(jobs: int, options: ScanOptions):
    method = "fork" if sys.platform.startswith("linux") else None
    ctx = multiprocessing.get_context(method)
    return ctx.Pool(jobs, initializer=_init, initargs=(options,))


# ---- progress ----------------------------------------------------------------------------------

class Progress:
    """`\\r`-updated count on a terminal, at most ten times a second."""

    INTERVAL = 0.1

    @staticmethod
    def wanted(stream: TextIO) -> bool:
        if os.environ.get("CI"):
            return False
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    def __init__(self, total: Optional[int], stream: Optional[TextIO] = None) -> None:
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.count = 0
        self.start = time.monotonic()
        self.last = 0.0
        self.width = 0

    def tick(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.last >= self.INTERVAL:
            self.last = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.count / max(now - self.start, 1e-6)
        if self.total:
            done = min(self.count, self.total)
            text = f"scanning images: {done:,}/{self.total:,} ({100 * done // self.total}%), {rate:,.0f}/s"
        else:
            text = f"scanning images: {self.count:,}, {rate:,.0f}/s"
        pad = max(0, self.width - len(text))
        self.width = len(text)
        try:
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        if self.width:
            try:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()
            except (OSError, ValueError):
                pass
