"""The newcomer's door: rules/_TEMPLATE.md, `python -m cnnlint.dev new-rule` and `rules-table`."""

import os
import shutil
import subprocess
import sys

import pytest

from cnnlint.catalog import FAMILIES, catalog
from cnnlint.dev import rules_table
from cnnlint.dev.scaffold import check_new, page_text
from cnnlint.lint.pages import examples, header_fields
from conftest import ROOT, lint_text


def _template():
    with open(os.path.join(ROOT, "rules", "_TEMPLATE.md"), encoding="utf-8") as fh:
        return fh.read()


def _readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        return fh.read()


def test_the_template_has_the_page_format_test_rule_pages_enforces():
    text = page_text(_template(), "CNL199", "some-check", "error", autofix=True)
    fields = header_fields(text)
    assert text.startswith("# CNL199: some-check\n")
    assert fields == {"code": "CNL199", "name": "some-check", "severity": "error",
                      "family": f"CNL1xx {FAMILIES['1']}", "autofix": "yes"}
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead"):
        assert section in text, section
    found = {ex.kind: ex.code for ex in examples(text)}
    assert found == {"bad": "placeholder_some_check()\n", "good": 'print("nothing to report")\n'}
    assert lint_text(found["good"]) == []
    assert "{" not in text.replace("{}", "")  # every placeholder filled


def test_the_readme_rules_table_matches_the_catalog():
    assert rules_table.mismatches(_readme()) == []


@pytest.mark.parametrize("old,new,problem", [
    ("| CNL204 | loss-accumulated-as-tensor:", "| CNL204 | loss-accumulated:",
     "CNL204: name is 'loss-accumulated' in the README, 'loss-accumulated-as-tensor' in the catalog"),
    ("stays alive | warning | yes |", "stays alive | error | yes |",
     "CNL204: severity is 'error' in the README, 'warning' in the catalog"),
    ("stays alive | warning | yes |", "stays alive | warning | |",
     "CNL204: fix is None in the README, 'yes' in the catalog"),
])
def test_a_wrong_readme_row_is_named(old, new, problem):
    readme = _readme()
    assert old in readme
    assert rules_table.mismatches(readme.replace(old, new)) == [problem]


def test_a_missing_row_says_how_to_make_it():
    readme = _readme()
    line = next(line for line in readme.splitlines() if line.startswith("| CNL104 |"))
    assert rules_table.mismatches(readme.replace(line + "\n", "")) == [
        "CNL104: no row (`python -m cnnlint.dev rules-table --write` writes it)"]


def test_a_row_in_other_words_than_the_catalog_is_stale_and_write_regenerates_it(tmp_path):
    readme = _readme()
    line = next(line for line in readme.splitlines() if line.startswith("| CNL104 |"))
    edited = line.replace("hides corrupt images", "hides broken files")
    assert edited != line
    target = tmp_path / "README.md"
    target.write_text(readme.replace(line, edited), encoding="utf-8")
    assert rules_table.mismatches(target.read_text(encoding="utf-8")) == [
        f"not the generated row (run `python -m cnnlint.dev rules-table --write`): {edited}"]
    done = subprocess.run([sys.executable, "-m", "cnnlint.dev", "rules-table", "--write", str(target)],
                          capture_output=True, text=True, cwd=ROOT)
    assert (done.returncode, done.stdout) == (0, f"rewrote the rules table in {target}\n")
    assert target.read_text(encoding="utf-8") == readme


def test_rules_table_prints_catalog_rows():
    out = subprocess.run([sys.executable, "-m", "cnnlint.dev", "rules-table", "CNL201"], capture_output=True,
                         text=True, check=True, cwd=ROOT).stdout
    info = next(i for i in catalog() if i.code == "CNL201")
    summary = info.summary[0].lower() + info.summary[1:]  # "Training loop ..." after `name:`
    assert out == (f"{rules_table.HEADER}\n| CNL201 | gradients-never-cleared: {summary} | error | yes |\n")
    assert rules_table.ROW.match(out.splitlines()[-1])


@pytest.mark.parametrize("code,name,message", [
    ("CNL201", "again", "CNL201 is taken"),
    ("CNL501", "some-check", "a static rule's code is CNL1xx-CNL4xx"),
    ("CNL1999", "some-check", "a static rule's code is CNL1xx-CNL4xx"),
    ("CNL199", "Some_Check", "lower-case words joined by '-'"),
])
def test_new_rule_refuses(code, name, message):
    with pytest.raises(ValueError, match=message):
        check_new(code, name)


def _checkout_copy(tmp_path):
    root = tmp_path / "checkout"
    shutil.copytree(os.path.join(ROOT, "cnnlint"), root / "cnnlint",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(ROOT, "rules"), root / "rules")
    (root / "tests").mkdir()
    for name in ("conftest.py", "test_rule_pages.py"):
        shutil.copy(os.path.join(ROOT, "tests", name), root / "tests" / name)
    return root


def _files(root):
    return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
            if "__pycache__" not in d}


def test_new_rule_end_to_end(tmp_path):
    """The scaffold's three files are all a rule needs: discovered, its page passes the page test,
    its test passes; nothing else in the checkout changes."""
    root = _checkout_copy(tmp_path)
    before = _files(root)
    env = dict(os.environ, PYTHONPATH=str(root))
    made = subprocess.run([sys.executable, "-m", "cnnlint.dev", "new-rule", "CNL199", "some-check",
                           "--root", str(root)], capture_output=True, text=True, env=env, cwd=str(root))
    assert made.returncode == 0, made.stderr
    written = ["cnnlint/lint/rules/cnl199_some_check.py", "rules/CNL199.md", "tests/test_cnl199_some_check.py"]
    assert made.stdout.splitlines()[:3] == [f"wrote {p}" for p in written]
    assert _files(root) - before == set(written) and before <= _files(root)
    found = subprocess.run([sys.executable, "-c", "from cnnlint.catalog import catalog\n"
                            "print([(i.code, i.name) for i in catalog() if i.code == 'CNL199'])"],
                           capture_output=True, text=True, env=env, cwd=str(root), check=True).stdout
    assert found.strip() == "[('CNL199', 'some-check')]"
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "tests/test_cnl199_some_check.py", "tests/test_rule_pages.py",
                            "-k", "CNL199 or some_check or every_rule_has_a_page"],
                           capture_output=True, text=True, env=env, cwd=str(root))
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "7 passed" in tests.stdout.splitlines()[-1]
    again = subprocess.run([sys.executable, "-m", "cnnlint.dev", "new-rule", "CNL199", "other-name", "--root",
                            str(root)], capture_output=True, text=True, env=env, cwd=str(root))
    assert (again.returncode, again.stderr) == (2, "cnnlint.dev: error: CNL199 is taken (`cnnlint rules` lists the codes)\n")
