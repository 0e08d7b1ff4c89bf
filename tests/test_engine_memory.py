"""A file's lint leaves no cyclic garbage behind (issue 13: a worker's peak memory). The runner
makes full collections rare, so anything a lint leaves in a reference cycle (the context and its
analyses, scopes and their bindings, the cross-check's readers) would stay, with the tree nodes it
holds, for hundreds of files."""

import ast
import gc
import os
import types

import pytest

from cnnlint.lint.runner import lint_one
from cnnlint.sources.walk import Target

HERE = os.path.dirname(os.path.abspath(__file__))
TUTORIALS = os.path.join(os.path.dirname(HERE), "fixtures", "tutorials")


@pytest.mark.parametrize("name", sorted(n for n in os.listdir(TUTORIALS) if n.endswith(".py")))
def test_a_lint_leaves_no_cyclic_garbage(name):
    path = os.path.join(TUTORIALS, name)
    with open(path, "rb") as fh:
        data = fh.read()
    target = Target(name, path, "python")
    findings, _, error, facts = lint_one(target, data, 1 << 24)  # imports and caches warmed
    assert error is None
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        lint_one(target, data, 1 << 24)
        gc.collect()
        # only cnnlint's objects and tree nodes count: another test's threads may leave garbage in
        # this window, and Python 3.9's ast.literal_eval leaves its nested functions in a cycle
        ours = sorted({type(o).__name__ for o in gc.garbage if _ours(o)})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == []


def _ours(obj):
    """An object of cnnlint's (its classes, its functions) or a node of a parsed tree."""
    if isinstance(obj, ast.AST):
        return True
    if isinstance(obj, types.FunctionType):
        return obj.__module__.startswith("cnnlint")
    return type(obj).__module__.startswith("cnnlint")
