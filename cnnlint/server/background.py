"""The checks that run on save only, in the background: `cnnlint FILE ROOT` in a child process
(ROOT: the configuration's folder, so the datasets under it are scanned and the script is
cross-checked against them; the lint and dataset caches make a second save cheap), never the
runtime probe. The editor keeps typing meanwhile; the findings the static lint does not make
(dataset, code versus data) come back, per file."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Dict, List, Sequence

from cnnlint.findings import Finding

TIMEOUT = 600.0  # seconds: a dataset scan of a large folder; then it is given up on


def command(path: str, root: str) -> List[str]:
    """The child's command line: JSON on stdout, no progress, never --probe."""
    return [sys.executable, "-m", "cnnlint", "--format", "json", "--quiet", path, root]


def save_findings(doc: dict, cwd: str, static_codes: Sequence[str]) -> Dict[str, List[Finding]]:
    """The findings of the child's JSON report that the static lint does not make, by absolute path."""
    static = set(static_codes)
    found: Dict[str, List[Finding]] = {}
    for item in doc.get("findings") or []:
        if item.get("code") in static or item.get("code") == "CNL001":
            continue
        finding = Finding.from_dict({k: v for k, v in item.items() if k != "fix"})
        found.setdefault(os.path.normpath(os.path.join(cwd, finding.path)), []).append(finding)
    return found


async def run_save_checks(path: str, cwd: str, static_codes: Sequence[str]) -> Dict[str, List[Finding]]:
    """Run the child; its findings by path. A failed or timed-out child gives nothing (and says why
    in the exception, for the server's log). `cwd`: the configuration's folder."""
    proc = await asyncio.create_subprocess_exec(*command(path, cwd), cwd=cwd, stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"the save-time checks of {path} took over {TIMEOUT:.0f} s; stopped") from None
    if proc.returncode not in (0, 1):
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"the save-time checks of {path} failed: {last[0]}")
    return save_findings(json.loads(out.decode("utf-8")), cwd, static_codes)
