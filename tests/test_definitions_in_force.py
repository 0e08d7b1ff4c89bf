"""A name defined again and again (notebooks redefine their helpers; a long file may hold many
copies): past MANY_DEFINITIONS, a call expands only the definition in force, so the cost stays
linear in the file's length (issue 13) and the judgement follows the copy that runs."""

import ast

from cnnlint.lint.index.statements import MANY_DEFINITIONS, definitions_in_force
from conftest import lint

STEP_CLEARS = (
    "def train_step(model, x, y, optimizer, criterion):\n"
    "    optimizer.zero_grad()\n"
    "    loss = criterion(model(x), y)\n"
    "    loss.backward()\n"
    "    optimizer.step()\n"
)
STEP_NEVER_CLEARS = (
    "def train_step(model, x, y, optimizer, criterion):\n"
    "    loss = criterion(model(x), y)\n"
    "    loss.backward()\n"
    "    optimizer.step()\n"
)
LOOP = "for x, y in loader:\n    train_step(model, x, y, optimizer, criterion)\n"


def found(code):
    return [(f.code, f.line, f.column) for f in lint(code, select=("CNL201",))]


def _defs(n):
    tree = ast.parse("\n".join(f"def f():\n    return {i}" for i in range(n)))
    return tree.body


def test_few_definitions_are_all_expanded():
    defs = _defs(MANY_DEFINITIONS)
    assert definitions_in_force(defs, 1) == defs


def test_many_definitions_expand_the_last_one_before_the_call():
    defs = _defs(MANY_DEFINITIONS + 2)  # defs on lines 1, 3, 5, ...
    assert definitions_in_force(defs, 6) == [defs[2]]
    assert definitions_in_force(defs, 100) == [defs[-1]]
    assert definitions_in_force(defs, 1) == [defs[0]]  # none before: the first
    assert definitions_in_force(list(reversed(defs)), 6) == [defs[2]]  # by line, not by list order


def test_the_redefinition_in_force_never_clears():
    code = "import torch\n" + STEP_CLEARS * 5 + STEP_NEVER_CLEARS + LOOP
    assert found(code) == [("CNL201", 32, 5)]  # at the call in the loop


def test_the_redefinition_in_force_clears():
    code = "import torch\n" + STEP_NEVER_CLEARS * 5 + STEP_CLEARS + LOOP
    assert found(code) == []
