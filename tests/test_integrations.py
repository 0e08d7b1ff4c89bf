"""The pre-commit hook (.pre-commit-hooks.yaml) and the GitHub Action (action.yml), run for real.

The end-to-end tests install cnnlint from this checkout with pip (pre-commit's own
hook environment; a fresh venv for the action), which fetches the dependencies from
PyPI: about a minute each on a cold pip cache. Locally they are skipped when git,
bash or pre-commit is missing; in CI (the CI environment variable set) they fail.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import venv
from typing import Dict, List, Optional

import pytest
import yaml

from cnnlint.sources.read import classify

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FLAWED = """\
import torch
from torch import nn

model = nn.Linear(4, 2)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
loss_fn = nn.CrossEntropyLoss()
loader = [(torch.randn(8, 4), torch.randint(0, 2, (8,))) for _ in range(10)]

for epoch in range(3):
    for images, labels in loader:
        loss = loss_fn(model(images), labels)
        loss.backward()
        optimizer.step()
"""
FIXED = FLAWED.replace(
    "    for images, labels in loader:\n",
    "    for images, labels in loader:\n        optimizer.zero_grad()\n",
)
CNL201_MESSAGE = (
    "`optimizer.step()` runs every iteration of this loop, but `optimizer`'s gradients are never cleared, "
    "so each `backward()` adds to the gradients of all earlier iterations"
)
CNL201_HINT = "call `optimizer.zero_grad()` at the top of the loop body (or right before `loss.backward()`)"


def _need(tool: str) -> str:
    """The path of `tool`; skip without it, except in CI, where its absence is a failure."""
    found = shutil.which(tool)
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is required in CI")
        pytest.skip(f"{tool} is not installed")
    return found


def _clean_env(**extra: str) -> Dict[str, str]:
    """The environment for child processes: no state of an enclosing git hook or of this source tree."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def _git_env(tmp_path) -> Dict[str, str]:
    config = tmp_path / "gitconfig"
    config.write_text(
        "[user]\n\tname = cnnlint tests\n\temail = tests@cnnlint.invalid\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    return _clean_env(GIT_CONFIG_GLOBAL=str(config), GIT_CONFIG_NOSYSTEM="1")


def _git(args: List[str], cwd, env) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def _readme_block(heading: str, info: str) -> str:
    """The first ```info fenced block of the README section `## heading`."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    section = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert section, f"README has no '## {heading}' section"
    block = re.search(rf"^```{info}\n(.*?)^```", section.group(1), re.S | re.M)
    assert block, f"README '## {heading}' has no ```{info} block"
    return block.group(1)


# ------------------------------------------------------------------------ pre-commit hook


def _hooks() -> List[dict]:
    with open(os.path.join(ROOT, ".pre-commit-hooks.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_hook_definition():
    (hook,) = _hooks()
    assert hook["id"] == hook["name"] == "cnnlint"
    assert hook["entry"] == "cnnlint"  # static rules only: no dataset, no probe, no extra flags
    assert "args" not in hook
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "jupyter", "text"]
    assert hook["require_serial"] is False
    assert hook.get("pass_filenames", True) is True
    assert hook["minimum_pre_commit_version"] == "2.9.0"  # the first with types_or


def _need_pre_commit() -> None:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("pre-commit is required in CI (the `test` extra)")
        pytest.skip("pre-commit is not installed")


def test_pre_commit_accepts_the_manifest_and_the_readme_config(tmp_path):
    _need_pre_commit()
    validate = [sys.executable, "-m", "pre_commit", "validate-manifest", os.path.join(ROOT, ".pre-commit-hooks.yaml")]
    proc = subprocess.run(validate, capture_output=True, text=True, env=_clean_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(_readme_block("pre-commit", "yaml"))
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", str(config)], capture_output=True,
                          text=True, env=_clean_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr


# name -> whether cnnlint reads it (and so whether the hook must receive it)
HOOK_FILES = {
    "train.py": True,
    "src/models/resnet.py": True,
    "notebooks/EDA.ipynb": True,
    "requirements.txt": True,
    "requirements-dev.txt": True,
    "dev-requirements.in": True,
    "docker/requirements_gpu.txt": True,
    "Requirements.TXT": True,
    "requirements.pip": True,
    "requirements/base.txt": True,
    "requirements/base.in": True,
    "environment.yml": True,
    "envs/environment-cuda.yaml": True,
    "README.md": False,
    "setup.cfg": False,
    "pyproject.toml": False,
    "notes.txt": False,
    "constraints.in": False,
    "requirements.txt.orig": False,
    "requirements/README.md": False,
    "requirement.txt": True,  # the common misspelling
    "src/Requirement.in": True,
    "requirement_notes.txt": False,
    "my_requirement.txt": False,
    "conda-environment.yml": False,
    "config.yaml": False,
    "data/labels.csv": False,
    "stubs/model.pyi": False,
    "bin/train": False,  # a Python script without .py: identify calls it python, cnnlint skips it
}


@pytest.mark.parametrize("name", sorted(HOOK_FILES))
def test_hook_receives_exactly_the_files_cnnlint_reads(name, tmp_path):
    """pre-commit keeps a file when `files` matches AND its identify tags meet `types_or`."""
    (hook,) = _hooks()
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/usr/bin/env python3\nimport torch\n" if name == "bin/train" else "torch\n")
    if name == "bin/train":
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    assert (classify(str(path)) is not None) is HOOK_FILES[name]
    kept = re.search(hook["files"], name) is not None
    try:
        from identify import identify
    except ImportError:  # pre-commit not installed: the regex alone
        identify = None
    if identify is not None:
        kept = kept and bool(identify.tags_from_path(str(path)) & set(hook["types_or"]))
    assert kept is HOOK_FILES[name]


def _checkout_files(env, use_git: bool = True) -> List[str]:
    """The files of this checkout's working tree (relative paths), tracked or untracked, not ignored:
    as git lists them, or for an unpacked source archive (no git) by walking it with the root .gitignore."""
    if use_git:
        inside = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=ROOT, env=env, capture_output=True, text=True)
        if inside.returncode == 0 and os.path.samefile(inside.stdout.strip(), ROOT):
            listed = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT, env)
            # a tracked file deleted in the working tree is left out
            return sorted(n for n in listed.split("\0") if n and os.path.isfile(os.path.join(ROOT, n)))
    import pathspec

    from cnnlint.sources.walk import SKIP_DIRS

    lines: List[str] = []
    if os.path.isfile(os.path.join(ROOT, ".gitignore")):
        with open(os.path.join(ROOT, ".gitignore"), encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    names = []
    for folder, dirs, files in os.walk(ROOT):
        rel = os.path.relpath(folder, ROOT).replace(os.sep, "/")
        rel = "" if rel == "." else rel + "/"
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not spec.match_file(rel + d + "/"))
        names += [rel + f for f in files if not spec.match_file(rel + f)]
    return sorted(names)


def test_checkout_listing_without_git_matches_git():
    """The fallback listing (no git) takes the files git would take, so the hook test sees the same tree."""
    env = _clean_env()
    if shutil.which("git") is None or subprocess.run(["git", "rev-parse"], cwd=ROOT, env=env, capture_output=True).returncode:
        pytest.skip("not a git checkout")
    assert _checkout_files(env, use_git=False) == _checkout_files(env)


def _snapshot_checkout(dest, env) -> str:
    """This checkout's working tree, uncommitted and untracked (not ignored) files included, committed
    to a new repository at `dest`: pre-commit clones a hook repository at a commit. The commit's sha."""
    os.makedirs(dest)
    names = _checkout_files(env)
    for name in names:
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), target)
    _git(["init", "-q"], dest, env)
    _git(["add", "-A"], dest, env)
    _git(["commit", "-q", "-m", "snapshot of the cnnlint checkout under test"], dest, env)
    return _git(["rev-parse", "HEAD"], dest, env).strip()


