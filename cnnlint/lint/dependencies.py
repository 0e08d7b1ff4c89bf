"""CNL4xx environment and dependencies: CNL401 unpinned-dependency.

The same judgement runs on four kinds of input:

- notebook shell commands (`!pip install x`, `%pip install x`, `%%bash` lines),
  which the engine hands over as ShellCommand records;
- `pip install` run from Python: `subprocess.run/call/check_call/check_output/
  Popen`, `os.system`, `os.popen`, `get_ipython().system(...)`,
  `get_ipython().run_line_magic("pip", ...)`, `pip.main([...])`, with literal
  arguments only (a variable, an f-string hole or a `{var}` IPython expansion
  is unknown, and unknown words are never reported);
- requirements files, and the `-r` files a pip command installs;
- conda environment.yml (conda specs, and pip requirements in `- pip:`).

Helpers, in order: what a requirement or conda spec pins (`judge_*`), a small
shell lexer (`split_shell`), what a command installs (`parse_command`,
`analyze_install`), constraints and `-r` files, the commands in a Python call,
and the rule.
"""

from __future__ import annotations

import os
import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

import libcst as cst
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from cnnlint.findings import Fix, Severity
from cnnlint.lint.installed import installed_version
from cnnlint.lint.rule import Rule
from cnnlint.lint.tree import call_tail, keyword, positional, string_value
from cnnlint.sources.manifest import (
    CONDA,
    CONSTRAINT,
    EDITABLE,
    INCLUDE,
    REQUIREMENT,
    Entry,
    Manifest,
    read_manifest,
)
from cnnlint.sources.model import ShellCommand, SourceError

PINNED = "pinned"
RANGE = "range"
UNPINNED = "unpinned"
_RANK = {UNPINNED: 0, RANGE: 1, PINNED: 2}

# build tooling, reinstalled or upgraded everywhere and not part of what the code imports
BUILD_TOOLS = frozenset({"pip", "setuptools", "wheel"})
# conda: the interpreter and the installers are the environment, not dependencies
CONDA_SKIP = frozenset({"python", "pip", "setuptools", "wheel"})
# conda package name -> the Python distribution it installs, for the version hint
_CONDA_TO_PY = {"pytorch": "torch", "pytorch-cpu": "torch", "pytorch-gpu": "torch"}

Reader = Callable[[str], Optional[bytes]]


# ---------------------------------------------------------------- judging one requirement


@dataclass(frozen=True)
class Verdict:
    status: str  # PINNED | RANGE | UNPINNED
    name: str  # the package name as written
    key: str  # canonical name, for constraints
    shown: str  # the requirement as written, for messages
    extras: str = ""  # "[cuda]" as written
    specifier: str = ""  # "">=2.0" for PEP 440 ranges, to check the hint's version against
    how: str = ""  # "", "vcs-noref", "vcs-branch", "archive-branch"
    ref: str = ""  # the branch, for vcs-branch / archive-branch
    vcs: str = ""  # "git", "hg", ...
    conda: bool = False


_ARCHIVE_EXT = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".zip", ".tar", ".egg")
_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|(?:git|hg|svn|bzr)\+)", re.IGNORECASE)
_VCS = re.compile(r"^(git|hg|svn|bzr)\+", re.IGNORECASE)
_SHA = re.compile(r"^[0-9a-fA-F]{7,40}$")
# every pattern here matches in time linear in the text: no two ways to split a run of characters
# (`(?:[._+-]?[A-Za-z0-9]+)*` took exponential time on `1aaaa…!`)
_VERSION_REF = re.compile(r"^(?:v|version|release|rel|r)?[-_.]?\d(?:[._+-]?[A-Za-z0-9])*$|\d+\.\d+")
_EXTRAS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])")
_DIRECT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\]\s*)?@")


def _release_length(version: str) -> int:
    try:
        return len(Version(version).release)
    except InvalidVersion:
        return len(version.split("+")[0].split("."))


def _spec_status(specs: List[Tuple[str, str]]) -> str:
    if not specs:
        return UNPINNED
    for op, version in specs:
        if op == "===":
            return PINNED
        if op == "==" and "*" not in version:
            return PINNED
        if op == "~=" and _release_length(version) >= 3:
            return PINNED
    return RANGE


def _is_pinned_ref(ref: str, vcs: str = "git") -> bool:
    if _SHA.match(ref) or _VERSION_REF.search(ref):
        return True
    return vcs == "svn" and ref.isdigit()


