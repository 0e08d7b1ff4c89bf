"""What an install command installs: `parse_command` reads `pip install`, `python -m pip
install`, `uv pip install`, `conda/mamba install|create` (with prefixes such as `sudo`, `env`);
`install_args` its packages, -r and -c files; `analyze_install` what to report about it."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from cnnlint.lint.dependencies import (
    PINNED,
    UNPINNED,
    Reader,
    Verdict,
    constrain,
    judge_conda,
    judge_editable,
    judge_requirement,
    merge,
)
from cnnlint.lint.pip.requirement_files import load_constraints, loose_requirements
from cnnlint.lint.pip.shell import Word

_FLAG, _VALUE, _UPGRADE, _REQ, _CONSTRAINT, _EDITABLE, _SPECFILE = (
    "flag", "value", "upgrade", "req", "constraint", "editable", "specfile",
)


def _table(kind: str, names: str) -> Dict[str, str]:
    return {f"--{name}": kind for name in names.split()}


# pip and uv pip: install and global options
PIP_LONG: Dict[str, str] = {
    "--requirement": _REQ,
    "--requirements": _REQ,
    "--constraint": _CONSTRAINT,
    "--constraints": _CONSTRAINT,
    "--override": _CONSTRAINT,
    "--overrides": _CONSTRAINT,
    "--editable": _EDITABLE,
    "--upgrade": _UPGRADE,
    **_table(
        _VALUE,
        "index-url extra-index-url find-links no-binary only-binary trusted-host target platform "
        "python-version implementation abi root prefix src upgrade-strategy config-settings "
        "config-setting global-option install-option progress-bar root-user-action report log "
        "log-file proxy retries timeout exists-action cert client-cert cache-dir python use-feature "
        "use-deprecated keyring-provider group resume-retries python-platform upgrade-package "
        "reinstall-package refresh-package no-build-isolation-package build-constraint "
        "build-constraints extra index default-index index-strategy resolution prerelease "
        "exclude-newer link-mode torch-backend directory project config-file color "
        "allow-insecure-host fork-strategy no-binary-package only-binary-package",
    ),
    **_table(
        _FLAG,
        "pre dry-run force-reinstall ignore-installed ignore-requires-python no-deps "
        "no-build-isolation use-pep517 no-use-pep517 check-build-dependencies "
        "break-system-packages compile no-compile no-warn-script-location no-warn-conflicts "
        "prefer-binary require-hashes no-clean user no-index quiet verbose isolated "
        "require-virtualenv no-input no-cache-dir disable-pip-version-check no-color debug "
        "no-python-version-warning system all-extras strict compile-bytecode no-build reinstall "
        "refresh offline no-cache native-tls no-progress no-sources no-config preview exact "
        "no-verify-hashes help version",
    ),
}
PIP_SHORT: Dict[str, str] = {
    "r": _REQ, "c": _CONSTRAINT, "e": _EDITABLE, "U": _UPGRADE,
    "i": _VALUE, "f": _VALUE, "t": _VALUE, "C": _VALUE, "p": _VALUE, "P": _VALUE, "b": _VALUE,
    "q": _FLAG, "v": _FLAG, "I": _FLAG, "n": _FLAG, "h": _FLAG, "V": _FLAG,
}
CONDA_LONG: Dict[str, str] = {
    "--file": _SPECFILE,
    **_table(
        _VALUE,
        "channel name prefix repodata-fn experimental solver subdir platform clone category "
        "root-prefix env",
    ),
    **_table(
        _FLAG,
        "yes quiet verbose dry-run json offline override-channels use-local strict-channel-priority "
        "no-channel-priority no-deps only-deps no-pin force-reinstall freeze-installed "
        "no-update-deps update-deps satisfied-skip-solve update-all update-specs copy mkdir "
        "clobber download-only show-channel-urls no-shortcuts insecure use-index-cache debug "
        "all no-default-packages no-banner no-rc help",
    ),
}
CONDA_SHORT: Dict[str, str] = {
    "c": _VALUE, "n": _VALUE, "p": _VALUE,
    "y": _FLAG, "q": _FLAG, "v": _FLAG, "d": _FLAG, "k": _FLAG, "S": _FLAG, "m": _FLAG,
    "C": _FLAG, "h": _FLAG,
}

_PIP_PROG = re.compile(r"^pip(?:\d+(?:\.\d+)*)?(?:\.exe)?$")
_PY_PROG = re.compile(r"^(?:python|pypy)(?:\d+(?:\.\d+)*)?[mw]?(?:\.exe)?$|^py(?:\.exe)?$")
_CONDA_PROG = re.compile(r"^(conda|mamba|micromamba)(?:\.exe)?$")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_PREFIXES = {"sudo", "env", "time", "nohup", "command", "exec", "nice"}


def _long_kind(option: str, table: Dict[str, str]) -> Optional[str]:
    """The option's kind; unique prefixes count (optparse and argparse accept them)."""
    kind = table.get(option)
    if kind is not None:
        return kind
    matches = {table[name] for name in table if name.startswith(option)} if len(option) > 3 else set()
    return matches.pop() if len(matches) == 1 else None


