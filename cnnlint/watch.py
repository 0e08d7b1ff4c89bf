"""--watch: run, then run again each time a file under the named paths changes (Ctrl-C stops).

watchfiles (the `watch` extra: `pip install 'cnnlint[watch]'`) waits on the system's file events
(inotify, FSEvents) and costs nothing while idle; without it, the tree is polled twice a second
(its files' sizes and modification times compared). CNNLINT_WATCH_POLL=1 forces the polling."""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, Dict, Iterator, List, Sequence, Set, Tuple

# never a reason to re-run: what cnnlint itself and the tools around it write
SKIPPED = (".git", ".hg", "__pycache__", ".cnnlint_cache", ".mypy_cache", ".pytest_cache", ".ruff_cache",
           "node_modules", ".venv", "venv", ".ipynb_checkpoints")
POLL_SECONDS = 0.5


def _skipped(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return any(part in SKIPPED for part in parts)


def _snapshot(paths: Sequence[str]) -> Dict[str, Tuple[int, int]]:
    """path -> (size, mtime in ns) of every file under `paths`, skipping SKIPPED folders."""
    seen: Dict[str, Tuple[int, int]] = {}
    for top in paths:
        walked = [(os.path.dirname(top), [], [os.path.basename(top)])] if os.path.isfile(top) else os.walk(top)
        for folder, dirs, files in walked:
            dirs[:] = [d for d in dirs if d not in SKIPPED]
            for name in files:
                path = os.path.join(folder, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                seen[path] = (st.st_size, st.st_mtime_ns)
    return seen


def poll_changes(paths: Sequence[str], interval: float = POLL_SECONDS) -> Iterator[Set[str]]:
    """The polling fallback: each time something changed, the set of paths added, changed or removed."""
    before = _snapshot(paths)
    while True:
        time.sleep(interval)
        now = _snapshot(paths)
        changed = {p for p in set(before) | set(now) if before.get(p) != now.get(p)}
        before = now
        if changed:
            yield changed


def _event_changes(paths: Sequence[str]) -> Iterator[Set[str]]:
    import watchfiles

    for batch in watchfiles.watch(*paths, watch_filter=lambda _change, path: not _skipped(path)):
        yield {path for _change, path in batch}


def changes(paths: Sequence[str]) -> Iterator[Set[str]]:
    """The batches of changed paths, from watchfiles when installed, else by polling."""
    if not os.environ.get("CNNLINT_WATCH_POLL"):
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            pass
        else:
            return _event_changes(paths)
    return poll_changes(paths)


def watch(run_once: Callable[[], int], paths: List[str]) -> int:
    """Run, then run again on each change, until interrupted (KeyboardInterrupt goes to the caller)."""
    existing = [p for p in paths if os.path.exists(p)] or ["."]
    run_once()
    print(f"cnnlint: watching {', '.join(existing)} for changes (Ctrl-C stops)", file=sys.stderr, flush=True)
    for batch in changes(existing):
        shown = sorted(batch)[:3]
        more = f" and {len(batch) - 3} more" if len(batch) > 3 else ""
        print(f"cnnlint: changed: {', '.join(shown)}{more}; checking again", file=sys.stderr, flush=True)
        run_once()
        sys.stdout.flush()
        print("cnnlint: watching for changes (Ctrl-C stops)", file=sys.stderr, flush=True)
    return 0
