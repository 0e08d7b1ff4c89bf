"""CNL401's messages and hints for a verdict, and its fixes: pin to the installed version."""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from packaging.utils import canonicalize_name

from cnnlint.findings import Fix
from cnnlint.lint.dependencies import RANGE, Verdict, fix_version, suggested_version
from cnnlint.lint.pip.commands import Problem
from cnnlint.sources.manifest import Entry

def _pin(verdict: Verdict) -> Tuple[str, bool]:
    """The pinned requirement to suggest, and whether its version is the installed one."""
    version = suggested_version(verdict)
    op = "=" if verdict.conda else "=="
    return f"{verdict.name}{verdict.extras}{op}{version or 'X.Y.Z'}", version is not None


def hint_for(verdict: Verdict, tool: str = "", redirect: bool = False) -> str:
    if verdict.how == "vcs-noref":
        return "pin it to a commit: append `@<commit sha>` (or a release tag) to the URL"
    if verdict.how == "vcs-branch":
        return f"pin it to a commit: `@<commit sha>` (or a release tag) in place of `@{verdict.ref}`"
    if verdict.how == "archive-branch":
        return "install a release (`name==X.Y.Z`) or the archive of a commit or tag instead of a branch"
    pin, known = _pin(verdict)
    if redirect:
        return f'quote the requirement and pin it: `{tool} "{pin}"`'
    if verdict.status == RANGE:
        return f"pin the version you tested with: `{pin}`" if known else f"pin the exact version you tested with: `{pin}`"
    return f"pin it: `{pin}`" if known else f"pin it to the version you tested with: `{pin}`"


def message_for(verdict: Verdict, tool: str = "", place: str = "", consequence: str = "", upgrade: bool = False) -> str:
    """The finding's message; `tool` for install commands, `place` (the file) for manifests."""
    name = f"`{verdict.name}`"
    subject = f"{name} in {place}" if place else name
    by = f" by `{tool}`" if tool else ""
    if verdict.how == "vcs-noref":
        return (
            f"{subject} is installed from {verdict.vcs} without a commit or tag{by}; "
            "every install gets whatever the default branch holds then"
        )
    if verdict.how == "vcs-branch":
        return (
            f"{subject} is installed from the `{verdict.ref}` branch of its {verdict.vcs} repository{by}; "
            "every install gets whatever the branch holds then"
        )
    if verdict.how == "archive-branch":
        return (
            f"{subject} is installed from an archive of the `{verdict.ref}` branch{by}; "
            "every install gets whatever the branch holds then"
        )
    if verdict.status == RANGE:
        if place:
            return f"`{verdict.shown}` in {place} does not reproduce: each install takes the newest version that matches"
        return f"`{verdict.shown}` does not reproduce: `{tool}` takes the newest version that matches"
    if place:
        return f"{name} has no version in {place}; a new release can break the next install"
    if upgrade:
        return (
            f"{name} is installed with --upgrade and no version; "
            f"--upgrade installs whatever is newest, so {consequence}"
        )
    return f"{name} is installed without a version{by}; {consequence}"


_REQ_HEAD = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\s*\[[^\]]*\])?")


def pin_edit(written: str, value: str, verdict: Verdict) -> Optional[Tuple[int, int, str]]:
    """The edit that pins a requirement: (start, end) in `written` (the requirement as it
    appears in the source, shell quotes included) and the text for it, `==1.2.3`.

    Name, extras and environment markers stay; a range (`>=2.0`) is replaced.
    """
    if written == value:
        base = 0
    elif len(written) >= 2 and written[0] == written[-1] and written[0] in "'\"" and written[1:-1] == value:
        base = 1
    else:
        return None
    if "@" in value or "${" in value:
        return None
    m = _REQ_HEAD.match(value)
    if m is None or canonicalize_name(m.group(1)) != verdict.key:
        return None
    version = fix_version(verdict, value)
    if version is None:
        return None
    start = m.end()
    spec = value[start:].split(";", 1)[0]
    end = start + len(spec.rstrip()) if spec.strip() else start
    return base + start, base + end, f"=={version}"


def word_pin(text: str, problem: Problem) -> Optional[Tuple[int, int, str]]:
    """pin_edit for an install command's word; offsets from the word's start in `text`.

    An unquoted `torch>=2.0` (a redirect to the shell) is pinned as a whole: `torch==2.3.1`.
    """
    verdict = problem.verdict
    if verdict is None or problem.file:
        return None
    word = problem.word
    cut = word.cut if problem.redirect else ""
    if cut and text[word.end : word.end + len(cut)] != cut:
        return None
    return pin_edit(text[word.start : word.end + len(cut)], word.text + cut, verdict)


def fix_at(line: int, column: int, edit: Tuple[int, int, str], problem: Problem) -> Fix:
    """The Fix for an edit at offsets from `column` + word start on one line."""
    start = column + problem.word.start
    name = problem.verdict.name if problem.verdict is not None else "the package"
    return Fix(line, start + edit[0], line, start + edit[1], edit[2], description=f"pin `{name}{edit[2]}`")


def manifest_fix(lines: List[str], entry: Entry, verdict: Verdict) -> Optional[Fix]:
    """The pin for a requirements line (or a line of the pip list of environment.yml),
    when the requirement is written on one line exactly as read; `lines`: the manifest's lines."""
    edit = pin_edit(entry.value, entry.value, verdict)
    if edit is None:
        return None
    start, end, text = edit
    line, column = entry.position(0)
    if entry.position(end)[0] != line:
        return None
    if not 0 < line <= len(lines) or lines[line - 1][column - 1 : column - 1 + end] != entry.value[:end]:
        return None
    return Fix(line, column + start, line, column + end, text, description=f"pin `{verdict.name}{text}`")