@dataclass
class Install:
    family: str  # "pip" | "conda"
    tool: str  # "pip install", "uv pip install", "conda install", ...
    args: List[Word]


def parse_command(words: List[Word]) -> Optional[Install]:
    """The install a simple command runs, or None (not an install, or not readable)."""
    n = len(words)
    i = 0
    while i < n and not words[i].dynamic:
        text = words[i].text
        if _ASSIGNMENT.match(text):
            i += 1
        elif text in _PREFIXES:
            i += 1
            while i < n and words[i].text.startswith("-"):
                i += 2 if words[i].text in ("-u", "-g", "-C", "-n") else 1
        else:
            break
    if i >= n or words[i].dynamic:
        return None
    prog = posixpath.basename(words[i].text.replace("\\", "/")).lower()
    i += 1
    if _PIP_PROG.match(prog):
        family, tool = "pip", "pip"
    elif _PY_PROG.match(prog):
        while i < n and words[i].text.startswith("-") and not words[i].text.startswith("-m"):
            i += 2 if words[i].text in ("-W", "-X") else 1
        if i >= n:
            return None
        if words[i].text == "-m":
            module = words[i + 1].text if i + 1 < n else ""
            i += 2
        elif words[i].text.startswith("-m"):
            module = words[i].text[2:]
            i += 1
        else:
            return None  # a script, not a module
        if module not in ("pip", "pip3"):
            return None
        family, tool = "pip", "pip"
    elif prog in ("uv", "uv.exe"):
        while i < n and words[i].text.startswith("-") and "=" not in words[i].text:
            i += 1
        if i >= n or words[i].text != "pip":
            return None
        i += 1
        family, tool = "pip", "uv pip"
    elif _CONDA_PROG.match(prog):
        family, tool = "conda", _CONDA_PROG.match(prog).group(1)  # type: ignore[union-attr]
    else:
        return None
    long_table, short_table = (PIP_LONG, PIP_SHORT) if family == "pip" else (CONDA_LONG, CONDA_SHORT)
    while i < n and words[i].text.startswith("-") and not words[i].dynamic:
        text = words[i].text
        if text.startswith("--"):
            kind = _long_kind(text.split("=")[0], long_table)
            takes = "=" not in text and kind not in (_FLAG, _UPGRADE)
        else:
            takes = len(text) == 2 and short_table.get(text[1], _VALUE) not in (_FLAG, _UPGRADE)
        i += 2 if takes else 1
    if i >= n or words[i].dynamic:
        return None
    sub = words[i].text
    if family == "pip" and sub != "install":
        return None
    if family == "conda" and sub not in ("install", "create"):
        return None
    return Install(family, f"{tool} {sub}", words[i + 1 :])


@dataclass
class Problem:
    """One thing to report about an install command."""

    word: Word
    verdict: Optional[Verdict] = None
    upgrade: bool = False
    redirect: bool = False
    # `-r file` with unpinned packages in it
    file: str = ""
    loose: List[Verdict] = field(default_factory=list)


def _sub_word(word: Word, offset: int, text: str) -> Word:
    return Word(text, word.start + offset, word.end, word.dynamic, word.cut, word.anchor)


@dataclass
class InstallArgs:
    """What an install command's arguments name, before any judgement."""

    packages: List[Tuple[Word, bool]]  # (word, editable)
    req_files: List[Word]
    constraint_files: List[Word]
    unknown_constraints: bool  # a constraints file we cannot see (`-c $FILE`)
    no_index: bool  # packages come only from --find-links folders (Kaggle offline installs)
    upgrade: bool


