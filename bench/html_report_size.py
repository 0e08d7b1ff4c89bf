#!/usr/bin/env python3
"""The HTML report of a big image set: its size, its thumbnails, and whether headless Chromium opens it
without console errors or network requests (the same check as tests/test_html_report.py).

    python bench/html_report_size.py DIR [--out report.html] [--screenshot shot.png]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--out")
    ap.add_argument("--screenshot")
    args = ap.parse_args()
    from browser import load

    tmp = tempfile.mkdtemp()
    out = args.out or os.path.join(tmp, "report.html")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cnnlint", "--format", "html", "-o", out, args.data],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    page = load(out, tmp, screenshot=args.screenshot)
    result = {
        "exit_status": proc.returncode, "seconds": round(seconds, 1), "bytes": os.path.getsize(out),
        "thumbnails": page.dom.count('src="data:image/jpeg;base64,'),
        "pairs": page.dom.count('class="pair '), "groups": page.dom.count('class="group"'),
        "findings_rows": page.dom.count('class="finding"'),
        "console": page.console, "requests": page.requests,
    }
    print(json.dumps(result, indent=1))
    return 0 if not page.console and not page.requests else 1


if __name__ == "__main__":
    sys.exit(main())
