import ast
import sys

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from cnnlint.findings import Severity
from cnnlint.lint.engine import lint_python, lint_source
from cnnlint.lint.index.syntax import Syntax
from cnnlint.lint.rule import Rule
from cnnlint.sources.model import SourceFile

SAMPLE = '''\
@decorator(1)
def f(a, *args, b: int = 2, **kw) -> "x":
    """doc"""
    x = [i ** 2 for i in range(10) if i % 2]  # comment
    y = {k: (v, w) for k, (v, w) in kw.items()}
    async def g():
        async with a as b, c:
            await b
    try:
        pass
    except (ValueError, TypeError) as e:
        raise RuntimeError("x") from e
    finally:
        del x
    return lambda q=1: (q,
                        a[1:2, ::3], f"{a!r:>{b}}")

class C(Base, metaclass=M):
    z: int = 3
    if (n := len(z)) > 2:
        print(n, sep="")
    match z:
        case [1, *rest] | {"k": _}:
            pass
'''


CONTINUED = '''def f():
    if a:
        y = g(1,
              2) + -h(
            3)[x.y:
    z] * [*k]
'''


def test_positions_deep_in_a_long_chain_do_not_depend_on_the_recursion_limit():
    """A node 1,500 levels deep is placed from its own fields (no code generation, no recursion)."""
    chain = " + ".join(f"a{i}" for i in range(1500))
    code = f"if x:\n    loss = (\n      {chain})\n"
    syntax = Syntax(ast.parse(code), code)
    wanted = [n for n in ast.walk(syntax.tree) if isinstance(n, ast.Name) and n.id in ("a0", "a700", "a1499")]
    column = 7 + len(" + ".join(f"a{i}" for i in range(700))) + 3
    assert sorted(syntax.span(n) for n in wanted) == [
        (3, 7, 3, 9), (3, column, 3, column + 4), (3, len(chain) + 2, 3, len(chain) + 7)]


STATEMENTS = '''#!/usr/bin/env python
"""A module docstring
over two lines."""
import os; import sys

@decorator
@other(1,
       2)
def f(a):
    return a

x = f("""a
b""")  # after a string of two lines
if x:
    y = [1,
         2]
else: y = 3
'''


# node kinds of CPython's tree and libcst's that the rules report and the cross-check's facts point at
_SAME_KIND = [(ast.Call, cst.Call), (ast.Attribute, cst.Attribute), (ast.Subscript, cst.Subscript),
              (ast.Lambda, cst.Lambda), (ast.BinOp, cst.BinaryOperation), (ast.keyword, cst.Arg),
              (ast.Assign, cst.Assign), (ast.Return, cst.Return), (ast.Expr, cst.Expr)]


@pytest.mark.parametrize("code", [SAMPLE, STATEMENTS, CONTINUED, "if a:\n\tb = f(1,\n\t      2)\n",
                                  'x = "é" + f(ü.v, "ß")[0]; g(k="😀", v=h(1))\n'])
def test_ast_positions_match_libcst(code):
    """Positions from CPython's tree (Syntax.span: 1-based character columns, end exclusive) are the
    ones libcst's PositionProvider gives, kind for kind: nested, indented, continued over lines,
    after non-ASCII characters; no code generation."""
    if sys.version_info < (3, 10) and "match " in code:
        pytest.skip("CPython before 3.10 cannot parse `match`")
    module = cst.parse_module(code)
    theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    syntax = Syntax(ast.parse(code), code)
    compared = 0
    for ast_kind, cst_kind in _SAME_KIND:
        ours = sorted(syntax.span(n) for n in ast.walk(syntax.tree) if isinstance(n, ast_kind)
                      and not (ast_kind is ast.keyword and n.arg is None))
        expected = sorted((p.start.line, p.start.column + 1, p.end.line, p.end.column + 1)
                          for p in (theirs[n] for n in theirs if isinstance(n, cst_kind)
                                    and not (cst_kind is cst.Arg and n.keyword is None)))
        assert ours == expected, ast_kind.__name__
        compared += len(ours)
    assert compared >= 2


def test_ast_position_of_a_parenthesised_tuple_starts_at_its_parenthesis():
    """The one kind where CPython's tree and libcst disagree: a tuple's parentheses are part of it."""
    code = "f(target_size=(150, 150))\n"
    syntax = Syntax(ast.parse(code), code)
    tuples = [n for n in ast.walk(syntax.tree) if isinstance(n, ast.Tuple)]
    assert [syntax.span(n) for n in tuples] == [(1, 15, 1, 25)]
    assert syntax.segment(tuples[0]) == "(150, 150)"


