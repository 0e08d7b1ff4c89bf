"""Code nested too deep to analyse: a CNL001 warning from CPython's parser, and libcst never sees it
(its parser's time grows far faster than the nesting, and it crashes the process past a point)."""

import ast
import time

import libcst
import pytest

from cnnlint.lint.complexity import MAX_DEPTH
from conftest import lint

MESSAGE = "too complex to analyse: expressions nested more than 1,500 levels deep"


def _nested_blocks(levels):
    return "".join(" " * i + "if a:\n" for i in range(levels)) + " " * levels + "pass\n"


SHAPES = {
    "flat sum of 20,000 terms (40 KB)": "y = " + "+".join(["1"] * 20_000) + "\n",
    "subscripts 5,000 deep": "y = a" + "[0]" * 5_000 + "\n",
    "attributes 9,000 deep": "y = a" + ".b" * 9_000 + "\n",
    "unary minus 7,000 deep": "y = " + "-" * 7_000 + "1\n",
    "lambdas 3,000 deep": "y = " + "lambda: " * 3_000 + "1\n",
    "sum of 2,000 terms": "import torch\ny = " + "+".join(["1"] * 2_000) + "\n",
    "250 nested brackets": "y = " + "f(" * 250 + ")" * 250 + "\n",
    "101 indentation levels": _nested_blocks(101),
}


def _cpython_refuses(code):
    try:
        ast.parse(code)
    except (RecursionError, MemoryError):
        return True
    except SyntaxError as err:
        return "too many" in err.msg
    return False


@pytest.fixture
def no_libcst(monkeypatch):
    calls = []

    def refuse(code, *args, **kwargs):
        calls.append(len(code))
        raise AssertionError("libcst was given a file too complex to analyse")

    monkeypatch.setattr(libcst, "parse_module", refuse)
    return calls


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_libcst_never_gets_code_cpython_refuses_or_nested_past_the_bound(shape, no_libcst):
    code = SHAPES[shape]
    start = time.perf_counter()
    findings = lint(code)
    took = time.perf_counter() - start
    assert no_libcst == []
    assert [(f.code, f.severity.value) for f in findings] == [("CNL001", "warning")]
    finding = findings[0]
    if shape.endswith("brackets"):
        assert finding.message == "too complex to analyse: too many nested parentheses (CPython's limit)"
        assert (finding.line, finding.column) == (1, 406)  # the 201st bracket
    elif shape.endswith("levels"):
        assert finding.message.startswith("too complex to analyse: too many levels of indentation")
        assert finding.line == 101
    else:
        assert finding.message == MESSAGE
        # where CPython gave up, where is not known; else the expression's start
        line = 1 if _cpython_refuses(code) else code.count("\n", 0, code.index("y = ")) + 1
        column = 1 if _cpython_refuses(code) else 5
        assert (finding.line, finding.column) == (line, column)
    assert took < 5, f"{took:.1f} s"


def test_every_shape_is_refused_by_cpython_or_deeper_than_the_bound():
    """The shapes above are what the bound is about: each one either CPython refuses on this
    version, or it parses and nests past MAX_DEPTH (the 2,000-term sum does on every version)."""
    assert not _cpython_refuses(SHAPES["sum of 2,000 terms"])
    refused = {name for name, code in SHAPES.items() if _cpython_refuses(code)}
    assert {"250 nested brackets", "101 indentation levels", "lambdas 3,000 deep"} <= refused


def test_nesting_up_to_the_bound_is_analysed():
    chain = " + ".join(["a"] * (MAX_DEPTH - 2))  # Assign value: MAX_DEPTH - 3 BinOps over Names
    code = f"import torch\nfor x in y:\n    loss = {chain}\n    loss.backward()\n    opt.step()\n"
    assert [(f.code, f.line, f.column) for f in lint(code)] == [("CNL201", 4, 5)]


def test_too_complex_in_a_notebook_names_the_cell():
    code = "# %%\nimport torch\n# %%\ny = " + "-" * 1_600 + "1\n"
    findings = lint(code, path="nb.ipynb")
    assert [(f.code, f.cell, f.line, f.column, f.message) for f in findings] == [("CNL001", 2, 1, 5, MESSAGE)]


def test_no_tree_outlives_its_lint():
    # a tree left in the parse cache after the run is freed when the interpreter exits: seconds for a
    # 100k-line file; the engine takes it over, and a file with nothing to check lets it go too
    from cnnlint.lint import complexity
    from cnnlint.lint.discovery import active_rules
    from cnnlint.lint.engine import lint_source
    from cnnlint.sources.read import read_source

    for code, rules in (("import torch\nx = torch.zeros(3)\n", ("CNL201",)), ("x = 1\n", ("CNL404",))):
        source = read_source("t.py", code.encode())
        lint_source(source, active_rules(rules, ()), "t.py")
        assert complexity.parsed(source.text) is None
