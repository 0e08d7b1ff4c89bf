"""Every rules/*.md page: header matches the rule, bad examples raise exactly its code, good ones nothing."""

import os

import pytest

from cnnlint.lint.pages import _FENCE, examples, header_fields, notebook_from_cells, write_project
from cnnlint.catalog import catalog
from conftest import ROOT, lint_text

RULES_DIR = os.path.join(ROOT, "rules")
CATALOG = {info.code: info for info in catalog()}
PAGES = sorted(f[:-3] for f in os.listdir(RULES_DIR) if f.endswith(".md") and f.startswith("CNL"))
# dataset (5), code-versus-data (6) and probe (7) pages show folder trees and output, not lintable code
NOT_STATIC = ("CNL5", "CNL6", "CNL7")
STATIC_PAGES = [c for c in PAGES if c != "CNL001" and not c.startswith(NOT_STATIC)]


def _read(code):
    with open(os.path.join(RULES_DIR, f"{code}.md"), encoding="utf-8") as fh:
        return fh.read()


def test_every_rule_has_a_page_and_every_page_a_rule():
    assert sorted(CATALOG) == PAGES


@pytest.mark.parametrize("code", PAGES)
def test_page_header_matches_rule(code):
    text = _read(code)
    fields = header_fields(text)
    info = CATALOG[code]
    assert text.startswith(f"# {code}: {info.name}\n")
    assert fields["code"] == code
    assert fields["name"] == info.name
    assert fields["severity"].split()[0] == info.severity.value
    assert fields["autofix"].split()[0] == ("yes" if info.autofix else "no")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in text, section


def _cases():
    for code in STATIC_PAGES:
        for ex in examples(_read(code)):
            yield pytest.param(code, ex, id=f"{code}-{ex.kind}-line{ex.line}")


@pytest.mark.parametrize("code,example", list(_cases()))
def test_page_example(code, example, tmp_path):
    text = example.code
    if example.language == "notebook":
        text = notebook_from_cells(text)
    if example.language == "project":
        target = write_project(text, str(tmp_path))
        with open(target, encoding="utf-8") as fh:
            found = lint_text(fh.read(), target)
    else:
        found = lint_text(text, example.path)
    if example.kind == "bad":
        assert found, f"{code} bad example at line {example.line} raised nothing"
        assert {f.code for f in found} == {code}, [f"{f.code} {f.message}" for f in found]
    else:
        assert found == [], [f"{f.code} {f.message}" for f in found]


@pytest.mark.parametrize("code", STATIC_PAGES)
def test_page_has_bad_and_good_examples(code):
    kinds = {ex.kind for ex in examples(_read(code))}
    assert kinds == {"bad", "good"}


def test_no_static_rule_fires_on_any_pages_good_example(tmp_path):
    """One sweep: every good example of every page, linted with all the CNL1xx/CNL2xx/CNL3xx rules at once."""
    offenders = []
    for code in STATIC_PAGES:
        for n, ex in enumerate(ex for ex in examples(_read(code)) if ex.kind == "good"):
            text = notebook_from_cells(ex.code) if ex.language == "notebook" else ex.code
            if ex.language == "project":
                target = write_project(text, str(tmp_path / f"{code}-{n}"))
                with open(target, encoding="utf-8") as fh:
                    found = lint_text(fh.read(), target, select=("CNL1", "CNL2", "CNL3"))
            else:
                found = lint_text(text, ex.path, select=("CNL1", "CNL2", "CNL3"))
            offenders += [f"{code} good example at line {ex.line}: {f.code} {f.message}" for f in found]
    assert offenders == []


@pytest.mark.parametrize("code", [c for c in PAGES if c.startswith(NOT_STATIC)])
def test_non_static_page_has_bad_and_good_examples(code):
    """Dataset, cross-check and probe pages: fenced `text bad` / `text good` blocks (a folder tree, the output)."""
    kinds = []
    for m in _FENCE.finditer(_read(code)):
        info = m.group("info").split()
        if len(info) == 2 and info[1] in ("bad", "good"):
            assert m.group("body").strip(), f"{code}: empty {info[1]} example"
            kinds.append(info[1])
    assert set(kinds) == {"bad", "good"}
    assert f"{code} [" in _read(code), "the page shows the finding as cnnlint prints it"


def test_every_dataset_code_is_planted_in_the_fixture(tmp_path):
    """Each CNL5xx code has a planted fault in fixtures/datasets.py (test_dataset_cli asserts the scan reports it)."""
    from fixtures.datasets import build_faulty

    planted = {code for code, _ in build_faulty(str(tmp_path), special=hasattr(os, "mkfifo"))}
    assert planted == {c for c in CATALOG if c.startswith("CNL5")}
