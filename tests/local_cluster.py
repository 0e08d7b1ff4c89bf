"""A dask.distributed LocalCluster of 2 worker processes on loopback, in a process of its own, for the Dask
tests (tests/test_cloud.py): prints the scheduler's address on one line, then waits to be killed.

The tests kill its process group (scheduler, nannies and workers together) instead of closing the
cluster: an in-process LocalCluster's close() was seen to hang for ever (Python 3.9 with dask 2024.7,
3.12 with 2026.7), and a cluster in the test process leaves its threads behind for later tests.
"""

import sys
import time


def main() -> None:
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0")
    print(cluster.scheduler_address, flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":  # the worker processes import this module again: start the cluster once
    sys.exit(main())
