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
from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator, List, Optional, TextIO, Tuple

from cnnlint import workers
from cnnlint.dataset import budget, chatter
from cnnlint.dataset.cache import ScanCache, options_key
from cnnlint.dataset.inspect import inspect_bytes, inspect_file
from cnnlint.dataset.options import ScanOptions
from cnnlint.dataset.record import ImageRecord
from cnnlint.dataset.urls import is_url
from cnnlint.findings import Finding, Severity

SMALL = 64  # fewer files than this: no worker processes
POLL = 1.0  # seconds between checks that every worker is still alive
WINDOW = 2048  # files read from the input, looked up in the cache and handed out at a time


def scan_files(
    files: Iterable[Tuple[str, str]],
    options: ScanOptions,
    cache: Optional[ScanCache] = None,
    progress: bool = False,
    stat: Optional[Callable[[str], Optional[Tuple[int, int]]]] = None,
) -> Iterator[ImageRecord]:
    """One ImageRecord per (display path, real path), in no particular order. `stat`: (size, stamp) of
    a real path for the cache, instead of os.stat (a bucket listing's size and ETag)."""
    total = len(files) if hasattr(files, "__len__") else None  # type: ignore[arg-type]
    bar = Progress(total) if progress else None
    key = options_key(options.quick, options.max_pixels, options.max_decode_memory)
    it = iter(files)
    head = list(islice(it, SMALL))
    jobs = _jobs(options.jobs)
    workers: Optional[_Workers] = None
    dask: Any = None  # cnnlint.dataset.dask_scan.DaskWorkers
    finished = False
    try:
        if options.scheduler:  # on a Dask cluster: chunks out, records back as they finish
            from cnnlint.dataset.dask_scan import DaskWorkers

            dask = DaskWorkers(options, inspect_chunk, crashed)
            for window in _windows(chain(head, it), WINDOW):
                todo = yield from _cached(window, cache, key, bar, stat)
                for rec in dask.submit(todo):
                    yield _done(rec, cache, key, bar, stat)
            for rec in dask.drain():
                yield _done(rec, cache, key, bar, stat)
        elif len(head) < SMALL or jobs <= 1:
            for window in _windows(chain(head, it), WINDOW):
                todo = yield from _cached(window, cache, key, bar, stat)
                for path, real in todo:
                    rec = _inspect_here(path, real, options)
                    yield _done(rec, cache, key, bar, stat)
        else:
            workers = _Workers(jobs, options)
            for window in _windows(chain(head, it), WINDOW):
                todo = yield from _cached(window, cache, key, bar, stat)
                if workers.pool is None and len(todo) < SMALL:
                    # a few changed files in a cached set: not worth starting processes
                    for path, real in todo:
                        yield _done(_inspect_here(path, real, options), cache, key, bar, stat)
                    continue
                workers.submit(todo)
                if len(workers.pending) >= 2:  # keep the workers busy while the older window drains
                    for rec in workers.drain_one():
                        yield _done(rec, cache, key, bar, stat)
            while workers.pending:
                for rec in workers.drain_one():
                    yield _done(rec, cache, key, bar, stat)
        finished = True
    finally:
        for pool in (workers, dask):
            if pool is not None:
                pool.close(terminate=not finished)
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


def _cached(window, cache: Optional[ScanCache], key: str, bar, stat=None):
    """Yields the cache hits of a window; returns the (display, real) pairs still to inspect."""
    if cache is None:
        return window
    entries = []
    todo = []
    for path, real in window:
        meta = _stat(real) if stat is None else stat(real)
        if meta is None:
            todo.append((path, real))  # the inspection reports why
            continue
        entries.append((path, real, meta[0], meta[1]))
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


def _stat(real: str) -> Optional[Tuple[int, int]]:
    try:
        st = os.stat(real)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _retarget(rec: ImageRecord, path: str) -> ImageRecord:
    from dataclasses import replace

    return replace(rec, path=path, findings=[replace(f, path=path) for f in rec.findings])


def _done(rec: ImageRecord, cache: Optional[ScanCache], key: str, bar, stat=None) -> ImageRecord:
    if stat is not None and rec.size:  # an object: cached under its listed ETag stamp
        meta = stat(rec.real_path)
        rec.mtime_ns = meta[1] if meta is not None else 0
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


def _init(options: ScanOptions, env: Optional[dict] = None) -> None:
    """Each worker's initializer: everything comes through initargs, so any start method works."""
    global _OPTIONS
    _OPTIONS = options
    if env is not None:  # the fork server's own is older: a bucket's credentials may have come since
        workers.adopt_environment(env)
    if not options.quick:  # the colour check's; loaded (its thread buffers allocated) before the cap
        import numpy  # noqa: F401

    budget.limit_process(options.max_decode_memory)
    chatter.redirect_for_good()  # what decoders print becomes part of findings, never terminal output
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    except (ValueError, OSError):
        pass


