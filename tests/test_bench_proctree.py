"""bench/proctree.py (the lint-speed benchmark's process-tree measurement) and the single large
files of bench/lint_speed.py.

proctree makes the measuring process a child subreaper, so each check runs in a fresh interpreter
rather than in pytest's (orphans of other tests would be handed to pytest)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and PR_SET_CHILD_SUBREAPER")

# the measured command: exits at once, leaving a child that burns 0.4 s of CPU as an orphan
ORPHAN = """
import subprocess, sys
burn = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.4: pass"
subprocess.Popen([sys.executable, "-c", burn])
"""

# the measured command: a forkserver pool of two workers, each holding 80 MB and burning 0.3 s of CPU
POOL = """
import multiprocessing, time

def work(_):
    block = bytearray(80 * 2**20)
    for i in range(0, len(block), 4096):
        block[i] = 1
    t = time.process_time()
    while time.process_time() - t < 0.3:
        pass
    time.sleep(0.3)  # stays at its peak past a sample or two
    return len(block)

if __name__ == "__main__":
    ctx = multiprocessing.get_context("forkserver")
    with ctx.Pool(2) as pool:
        print(sum(pool.map(work, [0, 1], chunksize=1)))
"""


def measure(tmp_path: Path, script: str) -> dict:
    (tmp_path / "cmd.py").write_text(script)
    driver = (f"import json, sys\nsys.path.insert(0, {str(BENCH)!r})\nimport proctree\n"
              f"m = proctree.run([sys.executable, 'cmd.py'], cwd={str(tmp_path)!r}, sample_interval=0.02)\n"
              "print(json.dumps(dict(m.brief(), stdout=m.stdout, stderr=m.stderr)))\n")
    r = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_cpu_of_an_orphan_is_counted(tmp_path):
    m = measure(tmp_path, ORPHAN)
    assert m["rc"] == 0 and m["orphans_reaped"] == 1
    assert m["cpu_s"] >= 0.4
    assert m["cpu_main_tree_s"] < 0.4  # what wait4 on the command alone (and /usr/bin/time) reports


def test_forkserver_workers_are_found_with_their_peaks(tmp_path):
    m = measure(tmp_path, POOL)
    assert m["rc"] == 0 and m["stdout"].strip() == str(2 * 80 * 2**20), m["stderr"]
    roles = sorted(p["role"] for p in m["procs"])
    assert roles.count("main") == 1 and roles.count("forkserver") == 1 and roles.count("worker") == 2, roles
    workers = [p for p in m["procs"] if p["role"] == "worker"]
    assert all(p["hwm_kb"] >= 80 * 1024 for p in workers)
    main = next(p for p in m["procs"] if p["role"] == "main")
    assert main["hwm_kb"] < 80 * 1024
    assert m["cpu_s"] >= 0.6  # the two workers, reaped by the orphaned fork server
    assert m["cpu_main_tree_s"] < 0.6


def test_single_files_are_valid_nested_prefixes():
    sys.path.insert(0, str(BENCH))
    try:
        import lint_speed
    finally:
        sys.path.remove(str(BENCH))
    texts = lint_speed.size_modules([300, 1500], seed=7)
    for n, text in texts.items():
        ast.parse(text)
        lines = text.count("\n")
        assert n - 120 <= lines <= n, (n, lines)
        assert "from __future__" not in text
    assert texts[1500].startswith(texts[300])
