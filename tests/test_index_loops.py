"""The training-loop analyses on CPython's ast: Statements (index/statements.py) and LoopEvents
(index/loops.py), which CNL201 and CNL202 read."""

import ast
import textwrap

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from cnnlint.lint.context import FileContext
from cnnlint.lint.index.loops import BACKWARD, CLEAR, OPAQUE, STEP, LoopEvents, neutral_kind
from cnnlint.lint.index.statements import Statements, short_code
from cnnlint.lint.index.syntax import Syntax
from cnnlint.sources.model import SourceFile

# blank and comment lines in every place libcst gives them to a statement or to a block's end
AWKWARD = textwrap.dedent("""\
    def f():
        for x in y:  # header comment
            # c1

            # c2
            loss = (model(x)
                    .sum())
            ((loss)).backward(  # why
            )
            for p in ps:
                p.g()
                    # deep
                # mid
            # outer
          # odd
            opt.zero_grad()
            a = 1; b = (2)
            if a:
                pass
            elif b:
                q = [(c) for c in d]
                print((opt.zero_grad()))
            else:
                if c: pass
            # end
            try:
                s()
            except E:
                t()
                # in handler
            # after try
            with m:
                n()
            @deco
            # between
            def g(): pass
            print(f((x)), f((x),), f(x, (y)), f(*(z)), f(k=(w)))
            opt.step()
        while x: y(); z()
    """)


def context(text: str) -> FileContext:
    source = SourceFile(path="t.py", kind="python", text=text)
    return FileContext(source, "t.py", Syntax(ast.parse(text), text))


def test_leading_lines_and_code_are_libcsts():
    ctx = context(AWKWARD)
    statements = ctx.get(Statements)
    syntax = statements.syntax
    module = cst.parse_module(AWKWARD)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines: dict = {}
    calls: dict = {}
    for node, p in positions.items():
        if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            lines[(p.start.line, p.start.column + 1)] = node
        elif isinstance(node, cst.Call):
            calls[(p.start.line, p.start.column + 1, p.end.line, p.end.column + 1)] = node
    compared = 0
    for block, i in list(statements.position.values()):
        stmt = block[i]
        if statements.line_start(stmt) is not stmt or not statements.indented(block):
            continue  # libcst's lines only: a statement after `;` or a header's colon has none
        theirs = lines[syntax.span(stmt)[:2]]
        attached = 0
        for empty in reversed(theirs.leading_lines):
            if empty.comment is None:
                break
            attached += 1
        assert (len(statements.leading_lines(stmt)), statements.attached_comments(stmt)) == (len(theirs.leading_lines), attached)
        compared += 1
    assert compared == 22
    texts = []
    for node in ast.walk(syntax.tree):
        if isinstance(node, ast.Call):
            theirs = calls[syntax.span(node)]
            assert short_code(syntax, node, 1000) == " ".join(module.code_for_node(theirs).split())  # libcst's code, on one line
            texts.append(short_code(syntax, node, 1000))
    assert "((loss)).backward( # why )" in texts and "f((x))" in texts and "f((x),)" in texts


def test_statements_read_an_elif_as_a_block_of_the_first_if():
    ctx = context("if a:\n    pass\nelif b:\n    for x in y:\n        pass\n"
                  "else:\n    if c:\n        for z in w:\n            pass\n")
    statements = ctx.get(Statements)
    first_if = statements.syntax.tree.body[0]
    inner_loop, outer_loop = statements.loops[1], statements.loops[0]
    assert [loop.lineno for loop in statements.loops] == [4, 8]
    assert statements.enclosing(outer_loop) is first_if  # the elif is no statement of its own
    assert statements.enclosing(statements.enclosing(inner_loop)) is first_if  # a nested `if` in `else:` is
    assert [i for _, i in statements.path(inner_loop)] == [0, 0, 0]


def test_statements_know_methods_and_the_class_self_names():
    ctx = context("class T(Base):\n    def fit(self):\n        for b in dl:\n            self.step()\n\ndef step():\n    pass\n")
    statements = ctx.get(Statements)
    cls = statements.classes["T"]
    (fit,) = statements.methods["fit"]
    assert statements.self_class[id(fit)] is cls and statements.self_class[id(statements.loops[0])] is cls
    assert list(statements.functions) == ["step"]


def test_loop_events_follow_calls_into_the_file():
    code = textwrap.dedent("""\
        import torch
        def train_step(x):
            loss = model(x).sum()
            loss.backward()
            optimizer.step()
        for x in loader:
            train_step(x)
            log_everything(optimizer)
            optimizer.zero_grad()
        """)
    ctx = context(code)
    (loop,) = ctx.get(Statements).loops
    events = ctx.get(LoopEvents).events(loop)
    assert [(e.kind, e.at.lineno, e.key, sorted(e.names)) for e in events] == [
        (OPAQUE, 7, None, ["x"]),  # model(x) in train_step: unknown, may do anything with x
        (BACKWARD, 7, None, []), (STEP, 7, "optimizer", []),
        (OPAQUE, 8, None, ["optimizer"]), (CLEAR, 9, "optimizer", []),
    ]
    assert events[-1].text == "optimizer.zero_grad()" and events[-1].by_name


def test_neutral_values_are_decimal_zeros():
    syntax = Syntax(ast.parse("a = 0\nb = 0x0\nc = 0_0\nd = [None] * 3\ne = list()\nf = 0.0\n"), "")
    syntax.lines = ["a = 0", "b = 0x0", "c = 0_0", "d = [None] * 3", "e = list()", "f = 0.0"]
    kinds = [neutral_kind(syntax, stmt.value) for stmt in syntax.tree.body]
    assert kinds == ["0", None, "0", "zeros", "[]", "0"]


def test_own_calls_are_the_calls_among_own_nodes_in_order():
    from cnnlint.lint.index.blocks import own_calls, own_nodes

    text = textwrap.dedent("""
        x = f(g(1), h(k=lambda: inner()), *args(), **kw())
        if check(a) and other(b):
            body()
        for i in loader(data()):
            step(i)
        with ctx(1) as c, ctx2(2):
            pass
        while more():
            pass
        def fn():
            return call_in_def()
        class C(Base(), metaclass=meta()):
            pass
        try:
            risky()
        except Boom():
            pass
        print([m(v) for v in vals()], {d(): e()})
        """)
    tree = ast.parse(text)
    names = []
    for stmt in tree.body:
        want = [n for n in own_nodes(stmt) if isinstance(n, ast.Call)]
        got = own_calls(stmt)
        assert got == want
        names.append([ast.unparse(c.func) for c in got])
    assert names == [["f", "g", "h", "args", "kw"], ["check", "other"], ["loader", "data"], ["ctx", "ctx2"], ["more"],
                     [], [], [], ["print", "m", "vals", "d", "e"]]
