"""The inspection on a Dask cluster (`--scheduler tcp://HOST:8786`, `dask-scheduler` in [tool.cnnlint]).

The files are cut into chunks (CHUNK files each); each chunk is one task that inspects its files
where the worker runs (local paths must be reachable there, bucket objects are read by the worker)
and returns compact records. The client keeps a bounded number of tasks in flight and hands the
records on as tasks finish (`as_completed`), so its memory does not grow with the dataset.

A worker lost while holding a task: Dask runs the task again elsewhere. A task that keeps killing
workers (Dask gives up after `distributed.scheduler.allowed-failures` deaths: KilledWorker) is split
into one task per file. Dask also gives up on a task that merely sat on workers that another task
killed, so a one-file task that fails so is tried once more at the end, alone on the cluster: a file
whose task still kills workers then gets a CNL501, as in the local pool, and is not tried again.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from cnnlint.config import ConfigError
from cnnlint.dataset.record import ImageRecord
from cnnlint.findings import Finding, Severity

CHUNK = 2000  # files per task: large enough that a task's overhead (~1 ms) is noise
EXTRA = "pip install 'cnnlint[dask]'"
CONNECT_TIMEOUT = "10s"
CLOSE_TIMEOUT = 10  # seconds

Item = Tuple[str, str]
CHUNKED, ALONE, LAST = 0, 1, 2  # a task's files: a chunk; one file; one file, the only task on the cluster


def connect(address: str):
    """A client of the scheduler at `address`; a ConfigError (one line, exit 2) names the extra or the address."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(f"--scheduler needs dask.distributed: {EXTRA}") from None
    try:
        return Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address}: {' '.join(str(exc).split())}") from None


class DaskWorkers:
    """Chunks of files as Dask tasks; `submit` and `drain` yield records as tasks finish.

    `inspect(items, options)` is the task (cnnlint.dataset.scan.inspect_chunk, importable on the workers);
    `crashed(path, real, how)` makes the CNL501 of a file that kills every worker it runs on."""

    def __init__(self, options: Any, inspect: Callable[..., List[ImageRecord]],
                 crashed: Callable[[str, str, str], ImageRecord], chunk: int = 0) -> None:
        from distributed import as_completed

        self.options, self.inspect, self.crashed = options, inspect, crashed
        self.client = connect(options.scheduler or "")
        threads = sum(self.client.nthreads().values()) or 1
        self.chunk = chunk or CHUNK
        self.limit = max(4, 2 * threads)  # tasks in flight: every worker thread busy, one more queued each
        self.buffer: List[Item] = []
        self.suspects: List[Item] = []  # files whose own task died with workers: tried again alone, at the end
        # future key -> (its files, CHUNKED / ALONE / LAST), until it is answered
        self.items: Dict[str, Tuple[List[Item], int]] = {}
        self.done = as_completed(loop=self.client.loop)
        self.pending = 0

    def _send(self, items: List[Item], stage: int = CHUNKED) -> None:
        future = self.client.submit(self.inspect, items, self.options, pure=False)
        self.items[future.key] = (items, stage)
        self.done.add(future)
        self.pending += 1

    def submit(self, todo: List[Item]) -> Iterator[ImageRecord]:
        """Queue files; yields the records of tasks finished while the cluster is full."""
        self.buffer.extend(todo)
        while len(self.buffer) >= self.chunk:
            self._send(self.buffer[:self.chunk])
            del self.buffer[:self.chunk]
            while self.pending >= self.limit:
                yield from self._one()

    def drain(self) -> Iterator[ImageRecord]:
        """Every record still to come."""
        if self.buffer:
            self._send(self.buffer)
            self.buffer = []
        while self.pending:
            yield from self._one()
        while self.suspects:  # one at a time: no other task shares the fate of a worker it kills
            self._send([self.suspects.pop()], LAST)
            yield from self._one()

    def _one(self) -> Iterator[ImageRecord]:
        future = next(self.done)
        self.pending -= 1
        items, stage = self.items.pop(future.key)
        try:
            batch = future.result()
        except Exception as exc:  # noqa: BLE001 - KilledWorker, or the cluster failing the task
            future.release()
            yield from self._failed(items, stage, exc)
            return
        future.release()
        yield from batch

    def _failed(self, items: List[Item], stage: int, exc: BaseException) -> Iterator[ImageRecord]:
        killed = type(exc).__name__ == "KilledWorker"
        if stage == CHUNKED:
            for item in items:  # find the file that does it: one task each
                self._send([item], ALONE)
            return
        if killed and stage == ALONE:  # its own doing, or it sat on workers another file killed
            self.suspects.append(items[0])
            return
        path, real = items[0]
        if killed:
            yield self.crashed(path, real, "a Dask worker, every time it was tried")
            return
        rec = ImageRecord(path=path, real_path=real)
        rec.findings.append(Finding(
            "CNL514", Severity.ERROR, f"cannot inspect: the Dask task failed: {type(exc).__name__}: {exc}"[:300],
            path, 0, 0, hint="check the workers' logs; the rest of the dataset was still scanned"))
        yield rec

    def close(self, terminate: bool = False) -> None:
        """Disconnects: the scheduler then drops every task of ours not yet run (no client wants it). No
        cancel() first, even to terminate: it waits without a limit, for ever once the scheduler is gone."""
        client, self.client = self.client, None
        if client is None:
            return
        try:
            client.close(timeout=CLOSE_TIMEOUT)
        except Exception:  # noqa: BLE001 - closing anyway
            pass


def scheduler_address(value: Optional[str]) -> Optional[str]:
    """tcp://HOST:PORT; a bare HOST:PORT gets tcp://."""
    if not value:
        return None
    return value if "://" in value else f"tcp://{value}"
