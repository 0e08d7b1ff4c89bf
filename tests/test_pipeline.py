"""The run pipeline (cnnlint/run.py) and the format registry (cnnlint/report/formats.py)."""

import json

import pytest

from cnnlint import run as run_module
from cnnlint.cli import _lint_parser, main
from cnnlint.findings import Finding, Severity
from cnnlint.report import formats
from cnnlint.runstate import Capability

TRAIN = ("import torch\nopt = torch.optim.SGD(model.parameters(), lr=0.1)\n"
         "for x in loader:\n    loss = model(x).sum()\n    loss.backward()\n    opt.step()\n")
BUILT_IN = ["text", "json", "sarif", "github", "html"]


def test_the_built_in_formats_register_themselves_in_order():
    registered = formats.formats()
    assert list(registered) == BUILT_IN
    assert all(f.name == name and callable(f.render) for name, f in registered.items())
    action = next(a for a in _lint_parser()._actions if a.dest == "format")
    assert list(action.choices) == BUILT_IN and action.default == "text"


class _Plain:
    name = "plain"
    help = "one code per line"

    def render(self, report):
        return "".join(f"{f.code}\n" for f in report.findings) + f"{report.files} files\n"


@pytest.fixture
def plain(monkeypatch):
    monkeypatch.setattr(formats, "_REGISTERED", dict(formats._REGISTERED))
    formats.register(_Plain)


def test_a_registered_format_is_a_choice_and_renders_the_report(plain, tmp_path, monkeypatch, capsys):
    (tmp_path / "train.py").write_text(TRAIN)
    monkeypatch.chdir(tmp_path)
    assert "plain: one code per line" in formats.choices_help()
    status = main(["train.py", "--format", "plain", "--no-cache", "--select", "CNL201"])
    out, _ = capsys.readouterr()
    assert (status, out) == (1, "CNL201\n1 files\n")


def test_an_unregistered_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--format", "plain"])
    assert exc.value.code == 2
    assert "invalid choice: 'plain'" in capsys.readouterr().err


class _Counting(Capability):
    """A capability that records when it is called and finds one thing per linted file."""

    name = "counting"

    def __init__(self, calls):
        self.calls = calls

    def prepare(self, state):
        self.calls.append(("prepare", state.lint is None))

    def run(self, state):
        self.calls.append(("run", state.lint is not None and state.lint.files))
        return [Finding("CNL701", Severity.ERROR, "counted", t.path, 1, 1) for t in state.targets]


@pytest.mark.parametrize("select,codes", [("ALL", ["CNL701", "CNL201"]), ("CNL2", ["CNL201"])])
def test_a_capability_prepares_before_the_lint_runs_after_it_and_is_selected(monkeypatch, tmp_path, capsys,
                                                                             select, codes):
    (tmp_path / "train.py").write_text(TRAIN)
    monkeypatch.chdir(tmp_path)
    calls = []
    monkeypatch.setattr(run_module, "CAPABILITIES", (_Counting(calls),))
    status = main(["train.py", "--format", "json", "--no-cache", "--select", select])
    doc = json.loads(capsys.readouterr().out)
    assert calls == [("prepare", True), ("run", 1)]
    assert status == 1
    assert [f["code"] for f in doc["findings"]] == codes
