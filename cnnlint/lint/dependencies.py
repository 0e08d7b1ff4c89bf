"""What a requirement or conda spec pins, and the version to pin it to (CNL401, and the
project's pins that CNL402/CNL403 read through cnnlint/lint/project.py).

`judge_requirement`, `judge_editable`, `judge_conda` and `judge_reference` give a `Verdict`
(pinned, a range, unpinned; how: a VCS URL without a commit, an archive of a branch);
`constrain` applies a constraints file; `suggested_version` and `fix_version` say what to pin
to: the version installed here (`installed_version`, which the tests replace).

The rest of CNL401 lives in cnnlint/lint/pip/ (the shell lexer, what a command installs,
constraint and -r files, commands in Python code, messages and fixes) and the rule in
cnnlint/lint/rules/cnl401_unpinned_dependency.py.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from cnnlint.lint.installed import installed_version  # looked up here at call time: tests replace it

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


_CONDA_EXPORT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*=[^=<>!~\s]+=[^=\s]+$")


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
        # `name=version=build`: a `conda list --export` saved as requirements.txt records versions too
        return judge_conda(text) if _CONDA_EXPORT.match(text) else None
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
        version = re.split(r"[=\s]", rest[2:], maxsplit=1)[0]
        status = RANGE if _CONDA_RANGE_CHARS.search(version) or not version else PINNED
        return Verdict(status, name, key, shown, conda=True)
    if rest.startswith("="):
        version, _, build_text = rest[1:].partition("=")
        status = _conda_version_status(version, build_text.strip())
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


def merge(into: Dict[str, Verdict], verdict: Verdict) -> None:
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


# ---------------------------------------------------------------- the version to pin to


def suggested_version(verdict: Verdict) -> Optional[str]:
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


def fix_version(verdict: Verdict, requirement: str) -> Optional[str]:
    """The version a fix pins: the one installed here, when it is a release (no dev build)
    inside every range given (the requirement's own and its constraints') and the line's
    environment marker holds here; local labels (`+cu121`) are dropped, since the public
    index has none."""
    if verdict.conda or verdict.how or verdict.status == PINNED:
        return None
    version = suggested_version(verdict)
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