def _repo_name(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    name = parts[1] if len(parts) >= 2 else (parts[-1] if parts else "")
    return name[:-4] if name.endswith(".git") else name


def _egg(fragment: str) -> str:
    m = re.search(r"(?:^|&)egg=([^&]+)", fragment)
    return unquote(m.group(1)) if m else ""


def _archive_name(filename: str) -> str:
    stem = filename.split("-")[0] if filename.endswith(".whl") else filename.rsplit("-", 1)[0]
    return stem or filename


def judge_reference(url: str, name: str = "", shown: str = "") -> Optional[Verdict]:
    """A direct reference: a VCS URL, an archive URL, or a file URL."""
    shown = shown or url
    base, _, fragment = url.partition("#")
    name = name or _egg(fragment)
    m = _VCS.match(base)
    if m:
        vcs = m.group(1).lower()
        rest = base[m.end() :]
        if "://" not in rest:
            return None
        parts = urlsplit(rest)
        path, at, ref = parts.path.rpartition("@")
        if not at:
            path, ref = parts.path, ""
        name = name or _repo_name(path)
        if not name:
            return None
        key = canonicalize_name(name) if re.match(r"^[A-Za-z0-9._-]+$", name) else name.lower()
        if key in BUILD_TOOLS:
            return None
        if not ref:
            return Verdict(UNPINNED, name, key, shown, how="vcs-noref", vcs=vcs)
        if _is_pinned_ref(ref, vcs):
            return Verdict(PINNED, name, key, shown, vcs=vcs)
        return Verdict(UNPINNED, name, key, shown, how="vcs-branch", ref=ref, vcs=vcs)
    parts = urlsplit(base)
    scheme = parts.scheme.lower()
    path = unquote(parts.path)
    if scheme == "file":
        if path.lower().endswith(_ARCHIVE_EXT):
            return Verdict(PINNED, name or _archive_name(posixpath.basename(path)), "", shown)
        return None  # a local directory: the project itself
    if scheme not in ("http", "https", "ftp"):
        return None
    ref = ""
    kind = ""
    host = parts.netloc.lower()
    found = None
    if path.endswith((".zip", ".tar.gz", ".tgz", ".tar.bz2")):  # else the search fails at every `/archive/`
        found = re.search(r"/archive/(?:refs/(heads|tags)/)?(.+?)(?:\.zip|\.tar\.gz|\.tgz|\.tar\.bz2)$", path)
    if host.endswith("codeload.github.com"):
        found = re.search(r"^/[^/]+/[^/]+/(?:zip|tar\.gz|legacy\.zip|legacy\.tar\.gz)/(?:refs/(heads|tags)/)?(.+)$", path)
    elif "/-/archive/" in path:
        found = re.search(r"/-/archive/()([^/]+)/", path)
    if found:
        kind, ref = found.group(1) or "", found.group(2)
        repo = name or _repo_name(path)
        if kind == "tags" or (kind != "heads" and _is_pinned_ref(ref)):
            return Verdict(PINNED, repo, "", shown)
        key = canonicalize_name(repo) if re.match(r"^[A-Za-z0-9._-]+$", repo) else repo.lower()
        return Verdict(UNPINNED, repo, key, shown, how="archive-branch", ref=ref)
    if path.lower().endswith(_ARCHIVE_EXT):
        return Verdict(PINNED, name or _archive_name(posixpath.basename(path)), "", shown)
    return None  # a page or an index: unknown


def _is_local_path(text: str) -> bool:
    return (
        "/" in text
        or "\\" in text
        or text.startswith((".", "~"))
        or text.lower().endswith(_ARCHIVE_EXT)
    )


def judge_requirement(text: str) -> Optional[Verdict]:
    """What a pip requirement (PEP 508, URL or path) pins; None when nothing to judge."""
    text = text.strip()
    if not text or "${" in text:
        return None
    if _URL.match(text):
        return judge_reference(text)
    direct = bool(_DIRECT_REF.match(text))
    if not direct and _is_local_path(text.split(";")[0].strip()):
        return None  # a local wheel/sdist (fixed) or directory (the project itself)
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return None
    key = canonicalize_name(req.name)
    if key in BUILD_TOOLS:
        return None
    m = _EXTRAS.match(text)
    extras = m.group(1) if m else ""
    if req.url:
        verdict = judge_reference(req.url, req.name, text)
        return replace(verdict, name=req.name, key=key, extras=extras) if verdict else None
    specs = [(s.operator, s.version) for s in req.specifier]
    shown = text.split(";")[0].strip()
    return Verdict(_spec_status(specs), req.name, key, shown, extras, str(req.specifier))


def judge_editable(text: str) -> Optional[Verdict]:
    """The value of `-e`: a VCS URL is judged, a path is the project itself."""
    text = text.strip()
    if _URL.match(text):
        return judge_reference(text)
    if _DIRECT_REF.match(text):
        return judge_requirement(text)
    return None


_CONDA_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*")
_CONDA_RANGE_CHARS = re.compile(r"[<>!,|~*]")


def _conda_version_status(version: str, build: str) -> str:
    version = version.strip()
    if not version:
        return UNPINNED
    if _CONDA_RANGE_CHARS.search(version):
        exact = [p[2:] for p in re.split(r"[,|]", version) if p.startswith("==") and "*" not in p]
        return PINNED if exact and "|" not in version else RANGE
    if build and "*" not in build:
        return PINNED
    return PINNED if _release_length(version) >= 3 else RANGE


def _conda_specifier(version: str) -> str:
    """A PEP 440 form of a conda version range (`1.26` -> `==1.26.*`), or "" when there is none."""
    version = version.replace(" ", "")
    if not version or "|" in version:
        return ""
    parts = []
    for part in version.split(","):
        if part[:1].isdigit():
            part = "==" + (part if part.endswith("*") else part + ".*")
        parts.append(part)
    try:
        return str(SpecifierSet(",".join(parts)))
    except InvalidSpecifier:
        return ""


def judge_conda(spec: str) -> Optional[Verdict]:
    """What a conda match spec pins: `numpy=1.26.4` and `numpy==1.26` pin, `numpy=1.26` is 1.26.*."""
    shown = spec.strip()
    if not shown or "${" in shown:
        return None
    text = shown.rsplit("::", 1)[-1]
    m = _CONDA_NAME.match(text)
    if not m:
        return None
    name = m.group(0)
    key = name.lower()
    if key in CONDA_SKIP:
        return None
    rest = text[m.end() :].strip()
    if rest.startswith("["):
        found = re.search(r"version\s*=\s*['\"]?([^'\",\]]+)", rest)
        build = re.search(r"build\s*=\s*['\"]?([^'\",\]]+)", rest)
        if not found:
            return Verdict(UNPINNED, name, key, shown, conda=True)
        version = found.group(1).strip()
        if version.startswith("=="):
            version = version[2:]
        status = _conda_version_status(version, build.group(1) if build else "")
        return Verdict(status, name, key, shown, specifier=_conda_specifier(version), conda=True)
    if not rest:
        return Verdict(UNPINNED, name, key, shown, conda=True)
    if rest.startswith("=="):
        version = re.split(r"[=\s]", rest[2:], 1)[0]
        status = RANGE if _CONDA_RANGE_CHARS.search(version) or not version else PINNED
        return Verdict(status, name, key, shown, conda=True)
    if rest.startswith("="):
        version, _, build = rest[1:].partition("=")
        status = _conda_version_status(version, build.strip())
        return Verdict(status, name, key, shown, specifier=_conda_specifier(version), conda=True)
    if rest[0] in "<>!~":
        version = rest.replace(" ", "")
        status = _conda_version_status(version, "")
        return Verdict(status, name, key, shown, specifier=_conda_specifier(version), conda=True)
    if rest[0].isdigit():  # "numpy 1.26.4 py311_0"
        pieces = rest.split()
        status = _conda_version_status(pieces[0], pieces[1] if len(pieces) > 1 else "")
        return Verdict(status, name, key, shown, specifier=_conda_specifier(pieces[0]), conda=True)
    return None


def _merge(into: Dict[str, Verdict], verdict: Verdict) -> None:
    if not verdict.key:
        return
    old = into.get(verdict.key)
    if old is None or _RANK[verdict.status] > _RANK[old.status]:
        into[verdict.key] = verdict


def constrain(verdict: Verdict, constraints: Dict[str, Verdict]) -> Verdict:
    """The verdict once constraints are applied: a constraint that pins the package pins it."""
    if verdict.status == PINNED or verdict.conda:
        return verdict
    limit = constraints.get(verdict.key)
    if limit is None or _RANK[limit.status] <= _RANK[verdict.status]:
        return verdict
    if limit.status == PINNED:
        return replace(verdict, status=PINNED)
    return replace(verdict, status=limit.status, shown=limit.shown, specifier=limit.specifier, how="")


# ---------------------------------------------------------------- the shell


@dataclass
class Word:
    """A shell word; start/end are offsets in the text it came from."""

    text: str
    start: int = 0
    end: int = 0
    dynamic: bool = False  # holds `$x`, `{expr}`, backquotes, or an unknown Python value
    cut: str = ""  # an unquoted redirection glued to the word: `>=2.0` in `torch>=2.0`
    anchor: object = None  # where the word's text lies (for Python strings and list items)


_SYS_EXECUTABLE = "\x01"  # stands for `{sys.executable}` until the word is complete
_DYNAMIC = "\x00"  # an f-string hole / unknown value


def _matching(text: str, i: int, open_: str, close: str) -> int:
    """Index of the bracket closing text[i] (or len(text))."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] == open_:
            depth += 1
        elif text[j] == close:
            depth -= 1
            if depth == 0:
                return j
    return len(text)


def split_shell(text: str) -> List[List[Word]]:
    """Simple commands of a shell line: words split at `&&`, `||`, `;`, `|`, `&`, newlines.

    Quotes and backslashes are resolved; redirection targets are dropped (a
    redirection glued to a word is kept in `Word.cut`); `$...`, backquotes and
    `{...}` (IPython expansion) make a word dynamic, except `{sys.executable}`.
    """
    commands: List[List[Word]] = [[]]
    buf: List[str] = []
    start = -1
    dyn = False
    discard = False
    owner: Optional[Word] = None
    cut_start = 0
    n = len(text)

    def flush(end: int) -> Optional[Word]:
        nonlocal buf, start, dyn, discard, owner
        word = None
        if start >= 0:
            value = "".join(buf)
            if discard:
                if owner is not None:
                    owner.cut = text[cut_start:end]
                discard, owner = False, None
            else:
                dynamic = dyn or _DYNAMIC in value
                if _SYS_EXECUTABLE in value:
                    dynamic = dynamic or value != _SYS_EXECUTABLE
                    value = value.replace(_SYS_EXECUTABLE, "python")
                word = Word(value, start, end, dynamic)
                commands[-1].append(word)
        buf, start, dyn = [], -1, False
        return word

    def brace(i: int) -> int:
        nonlocal dyn
        j = _matching(text, i, "{", "}")
        if text[i + 1 : j].strip() == "sys.executable":
            buf.append(_SYS_EXECUTABLE)
        else:
            dyn = True
            buf.append(text[i : j + 1])
        return j + 1

    i = 0
    while i < n:
        c = text[i]
        if c in " \t\r":
            flush(i)
            i += 1
            continue
        if c == "#" and start < 0:
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\n;|()" or (c == "&" and text[i + 1 : i + 2] != ">"):
            flush(i)
            discard, owner = False, None
            if commands[-1]:
                commands.append([])
            i += 1
            continue
        if c in "<>&":
            glued = None
            if start >= 0 and not discard and "".join(buf).isdigit() and not dyn:
                buf, start = [], -1  # a file descriptor: the `2` of `2>`
            elif start >= 0 and not discard:
                glued = flush(i)
            else:
                flush(i)
            cut_start = i
            if c == "&":
                i += 1
            while i < n and text[i] in "<>":
                i += 1
            if i < n and text[i] in "&|":
                i += 1
            discard, owner = True, glued
            continue
        if start < 0:
            start = i
        if c == "\\":
            if i + 1 < n and text[i + 1] != "\n":
                buf.append(text[i + 1])
            elif not buf:
                start = -1  # a line continuation between words
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            j = n if j < 0 else j
            piece = text[i + 1 : j]
            if "{" in piece or "$" in piece:
                dyn = True
            buf.append(piece)
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                ch = text[j]
                if ch == "\\" and j + 1 < n and text[j + 1] in '"\\$`\n':
                    buf.append(text[j + 1])
                    j += 2
                    continue
                if ch == "{":
                    j = brace(j)
                    continue
                if ch in "$`":
                    dyn = True
                buf.append(ch)
                j += 1
            i = j + 1
            continue
        if c == "{":
            i = brace(i)
            continue
        if c == "$":
            dyn = True
            if text[i + 1 : i + 2] == "(":
                j = _matching(text, i + 1, "(", ")")
            elif text[i + 1 : i + 2] == "{":
                j = _matching(text, i + 1, "{", "}")
            else:
                j = i
                while j + 1 < n and (text[j + 1].isalnum() or text[j + 1] == "_"):
                    j += 1
            buf.append(text[i : j + 1])
            i = j + 1
            continue
        if c == "`":
            dyn = True
            j = text.find("`", i + 1)
            j = n if j < 0 else j
            buf.append(text[i : j + 1])
            i = j + 1
            continue
        buf.append(c)
        i += 1
    flush(n)
    return [cmd for cmd in commands if cmd]


# ---------------------------------------------------------------- what a command installs

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
                _merge(constraints, verdict)
    if unknown_constraints:
        constraints = None

    problems: List[Problem] = []
    if no_index:
        return problems
    for word, editable in packages:
        if word.cut.startswith("<"):
            continue  # `numpy<2` unquoted: the shell reads stdin from a file `2`; the command fails
        if conda:
            verdict = judge_conda(word.text)
        else:
            verdict = judge_editable(word.text) if editable else judge_requirement(word.text)
        if verdict is None:
            continue
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


# ---------------------------------------------------------------- constraint and -r files


def _load(read: Reader, path: str) -> Optional[Manifest]:
    data = read(path)
    if data is None:
        return None
    try:
        return read_manifest(path, data, "requirements")
    except SourceError:
        return None


def _local(entry: Entry) -> bool:
    return bool(entry.value) and "://" not in entry.value and "${" not in entry.value


def load_constraints(read: Reader, path: str, depth: int = 0, seen: Optional[set] = None) -> Optional[Dict[str, Verdict]]:
    """Package key -> best verdict in a constraints file (following its -c/-r); None if unreadable."""
    seen = set() if seen is None else seen
    norm = os.path.normpath(path)
    if norm in seen or depth > 8:
        return {}
    seen.add(norm)
    manifest = _load(read, path)
    if manifest is None:
        return None
    found: Dict[str, Verdict] = {}
    base = os.path.dirname(path)
    for entry in manifest.entries:
        if entry.kind == REQUIREMENT:
            verdict = judge_requirement(entry.value)
            if verdict is not None:
                _merge(found, verdict)
        elif entry.kind in (INCLUDE, CONSTRAINT):
            if not _local(entry):
                return None
            nested = load_constraints(read, os.path.join(base, entry.value), depth + 1, seen)
            if nested is None:
                return None
            for verdict in nested.values():
                _merge(found, verdict)
    return found


def loose_requirements(
    read: Reader, path: str, constraints: Optional[Dict[str, Verdict]], depth: int = 0, seen: Optional[set] = None
) -> Optional[List[Verdict]]:
    """The unpinned requirements a `pip install -r path` installs (following -r and -c).

    None when the file, or a file it names, cannot be read: nothing to say then.
    """
    if constraints is None:
        return None
    seen = set() if seen is None else seen
    verdicts = _collect(read, path, constraints, depth, seen)
    if verdicts is None:
        return None
    loose = []
    keys = set()
    for verdict in verdicts:
        verdict = constrain(verdict, constraints)
        if verdict.status != PINNED and verdict.key not in keys:
            keys.add(verdict.key)
            loose.append(verdict)
    return loose


def _collect(read: Reader, path: str, constraints: Dict[str, Verdict], depth: int, seen: set) -> Optional[List[Verdict]]:
    norm = os.path.normpath(path)
    if norm in seen or depth > 8:
        return []
    seen.add(norm)
    manifest = _load(read, path)
    if manifest is None:
        return None
    base = os.path.dirname(path)
    verdicts: List[Verdict] = []
    loaded = set()  # constraint files already merged
    for entry in manifest.entries:
        if entry.kind in (REQUIREMENT, EDITABLE):
            verdict = judge_editable(entry.value) if entry.kind == EDITABLE else judge_requirement(entry.value)
            if verdict is not None:
                verdicts.append(verdict)
        elif entry.kind in (INCLUDE, CONSTRAINT):
            if not _local(entry):
                return None
            target = os.path.join(base, entry.value)
            if entry.kind == INCLUDE:
                nested = _collect(read, target, constraints, depth + 1, seen)
                if nested is None:
                    return None
                verdicts.extend(nested)
            elif target not in loaded:
                loaded.add(target)
                found = load_constraints(read, target)
                if found is None:
                    return None
                for verdict in found.values():
                    _merge(constraints, verdict)
    return verdicts


# ---------------------------------------------------------------- commands in Python code

_SUBPROCESS = {
    "subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
    "subprocess.Popen",
}
_SHELL_FUNCS = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
_PIP_MAIN = {"pip.main", "pip._internal.main", "pip._internal.cli.main.main"}
_IPYTHON_SHELL = {"system", "getoutput", "system_piped", "system_raw"}
_CALL_TAILS = frozenset(
    {"run", "call", "check_call", "check_output", "Popen", "system", "popen", "getoutput",
     "getstatusoutput", "system_piped", "system_raw", "run_line_magic", "run_cell_magic", "main"}
)
_LINE_MAGICS = {"pip", "conda", "mamba", "uv"}


def _shell_text(expr: cst.CSTNode, imports: object) -> Optional[str]:
    """The text of a string expression, unknown parts replaced by a dynamic marker."""
    value = string_value(expr)
    if value is not None:
        return value
    if isinstance(expr, cst.FormattedString):
        parts = []
        for part in expr.parts:
            if isinstance(part, cst.FormattedStringText):
                parts.append(part.value)
            elif isinstance(part, cst.FormattedStringExpression):
                qualified = imports.qualify(part.expression)  # type: ignore[attr-defined]
                parts.append(_SYS_EXECUTABLE if qualified == "sys.executable" else _DYNAMIC)
        return "".join(parts)
    if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
        left = _shell_text(expr.left, imports)
        right = _shell_text(expr.right, imports)
        if left is None and right is None:
            return None
        return (left if left is not None else _DYNAMIC) + (right if right is not None else _DYNAMIC)
    if isinstance(expr, cst.ConcatenatedString):
        left = _shell_text(expr.left, imports)
        right = _shell_text(expr.right, imports)
        if left is not None and right is not None:
            return left + right
    return None


def _anchor_words(words: List[Word], node: cst.CSTNode) -> List[Word]:
    for word in words:
        word.anchor = node
    return words


def _shell_commands(expr: cst.CSTNode, imports: object) -> List[List[Word]]:
    text = _shell_text(expr, imports)
    if text is None:
        return []
    return [_anchor_words(words, expr) for words in split_shell(text)]


def _list_words(expr: cst.CSTNode, imports: object) -> Optional[List[Word]]:
    """Words of a subprocess argument list: literal strings, sys.executable, or unknown."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        words = []
        for element in expr.elements:
            if isinstance(element, cst.StarredElement):
                words.append(Word("*", dynamic=True))
                continue
            value = string_value(element.value)
            if value is not None:
                words.append(Word(value, 0, len(value), anchor=element.value))
            elif imports.qualify(element.value) == "sys.executable":  # type: ignore[attr-defined]
                words.append(Word("python"))
            else:
                words.append(Word("?", dynamic=True))
        return words
    # "pip install x".split()
    if (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value == "split"
        and not expr.args
    ):
        value = string_value(expr.func.value)
        if value is None:
            return None
        return [
            Word(m.group(0), m.start(), m.end(), anchor=expr.func.value) for m in re.finditer(r"\S+", value)
        ]
    return None


def _is_get_ipython(expr: cst.CSTNode, imports: object) -> bool:
    if not isinstance(expr, cst.Call):
        return False
    name = imports.qualify(expr.func) or ""  # type: ignore[attr-defined]
    return name.split(".")[-1] == "get_ipython"


def call_commands(call: cst.Call, imports: object) -> List[List[Word]]:
    """The commands a call runs, as words, for the calls that run commands; [] otherwise."""
    func = call.func
    tail = call_tail(call)
    if isinstance(func, cst.Attribute) and _is_get_ipython(func.value, imports):
        first = positional(call, 0)
        if first is None:
            return []
        if tail in _IPYTHON_SHELL:
            return _shell_commands(first.value, imports)
        second = positional(call, 1)
        name = string_value(first.value)
        if tail == "run_line_magic" and second is not None:
            if name in _LINE_MAGICS:
                return [[Word(name)] + cmd for cmd in _shell_commands(second.value, imports)]
            if name in ("system", "sx"):
                return _shell_commands(second.value, imports)
        if tail == "run_cell_magic" and name in ("bash", "sh"):
            body = positional(call, 2)
            return _shell_commands(body.value, imports) if body is not None else []
        return []
    qualified = imports.qualify(func)  # type: ignore[attr-defined]
    if qualified in _SUBPROCESS:
        arg = positional(call, 0) or keyword(call, "args")
        if arg is None:
            return []
        words = _list_words(arg.value, imports)
        if words is not None:
            return [words]
        if (
            isinstance(arg.value, cst.Call)
            and (imports.qualify(arg.value.func) == "shlex.split")  # type: ignore[attr-defined]
            and arg.value.args
        ):
            return _shell_commands(arg.value.args[0].value, imports)
        return _shell_commands(arg.value, imports)
    if qualified in _SHELL_FUNCS:
        arg = positional(call, 0) or keyword(call, "command") or keyword(call, "cmd")
        return _shell_commands(arg.value, imports) if arg is not None else []
    if qualified in _PIP_MAIN:
        arg = positional(call, 0) or keyword(call, "args")
        words = _list_words(arg.value, imports) if arg is not None else None
        return [[Word("pip")] + words] if words else []
    return []


# ---------------------------------------------------------------- messages


def _suggested_version(verdict: Verdict) -> Optional[str]:
    lookup = _CONDA_TO_PY.get(verdict.key, verdict.name) if verdict.conda else verdict.name
    version = installed_version(lookup)
    if version is None or (verdict.status == RANGE and not verdict.specifier):
        return None
    if verdict.specifier:
        try:
            if not SpecifierSet(verdict.specifier).contains(version, prereleases=True):
                return None
        except InvalidSpecifier:
            return None
    return version


def _pin(verdict: Verdict) -> Tuple[str, bool]:
    """The pinned requirement to suggest, and whether its version is the installed one."""
    version = _suggested_version(verdict)
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


# ---------------------------------------------------------------- fixes: pin to the installed version

_REQ_HEAD = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\s*\[[^\]]*\])?")


