"""The start method of every worker pool (the lint runner's and the dataset scan's).

Not `fork`: fork() copies the whole parent, but only the thread that called it. A thread that
held a lock at that moment (numpy's OpenBLAS pool starts one on import; the frameworks, a
progress bar or a host application start more) leaves it held for ever in the child, which can
then deadlock on its first malloc, log line or import. Python 3.12 warns about exactly this
("This process is multi-threaded, use of fork() may lead to deadlocks in the child") and 3.14
makes `forkserver` the default on Linux.

`forkserver` where the platform has it (Linux, macOS): a server process is started once per
run, from a fresh interpreter, when the first pool needs it; it imports the modules the workers
need (that pool's LINT_PRELOAD or SCAN_PRELOAD, none of which starts a thread) and forks each
worker from itself. So workers come from a single-threaded process, and start with the heavy
imports done (a few ms per worker, against ~0.5 s of imports per worker with `spawn`).
`spawn` elsewhere (Windows): a fresh interpreter per worker.

Both pickle what the pool's initializer and tasks receive, and re-import the modules that
define the task functions; nothing relies on state inherited from the parent. That includes the
environment: a fork server keeps the one it started with, so an initializer takes the parent's
environment of the moment (`environment()`, applied with `adopt_environment`): credentials and
endpoints set later (AWS_*, a test's settings) reach the workers as they would with fork().
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext
import os
from typing import Dict, Sequence

# imported once in the fork server (and so in every worker): nothing here may start a thread
LINT_PRELOAD = (
    "cnnlint.lint.runner", "cnnlint.lint.engine", "cnnlint.sources.read", "cnnlint.crosscheck.extract",
    *(f"cnnlint.lint.{name}" for name in ("augmentation", "dependencies", "input_pipeline", "model_config",
                                          "removed_api", "training_hygiene", "training_loop",
                                          "rules.cnl201_gradients_never_cleared",
                                          "rules.cnl202_accumulator_never_accumulated")),  # registry's rules
)
SCAN_PRELOAD = ("cnnlint.dataset.scan",)


def context(preload: Sequence[str] = ()) -> BaseContext:
    """The multiprocessing context for a worker pool (see the module's docstring for why).
    `preload`: what the fork server imports when this pool starts it (the first pool of a run
    does; later pools' workers import what else they need)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # replaces the default ["__main__"]: the user's main script is not re-run in the server
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")


def environment() -> Dict[str, str]:
    """The parent's environment now, for a pool's initargs."""
    return dict(os.environ)


def adopt_environment(env: Dict[str, str]) -> None:
    """In a worker: the environment its parent had when it made the pool."""
    if env != os.environ:
        os.environ.clear()
        os.environ.update(env)
