"""Load a page in a real headless Chromium: its DOM, its console messages, the network requests it made."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import List, Optional

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# no sandbox: the tests may run as root in a container; the page is our own report
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-extensions", "--enable-logging=stderr",
         "--v=0")


def chromium() -> str:
    """The browser's path; skipped when it is absent, except in CI (.ci/run installs it)."""
    for name in NAMES:
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI (apt-get install chromium)")
    pytest.skip("chromium is not installed")


@dataclass
class Loaded:
    dom: str
    console: List[str]  # "CONSOLE" lines of the browser's log: console.* calls, CSP violations, script errors
    requests: List[str]  # URLs the page asked for (the browser's own background requests left out)


def _page_requests(netlog: str) -> List[str]:
    with open(netlog, encoding="utf-8") as fh:
        log = json.load(fh)
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if types.get(event["type"]) != "URL_REQUEST_START_JOB" or "url" not in params:
            continue
        if "file://" in str(params.get("site_for_cookies", "")) or str(params.get("initiator")) == "null":
            urls.append(params["url"])
    return urls


def load(html_path: str, tmp: str, screenshot: Optional[str] = None, size: str = "1280,1800") -> Loaded:
    browser = chromium()
    netlog = os.path.join(tmp, "netlog.json")
    url = "file://" + os.path.abspath(html_path)
    args = [browser, *FLAGS, f"--user-data-dir={os.path.join(tmp, 'profile')}", f"--log-net-log={netlog}"]
    proc = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    requests = _page_requests(netlog)
    if screenshot:
        shot = subprocess.run([*args, f"--window-size={size}", f"--screenshot={screenshot}", url],
                              capture_output=True, text=True, timeout=120)
        assert shot.returncode == 0 and os.path.isfile(screenshot), shot.stderr[-2000:]
    return Loaded(proc.stdout, console, requests)
