#!/usr/bin/env python3
"""Bucket-scan benchmark: a moto S3 server on loopback holding N small images, scanned by cnnlint
(a) on the local process pool and (b) through a Dask cluster of 2 workers, side by side.

Everything runs on 127.0.0.1 with dummy credentials; nothing reaches the internet. The S3 server
(`moto_server`) and the Dask scheduler and workers (`dask scheduler`, `dask worker`) are separate
processes, so the numbers for the cnnlint process are the client's own:

* images/s: objects scanned / wall time of the cnnlint process (listing included);
* client peak RSS: the cnnlint process's own peak resident memory (sampled every 50 ms; the local
  pool's worker processes are not in it);
* client CPU: user + system seconds of the cnnlint process and of its children (the local pool's
  workers); for Dask, the workers' CPU is measured apart (psutil, before and after).

The objects are 16 x 16 PNGs of noise (~0.9 KB each) under data/p<k>/c<j>/, 10,000 per p<k>: the
first 10,000 (`--data s3://bench/data/p0`) and all of them (`--data s3://bench/data`) are scanned, so
the memory criterion (client RSS at N within 50 MB of that at 10,000) is checked in the same run.
It also measures the mean latency of one small GET (the per-request cost behind the extrapolation
in the README). Usage:

    python bench/cloud_scan.py --objects 100000     # about 15 minutes on a 2-core machine
    python bench/cloud_scan.py --objects 20000      # a quick look

Needs the test extra (moto[server], s3fs, dask[distributed]). Results: bench/out/cloud_scan.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
PER_PART = 10_000
CLASSES = 10
ENV = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def png(seed: int) -> bytes:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def upload(client, n: int) -> float:
    def put(i: int) -> None:
        key = f"data/p{i // PER_PART}/c{i % CLASSES}/{i:07d}.png"
        client.put_object(Bucket="bench", Key=key, Body=png(i))

    start = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        for _ in pool.map(put, range(n), chunksize=256):
            pass
    return time.perf_counter() - start


def get_latency(client, samples: int = 300) -> float:
    start = time.perf_counter()
    for i in range(samples):
        client.get_object(Bucket="bench", Key=f"data/p0/c{i % CLASSES}/{i:07d}.png")["Body"].read()
    return (time.perf_counter() - start) / samples


def scan(url: str, env: dict, scheduler: str = "") -> dict:
    argv = [sys.executable, "-m", "cnnlint", "--no-cache", "--format", "json", "--data", url]
    if scheduler:
        argv += ["--scheduler", scheduler]
    start = time.perf_counter()
    with open(OUT / "cloud_scan_report.json", "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.PIPE)
        peak = PeakRss(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        peak.stop()
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    doc = json.loads((OUT / "cloud_scan_report.json").read_text() or "{}")
    images = sum(d["images"] for d in doc.get("datasets", []))
    return {"url": url, "engine": "dask" if scheduler else "local pool", "exit": os.waitstatus_to_exitcode(status),
            "images": images, "wall_s": round(wall, 2), "images_per_s": round(images / wall, 1),
            "client_peak_rss_mb": round(peak.peak / 2**20, 1),
            "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "stderr": err.strip()[-300:]}


class PeakRss:
    """The peak resident memory of one process (the cnnlint client itself, not its pool workers), sampled
    every 50 ms. (os.wait4's ru_maxrss would report this script's own size: Linux keeps the high-water
    mark of the forked copy across the exec.)"""

    def __init__(self, pid: int) -> None:
        import threading

        import psutil

        self.proc, self.peak, self.done = psutil.Process(pid), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        while not self.done.is_set():
            try:
                self.peak = max(self.peak, self.proc.memory_info().rss)
            except psutil.Error:
                return
            self.done.wait(0.05)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def workers_cpu(pids) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
            total += sum(c.cpu_times().user + c.cpu_times().system for c in psutil.Process(pid).children(True))
        except psutil.Error:
            pass
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=100_000, help="images in the bucket (a multiple of 10,000)")
    args = ap.parse_args()
    n = max(PER_PART, args.objects // PER_PART * PER_PART)
    OUT.mkdir(exist_ok=True)
    s3_port, sched_port = free_port(), free_port()
    env = {**os.environ, **ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}", "PYTHONPATH": str(ROOT)}
    env.pop("CI", None)
    bindir = Path(sys.executable).parent
    procs = []
    try:
        procs.append(subprocess.Popen([str(bindir / "moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(s3_port)
        os.environ.update({k: env[k] for k in (*ENV, "AWS_ENDPOINT_URL")})
        import boto3
        from botocore.config import Config

        client = boto3.client("s3", config=Config(max_pool_connections=64))
        client.create_bucket(Bucket="bench")
        up = upload(client, n)
        print(f"uploaded {n:,} objects in {up:.0f} s ({n / up:,.0f}/s)", flush=True)
        latency = get_latency(client)
        print(f"one small GET: {latency * 1000:.2f} ms", flush=True)
        sys.path.insert(0, str(ROOT))
        from cnnlint.dataset.remote import list_prefix

        start = time.perf_counter()
        listed = list_prefix("s3://bench/data").objects
        listing = time.perf_counter() - start
        print(f"listing {listed:,} objects (1,000 a page): {listing:.1f} s ({listed / listing:,.0f}/s)", flush=True)
        procs.append(subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port",
                                       str(sched_port), "--dashboard-address", ":0"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_port(sched_port)
        procs.append(subprocess.Popen([str(bindir / "dask"), "worker", f"tcp://127.0.0.1:{sched_port}",
                                       "--nworkers", "2", "--nthreads", "1", "--host", "127.0.0.1",
                                       "--no-dashboard"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(5)  # the workers register
        rows = []
        for url in ("s3://bench/data/p0", "s3://bench/data"):
            rows.append(scan(url, env))
            print(json.dumps(rows[-1]), flush=True)
            before = workers_cpu([procs[-1].pid])
            rows.append(scan(url, env, f"tcp://127.0.0.1:{sched_port}"))
            rows[-1]["workers_cpu_s"] = round(workers_cpu([procs[-1].pid]) - before, 2)
            print(json.dumps(rows[-1]), flush=True)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
    result = {"objects": n, "upload_s": round(up, 1), "get_latency_ms": round(latency * 1000, 3),
              "listing_s": round(listing, 2), "scans": rows}
    (OUT / "cloud_scan.json").write_text(json.dumps(result, indent=2))
    print()
    print(f"{'dataset':<22} {'engine':<11} {'images':>8} {'wall s':>8} {'images/s':>9} {'client RSS MB':>14} "
          f"{'client CPU s':>13} {'workers CPU s':>14}")
    for r in rows:
        print(f"{r['url']:<22} {r['engine']:<11} {r['images']:>8,} {r['wall_s']:>8} {r['images_per_s']:>9,} "
              f"{r['client_peak_rss_mb']:>14} {r['client_cpu_s']:>13} {r.get('workers_cpu_s', ''):>14}")
    for engine in ("local pool", "dask"):
        small, big = [r for r in rows if r["engine"] == engine]
        print(f"{engine}: client RSS at {big['images']:,} - at {small['images']:,}: "
              f"{big['client_peak_rss_mb'] - small['client_peak_rss_mb']:+.1f} MB (criterion: within 50 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