def install_args(install: Install) -> InstallArgs:
    """The packages, -r files and -c files of an install command."""
    conda = install.family == "conda"
    long_table, short_table = (CONDA_LONG, CONDA_SHORT) if conda else (PIP_LONG, PIP_SHORT)
    upgrade = False
    packages: List[Tuple[Word, bool]] = []
    req_files: List[Word] = []
    constraint_files: List[Word] = []
    unknown_constraints = False
    no_index = False  # packages come only from --find-links folders (Kaggle offline installs)
    expect: Optional[str] = None
    kind: Optional[str]
    for word in install.args:
        if expect is not None:
            kind, expect = expect, None
            if kind == "skip-unknown" and word.text.startswith("-") and not word.dynamic:
                pass  # an unknown option followed by an option: it was a flag after all
            else:
                if kind == _REQ and not word.dynamic:
                    req_files.append(word)
                elif kind == _CONSTRAINT:
                    if word.dynamic:
                        unknown_constraints = True
                    else:
                        constraint_files.append(word)
                elif kind == _EDITABLE:
                    packages.append((word, True))
                continue
        text = word.text
        if word.dynamic:
            if not conda and text.startswith(("-c", "--c", "--o")):
                unknown_constraints = True  # `-c$FILE`, `--constraint={f}`: constraints we cannot see
            continue
        if text.startswith("--"):
            option, eq, value = text.partition("=")
            kind = _long_kind(option, long_table)
            if option == "--no-index" and not conda:
                no_index = True
            if kind == _UPGRADE:
                upgrade = True
            elif kind in (_REQ, _CONSTRAINT, _EDITABLE):
                if eq:
                    sub = _sub_word(word, len(option) + 1, value)
                    if kind == _REQ:
                        req_files.append(sub)
                    elif kind == _CONSTRAINT:
                        constraint_files.append(sub)
                    else:
                        packages.append((sub, True))
                else:
                    expect = kind
            elif kind == _FLAG:
                pass
            elif not eq:
                expect = "skip-unknown" if kind is None else _VALUE
            continue
        if text.startswith("-") and len(text) > 1:
            for j in range(1, len(text)):
                kind = short_table.get(text[j], _VALUE)
                if kind == _UPGRADE:
                    upgrade = True
                elif kind != _FLAG:
                    rest = text[j + 1 :]
                    if rest:
                        sub = _sub_word(word, j + 1, rest)
                        if kind == _REQ:
                            req_files.append(sub)
                        elif kind == _CONSTRAINT:
                            constraint_files.append(sub)
                        elif kind == _EDITABLE:
                            packages.append((sub, True))
                    else:
                        expect = kind
                    break
            continue
        packages.append((word, False))
    return InstallArgs(packages, req_files, constraint_files, unknown_constraints, no_index, upgrade)


def analyze_install(install: Install, read: Reader) -> List[Problem]:
    """Problems of one install command: unpinned packages, and -r files with unpinned packages."""
    conda = install.family == "conda"
    parts = install_args(install)
    packages, req_files, constraint_files = parts.packages, parts.req_files, parts.constraint_files
    unknown_constraints, no_index, upgrade = parts.unknown_constraints, parts.no_index, parts.upgrade
    constraints: Optional[Dict[str, Verdict]] = {}
    for word in constraint_files:
        found = load_constraints(read, word.text)
        if found is None or constraints is None:
            constraints = None
        else:
            for verdict in found.values():
                merge(constraints, verdict)
    if unknown_constraints:
        constraints = None

    problems: List[Problem] = []
    if no_index:
        return problems
    for word, editable in packages:
        if word.cut.startswith("<"):
            continue  # `numpy<2` unquoted: the shell reads stdin from a file `2`; the command fails
        judged: Optional[Verdict]
        if conda:
            judged = judge_conda(word.text)
        else:
            judged = judge_editable(word.text) if editable else judge_requirement(word.text)
        if judged is None:
            continue
        verdict = judged
        if constraints is None:
            if verdict.status != PINNED:
                continue  # constraints we cannot read may pin it
        else:
            verdict = constrain(verdict, constraints)
        if verdict.status == PINNED:
            continue
        redirect = bool(re.match(r"^>=?\s*\d", word.cut)) and verdict.status == UNPINNED and not verdict.how
        problems.append(Problem(word, verdict, upgrade=upgrade, redirect=redirect))
    if not conda:
        for word in req_files:
            loose = loose_requirements(read, word.text, dict(constraints) if constraints is not None else None)
            if loose:
                problems.append(Problem(word, file=word.text, loose=loose))
    return problems
