"""Run a command and measure its whole process tree: CPU seconds, wall seconds, peak RSS per process.

CPU is user + system time of every process the command starts, however deep, taken as the
change of ``getrusage(RUSAGE_CHILDREN)`` of this process around the run. That counter only
covers descendants that were waited for, by us or by a waited-for ancestor. A
``multiprocessing`` fork server (what cnnlint's lint pool uses) is not: the cnnlint process
exits without waiting for it, so it and the workers it forked and reaped are re-parented to
init and their CPU is lost to ``/usr/bin/time`` and to a plain ``wait4``. So on Linux this
process makes itself a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): orphans of the
command are re-parented to us, and ``run`` reaps them before it reads the counter.
``cpu_main_tree_s`` keeps what ``wait4`` on the command alone says (what ``/usr/bin/time``
reports), so the difference is visible.

Peak RSS: every ``interval`` seconds a sampler thread walks the command's descendants through
``/proc/<pid>/task/<tid>/children`` and keeps each process's ``VmHWM`` (the kernel's own
high-water mark of its resident set, so a sample misses only growth in a process's last
``interval``). Each process gets a role: ``main`` (the command), ``forkserver``,
``resource_tracker``, ``worker`` (a child of the fork server, or of a ``multiprocessing``
pool's parent when it forks) or ``other``.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence

PR_SET_CHILD_SUBREAPER = 36
ORPHAN_GRACE_S = 20.0  # how long orphans may outlive the command before their group is killed

_subreaper: Optional[bool] = None


def enable_subreaper() -> bool:
    """Make this process the subreaper of its descendants (Linux); True when it is."""
    global _subreaper
    if _subreaper is None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            _subreaper = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
        except (OSError, AttributeError):
            _subreaper = False
    return _subreaper


@dataclass
class Proc:
    pid: int
    ppid: int
    role: str
    name: str
    hwm_kb: int = 0
    cpu_s: float = 0.0  # its own user + system time at the last sample (a cross-check of the tree's)


@dataclass
class Measured:
    """One command's run. cpu_s = user_s + sys_s of its whole tree; seconds = wall."""

    seconds: float
    cpu_s: float
    user_s: float
    sys_s: float
    cpu_main_tree_s: float  # wait4 on the command alone: misses orphans (what /usr/bin/time says)
    rc: Optional[int]
    timed_out: bool
    stdout: str
    stderr: str
    orphans_reaped: int = 0
    procs: List[Proc] = field(default_factory=list)

    def peak_kb(self, role: str) -> int:
        """The largest VmHWM among processes of this role (0 when none was seen)."""
        return max((p.hwm_kb for p in self.procs if p.role == role), default=0)

    def count(self, role: str) -> int:
        return sum(1 for p in self.procs if p.role == role)

    def brief(self) -> dict:
        """JSON-ready, without the output."""
        d = asdict(self)
        del d["stdout"], d["stderr"]
        for k in ("seconds", "cpu_s", "user_s", "sys_s", "cpu_main_tree_s"):
            d[k] = round(d[k], 3)
        return d


def _read(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return None


def _children(pid: int) -> List[int]:
    out: List[int] = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        text = _read(f"/proc/{pid}/task/{tid}/children")
        if text:
            out.extend(int(x) for x in text.split())
    return out


def _status(pid: int) -> Dict[str, str]:
    text = _read(f"/proc/{pid}/status") or ""
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _own_cpu(pid: int) -> float:
    text = _read(f"/proc/{pid}/stat") or ""
    fields = text.rpartition(")")[2].split()  # after the command name, which may hold spaces
    try:
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime
    except (IndexError, ValueError):
        return 0.0


def _role(pid: int, root: int, ppid: int, cmdline: str, known: Dict[int, Proc]) -> str:
    if pid == root:
        return "main"
    parent = known.get(ppid)
    if parent is not None and parent.role == "forkserver":
        return "worker"  # its command line is the fork server's: test the parent first
    if "multiprocessing.forkserver" in cmdline:
        return "forkserver"
    if "multiprocessing.resource_tracker" in cmdline:
        return "resource_tracker"
    if "multiprocessing.spawn" in cmdline:
        return "worker"
    return "other"


class _Sampler(threading.Thread):
    def __init__(self, root: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.procs: Dict[int, Proc] = {}
        self.stop = threading.Event()

    def sample(self) -> None:
        todo, seen = [self.root], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            st = _status(pid)
            if not st:
                continue
            hwm = int(st.get("VmHWM", "0 kB").split()[0] or 0)
            ppid = int(st.get("PPid", "0") or 0)
            # the role is decided again each time: a child seen between its fork and its exec
            # still shows its parent's command line
            cmdline = (_read(f"/proc/{pid}/cmdline") or "").replace("\0", " ")
            name = st.get("Name", "?")
            role = _role(pid, self.root, ppid, cmdline, self.procs)
            proc = self.procs.setdefault(pid, Proc(pid, ppid, role, name))
            if cmdline:  # empty for a zombie: keep what it was
                proc.role, proc.name = role, name
            proc.hwm_kb = max(proc.hwm_kb, hwm)
            proc.cpu_s = max(proc.cpu_s, _own_cpu(pid))
            todo.extend(_children(pid))

    def run(self) -> None:
        while not self.stop.is_set():
            self.sample()
            self.stop.wait(self.interval)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap_orphans(pgid: int) -> int:
    """Wait for every remaining child (orphans handed to us as subreaper); how many there were.
    Orphans still there after ORPHAN_GRACE_S get their process group killed; one that left the
    group and outlives a second grace period is left behind."""
    n, kill_at = 0, time.monotonic() + ORPHAN_GRACE_S
    while True:
        try:
            pid, _, _ = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return n
        if pid:
            n += 1
            continue
        if time.monotonic() > kill_at + ORPHAN_GRACE_S:
            return n
        if time.monotonic() > kill_at:
            _kill_group(pgid)
        time.sleep(0.005)


def run(cmd: Sequence[object], cwd: str, env: Optional[dict] = None, timeout: Optional[float] = None,
        sample_interval: Optional[float] = None) -> Measured:
    """Run cmd in a new session; sample_interval: seconds between RSS samples (None: no sampling).

    Not thread-safe, and nothing else may have children running meanwhile: orphans are reaped
    with wait4(-1)."""
    enable_subreaper()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], cwd=str(cwd), env=env, stdout=out, stderr=err,
                                start_new_session=True)
        sampler = _Sampler(proc.pid, sample_interval) if sample_interval else None
        if sampler:
            sampler.start()
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            _kill_group(proc.pid)

        timer = threading.Timer(timeout, expire) if timeout else None
        if timer:
            timer.start()
        _, status, own = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits for it again
        if timer:
            timer.cancel()
        if sampler:
            sampler.stop.set()
            sampler.join()
        if timed_out.is_set():
            _kill_group(proc.pid)
        orphans = _reap_orphans(proc.pid)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out.seek(0)
        err.seek(0)
        user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
        return Measured(
            seconds=seconds, cpu_s=user + system, user_s=user, sys_s=system,
            cpu_main_tree_s=own.ru_utime + own.ru_stime, rc=proc.returncode, timed_out=timed_out.is_set(),
            stdout=out.read().decode("utf-8", "replace"), stderr=err.read().decode("utf-8", "replace"),
            orphans_reaped=orphans, procs=sorted(sampler.procs.values(), key=lambda p: p.pid) if sampler else [])