def test_pre_commit_hook_refuses_then_accepts_a_commit(tmp_path):
    """The README's .pre-commit-config.yaml, pointed at this checkout: a CNL201 error blocks the commit,
    the fixed script goes through."""
    _need("git")
    _need_pre_commit()
    env = _git_env(tmp_path)
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
    hook_repo = str(tmp_path / "cnnlint-snapshot")
    sha = _snapshot_checkout(hook_repo, env)

    config = yaml.safe_load(_readme_block("pre-commit", "yaml"))
    (entry,) = config["repos"]
    assert entry == {"repo": "https://github.com/cnnlint/cnnlint", "rev": "v0.1.0", "hooks": [{"id": "cnnlint"}]}
    entry.update(repo=hook_repo, rev=sha)

    project = tmp_path / "project"
    project.mkdir()
    _git(["init", "-q"], project, env)
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    (project / "train.py").write_text(FLAWED)
    (project / "notes.md").write_text("loss.backward() without zero_grad in prose is not linted\n")
    (project / "Pipfile").write_text("[packages]\ntorch = '==2.3.1'\n")  # records torch (CNL403); not linted
    pre_commit = [sys.executable, "-m", "pre_commit"]
    proc = subprocess.run([*pre_commit, "install"], cwd=project, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _git(["add", "-A"], project, env)

    refused = subprocess.run(["git", "commit", "-m", "train"], cwd=project, env=env, capture_output=True, text=True, timeout=900)
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert re.search(r"^cnnlint\.+Failed$", output, re.M), output
    assert f"train.py:12:9: CNL201 [error] {CNL201_MESSAGE}\n  hint: {CNL201_HINT}\n" in output
    assert "Found 1 finding (1 error) in 1 of 1 file." in output  # only train.py was handed to cnnlint
    head = subprocess.run(["git", "rev-parse", "-q", "--verify", "HEAD"], cwd=project, env=env, capture_output=True)
    assert head.returncode != 0

    (project / "train.py").write_text(FIXED)
    _git(["add", "train.py"], project, env)
    accepted = subprocess.run(["git", "commit", "-m", "train"], cwd=project, env=env, capture_output=True, text=True, timeout=900)
    output = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, output
    assert re.search(r"^cnnlint\.+Passed$", output, re.M), output
    assert "CNL201" not in output
    assert _git(["log", "--format=%s"], project, env) == "train\n"
    assert _git(["status", "--porcelain"], project, env) == ""  # the hook left nothing behind to commit


# ------------------------------------------------------------------------ GitHub Action


def _action() -> dict:
    with open(os.path.join(ROOT, "action.yml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _step(name: str) -> dict:
    (step,) = [s for s in _action()["runs"]["steps"] if s["name"] == name]
    return step


EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _evaluate(expression: str, inputs: Dict[str, str]) -> str:
    """The value of the few expressions the action may use; anything else fails the test."""
    match = re.fullmatch(r"inputs\.([A-Za-z_][\w-]*)", expression)
    if match:
        name = match.group(1)
        declared = _action()["inputs"]
        assert name in declared, f"undeclared input {name}"
        return inputs.get(name, declared[name].get("default", ""))
    assert expression == "github.action_path", f"unexpected expression ${{{{ {expression} }}}}"
    return ROOT


def _condition(expression: Optional[str], inputs: Dict[str, str]) -> bool:
    if expression is None:
        return True
    expression = EXPRESSION.sub(lambda m: m.group(1), str(expression)).strip()
    match = re.fullmatch(r"inputs\.([\w-]+) (==|!=) ''", expression)
    assert match, f"unexpected condition {expression!r}"
    empty = _evaluate(f"inputs.{match.group(1)}", inputs) == ""
    return empty if match.group(2) == "==" else not empty


def _run_step(step: dict, inputs: Dict[str, str], cwd, path_prefix: str, tmp_path) -> Optional[subprocess.CompletedProcess]:
    """Run one step as the runner does (`bash --noprofile --norc -eo pipefail FILE`); None when its `if` is false."""
    if not _condition(step.get("if"), inputs):
        return None
    assert step["shell"] == "bash"
    env = _clean_env(PIP_DISABLE_PIP_VERSION_CHECK="1")
    env["PATH"] = path_prefix + os.pathsep + env.get("PATH", "")
    for key, value in step.get("env", {}).items():
        env[key] = EXPRESSION.sub(lambda m: _evaluate(m.group(1), inputs), str(value))
    script = tmp_path / "step.sh"
    script.write_text(step["run"])
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
    )


def test_action_definition():
    action = _action()
    assert action["name"] == "cnnlint" and action["description"]
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    assert set(inputs) == {"paths", "args", "version", "sarif"}
    assert {k: v["default"] for k, v in inputs.items()} == {"paths": ".", "args": "", "version": "", "sarif": ""}
    assert all(v["description"] and v["required"] is False for v in inputs.values())
    steps = action["runs"]["steps"]
    assert [s["name"] for s in steps] == ["Install cnnlint", "Write the SARIF report", "Run cnnlint"]
    for step in steps:
        assert step["shell"] == "bash"
        # inputs reach the scripts through env:, never spliced into shell code
        assert "${{" not in step["run"], step["name"]
    assert steps[1]["if"] == "inputs.sarif != ''"
    assert "--format sarif" in steps[1]["run"] and "--format github" in steps[2]["run"]


@pytest.mark.parametrize(
    "version, requirement",
    [
        ("", ROOT),
        ("0.1.0", "cnnlint==0.1.0"),
        ("v0.1.0", "cnnlint==0.1.0"),
        (">=0.1,<0.2", "cnnlint>=0.1,<0.2"),
    ],
)
def test_action_install_step_respects_version(version, requirement, tmp_path):
    _need("bash")
    shim = tmp_path / "bin"
    shim.mkdir()
    log = tmp_path / "python-args"
    (shim / "python").write_text(f'#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done > "{log}"\n')
    (shim / "python").chmod(0o755)
    proc = _run_step(_step("Install cnnlint"), {"version": version}, tmp_path, str(shim), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert log.read_text().splitlines() == ["-m", "pip", "install", "--disable-pip-version-check", requirement]


@pytest.fixture(scope="module")
def action_env(tmp_path_factory):
    """A fresh virtual environment with cnnlint installed by the action's own install step; its bin folder."""
    _need("bash")
    where = tmp_path_factory.mktemp("action-venv")
    venv.EnvBuilder(with_pip=True).create(str(where / "venv"))
    bindir = str(where / "venv" / ("Scripts" if os.name == "nt" else "bin"))
    proc = _run_step(_step("Install cnnlint"), {}, where, bindir, where)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return bindir


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "workspace"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "train.py").write_text(FLAWED)
    (ws / "requirements.txt").write_text("torchvision\n")
    (ws / "README.md").write_text("# project\n")
    return ws


def _run_action(inputs, workspace, bindir, tmp_path):
    """The steps after installation, in order, as the runner would run them: step name -> result."""
    results = {}
    for step in _action()["runs"]["steps"][1:]:
        results[step["name"]] = _run_step(step, inputs, workspace, bindir, tmp_path)
    return results


ANNOTATION_CNL201 = (
    "::error file=src/train.py,line=12,col=9,endLine=12,endColumn=24,title=CNL201::"
    f"{CNL201_MESSAGE}.%0AHint: {CNL201_HINT}"
)
ANNOTATION_CNL401 = (
    "::warning file=requirements.txt,line=1,col=1,endLine=1,endColumn=12,title=CNL401::"
    "`torchvision` has no version in requirements.txt; a new release can break the next install."
    "%0AHint: pin it to the version you tested with: `torchvision==X.Y.Z`"  # not installed in the action's venv
)


def test_action_annotations_and_sarif(action_env, workspace, tmp_path):
    inputs = {"paths": "src 'requirements.txt'", "args": "--select CNL2,CNL401 --no-cache", "sarif": "reports/cnnlint.sarif"}
    results = _run_action(inputs, workspace, action_env, tmp_path)

    sarif_step = results["Write the SARIF report"]
    assert sarif_step.returncode == 0, sarif_step.stderr  # findings (exit 1) must not stop the job here
    assert sarif_step.stdout == "cnnlint: SARIF report written to reports/cnnlint.sarif\n"
    with open(workspace / "reports" / "cnnlint.sarif", encoding="utf-8") as fh:
        sarif = json.load(fh)
    assert sarif["version"] == "2.1.0"
    (run,) = sarif["runs"]
    assert sorted(r["ruleId"] for r in run["results"]) == ["CNL201", "CNL401"]

    lint = results["Run cnnlint"]
    assert lint.returncode == 1, lint.stderr  # the job fails on findings
    lines = lint.stdout.splitlines()
    assert len(lines) == 2, lint.stdout
    assert lines == [ANNOTATION_CNL401, ANNOTATION_CNL201]


def test_action_without_sarif_and_with_fail_on(action_env, workspace, tmp_path):
    """No `sarif`: that step is skipped. `--fail-on error` with the script fixed: a warning annotation, and a pass."""
    (workspace / "src" / "train.py").write_text(FIXED)
    results = _run_action({"args": "--fail-on error --ignore CNL403"}, workspace, action_env, tmp_path)
    assert results["Write the SARIF report"] is None
    assert not (workspace / "cnnlint.sarif").exists()
    lint = results["Run cnnlint"]
    assert lint.returncode == 0, lint.stderr
    assert lint.stdout.splitlines() == [ANNOTATION_CNL401]


def test_action_clean_project_passes_quietly(action_env, workspace, tmp_path):
    (workspace / "src" / "train.py").write_text(FIXED)
    (workspace / "requirements.txt").write_text("torchvision==0.18.1\n")
    results = _run_action({"sarif": "cnnlint.sarif"}, workspace, action_env, tmp_path)
    assert results["Write the SARIF report"].returncode == 0
    with open(workspace / "cnnlint.sarif", encoding="utf-8") as fh:
        assert json.load(fh)["runs"][0]["results"] == []
    lint = results["Run cnnlint"]
    assert (lint.returncode, lint.stdout) == (0, "")


def test_action_reports_usage_errors(action_env, workspace, tmp_path):
    """A bad flag (exit 2) fails the SARIF step too, and an unbalanced quote in `args` fails before cnnlint runs."""
    results = _run_action({"args": "--select CNL999", "sarif": "cnnlint.sarif"}, workspace, action_env, tmp_path)
    assert results["Write the SARIF report"].returncode == 2
    assert "unknown rule code or prefix CNL999" in results["Write the SARIF report"].stderr
    assert results["Run cnnlint"].returncode == 2
    quote = _run_action({"args": "--select 'CNL2"}, workspace, action_env, tmp_path)["Run cnnlint"]
    assert quote.returncode != 0 and "No closing quotation" in quote.stderr and quote.stdout == ""


def test_readme_workflow_uses_the_action_and_uploads_sarif():
    workflow = yaml.safe_load(_readme_block("GitHub Action", "yaml"))
    # PyYAML reads the bare key `on` as True (YAML 1.1)
    assert workflow.get("on", workflow.get(True)) == "pull_request"
    assert workflow["permissions"]["security-events"] == "write"
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/checkout@") and uses[1].startswith("actions/setup-python@")
    (action,) = [s for s in steps if s.get("uses") == "cnnlint/cnnlint@v0.1.0"]
    assert set(action["with"]) <= set(_action()["inputs"])
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["if"] == "always()"
    assert upload["with"]["sarif_file"] == action["with"]["sarif"] == "cnnlint.sarif"
    assert steps.index(upload) > steps.index(action)


@pytest.mark.parametrize("heading", ["Fixing findings", "Baselines"])
def test_readme_commands_parse(heading):
    """Each command in the section's ```sh block is one the CLI accepts."""
    from cnnlint.cli import _lint_parser

    commands = [line.split("#")[0].strip() for line in _readme_block(heading, "sh").splitlines()]
    commands = [shlex.split(c) for c in commands if c]
    assert len(commands) == 2
    for words in commands:
        assert words[0] == "cnnlint"
        _lint_parser().parse_args(words[1:])  # exits (status 2) on an unknown flag
    flags = {w for words in commands for w in words if w.startswith("--")}
    assert flags == ({"--diff", "--fix"} if heading == "Fixing findings" else {"--write-baseline", "--baseline"})