class CallCounter(Rule):
    code = "CNL999"
    name = "test-rule"
    severity = Severity.INFO
    summary = "test"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.depth_seen = []
        self.left = 0

    def visit_Call(self, node):
        self.depth_seen.append([type(a).__name__ for a in self.ctx.ancestors])
        self.report(node, f"call to {ast.unparse(node.func)}", "hint")

    def leave_FunctionDef(self, node):
        self.left += 1

    def check(self):
        self.report((9, 1, 9, 2), f"{self.left} functions left")


def test_engine_dispatch_ancestors_positions_and_notebook_cells():
    source = SourceFile(
        path="n.ipynb",
        kind="notebook",
        text="def f():\n    g(1)\nh(\n  2)  # noqa: CNL999\nk()\n",
        line_map=[(1, 1), (1, 2), (3, 1), (3, 2), (4, 1)],
    )
    result = lint_python(source, [CallCounter], "n.ipynb")
    got = [(f.cell, f.line, f.column, f.end_line, f.end_column, f.message) for f in result.findings]
    assert got == [
        (1, 2, 5, 2, 9, "call to g"),
        (3, 1, 1, 2, 5, "call to h"),
        (4, 1, 1, 1, 4, "call to k"),
        (4, 5, 1, 5, 2, "1 functions left"),
    ]


def test_engine_ancestor_stack():
    source = SourceFile(path="t.py", kind="python", text="def f():\n    if x:\n        g(1)\n")
    rules = []

    class Spy(CallCounter):
        def __init__(self, ctx):
            super().__init__(ctx)
            rules.append(self)

    lint_python(source, [Spy], "t.py")
    assert rules[0].depth_seen == [["Module", "FunctionDef", "If", "Expr"]]


def test_rule_with_unknown_node_hook_is_rejected():
    with pytest.raises(TypeError, match="no ast node Callz"):
        class Bad(Rule):  # noqa: F841
            def visit_Callz(self, node):
                pass


def test_iter_statements_and_import_table():
    from cnnlint.lint.index.imports import ImportTable
    from cnnlint.lint.index.syntax import iter_statements

    tree = ast.parse(
        "import tensorflow as tf\n"
        "try:\n    from keras import layers as L\nexcept ImportError:\n    import torch.nn as nn\n"
        "def f():\n    if x:\n        from torchvision import transforms\n    elif y:\n        import numpy\n    else:\n        pass\n"
        "x = 1; y = lambda: 2\n"
        "with a:\n    for i in r:\n        import cv2\n"
    )
    kinds = [type(s).__name__ for s in iter_statements(tree)]
    assert kinds == ["Import", "Try", "ImportFrom", "Import", "FunctionDef", "If", "ImportFrom", "If", "Import", "Pass",
                     "Assign", "Assign", "With", "For", "Import"]
    table = ImportTable.of_tree(tree)
    assert table.aliases["tf"] == "tensorflow"
    assert table.aliases["L"] == "keras.layers"
    assert table.aliases["nn"] == "torch.nn"
    assert table.aliases["transforms"] == "torchvision.transforms"
    assert table.imports_any("cv2") and table.imports_any("torch") and not table.imports_any("jax")
    assert table.qualify(ast.parse("tf.keras.layers.Dense", mode="eval").body) == "tensorflow.keras.layers.Dense"


@pytest.mark.parametrize("error,internal_errors", [
    (ValueError("boom"), ["t.py: internal error in CNL998 at a Call node: ValueError: boom"]),
    # code too deep for a rule's judgement silences it for the file: no finding, no internal error
    (RecursionError("maximum recursion depth exceeded"), []),
])
def test_a_rule_that_raises_loses_only_its_own_findings(error, internal_errors):
    visited = []

    class Broken(CallCounter):
        code = "CNL998"

        def visit_Call(self, node):
            visited.append(node.func.id)
            self.report(node, "partial")
            raise error

    source = SourceFile(path="t.py", kind="python", text="f(1)\ng(2)\n")
    result = lint_python(source, [Broken, CallCounter], "t.py")
    assert [f.code for f in result.findings] == ["CNL999", "CNL999", "CNL999"]
    assert result.internal_errors == internal_errors
    assert visited == ["f"]  # the rule's hooks stop at its first error; the other rule's go on


@pytest.mark.parametrize("error,internal_errors", [
    (ValueError("boom"), ["t.py: internal error in the walk for CNL999: ValueError: boom"]),
    (RecursionError("maximum recursion depth exceeded"), []),  # silenced, as a rule's own would be
])
def test_a_failed_shared_walk_costs_only_the_hook_rules(monkeypatch, error, internal_errors):
    from cnnlint.lint.index import bindings

    class WholeFile(Rule):
        code = "CNL997"
        name = "whole-file"
        severity = Severity.INFO
        summary = "test"

        def check(self):
            self.report((1, 1, 1, 2), "checked")

    def broken(self):
        raise error

    monkeypatch.setattr(bindings.Bindings, "_walk", broken)
    source = SourceFile(path="t.py", kind="python", text="f(1)\n")
    result = lint_python(source, [CallCounter, WholeFile], "t.py")
    assert [(f.code, f.message) for f in result.findings] == [("CNL997", "checked")]
    assert result.internal_errors == internal_errors