def _work(item: Tuple[str, str]) -> ImageRecord:
    assert _OPTIONS is not None
    return _inspect_one(item[0], item[1], _OPTIONS)


def _work_chunk(items: List[Tuple[str, str]]) -> List[ImageRecord]:
    assert _OPTIONS is not None
    return inspect_chunk(items, _OPTIONS)


def _inspect_here(path: str, real: str, options: ScanOptions) -> ImageRecord:
    """An inspection in this (the main) process: under the same memory cap as a worker's."""
    with budget.limited(options.max_decode_memory):
        return _inspect_one(path, real, options)


def inspect_chunk(items: List[Tuple[str, str]], options: ScanOptions) -> List[ImageRecord]:
    """The records of (display path, real path) pairs, inspected here, one after the other (bucket
    objects are read ahead, several at a time)."""
    if not any(is_url(real) for _, real in items):
        return [_inspect_one(path, real, options) for path, real in items]
    from cnnlint.dataset.remote import StorageOptions, read_many

    urls = [real for _, real in items if is_url(real)]
    fetched = read_many(urls, options.storage or StorageOptions(), quick=options.quick)
    return [_inspect_one(path, real, options, next(fetched)[1] if is_url(real) else None) for path, real in items]


def _inspect_one(path: str, real: str, options: ScanOptions, fetched=None) -> ImageRecord:
    """`fetched`: a bucket object's read, done ahead (read_many's answer)."""
    said: List[str] = []
    try:
        with chatter.captured(said):
            if is_url(real):
                rec = _inspect_object(path, real, options, fetched)
            else:
                rec = inspect_file(path, real, options)
    except MemoryError:  # outside the decode (the file's bytes, the hash): the cap all the same
        rec = ImageRecord(path=path, real_path=real)
        rec.findings.append(Finding(
            "CNL513", Severity.ERROR, budget.memory_error_message(options.max_decode_memory),
            path, 0, 0, hint=budget.BUDGET_HINT,
        ))
    except Exception as exc:  # a bug of ours must not stop the scan of the other files
        rec = ImageRecord(path=path, real_path=real)
        rec.findings.append(Finding(
            "CNL514", Severity.ERROR, f"cannot inspect: internal error {type(exc).__name__}: {exc}",
            path, 0, 0, hint="please report this to cnnlint with the file, if you can share it",
        ))
    if said:
        _add_decoder_text(rec, said)
    return rec


def _add_decoder_text(rec: ImageRecord, said: List[str]) -> None:
    """The decoder's own words go into the file's error finding; without one they were harmless."""
    from dataclasses import replace

    for i, finding in enumerate(rec.findings):
        if finding.code in ("CNL501", "CNL513"):
            rec.findings[i] = replace(finding, message=f"{finding.message} (decoder: {chatter.summary(said)})")
            return


def _inspect_object(path: str, url: str, options: ScanOptions, fetched=None) -> ImageRecord:
    """An object in a bucket: read once (with retries), inspected from memory; under --quick its head and
    tail only, unless the inspection finds it needs the rest (cnnlint.dataset.ranged)."""
    from cnnlint.dataset.ranged import Incomplete
    from cnnlint.dataset.remote import StorageOptions, read_object, read_quick, unreadable_object

    storage = options.storage or StorageOptions()
    for read in ((read_quick,) if options.quick else ()) + (read_object,):
        if fetched is None:
            try:
                fetched = read(url, storage)
            except Exception as exc:  # noqa: BLE001 - any store error is this object's finding
                fetched = exc
        if isinstance(fetched, BaseException):
            rec = ImageRecord(path=path, real_path=url)
            rec.findings.append(unreadable_object(path, fetched))
            return rec
        data, size, big = fetched
        try:
            return inspect_bytes(path, url, data, size, options, big)
        except Incomplete:  # a ranged read left out bytes the inspection needs: the whole object then
            fetched = None
    raise AssertionError("read_object's answer is never ranged")  # pragma: no cover