def fix_version(verdict: Verdict, requirement: str) -> Optional[str]:
    """The version a fix pins: the one installed here, when it is a release (no dev build)
    inside every range given (the requirement's own and its constraints') and the line's
    environment marker holds here; local labels (`+cu121`) are dropped, since the public
    index has none."""
    if verdict.conda or verdict.how or verdict.status == PINNED:
        return None
    version = _suggested_version(verdict)
    if version is None:
        return None
    try:
        parsed = Version(version)
        req = Requirement(requirement)
    except (InvalidVersion, InvalidRequirement):
        return None
    if parsed.is_devrelease or req.url:
        return None
    if req.marker is not None:
        # a line for another platform or Python: what is installed here says nothing about it
        try:
            if not req.marker.evaluate():
                return None
        except Exception:  # noqa: BLE001 - undefined or odd marker variables
            return None
    public = parsed.public
    for spec in (str(req.specifier), verdict.specifier):
        try:
            if spec and not SpecifierSet(spec).contains(public, prereleases=True):
                return None
        except InvalidSpecifier:
            return None
    return public


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


def _fix_at(line: int, column: int, edit: Tuple[int, int, str], problem: Problem) -> Fix:
    """The Fix for an edit at offsets from `column` + word start on one line."""
    start = column + problem.word.start
    name = problem.verdict.name if problem.verdict is not None else "the package"
    return Fix(line, start + edit[0], line, start + edit[1], edit[2], description=f"pin `{name}{edit[2]}`")


