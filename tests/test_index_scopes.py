"""Scopes.reaching and Bindings.binding on long files: the indexed lookups give what filtering
every binding at every use gave."""

from __future__ import annotations

import ast
import textwrap

import pytest

from cnnlint.lint.context import FileContext
from cnnlint.lint.index.bindings import Bindings
from cnnlint.lint.index.scopes import INF, PLAIN, Scopes
from cnnlint.lint.index.syntax import Syntax
from cnnlint.sources.model import SourceFile


def context(text: str) -> FileContext:
    text = textwrap.dedent(text)
    return FileContext(SourceFile(path="t.py", kind="python", text=text), "t.py", Syntax(ast.parse(text), text))


def filtered(scopes: Scopes, name, scope, pos, blocks, mutcalls=False):
    """What `reaching` computed before it was indexed: every binding filtered at every use."""
    s, same = scopes._lookup(name, scope)
    if s is None:
        return None
    defs = s.defs[name]
    if not mutcalls:
        defs = [d for d in defs if d.kind != "mutcall"]
    if s.kind == "comp":
        return s, list(defs)
    if not same:
        pos, blocks = INF, ()
    cands = [d for d in defs if d.order < pos]
    dom = None
    for d in reversed(cands):
        if d.kind in PLAIN and d.blocks == blocks[: len(d.blocks)]:
            dom = d
            break
    if dom is not None:
        cands = [d for d in cands if d.order >= dom.order]
    return s, cands


LONG = """
import torch
model = make()
xs = []
for epoch in range(3):
    if epoch:
        model = other()
    xs.append(epoch)
    train(model, xs)
    model = model.to(dev)
    use(model)
    fill(xs)
class Holder:
    xs = []
    xs.append(1)
    xs = [2]
    keep(xs)
def f(model):
    y = model(1)
    if y:
        y = g(y)
    return [model(z) for z in y if (w := z)]
"""


@pytest.mark.parametrize("copies", [1, 40])
def test_reaching_at_every_call_is_what_filtering_gave(copies):
    scopes = Scopes(context(LONG * copies))
    names = ["model", "xs", "y", "z", "w", "epoch", "torch", "f", "Holder", "nothing"]
    checked = 0
    for site in scopes.calls:
        for name in names:
            for mutcalls in (False, True):
                got = scopes.reaching(name, site.scope, site.order, site.blocks, mutcalls)
                want = filtered(scopes, name, site.scope, site.order, site.blocks, mutcalls)
                assert (got is None) == (want is None)
                if got is not None:
                    assert got[0] is want[0] and got[1] == want[1], (name, site.order)
                    checked += bool(got[1])
    assert checked > 100 * copies


def test_a_class_body_bound_again_after_an_append_keeps_both_in_order_of_the_walk():
    """`xs.append(1)` is bound after the walk, behind `xs = [2]`: the class's list is out of order,
    and the lookup filters it as before."""
    scopes = Scopes(context(LONG))
    keep = next(c for c in scopes.calls if isinstance(c.node.func, ast.Name) and c.node.func.id == "keep")
    _, seen = scopes.reaching("xs", keep.scope, keep.order, keep.blocks)
    assert [d.kind for d in seen] == ["assign"]  # `xs = [2]` dominates what came before
    _, every = scopes.reaching("xs", keep.scope, INF, ())
    assert sorted(d.kind for d in every) == ["assign"]


def test_self_attributes_are_looked_up_in_their_own_class():
    text = "".join(f"""
class Net{i}:
    def __init__(self):
        self.fc = nn.Linear({i}, 2)
    def forward(self, x):
        return self.fc(x)
""" for i in range(30))
    ctx = context(text)
    b = ctx.get(Bindings)
    uses = [n for n in ast.walk(ctx.syntax.tree)
            if isinstance(n, ast.Attribute) and n.attr == "fc" and isinstance(n.ctx, ast.Load)]
    assert len(uses) == 30
    widths = []
    for use in uses:
        found = b.binding("self.fc", use)
        assert found is not None and not found.conditional
        widths.append(found.value.args[0].value)
    assert sorted(widths) == list(range(30))  # each forward sees its own class's layer


def test_rising_orders_are_kept_only_when_they_rise():
    from types import SimpleNamespace

    from cnnlint.lint.index.walk_orders import rising_orders

    at = [SimpleNamespace(order=o) for o in (3, 3, 7, 12)]
    assert rising_orders(at) == [3, 3, 7, 12]
    assert rising_orders(at[:1]) == [3] and rising_orders([]) == []
    assert rising_orders([*at, SimpleNamespace(order=5)]) is None  # bound after the walk: filtered
