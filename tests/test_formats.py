"""--format sarif (validated against the SARIF 2.1.0 schema) and --format github."""

import json
import os
import pathlib

import pytest

from cnnlint import __version__
from cnnlint.findings import Finding, Severity
from cnnlint.lint.pages import notebook_from_cells, page_path
from cnnlint.catalog import catalog
from cnnlint.report.github import escape_data, escape_property, render_github
from cnnlint.report.sarif import artifact_location, message_text, render_sarif
from conftest import LOOP, run_cli

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.join(HERE, "fixtures", "sarif-2.1.0.schema.json")

NOTEBOOK = "import os\n# %%\nx = 1\n!pip install tensorflow\n"

CNL201_MESSAGE = (
    "`optimizer.step()` runs every iteration of this loop, but `optimizer`'s gradients are never cleared, "
    "so each `backward()` adds to the gradients of all earlier iterations"
)
CNL201_HINT = "call `optimizer.zero_grad()` at the top of the loop body (or right before `loss.backward()`)"
TF_MESSAGE = "`tensorflow` is installed without a version by `pip install`; a new release can break this notebook"
TF_HINT = "pin it to the version you tested with: `tensorflow==X.Y.Z`"
CV_MESSAGE = "`opencv-python` has no version in requirements.txt; a new release can break the next install"
CV_HINT = "pin it to the version you tested with: `opencv-python==X.Y.Z`"
TORCH_MESSAGE = (
    "`torch>=2.0` in requirements.txt does not reproduce: each install takes the newest version that matches"
)
TORCH_HINT = "pin the exact version you tested with: `torch==X.Y.Z`"
SYNTAX_MESSAGE = "syntax error: invalid syntax"
SYNTAX_HINT = "the file (or cell) was not linted; fix the syntax or exclude it"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A script finding, a notebook finding, two requirements findings and a CNL001."""
    # hints name the installed version when there is one: keep them independent of this environment
    monkeypatch.setattr("cnnlint.lint.dependencies.installed_version", lambda name: None)
    # worker processes come from a fork server and would not see that patch: lint in this process
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(LOOP)
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "nb.ipynb").write_text(notebook_from_cells(NOTEBOOK))
    (tmp_path / "requirements.txt").write_text("opencv-python\ntorch>=2.0\n")
    return tmp_path


def run(args, capsys):
    return run_cli(list(args) + ["--no-cache"], capsys)


def sarif(args, capsys):
    status, out, err = run(list(args) + ["--format", "sarif"], capsys)
    return status, json.loads(out), out, err


def cwd_uri():
    return pathlib.Path(os.getcwd()).as_uri().rstrip("/") + "/"


# ---------------------------------------------------------------- SARIF


def test_sarif_validates_against_the_schema(project, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    with open(SCHEMA, encoding="utf-8") as fh:
        schema = json.load(fh)
    status, doc, _, _ = sarif(["."], capsys)
    assert status == 1
    assert len(doc["runs"][0]["results"]) == 5
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    validator = validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in errors] == []


def test_sarif_schema_catches_a_broken_document():
    """The validation above is not vacuous: the schema rejects what GitHub rejects."""
    jsonschema = pytest.importorskip("jsonschema")
    with open(SCHEMA, encoding="utf-8") as fh:
        schema = json.load(fh)
    doc = json.loads(render_sarif([Finding("CNL201", Severity.ERROR, "m", "train.py", 5, 5)], 1))
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"] = 0
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert not validator.is_valid(doc)


def test_sarif_document_and_driver(project, capsys):
    status, doc, out, err = sarif(["."], capsys)
    assert status == 1 and err == ""
    assert out == json.dumps(doc, indent=2) + "\n"
    assert doc["version"] == "2.1.0"
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    [run_] = doc["runs"]
    driver = run_["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["informationUri"]) == (
        "cnnlint", __version__, "https://github.com/cnnlint/cnnlint"
    )
    assert run_["columnKind"] == "unicodeCodePoints"
    assert run_["originalUriBaseIds"] == {"%SRCROOT%": {"uri": cwd_uri()}}
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")


def test_sarif_rules_are_the_whole_catalog(project, capsys):
    _, doc, _, _ = sarif(["train.py"], capsys)
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    infos = catalog()
    assert [r["id"] for r in rules] == [i.code for i in infos]
    assert len(infos) > 2  # rules without findings are listed too
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for rule, info in zip(rules, infos):
        assert rule["name"] == info.name
        assert rule["shortDescription"] == {"text": info.summary}
        assert rule["defaultConfiguration"] == {"level": levels[info.severity.value]}
        assert rule["helpUri"] == f"https://github.com/cnnlint/cnnlint/blob/main/rules/{info.code}.md"
        with open(page_path(info.code), encoding="utf-8") as fh:
            page = fh.read()
        assert rule["help"] == {"text": page, "markdown": page}
        what = rule["fullDescription"]["text"]
        assert what and what in page
        assert "## " not in what and what == what.strip()


def test_sarif_rule_descriptions_exact(project, capsys):
    _, doc, _, _ = sarif(["train.py"], capsys)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    cnl001 = rules["CNL001"]
    assert cnl001["name"] == "unreadable-file"
    assert cnl001["shortDescription"] == {"text": "File cannot be read or parsed"}
    assert cnl001["defaultConfiguration"] == {"level": "error"}
    assert cnl001["fullDescription"]["text"].startswith("Reports a file cnnlint could not read or parse: a syntax error")
    assert cnl001["fullDescription"]["text"].endswith("rest of the script is still linted, the way a notebook cell is.")
    assert rules["CNL201"]["name"] == "gradients-never-cleared"
    assert rules["CNL201"]["help"]["markdown"].startswith("# CNL201: gradients-never-cleared\n")
    assert rules["CNL201"]["fullDescription"]["text"].startswith("Finds a PyTorch training loop that calls")


def test_sarif_results_exact(project, capsys):
    _, doc, _, _ = sarif(["."], capsys)
    run_ = doc["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    got = []
    for r in run_["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        [loc] = r["locations"]
        phys = loc["physicalLocation"]
        got.append((r["ruleId"], r["level"], phys["artifactLocation"], phys.get("region"), r["message"]["text"]))
    src = "%SRCROOT%"
    assert got == [
        ("CNL001", "error", {"uri": "broken.py", "uriBaseId": src}, {"startLine": 1, "startColumn": 7},
         f"{SYNTAX_MESSAGE}.\nHint: {SYNTAX_HINT}"),
        ("CNL401", "warning", {"uri": "nb.ipynb", "uriBaseId": src}, None,
         f"cell 2, line 2: {TF_MESSAGE}.\nHint: {TF_HINT}"),
        ("CNL401", "warning", {"uri": "requirements.txt", "uriBaseId": src},
         {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 14}, f"{CV_MESSAGE}.\nHint: {CV_HINT}"),
        ("CNL401", "note", {"uri": "requirements.txt", "uriBaseId": src},
         {"startLine": 2, "startColumn": 1, "endLine": 2, "endColumn": 11}, f"{TORCH_MESSAGE}.\nHint: {TORCH_HINT}"),
        ("CNL201", "error", {"uri": "train.py", "uriBaseId": src},
         {"startLine": 5, "startColumn": 5, "endLine": 5, "endColumn": 20}, f"{CNL201_MESSAGE}.\nHint: {CNL201_HINT}"),
    ]
    assert [r["ruleIndex"] for r in run_["results"]] == [
        [i.code for i in catalog()].index(code) for code in ("CNL001", "CNL401", "CNL401", "CNL401", "CNL201")
    ]


def test_sarif_notebook_result_has_no_json_region(project, capsys):
    _, doc, _, _ = sarif(["nb.ipynb"], capsys)
    [r] = doc["runs"][0]["results"]
    assert r["locations"] == [
        {"physicalLocation": {"artifactLocation": {"uri": "nb.ipynb", "uriBaseId": "%SRCROOT%"}}}
    ]
    assert r["message"]["text"].startswith("cell 2, line 2: `tensorflow` is installed")
    assert r["properties"] == {"notebookCell": {"cell": 2, "line": 2, "column": 14, "endLine": 2, "endColumn": 24}}


def test_sarif_script_results_have_no_property_bag(project, capsys):
    _, doc, _, _ = sarif(["train.py"], capsys)
    [r] = doc["runs"][0]["results"]
    assert set(r) == {"ruleId", "ruleIndex", "level", "message", "locations"}


def test_sarif_clean_run_has_no_results_but_all_rules(project, capsys):
    (project / "clean.py").write_text("import os\nprint(os.getcwd())\n")
    status, doc, _, err = sarif(["clean.py"], capsys)
    assert (status, err) == (0, "")
    assert doc["runs"][0]["results"] == []
    assert len(doc["runs"][0]["tool"]["driver"]["rules"]) == len(catalog())


def test_sarif_subfolder_and_odd_names_are_percent_encoded_posix_uris(project, capsys):
    (project / "my src").mkdir()
    (project / "my src" / "train #1, 50%.py").write_text(LOOP)
    _, doc, _, _ = sarif(["my src"], capsys)
    [r] = doc["runs"][0]["results"]
    assert r["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "my%20src/train%20%231%2C%2050%25.py", "uriBaseId": "%SRCROOT%"
    }


def test_sarif_output_file(project, capsys):
    status, out, _ = run(["train.py", "--format", "sarif", "-o", "cnnlint.sarif"], capsys)
    assert (status, out) == (1, "")
    doc = json.loads((project / "cnnlint.sarif").read_text())
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["CNL201"]


def test_artifact_location():
    assert artifact_location("train.py") == {"uri": "train.py", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("./a/../b/x.py") == {"uri": "b/x.py", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("a:b.py") == {"uri": "a%3Ab.py", "uriBaseId": "%SRCROOT%"}
    assert artifact_location("dätä/x.py") == {"uri": "d%C3%A4t%C3%A4/x.py", "uriBaseId": "%SRCROOT%"}
    absolute = os.path.abspath(os.path.join(os.sep, "srv", "my repo", "x.py"))
    assert artifact_location(absolute) == {"uri": pathlib.Path(absolute).as_uri()}
    if os.sep == "/":
        assert artifact_location("/srv/my repo/x.py") == {"uri": "file:///srv/my%20repo/x.py"}


def test_sarif_absolute_path_has_no_base_id(project, capsys):
    target = str(project.parent / f"{project.name}-outside.py")
    with open(target, "w") as fh:
        fh.write(LOOP)
    try:
        _, doc, _, _ = sarif([target], capsys)
    finally:
        os.remove(target)
    [r] = doc["runs"][0]["results"]
    loc = r["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": pathlib.Path(os.path.realpath(target)).as_uri()} or loc == {
        "uri": pathlib.Path(target).as_uri()
    }
    assert loc["uri"].startswith("file:///")


def _result(findings):
    doc = json.loads(render_sarif(findings, 1))
    return doc["runs"][0]


def test_sarif_regions_from_partial_positions():
    f = [
        Finding("CNL201", Severity.ERROR, "no end", "a.py", 3, 2),
        Finding("CNL201", Severity.ERROR, "multi-line", "a.py", 3, 9, 5, 2),
        Finding("CNL201", Severity.ERROR, "end column before start on one line", "a.py", 3, 9, 3, 4),
        Finding("CNL201", Severity.ERROR, "empty region", "a.py", 3, 9, 3, 9),
        Finding("CNL201", Severity.ERROR, "no column", "a.py", 4, 0, 4, 7),
        Finding("CNL001", Severity.ERROR, "no line", "a.py", 0, 0),
        Finding("CNL201", Severity.ERROR, "end before start", "a.py", 6, 1, 2, 1),
    ]
    regions = [r["locations"][0]["physicalLocation"].get("region") for r in _result(f)["results"]]
    assert regions == [
        {"startLine": 3, "startColumn": 2},
        {"startLine": 3, "startColumn": 9, "endLine": 5, "endColumn": 2},
        {"startLine": 3, "startColumn": 9, "endLine": 3},
        {"startLine": 3, "startColumn": 9, "endLine": 3, "endColumn": 9},
        {"startLine": 4, "endLine": 4},
        None,
        {"startLine": 6, "startColumn": 1},
    ]


def test_sarif_finding_severity_overrides_rule_default():
    # CNL001 is an error rule; "file too large" is reported as a warning
    [r] = _result([Finding("CNL001", Severity.WARNING, "file too large to lint", "big.py")])["results"]
    assert r["level"] == "warning"
    [r] = _result([Finding("CNL201", Severity.INFO, "m", "a.py")])["results"]
    assert r["level"] == "note"


def test_sarif_unknown_code_gets_a_descriptor():
    run_ = _result([Finding("CNL999", Severity.WARNING, "m", "a.py", 1, 1), Finding("CNL999", Severity.WARNING, "n", "b.py")])
    rules = run_["tool"]["driver"]["rules"]
    assert rules[-1] == {"id": "CNL999", "defaultConfiguration": {"level": "warning"}}
    assert [r["ruleIndex"] for r in run_["results"]] == [len(rules) - 1] * 2
    assert [r["id"] for r in rules].count("CNL999") == 1


def test_sarif_without_rule_pages(monkeypatch):
    """A wheel whose pages are missing still gives a valid descriptor with helpUri."""
    monkeypatch.setattr("cnnlint.lint.pages.page_path", lambda code: None)
    rule = _result([])["tool"]["driver"]["rules"][0]
    assert rule == {
        "id": "CNL001",
        "name": "unreadable-file",
        "shortDescription": {"text": "File cannot be read or parsed"},
        "helpUri": "https://github.com/cnnlint/cnnlint/blob/main/rules/CNL001.md",
        "defaultConfiguration": {"level": "error"},
    }


def test_sarif_output_is_ascii_json():
    out = render_sarif([Finding("CNL201", Severity.ERROR, "größe `x`", "ä.py", 1, 1)], 1)
    assert out.isascii() and out.endswith("}\n")
    [r] = json.loads(out)["runs"][0]["results"]
    assert r["message"]["text"] == "größe `x`"


def test_message_text():
    def f(message, hint="", cell=None, line=4):
        return message_text(Finding("CNL201", Severity.ERROR, message, "a.py", line, 1, hint=hint, cell=cell))

    assert f("plain") == "plain"
    assert f("plain", "do this") == "plain.\nHint: do this"
    assert f("ends with a period.", "do this") == "ends with a period.\nHint: do this"
    assert f("ends with a question?", "x") == "ends with a question?\nHint: x"
    assert f("in a cell", "x", cell=3, line=2) == "cell 3, line 2: in a cell.\nHint: x"
    assert f("in a cell", cell=1, line=7) == "cell 1, line 7: in a cell"


# ---------------------------------------------------------------- GitHub


def github(args, capsys):
    return run(list(args) + ["--format", "github"], capsys)


def test_github_lines_exact(project, capsys):
    status, out, err = github(["."], capsys)
    assert (status, err) == (1, "")
    assert out.splitlines() == [
        f"::error file=broken.py,line=1,col=7,title=CNL001::{SYNTAX_MESSAGE}.%0AHint: {SYNTAX_HINT}",
        f"::warning file=nb.ipynb,title=CNL401::cell 2, line 2: {TF_MESSAGE}.%0AHint: {TF_HINT}",
        f"::warning file=requirements.txt,line=1,col=1,endLine=1,endColumn=14,title=CNL401::{CV_MESSAGE}.%0AHint: {CV_HINT}",
        f"::notice file=requirements.txt,line=2,col=1,endLine=2,endColumn=11,title=CNL401::{TORCH_MESSAGE}.%0AHint: {TORCH_HINT}",
        f"::error file=train.py,line=5,col=5,endLine=5,endColumn=20,title=CNL201::{CNL201_MESSAGE}.%0AHint: {CNL201_HINT}",
    ]
    assert out.endswith("\n") and "Found" not in out


def test_github_escapes_paths_and_messages(project, capsys):
    (project / "we,ird: 50%.py").write_text(LOOP)
    _, out, _ = github(["we,ird: 50%.py"], capsys)
    assert out == (
        "::error file=we%2Cird%3A 50%25.py,line=5,col=5,endLine=5,endColumn=20,title=CNL201::"
        f"{CNL201_MESSAGE}.%0AHint: {CNL201_HINT}\n"
    )


def test_github_subfolder_path_uses_slashes(project, capsys):
    (project / "src").mkdir()
    (project / "src" / "train.py").write_text(LOOP)
    _, out, _ = github([os.path.join("src", "train.py")], capsys)
    assert out.startswith("::error file=src/train.py,line=5,col=5,")


def test_github_absolute_path_inside_the_workspace_is_made_relative(project, capsys):
    _, out, _ = github([str(project / "train.py")], capsys)
    assert out.startswith("::error file=train.py,line=5,col=5,endLine=5,endColumn=20,title=CNL201::")


def test_github_escaping_functions():
    assert escape_data("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext: a, b"
    assert escape_property("100% done\r\nnext: a, b") == "100%25 done%0D%0Anext%3A a%2C b"
    # % first: an escaped sequence is not escaped twice
    assert escape_data("%0A") == "%250A"


def test_github_message_with_newline_percent_colon_comma():
    f = Finding("CNL201", Severity.WARNING, "a: 50%, b\nsecond", "x,y:z.py", 2, 3, 2, 8, hint="h: 1, 2")
    assert render_github([f]) == (
        "::warning file=x%2Cy%3Az.py,line=2,col=3,endLine=2,endColumn=8,title=CNL201::"
        "a: 50%25, b%0Asecond.%0AHint: h: 1, 2\n"
    )


def test_github_severity_mapping_and_partial_positions():
    findings = [
        Finding("CNL201", Severity.ERROR, "e", "a.py", 1, 1, 1, 2),
        Finding("CNL101", Severity.WARNING, "w", "a.py", 2, 4),
        Finding("CNL401", Severity.INFO, "i", "requirements.txt", 3, 1, 4, 5),
        Finding("CNL001", Severity.ERROR, "unknown line", "b.py", 0, 0),
        Finding("CNL401", Severity.INFO, "n", "nb.ipynb", 2, 5, 2, 9, hint="pin", cell=4),
    ]
    assert render_github(findings).splitlines() == [
        "::error file=a.py,line=1,col=1,endLine=1,endColumn=2,title=CNL201::e",
        "::warning file=a.py,line=2,col=4,title=CNL101::w",
        "::notice file=requirements.txt,line=3,endLine=4,title=CNL401::i",
        "::error file=b.py,title=CNL001::unknown line",
        "::notice file=nb.ipynb,title=CNL401::cell 4, line 2: n.%0AHint: pin",
    ]


def test_github_multi_line_range_has_no_columns():
    """The Actions toolkit: `col` and `endColumn` cannot be sent when `line` and `endLine` differ."""
    findings = [
        Finding("CNL201", Severity.ERROR, "m", "a.py", 3, 9, 5, 2),
        Finding("CNL201", Severity.ERROR, "m", "a.py", 3, 9, 5, None),
        Finding("CNL201", Severity.ERROR, "s", "a.py", 7, 2, 7, 6),
    ]
    assert render_github(findings).splitlines() == [
        "::error file=a.py,line=3,endLine=5,title=CNL201::m",
        "::error file=a.py,line=3,endLine=5,title=CNL201::m",
        "::error file=a.py,line=7,col=2,endLine=7,endColumn=6,title=CNL201::s",
    ]


def test_github_nothing_found_prints_nothing(project, capsys):
    (project / "clean.py").write_text("import os\nprint(os.getcwd())\n")
    assert github(["clean.py"], capsys) == (0, "", "")
    assert render_github([]) == ""


def test_github_exit_status_follows_fail_on(project, capsys):
    (project / "reqs").mkdir()
    (project / "reqs" / "requirements.txt").write_text("torch>=2.0\n")
    status, out, _ = github(["reqs"], capsys)
    assert status == 0  # info only: below the default --fail-on warning
    assert out.startswith("::notice file=reqs/requirements.txt,line=1,")
    status, _, _ = github(["reqs", "--fail-on", "info"], capsys)
    assert status == 1
    status, out, _ = github(["nb.ipynb"], capsys)
    assert status == 1 and out.startswith("::warning ")
    status, _, _ = github(["train.py", "--fail-on", "error"], capsys)
    assert status == 1
    status, _, _ = github(["nb.ipynb", "--fail-on", "error"], capsys)
    assert status == 0
