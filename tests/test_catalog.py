"""The code catalog (cnnlint.catalog) at the bottom of the house, and the static rules' discovery."""

import subprocess
import sys
import textwrap

import pytest

from cnnlint import catalog
from cnnlint.lint import discovery
from cnnlint.lint.rule import Rule


def test_the_catalog_imports_nothing_above_it():
    code = ("import sys, cnnlint.catalog\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('cnnlint'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    # the findings record and its dict conversion are all it stands on
    assert out.split() == ["cnnlint", "cnnlint.catalog", "cnnlint.findings", "cnnlint.records"]


def test_the_catalog_holds_every_table_once():
    codes = catalog.known_codes()
    assert codes == sorted(set(codes))
    families = {c[:4] for c in codes}
    assert families == {"CNL0", "CNL1", "CNL2", "CNL3", "CNL4", "CNL5", "CNL6", "CNL7"}
    for entry in catalog.CODE_TABLES:
        assert {i.code for i in catalog.load_table(entry)} <= set(codes)
    assert {c.code for c in discovery.rule_classes()} == {i.code for i in discovery.rule_infos()}


@pytest.mark.parametrize("code,select,ignore,enabled", [
    ("CNL201", ["ALL"], [], True),
    ("CNL201", ["CNL2"], ["CNL201"], False),
    ("CNL201", ["CNL201"], ["CNL2"], True),
    ("CNL201", ["CNL2"], ["CNL2"], False),  # a tie goes to ignore
    ("CNL201", ["CNL1"], [], False),
])
def test_selection_longest_selector_wins(code, select, ignore, enabled):
    assert catalog.is_enabled(code, select, ignore) is enabled


def test_unknown_selectors_are_named():
    assert catalog.check_selectors(["CNL2", "cnl9", "ALL", "XYZ"]) == ["cnl9", "XYZ"]


def _package(tmp_path, monkeypatch, name, files):
    root = tmp_path / name
    root.mkdir()
    for filename, text in files.items():
        (root / filename).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


RULE = """
    from cnnlint.findings import Severity
    from cnnlint.lint.rule import Rule

    class Base(Rule):
        pass  # no code: a helper base, not a rule

    class {cls}(Base):
        code = "{code}"
        name = "some-name"
        severity = Severity.WARNING
        summary = "Something"
"""


def test_rules_in_the_package_are_found_without_a_list(tmp_path, monkeypatch):
    pkg = _package(tmp_path, monkeypatch, "h13pkg_found", {
        "__init__.py": '"""rules"""\n',
        "cnl998_b.py": RULE.format(cls="B", code="CNL998"),
        "cnl997_a.py": RULE.format(cls="A", code="CNL997"),
        "_shared.py": "X = 1\n",  # a helper module: not a rule module
    })
    names = discovery.package_modules(pkg)
    assert names == [f"{pkg}.cnl997_a", f"{pkg}.cnl998_b"]
    classes = discovery.discover(names)
    assert [(c.__name__, c.code) for c in classes] == [("A", "CNL997"), ("B", "CNL998")]
    assert all(issubclass(c, Rule) for c in classes)


def test_an_absent_or_empty_package_holds_no_rules(tmp_path, monkeypatch):
    assert discovery.package_modules("h13pkg_absent") == []
    pkg = _package(tmp_path, monkeypatch, "h13pkg_empty", {"__init__.py": '"""no rules yet"""\n'})
    assert discovery.package_modules(pkg) == []


def test_a_code_defined_twice_is_an_error(tmp_path, monkeypatch):
    pkg = _package(tmp_path, monkeypatch, "h13pkg_twice", {
        "__init__.py": "",
        "one.py": RULE.format(cls="A", code="CNL996"),
        "two.py": RULE.format(cls="B", code="CNL996"),
    })
    with pytest.raises(RuntimeError, match="rule codes defined twice: CNL996"):
        discovery.discover(discovery.package_modules(pkg))


def test_one_rule_per_module_of_the_package():
    import importlib

    modules = discovery.package_modules()
    found = {m: discovery.classes_in(importlib.import_module(m)) for m in modules}
    assert all(len(classes) == 1 for classes in found.values()), found
    codes = [classes[0].code for classes in found.values()]
    assert [m.rsplit(".", 1)[1][:6] for m in modules] == [c.lower() for c in codes]
    assert discovery.rule_classes() == sorted((c[0] for c in found.values()), key=lambda c: c.code)
