"""The HTML report of the dataset benchmark's 20,000-image set (fixtures/benchmark_set.py, the set that
bench/dataset_speed.py and bench/looks_cost.py scan), written by the real CLI and opened in headless Chromium:
what the page shows is checked against the JSON report of the same scan.

The set is the benchmark's plan (the same 20,017 paths, classes, colours, seeds and planted faults) with every
clean picture's sides scaled by 1/8 (8-64 px instead of 64-512): the same pictures, cheaper to write and to
decode, and the same findings as at full size but for the number of elongated pictures (bench/README.md). It is
written once for the module and scanned twice (JSON, then HTML from the scan's cache): about 18 CPU seconds."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Dict, Iterator, List, Optional, Tuple

import pytest

from browser import Loaded, load
from cnnlint.dataset.aggregate import MODE_NAMES
from cnnlint.report import html as html_report
from fixtures.benchmark_set import plan, write_set

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALE = 1 / 8
BYTES_PER_IMAGE = 20_000_000 // 100_000  # the bound: ~20 MB for a 100,000-image set
PAIR_CODES = ("CNL515", "CNL516")


@dataclass
class Figure:
    caption: str
    thumb: bool  # an <img class="thumb"> (else "no preview")


@dataclass
class Dom:
    """What the page shows, read from the DOM Chromium built (html.parser, no regex on markup)."""
    sections: List[str] = field(default_factory=list)  # data-path of each section.dataset
    charts: Dict[str, List[Tuple[str, str]]] = field(default_factory=dict)  # aria-label: [(label, value)]
    rects: Dict[str, int] = field(default_factory=dict)  # aria-label: bars drawn
    groups: Dict[str, List[Figure]] = field(default_factory=dict)  # data-code: its figures
    group_counts: Dict[str, str] = field(default_factory=dict)  # data-code: the "(n)" of its heading
    pairs: int = 0
    pair_images: int = 0
    rows: Dict[str, int] = field(default_factory=dict)  # table id: tr.finding rows
    header: str = ""


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.dom = Dom()
        self.svg: Optional[str] = None
        self.texts: List[str] = []
        self.group: Optional[str] = None
        self.in_pair = False
        self.table: Optional[str] = None
        self.capture: Optional[str] = None  # what the text being read belongs to
        self.buffer = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "section" and "dataset" in classes:
            self.dom.sections.append(a.get("data-path", ""))
        elif tag == "svg":
            self.svg, self.texts = a.get("aria-label", ""), []
            self.dom.rects[self.svg] = 0
        elif tag == "rect" and self.svg is not None:
            self.dom.rects[self.svg] += 1
        elif tag in ("text", "figcaption", "h3", "header"):
            self.capture, self.buffer = tag, ""
        elif tag == "div" and "group" in classes:
            self.group = a["data-code"]
            self.dom.groups[self.group] = []
        elif tag == "div" and "pair" in classes:
            self.dom.pairs += 1
            self.in_pair, self.group = True, None
        elif tag == "figure" and self.group:
            self.dom.groups[self.group].append(Figure("", False))
        elif tag == "img" and self.in_pair:
            self.dom.pair_images += 1
        elif tag == "img" and self.group and "thumb" in classes:
            self.dom.groups[self.group][-1].thumb = True
        elif tag == "table":
            self.table = a.get("id", "")
            self.dom.rows[self.table] = 0
        elif tag == "tr" and "finding" in classes and self.table is not None:
            self.dom.rows[self.table] += 1

    def handle_data(self, data):
        if self.capture:
            self.buffer += data

    def handle_endtag(self, tag):
        if tag == self.capture:
            text, self.capture = self.buffer.strip(), None
            if tag == "text" and self.svg is not None:
                self.texts.append(text)
            elif tag == "figcaption" and self.group:
                self.dom.groups[self.group][-1].caption = text
            elif tag == "h3" and self.group:
                self.dom.group_counts[self.group] = text.rsplit("(", 1)[-1].rstrip(")")
            elif tag == "header":
                self.dom.header = " ".join(text.split())
        elif tag == "svg":
            self.dom.charts[self.svg] = list(zip(self.texts[0::2], self.texts[1::2]))
            self.svg = None
        elif tag == "section":
            self.group, self.in_pair = None, False
        elif tag == "table":
            self.table = None


def read_dom(html: str) -> Dom:
    reader = _Reader()
    reader.feed(html)
    reader.close()
    return reader.dom


@dataclass
class Scan:
    work: str  # the folder the set (data/) and the reports are in
    files: int  # in the set
    doc: dict  # the JSON report
    html_path: str
    page: Loaded
    dom: Dom


def _cnnlint(cwd: str, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    return subprocess.run([sys.executable, "-m", "cnnlint", *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def scan(tmp_path_factory) -> Iterator[Scan]:
    work = str(tmp_path_factory.mktemp("bench20k"))
    items = plan(scale=SCALE)
    write_set(os.path.join(work, "data"), items)
    with open(os.path.join(work, "pyproject.toml"), "w", encoding="utf-8") as fh:
        fh.write("[tool.cnnlint]\n")  # the project root: its cache is work/.cnnlint_cache, the defaults apply
    done = _cnnlint(work, "--format", "json", "-o", "report.json", "data")
    assert done.returncode == 1, done.stderr[-2000:]
    done = _cnnlint(work, "--format", "html", "-o", "report.html", "data")  # from the cache the first filled
    assert done.returncode == 1, done.stderr[-2000:]
    with open(os.path.join(work, "report.json"), encoding="utf-8") as fh:
        doc = json.load(fh)
    html_path = os.path.join(work, "report.html")
    page = load(html_path, work)
    yield Scan(work, len(items), doc, html_path, page, read_dom(page.dom))
    shutil.rmtree(os.path.join(work, "data"))  # 85 MB


def _figures_expected(scan: Scan, code: str) -> List[str]:
    """The paths the page shows for `code`: the findings' files (not a grouped finding's folder), in order,
    once each, up to PER_GROUP."""
    paths = []
    for f in scan.doc["findings"]:
        if f["code"] == code and f["path"] not in paths and os.path.isfile(os.path.join(scan.work, f["path"])):
            paths.append(f["path"])
    return paths[:html_report.PER_GROUP]


def _pairs_expected(doc: dict) -> int:
    """Near-duplicate pairs the findings list: one a finding, or "N images are near-duplicates ..." grouped."""
    n = 0
    for f in doc["findings"]:
        if f["code"] in PAIR_CODES:
            grouped = re.match(r"([\d,]+) images are near-duplicates", f["message"])
            n += int(grouped.group(1).replace(",", "")) if grouped else 1
    return min(n, html_report.PAIRS)


def test_the_page_loads_in_chromium_without_errors_or_requests_within_its_size_bound(scan):
    assert scan.page.console == [] and scan.page.requests == []
    assert scan.dom.sections == ["data"] == [d["path"] for d in scan.doc["datasets"]]
    assert scan.files == scan.doc["summary"]["files"] == 20_017
    assert 0 < os.path.getsize(scan.html_path) <= BYTES_PER_IMAGE * scan.files  # 4.0 MB


def test_the_header_and_the_findings_table_match_the_json_report(scan):
    summary = scan.doc["summary"]
    assert scan.dom.header.startswith("cnnlint report")
    assert summary["findings"] == len(scan.doc["findings"])
    assert (f"{summary['files']} files · {summary['findings']} findings in {summary['files_with_findings']} files "
            f"{summary['errors']} errors{summary['warnings']} warnings{summary['info']} info") in scan.dom.header
    assert scan.dom.header.endswith("".join(f"{code} ×{n}" for code, n in summary["by_code"].items()))
    assert len(scan.doc["findings"]) <= html_report.MAX_ROWS
    assert scan.dom.rows == {"data-table": len(scan.doc["findings"])}  # every finding is the dataset's


def test_the_class_balance_charts_draw_every_class_of_each_split_with_its_count(scan):
    (dataset,) = scan.doc["datasets"]
    assert [s["name"] for s in dataset["splits"]] == ["train", "val"]
    for split in dataset["splits"]:
        title = f"{split['name']}/: images per class"
        expected = [(name, f"{n:,}") for name, n in sorted(split["classes"].items())]
        assert len(expected) == 10
        assert scan.dom.charts[title] == expected
        assert scan.dom.rects[title] == 10
    modes = [(MODE_NAMES.get(m, m), f"{n:,}") for m, n in dataset["modes"].items()]
    assert sorted(scan.dom.charts["modes"]) == sorted(modes)
    decoded = sum(dataset["modes"].values())
    for side in ("longer side (pixels)", "shorter side (pixels)"):
        assert sum(int(v.replace(",", "")) for _, v in scan.dom.charts[side]) == decoded


def test_one_group_per_finding_code_with_its_count_files_and_thumbnails(scan):
    (dataset,) = scan.doc["datasets"]
    counts = {code: f"{n:,}" for code, n in dataset["findings"].items() if code not in PAIR_CODES}
    assert scan.dom.group_counts == counts
    thumbs = 0
    for code in counts:
        figures = scan.dom.groups[code]
        assert [f.caption for f in figures] == _figures_expected(scan, code), code
        if code in html_report.NO_THUMB:  # corrupt files and bombs are not opened again
            assert not any(f.thumb for f in figures), code
        else:  # the others here decode (misnamed, animated, rotated): each has its thumbnail
            assert all(f.thumb for f in figures), code
        thumbs += sum(f.thumb for f in figures)
    assert thumbs == scan.page.dom.count('<img class="thumb" src="data:image/jpeg;base64,')
    assert thumbs > 0


def test_near_duplicate_pairs_shown_are_the_pairs_the_json_report_lists(scan):
    assert scan.dom.pairs == _pairs_expected(scan.doc)
    assert scan.dom.pair_images <= 2 * scan.dom.pairs