def test_internal_error_exits_2_and_keeps_other_findings(tmp_path, monkeypatch, capsys):
    from cnnlint.cli import main
    from cnnlint.lint.rules import cnl201_gradients_never_cleared

    def boom(self):
        raise KeyError("x")

    monkeypatch.setattr(cnl201_gradients_never_cleared.GradientsNeverCleared, "check", boom)
    (tmp_path / "requirements.txt").write_text("torch\n")
    (tmp_path / "t.py").write_text("for x in y:\n    loss.backward()\n    opt.step()\n")
    status = main([str(tmp_path), "--no-cache", "-q"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "CNL401" in out
    assert "internal error in CNL201" in err and "Traceback" not in err


def test_finding_in_a_file_with_a_very_long_expression_chain():
    from cnnlint.lint.api import lint_text

    chain = " + ".join(f"a{i}" for i in range(990))  # nested 990 deep, within MAX_DEPTH
    code = f"import torch\nfor x in y:\n    loss = {chain}\n    loss.backward()\n    opt.step()\n"
    assert [(f.code, f.line, f.column) for f in lint_text(code)] == [("CNL201", 4, 5)]


def test_findings_and_facts_are_placed_from_cpythons_tree_without_libcst(monkeypatch):
    import libcst

    monkeypatch.setattr(libcst, "parse_module", lambda *a, **k: pytest.fail("libcst parsed the file"))
    from cnnlint.demo import TRAIN_KERAS
    from cnnlint.lint.registry import rule_classes

    source = SourceFile(path="t.py", kind="python", text=TRAIN_KERAS)
    result = lint_python(source, rule_classes(), "t.py")
    assert [(f.code, f.line) for f in sorted(result.findings, key=lambda f: f.code)] == [
        ("CNL101", 29), ("CNL102", 29), ("CNL202", 40)]
    placed = {(fact["text"], fact["line"], fact["column"]) for key in ("input_shapes", "outputs", "losses")
              for fact in result.facts[key]}
    assert placed == {("(IMG_SIZE, IMG_SIZE, 3)", 23, 57), ('layers.Dense(2, activation="softmax")', 26, 5),
                      ('"sparse_categorical_crossentropy"', 28, 38)}


def test_rules_without_a_reason_to_walk_skip_the_walk(monkeypatch):
    from cnnlint.lint import engine
    from cnnlint.lint.registry import rule_classes

    walked = []
    monkeypatch.setattr(engine, "_walk", lambda *a: walked.append(1))
    lint_python(SourceFile(path="t.py", kind="python", text="import torch\nx = torch.zeros(3)\n"), rule_classes(), "t.py")
    assert walked == []
    lint_python(SourceFile(path="t.py", kind="python", text="import os\nos.system('pip install torch')\n"), rule_classes(), "t.py")
    assert walked == [1]


def test_files_no_rule_applies_to_get_only_a_syntax_check(monkeypatch):
    from cnnlint.lint import engine
    from cnnlint.lint.registry import rule_classes

    real_parse = engine._parse
    checked = []

    def spy(source, errors):
        checked.append(source.path)
        return real_parse(source, errors)

    monkeypatch.setattr(engine, "_parse", spy)
    plain = SourceFile(path="util.py", kind="python", text="import os\n\ndef here():\n    return os.getcwd()\n")
    assert lint_python(plain, rule_classes(), "util.py").findings == []
    broken = SourceFile(path="bad.py", kind="python", text="def here(:\n    pass\n")
    assert [f.code for f in lint_python(broken, rule_classes(), "bad.py").findings] == ["CNL001"]
    trains = SourceFile(path="t.py", kind="python", text="for b in dl:\n    loss.backward()\n    opt.step()\n")
    assert [f.code for f in lint_python(trains, rule_classes(), "t.py").findings] == ["CNL201"]
    assert checked == ["bad.py", "t.py"]  # util.py: no rule applies and CPython's compile found no error


def test_an_ast_rule_is_walked_on_cpythons_tree_with_character_columns():
    import ast

    from cnnlint.lint.index.imports import ImportTable
    from cnnlint.lint.rule import Rule
    from cnnlint.sources.read import read_source

    class LoadsWeights(Rule):
        code, name, severity, summary = "CNL999", "loads-weights", Severity.WARNING, "test rule"

        def visit_Call(self, node):
            assert isinstance(node, ast.Call)
            if self.ctx.get(ImportTable).qualify(node.func) == "torch.load":
                self.report(node, "loads weights", "a hint")

    source = read_source("x.py", "import torch as T\n# é\nx = (T.load('é'))\n".encode())
    found = lint_source(source, [LoadsWeights], "x.py").findings
    assert [(f.code, f.line, f.column, f.end_line, f.end_column) for f in found] == [("CNL999", 3, 6, 3, 17)]
    cells = '{"cells":[{"cell_type":"code","source":"def f(:\\n","metadata":{},"outputs":[]},' \
        '{"cell_type":"code","source":"import torch\\ntorch.load(1)","metadata":{},"outputs":[]}],' \
        '"metadata":{},"nbformat":4,"nbformat_minor":5}'
    found = lint_source(read_source("x.ipynb", cells.encode()), [LoadsWeights], "x.ipynb").findings
    assert [(f.code, f.cell, f.line, f.column, f.message) for f in found] == [
        ("CNL001", 1, 1, 7, "syntax error: invalid syntax"), ("CNL999", 2, 2, 1, "loads weights")]



ASYNC_SCRIPT = (
    "import torch\n"
    "for x, y in loader:\n"
    "    x = x.cuda(async=True)\n"
    "    y = y.to(device, async = True)\n"
    "    state = torch.load('w.pt')\n"
)


def test_async_keyword_of_old_pytorch_is_reported_and_the_rest_linted():
    from cnnlint.lint.api import lint_text

    found = lint_text(ASYNC_SCRIPT, "train.py", select=("CNL001", "CNL404"))
    assert [(f.code, f.line, f.column) for f in found] == [("CNL001", 3, 16), ("CNL001", 4, 22), ("CNL404", 5, 13)]
    assert found[0].message == ("syntax error: `async` is a reserved word since Python 3.7: `async=True` "
                                "(PyTorch before 0.4) is now `non_blocking=True`")
    assert found[0].hint.startswith("write `non_blocking=True`")


@pytest.mark.parametrize("code", [
    "async = True\n",  # a plain assignment: not a keyword argument, stays one syntax error
    "x = f(a, b) async\n",
    "if x.async == 1:\n    pass\n",
])
def test_other_syntax_errors_near_async_are_not_repaired(code):
    from cnnlint.lint.api import lint_text

    found = lint_text(code + "import torch\nstate = torch.load('w.pt')\n", "train.py", select=("CNL001", "CNL404"))
    assert [f.code for f in found] == ["CNL001"]
    assert "reserved word" not in found[0].message


def test_hooks_follow_the_shared_walk_with_leaves_after_each_subtree():
    text = "class A:\n    def f(self):\n        g(h(1), k=[m(2)])\n    def n(self):\n        pass\nq(3)\n"
    events = []

    class Order(CallCounter):  # its metadata; every hook below replaced
        def visit_Call(self, node):
            events.append(("call", ast.unparse(node.func), [type(a).__name__ for a in self.ctx.ancestors]))

        def visit_FunctionDef(self, node):
            events.append(("def", node.name, len(self.ctx.ancestors)))

        def leave_FunctionDef(self, node):
            events.append(("left", node.name, len(self.ctx.ancestors)))

        def leave_ClassDef(self, node):
            events.append(("left", node.name, len(self.ctx.ancestors)))

    lint_python(SourceFile(path="t.py", kind="python", text=text), [Order], "t.py")
    assert events == [
        ("def", "f", 2),
        ("call", "g", ["Module", "ClassDef", "FunctionDef", "Expr"]),
        ("call", "h", ["Module", "ClassDef", "FunctionDef", "Expr", "Call"]),
        ("call", "m", ["Module", "ClassDef", "FunctionDef", "Expr", "Call", "keyword", "List"]),
        ("left", "f", 2),
        ("def", "n", 2),
        ("left", "n", 2),
        ("left", "A", 1),
        ("call", "q", ["Module", "Expr"]),
    ]


@pytest.mark.parametrize("call", [
    "f(a, b, k=1, **kw)",
    "f(a, k=1, *rest, j=2)",   # `*rest` written after a keyword
    "f(k=1, *rest)",
    "f(*a, b, k=1)",
    "f(x)(y, z=2)",
    "f()",
])
def test_a_calls_children_are_in_the_order_written(call):
    import ast

    from cnnlint.lint.index.syntax import children

    node = ast.parse(call).body[0].value
    kids = children(node)
    assert kids[0] is node.func
    positions = [(k.lineno, k.col_offset) for k in kids[1:]]
    assert positions == sorted(positions)
    assert len(kids) == 1 + len(node.args) + len(node.keywords)
