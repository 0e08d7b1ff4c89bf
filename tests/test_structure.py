"""The house rules, checked: no import cycle among cnnlint's modules (imports inside functions
included), no import of another module's `_private` names, no module over 800 lines, no function
over 80 lines.

ALLOWED lists, one by one, the violations that exist while issue 13's port to `ast` lands (the rule
modules it splits into cnnlint/lint/rules/). Any other violation fails; so does an allowance that
is no longer needed, so the list only shrinks.
"""

import os

import pytest

from cnnlint.dev.structure import Structure, read_structure, strongly_connected

PACKAGE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "cnnlint")

PORT = "being ported to ast, issue 13"
ALLOWED = {
}


@pytest.fixture(scope="module")
def violations():
    return read_structure(PACKAGE).violations(max_module=800, max_function=80)


def test_no_new_violation(violations):
    new = {k: v for k, v in violations.items() if k not in ALLOWED}
    assert new == {}


def test_every_allowance_is_still_needed(violations):
    """A port that lands removes its lines from ALLOWED."""
    assert sorted(k for k in ALLOWED if k not in violations) == []


def _package(tmp_path, files):
    root = tmp_path / "pkg"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(root)


def test_the_checker_sees_each_kind_of_violation(tmp_path):
    long_body = "".join(f"    x{i} = {i}\n" for i in range(80))
    root = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg.b import thing\n",
        "b.py": "def thing():\n    from pkg import a  # a function-level import closes the cycle\n",
        "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.sub.d import _hidden\n",
        "sub/__init__.py": "",
        "sub/d.py": "_hidden = 1\nfrom pkg.sub import e\n",
        "sub/e.py": "from . import d\nfrom .d import _hidden  # same package: allowed\n",
        "f.py": "class K:\n    def long(self):\n" + long_body.replace("    ", "        ") + "\n" * 801,
    })
    found = read_structure(root).violations(max_module=800, max_function=80)
    assert sorted(found) == [
        "big-module pkg.f",
        "cycle pkg.a <-> pkg.b",
        "cycle pkg.sub.d <-> pkg.sub.e",
        "long-function pkg.f:K.long",
        "private pkg.c -> pkg.sub.d._hidden",
    ]
    assert found["long-function pkg.f:K.long"] == "81 lines (max 80)"


def test_cycles_are_found_without_recursion_limits():
    chain = {f"m{i}": {f"m{i + 1}"} for i in range(5000)}
    chain["m5000"] = {"m0"}
    assert [len(c) for c in strongly_connected(chain)] == [5001]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_structure_reports_nothing_for_a_clean_package(tmp_path):
    root = _package(tmp_path, {"__init__.py": "", "a.py": "import os\nfrom pkg import b\n", "b.py": "X = 1\n"})
    assert read_structure(root).violations() == {}
    assert isinstance(read_structure(root), Structure)
