"""Hostile code-side input (issue 12, point 4): huge requirements files, odd encodings and
line endings, IPython syntax where plain Python is expected, cache files that are traps."""

import time

from cnnlint.lint import dependencies
from cnnlint.lint.api import lint_text


def _ranged(n):
    return "".join(f"package-{i}>=1.{i % 10},<2\n" for i in range(n))


def _lint_seconds(text, tries):
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        found = lint_text(text, "requirements.txt", select=("CNL401",))
        best = min(best, time.perf_counter() - start)
    return best, found


def test_requirements_time_is_linear_in_entries(monkeypatch):
    """Four times the entries take about four times as long (it was sixteen: each entry
    scanned and split the whole file again)."""
    monkeypatch.setattr(dependencies, "installed_version", lambda name: "1.9.0")
    small, found_small = _lint_seconds(_ranged(3_000), tries=3)
    large, found_large = _lint_seconds(_ranged(12_000), tries=2)
    assert (len(found_small), len(found_large)) == (3_000, 12_000)
    assert found_large[-1].line == 12_000 and found_large[-1].fix is not None
    assert large / small < 8, (small, large)
