"""The language server's parts without a client: the in-memory lint, positions, code actions,
the save-time command (issue 21)."""

import json
from unittest import mock

import pytest

pytest.importorskip("lsprotocol")

from lsprotocol import types  # noqa: E402

from cnnlint.config import Config  # noqa: E402
from cnnlint.findings import Finding, Fix, Severity  # noqa: E402
from cnnlint.lint.runner import lint_one  # noqa: E402
from cnnlint.server import analysis, background  # noqa: E402
from cnnlint.server.actions import noqa_edit  # noqa: E402
from cnnlint.server.convert import Positions, diagnostic, text_edits  # noqa: E402
from cnnlint.sources.walk import Target  # noqa: E402
from conftest import LOOP  # noqa: E402

FACTS = "import torch\nfrom torchvision import datasets\nds = datasets.ImageFolder('data/train')\n"


def test_lint_as_you_type_skips_the_cross_check_facts(tmp_path):
    target = Target("t.py", str(tmp_path / "t.py"), "python")
    assert lint_one(target, FACTS.encode(), 1 << 20)[3] is not None
    assert lint_one(target, FACTS.encode(), 1 << 20, with_facts=False)[3] is None


def test_lint_buffer_keeps_the_selection_and_per_file_ignores(tmp_path):
    config = Config(root=str(tmp_path))
    path = str(tmp_path / "exp" / "train.py")
    assert [f.code for f in analysis.lint_buffer(path, LOOP, config)] == ["CNL201"]
    config.per_file_ignores = {"exp/*": ["CNL2"]}
    assert analysis.lint_buffer(path, LOOP, config) == []
    assert analysis.lint_buffer(str(tmp_path / "notes.md"), LOOP, Config()) == []


def test_lint_cells_places_findings_in_their_cell():
    cells = [(True, "import torch\nopt = torch.optim.SGD(m.parameters())\n"), (False, "text"),
             (True, "for x in dl:\n    loss = m(x)\n    loss.backward()\n    opt.step()\n")]
    found = analysis.lint_cells("nb.ipynb", cells, Config())
    assert [len(found[i]) for i in range(3)] == [0, 0, 1]
    [f] = found[2]
    assert (f.code, f.cell, f.line, f.column) == ("CNL201", 3, 3, 5)


