"""The scan: worker processes, the cache, --quick, the progress bar."""

import io
import os
import sqlite3

import pytest

from cnnlint.dataset.cache import ScanCache
from cnnlint.dataset.scan import SMALL, Progress, ScanOptions, scan_files
from fixtures.images import write_image


def build(root, n=12, faults=True):
    """n clean JPEG/PNG files in two class folders, plus a truncated JPEG and a bad-CRC PNG."""
    files = []
    for i in range(n):
        name = os.path.join(root, f"c{i % 2}", f"{i}.{'jpg' if i % 2 else 'png'}")
        write_image(name, "jpeg" if i % 2 else "png", size=(16 + i % 7, 12 + i % 5), seed=i)
        files.append(name)
    if faults:
        files.append(write_image(os.path.join(root, "c0", "trunc.jpg"), "truncated_jpeg"))
        files.append(write_image(os.path.join(root, "c1", "crc.png"), "png_bad_crc"))
    return [(f, f) for f in files]


def summary(records):
    return sorted(
        (r.path, r.format, r.mode, r.width, r.height, r.digest, r.decoded, [f.code for f in r.findings])
        for r in records
    )


def test_pool_and_single_process_agree(tmp_path):
    files = build(str(tmp_path), n=SMALL + 40)
    one = summary(scan_files(iter(files), ScanOptions(jobs=1)))
    many = summary(scan_files(iter(files), ScanOptions(jobs=2)))
    assert one == many
    assert len(many) == len(files)
    flagged = {os.path.basename(p): c for p, *_, c in many if c}
    assert flagged == {"trunc.jpg": ["CNL501"], "crc.png": ["CNL501"]}


def test_stops_cleanly_when_the_consumer_stops(tmp_path):
    files = build(str(tmp_path), n=SMALL + 40, faults=False)
    gen = scan_files(iter(files), ScanOptions(jobs=2))
    first = next(gen)
    gen.close()  # terminates the pool
    assert first.is_image


def test_small_input_needs_no_pool(tmp_path, monkeypatch):
    import cnnlint.dataset.scan as scan

    def no_pool(*_):
        raise AssertionError("a pool for a handful of files")

    monkeypatch.setattr(scan, "_pool", no_pool)
    files = build(str(tmp_path), n=5)
    assert len(list(scan_files(files, ScanOptions(jobs=4)))) == 7


def test_input_is_consumed_lazily(tmp_path):
    """The scan pulls files in windows: the first record comes before the input is exhausted."""
    files = build(str(tmp_path), n=4, faults=False)
    pulled = []

    def source():
        for i in range(100_000):
            pulled.append(i)
            yield files[i % len(files)]

    gen = scan_files(source(), ScanOptions(jobs=1))
    next(gen)
    gen.close()
    assert len(pulled) <= 2048 + SMALL


# ---- cache -----------------------------------------------------------------------------------

def test_cache_hits_misses_and_mtime_invalidation(tmp_path):
    data, cache_dir = str(tmp_path / "data"), str(tmp_path / "cache")
    files = build(data, n=6)
    cache = ScanCache(cache_dir)
    cold = summary(scan_files(iter(files), ScanOptions(), cache))
    assert (cache.hits, cache.misses) == (0, 8)
    assert os.path.isfile(os.path.join(cache_dir, "v1", "dataset.sqlite"))
    assert os.path.isfile(os.path.join(cache_dir, "CACHEDIR.TAG"))

    cache = ScanCache(cache_dir)
    warm = summary(scan_files(iter(files), ScanOptions(), cache))
    assert (cache.hits, cache.misses) == (8, 0)
    assert warm == cold  # findings (messages, hints) come back whole

    # a file rewritten in place with other content and a new mtime: scanned again
    victim = files[1][0]  # a .jpg
    write_image(victim, "truncated_jpeg")
    st = os.stat(victim)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    cache = ScanCache(cache_dir)
    again = {r.path: r for r in scan_files(iter(files), ScanOptions(), cache)}
    assert (cache.hits, cache.misses) == (7, 1)
    assert [f.code for f in again[victim].findings] == ["CNL501"]


def test_cache_keeps_quick_and_full_results_apart(tmp_path):
    files = build(str(tmp_path / "d"), n=4)
    folder = str(tmp_path / "cache")
    list(scan_files(files, ScanOptions(quick=True), ScanCache(folder)))
    cache = ScanCache(folder)
    records = list(scan_files(files, ScanOptions(), cache))
    assert cache.hits == 0 and all(r.decoded for r in records if not r.findings)
    cache = ScanCache(folder)
    list(scan_files(files, ScanOptions(max_pixels=1000), cache))
    assert cache.hits == 0


def test_cached_findings_follow_the_display_path(tmp_path):
    real = write_image(str(tmp_path / "d" / "t.jpg"), "truncated_jpeg")
    folder = str(tmp_path / "cache")
    list(scan_files([("first/t.jpg", real)], ScanOptions(), ScanCache(folder)))
    recs = list(scan_files([("second/t.jpg", real)], ScanOptions(), ScanCache(folder)))
    assert recs[0].path == recs[0].findings[0].path == "second/t.jpg"