def _manifest_fix(lines: List[str], entry: Entry, verdict: Verdict) -> Optional[Fix]:
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


# ---------------------------------------------------------------- the rule


class UnpinnedDependency(Rule):
    code = "CNL401"
    name = "unpinned-dependency"
    severity = Severity.WARNING
    autofix = True
    summary = "Package installed or declared without an exact version"
    inputs = frozenset({"python", "manifest"})

    def __init__(self, ctx: object) -> None:
        super().__init__(ctx)  # type: ignore[arg-type]
        # every install command names pip, conda or mamba: skip the calls of files that never do
        text = getattr(self.ctx.source, "text", "") or ""
        self._scan_calls = "pip" in text or "conda" in text or "mamba" in text
        # findings inside Python strings, placed on the package once positions are known
        self._in_strings: List[Tuple[cst.CSTNode, Problem, Severity, str, str]] = []

    @classmethod
    def applies(cls, source: object) -> bool:
        text = getattr(source, "text", "")
        return bool(getattr(source, "shell", None)) or "pip" in text or "conda" in text or "mamba" in text

    # -- Python code

    def wants_walk(self) -> bool:
        return self._scan_calls

    def visit_Call(self, node: cst.Call) -> None:
        if call_tail(node) not in _CALL_TAILS:
            func = node.func
            if not isinstance(func, cst.Name):
                return
            imported = self.ctx.imports.aliases.get(func.value)  # `from subprocess import run as sh`
            if imported is None or imported.rsplit(".", 1)[-1] not in _CALL_TAILS:
                return
        for words in call_commands(node, self.ctx.imports):
            install = parse_command(words)
            if install is not None:
                for problem in analyze_install(install, self.ctx.read_related):
                    self._report_python(problem, install.tool)

    def _report_python(self, problem: Problem, tool: str) -> None:
        severity, message, hint = self._describe(problem, tool, "script")
        word = problem.word
        anchor = word.anchor
        if isinstance(anchor, cst.SimpleString) and string_value(anchor) is not None:
            self._in_strings.append((anchor, problem, severity, message, hint))
        elif isinstance(anchor, cst.CSTNode):
            self.report(anchor, message, hint, severity=severity)

    def finish(self) -> None:
        if not self._in_strings or self.ctx.module is None:
            return
        ranges = self.ctx.ranges([item[0] for item in self._in_strings])
        for node, problem, severity, message, hint in self._in_strings:
            target: object = node
            fix = None
            start, end = problem.word.start, problem.word.end
            span = ranges.get(id(node))
            body = node.value[len(node.prefix) + len(node.quote) : len(node.value) - len(node.quote)]  # type: ignore[attr-defined]
            if span is not None and "\\" not in body and "\n" not in body and body == string_value(node):
                line, column = span[0], span[1] + len(node.prefix) + len(node.quote)  # type: ignore[attr-defined]
                target = (line, column + start, line, column + end)
                edit = word_pin(body, problem)
                if edit is not None:
                    fix = _fix_at(line, column, edit, problem)
            self.report(target, message, hint, severity=severity, fix=fix)  # type: ignore[arg-type]
        self._in_strings = []

    # -- notebook shell commands

    def check_shell(self, command: ShellCommand) -> None:
        text = command.text
        if "install" not in text and "create" not in text:
            return
        locate = self._shell_locator(command)
        for words in split_shell(text):
            install = parse_command(words)
            if install is None:
                continue
            for problem in analyze_install(install, self.ctx.read_related):
                what = "script" if getattr(self.ctx.source, "kind", "") == "python" else "notebook"
                severity, message, hint = self._describe(problem, install.tool, what)
                line, column = locate(problem.word.start)
                end_line, end_column = locate(max(problem.word.start, problem.word.end - 1))
                fix = self._shell_fix(command, problem, line, column)
                self.report((line, column, end_line, end_column + 1), message, hint, severity=severity, fix=fix)

    def _shell_fix(self, command: ShellCommand, problem: Problem, line: int, column: int) -> Optional[Fix]:
        """The pin, when the word lies on one line of the cell as written."""
        edit = word_pin(command.text, problem)
        if edit is None:
            return None
        raw_line = getattr(self.ctx.source, "raw_line", None)
        start = problem.word.start
        written = command.text[start : start + edit[1]]
        if raw_line is None or raw_line(line)[column - 1 : column - 1 + len(written)] != written:
            return None  # the word is split by a `\` continuation, or not as written
        return _fix_at(line, column - start, edit, problem)

    def _shell_locator(self, command: ShellCommand) -> Callable[[int], Tuple[int, int]]:
        """Offset in command.text -> (line, column) in the parsed text, across `\\` continuations."""
        segments = [(0, command.line, command.column)]
        source = self.ctx.source
        if command.end_line > command.line and getattr(source, "cells", None):
            segments = self._continuation_segments(command) or segments

        def locate(offset: int) -> Tuple[int, int]:
            start, line, column = segments[0]
            for seg in segments:
                if seg[0] <= offset:
                    start, line, column = seg
            return line, column + offset - start

        return locate

    def _continuation_segments(self, command: ShellCommand) -> Optional[List[Tuple[int, int, int]]]:
        source = self.ctx.source
        segments: List[Tuple[int, int, int]] = []
        offset = 0
        for line in range(command.line, command.end_line + 1):
            cell, cell_line = source.locate(line)
            lines = source.cells.get(cell) if cell is not None else None
            if not lines or not 0 < cell_line <= len(lines):
                return None
            raw = lines[cell_line - 1]
            first = line == command.line
            piece = raw[command.column - 1 :] if first else raw
            piece = piece.rstrip()
            if piece.endswith("\\"):
                piece = piece[:-1].rstrip()
            stripped = piece.strip()
            if not stripped:
                continue
            column = command.column if first else len(piece) - len(piece.lstrip()) + 1
            if command.text[offset : offset + len(stripped)] != stripped:
                return None
            segments.append((offset, line, column))
            offset += len(stripped) + 1
        return segments or None

    # -- requirements files and environment.yml

    def check_manifest(self, manifest: Manifest) -> None:
        filename = os.path.basename(manifest.path) or manifest.path
        constraints = self._manifest_constraints(manifest)
        # computed once: per entry they made a large file quadratic
        lines = manifest.text.split("\n")
        hashes = "--hash" in manifest.text
        for entry in manifest.entries:
            if entry.kind == CONDA:
                verdict = judge_conda(entry.value)
            elif entry.kind == REQUIREMENT:
                verdict = judge_requirement(entry.value)
            elif entry.kind == EDITABLE:
                verdict = judge_editable(entry.value)
            else:
                continue
            if verdict is None:
                continue
            if not verdict.conda:
                if constraints is None:
                    continue  # constraints we cannot read may pin it
                verdict = constrain(verdict, constraints)
            if verdict.status == PINNED:
                continue
            where = f"the pip section of {filename}" if entry.section == "pip" else filename
            message = message_for(verdict, place=where)
            severity = Severity.INFO if verdict.status == RANGE else self.severity
            value = entry.value
            name_at = value.rfind("::") + 2 if verdict.conda and "::" in value else 0
            if verdict.status == RANGE:
                end = len(value.split(";")[0].rstrip())
            elif value.startswith(verdict.name, name_at):
                end = name_at + len(verdict.name)
            else:
                end = len(value)
            fix = None
            if entry.kind == REQUIREMENT and not verdict.conda and not hashes:
                fix = _manifest_fix(lines, entry, verdict)
            self.report(entry.span(0, max(1, end)), message, hint_for(verdict), severity=severity, fix=fix)

    def _manifest_constraints(self, manifest: Manifest) -> Optional[Dict[str, Verdict]]:
        constraints: Dict[str, Verdict] = {}
        read = set()  # a file named on 40,000 lines is read once
        for entry in manifest.entries:
            if entry.kind != CONSTRAINT or entry.value in read:
                continue
            read.add(entry.value)
            if not _local(entry):
                return None
            found = load_constraints(self.ctx.read_related, entry.value)
            if found is None:
                return None
            for verdict in found.values():
                _merge(constraints, verdict)
        return constraints

    # -- shared

    def _describe(self, problem: Problem, tool: str, what: str) -> Tuple[Severity, str, str]:
        if problem.verdict is None:
            names = [f"`{v.name}`" for v in problem.loose]
            listed = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            loose_only = all(v.status == RANGE for v in problem.loose)
            if loose_only:
                message = f"{problem.file} (installed here with -r) gives only version ranges for {listed}"
            else:
                message = f"{problem.file} (installed here with -r) leaves {listed} unpinned"
            hint = f"pin every package in {problem.file} to the version you tested with (`pip freeze` prints them)"
            return (Severity.INFO if loose_only else self.severity), message, hint
        verdict = problem.verdict
        severity = Severity.INFO if verdict.status == RANGE else self.severity
        if problem.redirect:
            cut = problem.word.cut
            message = (
                f"`{problem.word.text}{cut}` is not quoted: the shell reads `{cut}` as an output "
                f"redirect, so `{tool}` installs the newest `{verdict.name}`"
            )
            return self.severity, message, hint_for(verdict, tool, redirect=True)
        consequence = f"a new release can break this {what}"
        message = message_for(verdict, tool=tool, consequence=consequence, upgrade=problem.upgrade)
        return severity, message, hint_for(verdict, tool)


RULES = [UnpinnedDependency]


def file_requirements(read: Reader, path: str) -> Optional[List[Verdict]]:
    """Every requirement a requirements file declares, following its -r and -c files;
    None when it (or a file it names) cannot be read."""
    return _collect(read, path, {}, 0, set())