def test_configs_are_read_again_after_forget(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nignore = ["CNL201"]\n')
    configs = analysis.Configs()
    assert configs.for_path(str(tmp_path / "a.py")).config.ignore == ["CNL201"]
    (tmp_path / "pyproject.toml").write_text('[tool.cnnlint]\nignore = ["CNL4"]\n')
    assert configs.for_path(str(tmp_path / "a.py")).config.ignore == ["CNL201"]
    configs.forget()
    assert configs.for_path(str(tmp_path / "a.py")).config.ignore == ["CNL4"]


def test_a_broken_configuration_lints_with_the_defaults_and_says_why(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.cnnlint\n")
    settings = analysis.Configs().for_path(str(tmp_path / "a.py"))
    assert settings.config.ignore == [] and settings.config.select == ["ALL"]
    assert settings.error.startswith(f"{tmp_path / 'pyproject.toml'}: invalid TOML: ")


def test_positions_are_utf16_through_the_codec():
    from pygls.workspace.position_codec import PositionCodec

    lines = ["s = '😀'; loss.backward()\n"]
    finding = Finding("CNL201", Severity.ERROR, "m", "a.py", 1, 11, 1, 26)
    diag = diagnostic(finding, Positions(lines, PositionCodec(types.PositionEncodingKind.Utf16)))
    assert diag.range == types.Range(types.Position(0, 11), types.Position(0, 26))
    assert diagnostic(finding, Positions(lines)).range == types.Range(types.Position(0, 10), types.Position(0, 25))


def test_a_point_finding_spans_the_rest_of_its_line():
    finding = Finding("CNL001", Severity.ERROR, "syntax error", "a.py", 2, 3)
    diag = diagnostic(finding, Positions(["x = 1\n", "y = (\n"]))
    assert diag.range == types.Range(types.Position(1, 2), types.Position(1, 5))
    whole_file = Finding("CNL001", Severity.ERROR, "unreadable", "a.py", 0, 1)
    assert diagnostic(whole_file, Positions([])).range == types.Range(types.Position(0, 0), types.Position(0, 0))


def test_fix_edits_take_the_documents_line_ending():
    fix = Fix(2, 1, 2, 1, "    opt.zero_grad()\n", "insert", edits=((4, 1, 5, 1, ""),))
    edits = text_edits(fix, Positions(["for x in d:\r\n", "    a()\r\n"]))
    assert [e.new_text for e in edits] == ["    opt.zero_grad()\r\n", ""]
    assert edits[1].range == types.Range(types.Position(3, 0), types.Position(4, 0))


@pytest.mark.parametrize("line, expected_range, text", [
    ("    loss.backward()\n", (0, 19, 0, 19), "  # noqa: CNL201"),
    ("    loss.backward()   \n", (0, 19, 0, 22), "  # noqa: CNL201"),
    ("    loss.backward()  # noqa: CNL202\n", (0, 35, 0, 35), ", CNL201"),
    ("torch  # pinned later # noqa:CNL403,CNL402\n", (0, 42, 0, 42), ", CNL201"),
])
def test_noqa_edit(line, expected_range, text):
    edit = noqa_edit(line, 1, "CNL201")
    got = (edit.range.start.line, edit.range.start.character, edit.range.end.line, edit.range.end.character)
    assert (got, edit.new_text) == (expected_range, text)


def test_the_save_time_checks_never_run_the_probe():
    command = background.command("/w/train.py", "/w")
    assert command[1:] == ["-m", "cnnlint", "--format", "json", "--quiet", "/w/train.py", "/w"]
    assert not any(arg.startswith("--probe") for arg in command)


def test_save_findings_keep_what_the_lint_does_not_make(tmp_path):
    doc = {"findings": [
        {"code": "CNL201", "severity": "error", "message": "m", "path": "train.py", "line": 5, "column": 5},
        {"code": "CNL601", "severity": "error", "message": "x", "path": "train.py", "line": 3, "column": 1},
        {"code": "CNL501", "severity": "error", "message": "y", "path": "data/a.jpg", "line": 0, "column": 1},
    ]}
    found = background.save_findings(json.loads(json.dumps(doc)), str(tmp_path), ["CNL201"])
    assert {path: [f.code for f in fs] for path, fs in found.items()} == {
        str(tmp_path / "train.py"): ["CNL601"], str(tmp_path / "data" / "a.jpg"): ["CNL501"]}


def test_a_notebook_given_as_python_is_linted_as_python():
    """jupyterlab-lsp sends a notebook as one virtual document of its cells' code, named *.ipynb."""
    [f] = analysis.lint_buffer("explore.ipynb", LOOP, Config())
    assert (f.code, f.line, f.cell) == ("CNL201", 5, None)


def test_an_excluded_file_has_no_diagnostics(tmp_path):
    config = Config(root=str(tmp_path), exclude=["legacy/*"])
    assert analysis.lint_buffer(str(tmp_path / "legacy" / "train.py"), LOOP, config) == []
    assert [f.code for f in analysis.lint_buffer(str(tmp_path / "train.py"), LOOP, config)] == ["CNL201"]


def _fixable_examples():
    """(code, example) of each bad page example where a rule with --fix finds something fixable."""
    from cnnlint.catalog import catalog
    from cnnlint.lint.pages import examples, page_path

    found = []
    for info in catalog():
        if not info.autofix:
            continue
        with open(page_path(info.code), encoding="utf-8") as fh:
            for example in examples(fh.read()):
                if example.kind == "bad" and example.language in ("python", "requirements", "yaml"):
                    findings = analysis.lint_buffer(example.path, example.code, Config())
                    if any(f.code == info.code and f.fix is not None for f in findings):
                        found.append((info.code, example))
    return found


def _installed(name):
    """A release of every package, whatever this environment holds: CNL401's pin needs one."""
    return "2.1.0"


with mock.patch("cnnlint.lint.dependencies.installed_version", _installed):
    FIXABLE = _fixable_examples()


@pytest.fixture(autouse=True)
def _every_package_installed(monkeypatch):
    monkeypatch.setattr("cnnlint.lint.dependencies.installed_version", _installed)


def test_every_rule_with_a_fix_has_a_fixable_page_example():
    from cnnlint.catalog import catalog

    assert sorted({code for code, _ in FIXABLE}) == [i.code for i in catalog() if i.autofix]


def _apply(text, edits):
    lines = text.splitlines(keepends=True)

    def offset(position):
        return sum(len(line) for line in lines[:position.line]) + position.character

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


@pytest.mark.parametrize("code, example", [pytest.param(c, e, id=f"{c}-line{e.line}") for c, e in FIXABLE])
def test_every_fix_is_a_code_action_that_removes_its_finding(code, example, tmp_path):
    """Each rule that has a --fix: its page's bad example, the fix as the server's code action,
    applied as an editor applies it; the finding is gone."""
    from cnnlint.server.actions import code_actions
    from cnnlint.server.convert import diagnostics

    path = str(tmp_path / example.path)
    lines = example.code.splitlines(keepends=True)
    before = [f for f in analysis.lint_buffer(path, example.code, Config()) if f.code == code]
    fixable = [d for d in diagnostics(before, Positions(lines)) if d.data["fix"]]
    [fix] = [a for a in code_actions("file:///x", fixable[:1], Positions(lines)) if "noqa" not in a.title]
    fixed = _apply(example.code, fix.edit.changes["file:///x"])
    after = [f for f in analysis.lint_buffer(path, fixed, Config()) if f.code == code]
    assert len(after) == len(before) - 1, fixed