def test_corrupt_cache_file_is_replaced(tmp_path):
    files = build(str(tmp_path / "d"), n=3)
    folder = str(tmp_path / "cache")
    os.makedirs(os.path.join(folder, "v1"))
    with open(os.path.join(folder, "v1", "dataset.sqlite"), "wb") as fh:
        fh.write(b"this is not a database" * 100)
    cache = ScanCache(folder)
    assert len(list(scan_files(files, ScanOptions(), cache))) == 5
    cache = ScanCache(folder)
    list(scan_files(files, ScanOptions(), cache))
    assert cache.hits == 5


def test_unwritable_cache_is_ignored(tmp_path):
    files = build(str(tmp_path / "d"), n=3)
    blocker = str(tmp_path / "cache")
    with open(blocker, "w") as fh:
        fh.write("a file where the cache folder should be")
    cache = ScanCache(blocker)
    assert len(list(scan_files(files, ScanOptions(), cache))) == 5
    assert cache.hits == 0


def test_cache_rows_for_unreadable_paths_are_not_kept(tmp_path):
    folder = str(tmp_path / "cache")
    loop = str(tmp_path / "loop.jpg")
    os.symlink("loop.jpg", loop)
    list(scan_files([(loop, loop)], ScanOptions(), ScanCache(folder)))
    db = sqlite3.connect(os.path.join(folder, "v1", "dataset.sqlite"))
    assert db.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 0


# ---- progress ---------------------------------------------------------------------------------

class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_only_on_a_terminal_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert Progress.wanted(FakeTTY()) is True
    assert Progress.wanted(io.StringIO()) is False
    monkeypatch.setenv("CI", "true")
    assert Progress.wanted(FakeTTY()) is False
    monkeypatch.delenv("CI")
    monkeypatch.setenv("TERM", "dumb")
    assert Progress.wanted(FakeTTY()) is False


def test_progress_draws_with_carriage_returns_and_clears():
    out = FakeTTY()
    bar = Progress(total=3, stream=out)
    bar.INTERVAL = 0.0
    for _ in range(3):
        bar.tick()
    bar.close()
    text = out.getvalue()
    assert "\rscanning images: 3/3 (100%)" in text
    assert "\n" not in text and text.endswith("\r")


def test_no_progress_in_a_pipe(tmp_path, capsys, monkeypatch):
    """The command line decides (Progress.wanted): stderr captured here is not a terminal."""
    from cnnlint.cli import main

    monkeypatch.delenv("CI", raising=False)
    build(str(tmp_path), n=4)
    main([str(tmp_path), "--data", str(tmp_path), "--no-cache"])
    out, err = capsys.readouterr()
    assert "\r" not in out + err and "scanning images" not in err


def test_progress_throttled(monkeypatch):
    out = FakeTTY()
    bar = Progress(total=None, stream=out)
    for _ in range(10_000):
        bar.tick()
    bar.close()
    assert out.getvalue().count("\r") < 50


@pytest.mark.parametrize("quick", [False, True])
def test_records_are_small_and_picklable(tmp_path, quick):
    import pickle

    files = build(str(tmp_path), n=2)
    for rec in scan_files(files, ScanOptions(quick=quick)):
        assert len(pickle.dumps(rec)) < 2000


def _kill_on_5(items):
    """Workers come from a fork server, not from this process: they see no monkeypatching, but
    they import this module to run what the pool is given (these two, in place of the real ones)."""
    import signal

    if any(os.path.basename(path) == "5.jpg" for path, _ in items):
        os.kill(os.getpid(), signal.SIGKILL)


def crashing_chunk(items):
    import cnnlint.dataset.scan as scan

    _kill_on_5(items)
    return scan._work_chunk(items)


def crashing_one(item):
    import cnnlint.dataset.scan as scan

    _kill_on_5([item])
    return scan._work(item)


def test_a_worker_killed_by_a_file_does_not_hang_the_scan(tmp_path, monkeypatch):
    """A decoder crash kills a worker: its file is found and reported, every other file still scanned."""
    import cnnlint.dataset.scan as scan

    monkeypatch.setattr(scan, "_work_chunk", crashing_chunk)
    monkeypatch.setattr(scan, "_work", crashing_one)
    monkeypatch.setattr(scan, "POLL", 0.1)
    files = build(str(tmp_path), n=SMALL + 40)
    records = list(scan_files(iter(files), ScanOptions(jobs=2)))
    assert sorted(r.path for r in records) == sorted(p for p, _ in files)
    flagged = {os.path.basename(r.path): [(f.code, f.message) for f in r.findings] for r in records if r.findings}
    assert flagged == {
        "5.jpg": [("CNL501", "the image decoder crashed on it: the process reading it died "
                             "(signal SIGKILL, out of memory?)")],
        "trunc.jpg": [("CNL501", flagged["trunc.jpg"][0][1])],
        "crc.png": [("CNL501", flagged["crc.png"][0][1])],
    }


def test_a_warm_rescan_with_few_changes_starts_no_pool(tmp_path, monkeypatch):
    import cnnlint.dataset.scan as scan

    files = build(str(tmp_path / "d"), n=SMALL + 40)
    folder = str(tmp_path / "cache")
    list(scan_files(files, ScanOptions(jobs=2), ScanCache(folder)))
    victim = files[1][0]
    st = os.stat(victim)
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    def no_pool(*_):
        raise AssertionError("a pool for one changed file")

    monkeypatch.setattr(scan, "_pool", no_pool)
    cache = ScanCache(folder)
    assert len(list(scan_files(files, ScanOptions(jobs=2), cache))) == len(files)
    assert (cache.hits, cache.misses) == (len(files) - 1, 1)
