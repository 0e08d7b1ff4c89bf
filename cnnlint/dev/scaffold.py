"""`python -m cnnlint.dev new-rule CNL105 some-name`: the three files of a new static rule.

The rule (cnnlint/lint/rules/cnl105_some_name.py, found by cnnlint.lint.discovery), its page
(rules/CNL105.md, from rules/_TEMPLATE.md) and its test (tests/test_cnl105_some_name.py). They work
as written: the rule reports a call to a placeholder function, which the page's bad example makes
and the test checks. CONTRIBUTING.md says what to replace.
"""

from __future__ import annotations

import os
import re
from typing import List

from cnnlint.catalog import FAMILIES, known_codes

CODE = re.compile(r"^CNL[1-4]\d\d$")
NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")

RULE = '''"""{code} {name}: TODO one line on what it finds (the page: rules/{code}.md)."""

from __future__ import annotations

import ast

from cnnlint.findings import Severity
from cnnlint.lint.index.names import dotted_name
from cnnlint.lint.rule import Rule


class {cls}(Rule):
    code = "{code}"
    name = "{name}"
    severity = Severity.WARNING
    summary = "TODO: one line, as `cnnlint rules` shows it"

    def visit_Call(self, node: ast.Call) -> None:
        # TODO: the rule's judgement (this placeholder makes the page's bad example fire)
        if dotted_name(node.func) == "{placeholder}":
            self.report(node, "TODO: the message", "TODO: the hint")
'''

TEST = '''"""{code} {name}: exact findings on small snippets (the page's examples are checked by test_rule_pages)."""

from conftest import lint_text


def _found(text):
    return [(f.code, f.line, f.column, f.message) for f in lint_text(text, select=["{code}"])]


def test_reports_the_call():
    assert _found("x = 1\\n{placeholder}()\\n") == [("{code}", 2, 1, "TODO: the message")]


def test_leaves_other_calls_alone():
    assert _found("print({placeholder!r})\\nother()\\n") == []
'''


def module_name(code: str, name: str) -> str:
    return f"{code.lower()}_{name.replace('-', '_')}"


def class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def page_text(template: str, code: str, name: str, severity: str = "warning", autofix: bool = False) -> str:
    """rules/_TEMPLATE.md filled in for one rule."""
    return template.format(code=code, name=name, severity=severity, family=f"CNL{code[3]}xx {FAMILIES[code[3]]}",
                           autofix="yes" if autofix else "no", placeholder=placeholder(name))


def placeholder(name: str) -> str:
    return f"placeholder_{name.replace('-', '_')}"


def check_new(code: str, name: str) -> None:
    """ValueError unless CODE and NAME are a free static rule code and a kebab-case name."""
    if not CODE.match(code):
        raise ValueError(f"{code}: a static rule's code is CNL1xx-CNL4xx (CNL105)")
    if not NAME.match(name):
        raise ValueError(f"{name}: a rule's name is lower-case words joined by '-' (gradients-never-cleared)")
    if code in known_codes():
        raise ValueError(f"{code} is taken (`cnnlint rules` lists the codes)")


def new_rule(root: str, code: str, name: str) -> List[str]:
    """Writes the rule, its page and its test under the checkout `root`; returns their paths
    (relative to root). Refuses a taken code and never overwrites a file."""
    code = code.upper()
    check_new(code, name)
    module = module_name(code, name)
    with open(os.path.join(root, "rules", "_TEMPLATE.md"), encoding="utf-8") as fh:
        template = fh.read()
    fields = dict(code=code, name=name, cls=class_name(name), placeholder=placeholder(name))
    files = {
        os.path.join("cnnlint", "lint", "rules", f"{module}.py"): RULE.format(**fields),
        os.path.join("rules", f"{code}.md"): page_text(template, code, name),
        os.path.join("tests", f"test_{module}.py"): TEST.format(**fields),
    }
    existing = [path for path in files if os.path.exists(os.path.join(root, path))]
    if existing:
        raise ValueError(f"{', '.join(existing)} already exists")
    for path, text in files.items():
        with open(os.path.join(root, path), "x", encoding="utf-8") as fh:
            fh.write(text)
    return list(files)
