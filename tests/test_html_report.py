"""--format html: a self-contained page, escaped, bounded, and loaded in a real headless Chromium."""

import os
import re

import pytest

from browser import load
from cnnlint.cli import main
from cnnlint.demo import write_demo
from cnnlint.report import html as html_report
from fixtures.datasets import build_planted
from fixtures.images import write_image

EVIL = "<img src=x onerror=alert(1)>.jpg"


def _html(argv, out_path):
    status = main(["--no-cache", "--format", "html", "-o", str(out_path), *argv])
    with open(out_path, encoding="utf-8") as fh:
        return status, fh.read()


@pytest.fixture
def planted(tmp_path, monkeypatch):
    """The planted set, with one leaked copy named like an HTML tag."""
    monkeypatch.chdir(tmp_path)
    build_planted(str(tmp_path / "data"))
    write_image(str(tmp_path / "data" / "val" / "cats" / EVIL), "jpeg", size=(64, 48), seed=10_001, quality=60)
    return tmp_path


def test_every_path_and_message_is_escaped_and_nothing_is_external(planted):
    status, page = _html(["data"], planted / "report.html")
    assert status == 1
    assert EVIL not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in page
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page)
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "default-src 'none'; img-src data:" in page


def test_a_file_name_that_is_not_utf8_is_shown_with_octal_escapes(planted):
    # before: UnicodeEncodeError writing the page, an internal error (exit 2)
    blank = os.fsdecode(b"data/train/cats/blank\xfe.png")
    os.rename(str(planted / "data" / "train" / "cats" / "blank.png"), str(planted / blank))
    status, page = _html(["data"], planted / "report.html")
    assert status == 1
    assert "train/cats/blank\\376.png" in page
    assert "blank.png" not in page


def test_thumbnails_and_rows_are_capped(planted, monkeypatch):
    monkeypatch.setattr(html_report, "PER_GROUP", 2)
    monkeypatch.setattr(html_report, "MAX_THUMBS", 7)
    monkeypatch.setattr(html_report, "MAX_ROWS", 3)
    _, page = _html(["data"], planted / "report.html")
    assert page.count('src="data:image/jpeg;base64,') == 7
    assert "2 of 6 shown" in page  # CNL515: six leaks, two thumbnails
    assert "and 7 more (use --format json for all)" in page  # ten dataset findings, three rows


def test_demo_report_opens_in_chromium(tmp_path, monkeypatch):
    demo = write_demo(str(tmp_path / "demo"))
    monkeypatch.chdir(demo)
    status, _ = _html(["."], tmp_path / "demo.html")
    assert status == 1
    page = load(str(tmp_path / "demo.html"), str(tmp_path))
    assert page.console == [] and page.requests == []
    dom = page.dom
    assert 'id="summary"' in dom and dom.count('class="dataset"') == 1
    assert dom.count("<svg") == 5  # train/ and val/ classes, longer and shorter sides, modes
    assert re.search(r'data-code="CNL509".*?<img class="thumb" src="data:image/jpeg;base64,', dom, re.S)
    assert 'id="code-table"' in dom and 'class="snippet code"' in dom
    assert "CNL101" in dom and "hint:" in dom


def test_planted_report_opens_in_chromium_with_pairs_and_outliers(planted):
    _html(["data"], planted / "report.html")
    page = load(str(planted / "report.html"), str(planted))
    assert page.console == [] and page.requests == []
    dom = page.dom
    assert dom.count('class="pair error"') == 6  # the five planted leaks and the one named like a tag
    for code in ("CNL515", "CNL517", "CNL518", "CNL519"):
        assert re.search(rf'data-code="{code}".*?<img class="thumb"', dom, re.S), code
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in dom
    assert '<img src="x"' not in dom and "onerror=" not in dom.replace("onerror=alert(1)&gt;", "")


def test_the_browser_check_sees_console_errors_and_requests(tmp_path):
    """The harness itself: a page that logs an error and asks the network for an image."""
    page_path = tmp_path / "control.html"
    page_path.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/a.png">'
                         '<script>console.error("boom")</script></body></html>')
    page = load(str(page_path), str(tmp_path))
    assert any('"boom"' in line for line in page.console)
    assert page.requests == ["http://example.invalid/a.png"]
