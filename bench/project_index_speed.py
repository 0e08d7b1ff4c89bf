"""Cold lint of a synthetic 300-module project with the project index, against the same files
linted one by one with the index off (each script judged alone), in one process (jobs=1, no cache):
CPU seconds and wall seconds of each, and the ratio. Then a warm run after editing one module: the
files re-linted.

    PYTHONPATH=$PWD python bench/project_index_speed.py [--modules 300] [--size 6]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import List

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from cnnlint.lint import runner  # noqa: E402
from cnnlint.lint.cache import LintCache  # noqa: E402
from cnnlint.lint.project_index import imported  # noqa: E402
from cnnlint.sources.walk import Target  # noqa: E402
from fixtures.projects import module_chain, write_project  # noqa: E402


def _targets(root: str, n: int) -> List[Target]:
    return [Target(path=f"mod{i}.py", real_path=os.path.join(root, f"mod{i}.py"), kind="python") for i in range(n)]


def _timed(fn):
    c0, w0 = time.process_time(), time.perf_counter()
    result = fn()
    return result, time.process_time() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--modules", type=int, default=300)
    ap.add_argument("--size", type=int, default=6, help="training functions per module")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each, alternating; the least CPU counts")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = write_project(os.path.join(tmp, "proj"), {f"mod{i}.py": module_chain(i, args.size) for i in range(args.modules)},
                             marker="pyproject.toml")
        targets = _targets(root, args.modules)
        runner.lint_targets(targets[:3], "warm-up", 1 << 24, None, jobs=1)  # imports, rule discovery
        real_init = imported.ImportedSummaries.__init__

        def alone(self, ctx):  # the index off: every script judged alone
            real_init(self, ctx)
            self._names = {}

        cpu_alone = wall_alone = cpu_index = wall_index = float("inf")
        for _ in range(args.repeat):
            imported.ImportedSummaries.__init__ = alone  # type: ignore[method-assign]
            _, cpu, wall = _timed(lambda: runner.lint_targets(targets, "alone", 1 << 24, None, jobs=1))
            cpu_alone, wall_alone = min(cpu_alone, cpu), min(wall_alone, wall)
            imported.ImportedSummaries.__init__ = real_init  # type: ignore[method-assign]
            imported_memo_clear()  # cold: every summary computed again
            run, cpu, wall = _timed(lambda: runner.lint_targets(targets, "index", 1 << 24, None, jobs=1))
            cpu_index, wall_index = min(cpu_index, cpu), min(wall_index, wall)
        print(f"{args.modules} modules, {sum(os.path.getsize(t.real_path) for t in targets) // 1024} KiB")
        print(f"least of {args.repeat} runs each, alternating")
        print(f"one by one (index off): cpu {cpu_alone:.2f} s, wall {wall_alone:.2f} s")
        print(f"with the project index: cpu {cpu_index:.2f} s, wall {wall_index:.2f} s, "
              f"{len(run.findings)} findings")
        print(f"ratio: cpu {cpu_index / cpu_alone:.3f}, wall {wall_index / wall_alone:.3f}")
        cache_dir = os.path.join(tmp, "cache")
        runner.lint_targets(targets, "warm", 1 << 24, LintCache(cache_dir), jobs=1)
        with open(os.path.join(root, "mod10.py"), "a", encoding="utf-8") as fh:
            fh.write("\n\ndef added():\n    return 2\n")
        linted: List[str] = []
        real = runner.lint_one

        def spy(target, *a, **k):
            linted.append(target.path)
            return real(target, *a, **k)

        runner.lint_one = spy  # type: ignore[assignment]
        _, cpu_warm, wall_warm = _timed(lambda: runner.lint_targets(targets, "warm", 1 << 24, LintCache(cache_dir), jobs=1))
        runner.lint_one = real  # type: ignore[assignment]
        print(f"warm after editing mod10.py: re-linted {sorted(linted)} (cpu {cpu_warm:.2f} s, wall {wall_warm:.2f} s)")


def imported_memo_clear() -> None:
    from cnnlint.lint.project_index import memo

    memo.clear()


if __name__ == "__main__":
    main()