class _Workers:
    """A pool of inspection processes with at most a few windows of work in flight.

    Chunks are handed to the pool a few at a time (each worker busy, one or two waiting), so the
    pool's task pipe never fills: with a full pipe, Pool.terminate() can block for ever on
    Python 3.9. A worker that dies (a decoder crash, the out-of-memory killer) loses the files it
    held, and the pool would wait for them for ever; so results are awaited with a timeout, and
    when a worker is gone the pool is dropped and every file not yet answered is inspected again
    one at a time in a fresh process, which finds the file that kills it.
    """

    def __init__(self, jobs: int, options: ScanOptions) -> None:
        self.jobs, self.options = jobs, options
        self.pool = None
        self.procs: list = []
        self.pending: deque = deque()  # windows: deques of chunks, not yet answered
        self.queued: deque = deque()  # (window, chunk) not yet handed to the pool
        self.running: deque = deque()  # (window, chunk, AsyncResult) handed to the pool

    def submit(self, todo: List[Tuple[str, str]]) -> None:
        if self.pool is None:
            self.pool = _pool(self.jobs, self.options)
            self.procs = list(self.pool._pool)  # type: ignore[attr-defined]
        size = max(1, min(64, len(todo) // (self.jobs * 8)))
        window: deque = deque(todo[i:i + size] for i in range(0, len(todo), size))
        self.pending.append(window)
        self.queued.extend((window, chunk) for chunk in window)
        self._feed()

    def _feed(self) -> None:
        while self.queued and len(self.running) < self.jobs + 2:
            window, chunk = self.queued.popleft()
            self.running.append((window, chunk, self.pool.apply_async(_work_chunk, (chunk,))))  # type: ignore

    def drain_one(self) -> Iterator[ImageRecord]:
        """The records of the oldest window (and of whatever else finishes on the way)."""
        oldest = self.pending[0]
        while oldest:
            window, chunk, result = self.running[0]
            try:
                batch = result.get(timeout=POLL)
            except multiprocessing.TimeoutError:
                if any(p.exitcode is not None for p in self.procs):
                    yield from self._recover()
                    return
                continue
            self.running.popleft()
            window.remove(chunk)
            self._feed()
            yield from batch
        self.pending.popleft()

    def _recover(self) -> Iterator[ImageRecord]:
        items = [item for window in self.pending for chunk in window for item in chunk]
        self.pending.clear()
        self.queued.clear()
        self.running.clear()
        self.close(terminate=True)
        yield from _isolated(items, self.options)

    def close(self, terminate: bool = False) -> None:
        pool, self.pool = self.pool, None
        if pool is None:
            return
        if terminate:
            pool.terminate()
        else:
            pool.close()
        pool.join()


def _isolated(items: List[Tuple[str, str]], options: ScanOptions) -> Iterator[ImageRecord]:
    """Inspect items one at a time in a one-worker pool; a file whose inspection kills the worker
    gets a CNL501 and a fresh worker takes the next one."""
    pool = _pool(1, options)
    try:
        for path, real in items:
            proc = pool._pool[0]  # type: ignore[attr-defined]
            result = pool.apply_async(_work, ((path, real),))
            while True:
                try:
                    rec = result.get(timeout=POLL)
                    break
                except multiprocessing.TimeoutError:
                    if proc.exitcode is not None:
                        rec = _crashed(path, real, proc.exitcode)
                        pool.terminate()
                        pool.join()
                        pool = _pool(1, options)
                        break
            yield rec
    finally:
        pool.terminate()
        pool.join()


def crashed(path: str, real: str, how: str) -> ImageRecord:
    """The CNL501 of a file whose inspection killed the process reading it."""
    rec = ImageRecord(path=path, real_path=real)
    rec.findings.append(Finding(
        "CNL501", Severity.ERROR, f"the image decoder crashed on it: the process reading it died ({how})",
        path, 0, 0, hint="re-export it or delete it; a training loader using the same decoder may crash too",
    ))
    return rec


def _crashed(path: str, real: str, exitcode: int) -> ImageRecord:
    how = f"exit status {exitcode}"
    if exitcode < 0:
        try:
            how = f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"signal {-exitcode}"
        if exitcode == -signal.SIGKILL:
            how += ", out of memory?"
    return crashed(path, real, how)


def _pool(jobs: int, options: ScanOptions):
    # never fork(): the workers come from a single-threaded fork server (cnnlint.workers says why)
    ctx = workers.context(workers.SCAN_PRELOAD)
    return ctx.Pool(jobs, initializer=_init, initargs=(options, workers.environment()))


# ---- progress ----------------------------------------------------------------------------------

class Progress:
    """`\\r`-updated count on a terminal, at most ten times a second."""

    INTERVAL = 0.1

    @staticmethod
    def wanted(stream: TextIO) -> bool:
        """On a terminal only: never in pipes, files or CI logs."""
        if os.environ.get("CI") or os.environ.get("TERM") == "dumb":
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
