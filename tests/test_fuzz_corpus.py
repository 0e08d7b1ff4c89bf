"""The hostile-image corpus (fixtures/hostile_images.py) through the scanner: no escaped exception,
no hang, bounded memory, and each file gets at most its own findings. The long run is
bench/fuzz_scan.py."""

import json
import os
import sys
import time

from cnnlint.dataset.scan import ScanOptions, scan_files
from fixtures import hostile_images as hostile
from fixtures.measure import run_tree

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GIB = 1024 ** 3
PER_FILE = {"CNL501", "CNL502", "CNL503", "CNL511", "CNL512", "CNL513"}
# the mutants of one seed picture are near-duplicates (CNL516), and some are flat or dark (CNL517-CNL519)
SET_WIDE = {"CNL504", "CNL505", "CNL506", "CNL507", "CNL508", "CNL509", "CNL510",
            "CNL515", "CNL516", "CNL517", "CNL518", "CNL519"}
PER_FILE_SECONDS = 2.0


def test_the_generator_is_deterministic_and_covers_every_format():
    first, again = hostile.mutants(60, seed=5), hostile.mutants(60, seed=5)
    assert first == again
    assert hostile.mutants(60, seed=6) != first
    seeds = hostile.seeds()
    assert len(seeds) == 31
    assert {ext for ext, _ in seeds.values()} == {".jpg", ".png", ".gif", ".bmp", ".tif", ".webp", ".ico",
                                                  ".ppm", ".pgm", ".pbm"}
    kinds = {name.split("_", 1)[1].rsplit(".", 1)[0].split("_")[-1] for name, _ in hostile.mutants(200)}
    assert {"flip", "flip-header", "truncate", "overwrite", "inflate", "inflate-crc-fixed"} <= kinds


def test_a_thousand_hostile_images_through_the_cli(tmp_path):
    folder = tmp_path / "hostile"
    paths = hostile.write_corpus(str(folder), 985)
    assert len(paths) == 1000
    env = dict(os.environ, PYTHONPATH=ROOT)
    env.pop("CI", None)
    report = tmp_path / "report.json"
    run = run_tree([sys.executable, "-m", "cnnlint", "hostile", "--no-cache", "--format", "json",
                    "-o", str(report)], env=env, cwd=str(tmp_path), timeout=120)
    assert not run.timed_out
    assert run.rc == 1
    assert run.err == ""  # no traceback, no decoder line
    assert run.peak_sum < 2 * GIB  # every process of the run, each at its own peak
    assert run.peak_max < GIB
    doc = json.loads(report.read_text())
    per_file = {}
    for f in doc["findings"]:
        assert f["code"] in PER_FILE | SET_WIDE, f
        assert "internal error" not in f["message"], f
        if f["code"] in PER_FILE and f["path"] != "hostile":  # the folder: loader findings grouped
            per_file.setdefault(os.path.basename(f["path"]), []).append(f["code"])
    for name, codes in per_file.items():
        assert len(codes) == len(set(codes)), (name, codes)  # at most one of each
        assert not ({"CNL501", "CNL513"} <= set(codes)), (name, codes)
    for kind in hostile.bombs():
        name = f"bomb_{kind}.png" if kind == "ico_png" else next(
            os.path.basename(p) for p in paths if os.path.basename(p).startswith(f"bomb_{kind}."))
        assert set(per_file.get(name, [])) & {"CNL501", "CNL513"}, name
    assert doc["summary"]["by_code"]["CNL513"] >= 12
    assert doc["datasets"][0]["images"] == 1000


def test_two_thousand_mutants_each_inspected_in_bounded_time(tmp_path):
    paths = hostile.write_corpus(str(tmp_path), 2000, seed=13, with_bombs=False)
    slowest, count = 0.0, 0
    start = time.perf_counter()
    for rec in scan_files([(p, p) for p in paths], ScanOptions(jobs=1)):  # in this process, one by one
        now = time.perf_counter()
        slowest = max(slowest, now - start)
        start = now
        count += 1
        for f in rec.findings:
            assert f.code in PER_FILE, (rec.path, f)
    assert count == 2000
    assert slowest < PER_FILE_SECONDS
