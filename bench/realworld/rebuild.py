"""Materialise the real-world corpus from fetched mirrors (issue 14; format in bench/realworld/README.md).

Reads every part file (bench/realworld/parts/*.json) and writes each entry's file, as it was at
its commit, to <folder>/<owner>+<name>/<path> (default folder: /work/realworld). The mirrors are
bare git directories under /work/.mirror/<owner>+<name>/ (or its `repo/` subfolder), as `fetch`
leaves them. The files themselves are others' code: they stay out of this repository.

So that cnnlint sees the project a user would see, each repository folder also gets:
- an empty `.git/` folder: the project root marker (cnnlint's project search stops there,
  not in the folders above the corpus);
- the repository's manifests in the folders from each file's folder up to the root
  (requirements*.txt, environment.yml, pyproject.toml, setup.py, setup.cfg, Pipfile, lock
  files, Dockerfiles): they decide the framework versions CNL402/CNL403 judge against.
An entry with `"tree": true` materialises the whole tree of its repository at that commit.

    python bench/realworld/rebuild.py [--folder DIR] [--parts DIR] [--mirrors DIR] [--clean]

Exit status: 0 when every file was written, 1 when some could not be (each named on stderr).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PARTS = os.path.join(HERE, "parts")
DEFAULT_FOLDER = "/work/realworld"
DEFAULT_MIRRORS = "/work/.mirror"

KINDS = ("script", "notebook", "requirements", "environment")
FRAMEWORKS = ("keras", "torch", "none")
LABELLED = ("blind",)
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
# files cnnlint reads to learn a project's versions (cnnlint/lint/project.py)
_MANIFEST = re.compile(
    r"^(requirements.*\.(txt|in)|constraints.*\.txt|environment\.ya?ml|pyproject\.toml|setup\.py|setup\.cfg"
    r"|Pipfile|Pipfile\.lock|poetry\.lock|uv\.lock|pdm\.lock|conda-lock\.yml|pixi\.lock"
    r"|Dockerfile(\..*)?|Containerfile(\..*)?|.*\.dockerfile)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Label:
    code: str
    line: Optional[int]
    why: str


@dataclass
class Entry:
    part: str
    repo: str
    commit: str
    path: str
    framework: str
    kind: str
    labels: List[Label] = field(default_factory=list)
    tree: bool = False

    @property
    def folder_name(self) -> str:
        return self.repo.replace("/", "+")

    @property
    def key(self) -> str:
        """The file's place in the rebuilt folder, relative to it: `owner+name/path`."""
        return f"{self.folder_name}/{self.path}"


class PartError(ValueError):
    """A part file that does not follow the format."""


def _label(raw: object, where: str) -> Label:
    if not isinstance(raw, dict) or not isinstance(raw.get("code"), str) or not raw["code"]:
        raise PartError(f"{where}: a label needs a `code` string")
    line = raw.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
        raise PartError(f"{where}: label `line` must be a positive integer or null")
    return Label(code=raw["code"], line=line, why=str(raw.get("why", "")))


def _entry(part: str, raw: object, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise PartError(f"{where}: an entry must be an object")
    for key in ("repo", "commit", "path", "framework", "kind"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise PartError(f"{where}: `{key}` is missing")
    if raw["repo"].count("/") != 1:
        raise PartError(f"{where}: `repo` must be owner/name")
    if not _HEX40.match(raw["commit"]):
        raise PartError(f"{where}: `commit` must be 40 lowercase hex digits")
    path = raw["path"]
    if path.startswith("/") or ".." in path.split("/"):
        raise PartError(f"{where}: `path` must stay inside the repository")
    if raw["framework"] not in FRAMEWORKS:
        raise PartError(f"{where}: `framework` must be one of {', '.join(FRAMEWORKS)}")
    if raw["kind"] not in KINDS:
        raise PartError(f"{where}: `kind` must be one of {', '.join(KINDS)}")
    if raw.get("labelled") not in LABELLED:
        raise PartError(f"{where}: `labelled` must be \"blind\"")
    labels = raw.get("labels")
    if not isinstance(labels, list):
        raise PartError(f"{where}: `labels` must be a list (empty: read, no defect)")
    return Entry(
        part=part, repo=raw["repo"], commit=raw["commit"], path=path,
        framework=raw["framework"], kind=raw["kind"],
        labels=[_label(x, f"{where} label {i + 1}") for i, x in enumerate(labels)],
        tree=bool(raw.get("tree", False)),
    )


def load_part(path: str) -> List[Entry]:
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise PartError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise PartError(f"{path}: a part file is an object with a `files` list")
    part = str(data.get("part") or os.path.splitext(os.path.basename(path))[0])
    entries = [_entry(part, raw, f"{path} file {i + 1}") for i, raw in enumerate(data["files"])]
    seen: Dict[str, int] = {}
    for i, e in enumerate(entries):
        if e.key in seen:
            raise PartError(f"{path} file {i + 1}: {e.key} is listed twice")
        seen[e.key] = i
    return entries


def load_parts(parts_dir: str) -> List[Entry]:
    """Every entry of every part file, in file-name order; a file listed by two parts is an error."""
    entries: List[Entry] = []
    owner: Dict[str, str] = {}
    for name in sorted(os.listdir(parts_dir)):
        if not name.endswith(".json"):
            continue
        for e in load_part(os.path.join(parts_dir, name)):
            if e.key in owner:
                raise PartError(f"{e.key} is in both {owner[e.key]} and {name}")
            owner[e.key] = name
            entries.append(e)
    return entries


def load_parts_or_say(parts_dir: str, prog: str) -> Optional[List[Entry]]:
    """load_parts, or None after one line on stderr naming what is wrong."""
    try:
        return load_parts(parts_dir)
    except (PartError, OSError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None


def git_dir(mirrors: str, repo: str) -> Optional[str]:
    base = os.path.join(mirrors, repo.replace("/", "+"))
    for candidate in (os.path.join(base, "repo"), os.path.join(base, "repo", ".git"), base):
        if os.path.isfile(os.path.join(candidate, "HEAD")):
            return candidate
    return None


def _git(gdir: str, args: Sequence[str]) -> bytes:
    return subprocess.run(
        ["git", "--git-dir", gdir, *args], check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ).stdout


def _write(dest: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as fh:
        fh.write(data)


def context_paths(tree: Sequence[str], path: str) -> List[str]:
    """The manifests of `tree` (paths at the commit) in `path`'s folder and each folder above it."""
    folders = set()
    folder = os.path.dirname(path)
    while True:
        folders.add(folder)
        if not folder:
            break
        folder = os.path.dirname(folder)
    out = []
    for p in tree:
        folder, name = os.path.split(p)
        if (folder in folders and _MANIFEST.match(name)) or (
            folder == "requirements" and name.endswith(".txt")
        ):
            out.append(p)
    return sorted(out)


def _extract_tree(gdir: str, commit: str, dest: str) -> None:
    try:
        data = _git(gdir, ["archive", "--format=tar", commit])
    except subprocess.CalledProcessError:  # a snapshot lacks its largest files: file by file, those left out
        _extract_files(gdir, commit, dest)
        return
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            name = member.name
            if not (member.isfile() or member.isdir()) or name.startswith("/") or ".." in name.split("/"):
                continue
            if member.isdir():
                os.makedirs(os.path.join(dest, name), exist_ok=True)
                continue
            handle = tar.extractfile(member)
            if handle is not None:
                _write(os.path.join(dest, name), handle.read())


def _extract_files(gdir: str, commit: str, dest: str) -> None:
    listing = _git(gdir, ["ls-tree", "-r", "-z", commit]).decode("utf-8", "replace").split("\0")
    for line in filter(None, listing):
        meta, name = line.split("\t", 1)
        if meta.split()[1] != "blob" or name.startswith("/") or ".." in name.split("/"):
            continue
        try:
            _write(os.path.join(dest, name), _git(gdir, ["show", f"{commit}:{name}"]))
        except subprocess.CalledProcessError:
            continue  # absent from the snapshot (4 MiB or more): weights, data, never code


def rebuild(entries: Sequence[Entry], folder: str, mirrors: str) -> List[str]:
    """Write every entry (and its context) under `folder`; the list of problems, one line each."""
    problems: List[str] = []
    trees: Dict[Tuple[str, str], List[str]] = {}
    for e in entries:
        gdir = git_dir(mirrors, e.repo)
        if gdir is None:
            problems.append(f"{e.key}: no mirror of {e.repo} under {mirrors} (fetch it first)")
            continue
        root = os.path.join(folder, e.folder_name)
        os.makedirs(os.path.join(root, ".git"), exist_ok=True)
        try:
            if e.tree:
                _extract_tree(gdir, e.commit, root)
                continue
            if (e.repo, e.commit) not in trees:
                listing = _git(gdir, ["ls-tree", "-r", "--name-only", "-z", e.commit])
                trees[(e.repo, e.commit)] = [p for p in listing.decode("utf-8", "replace").split("\0") if p]
            for p in [e.path, *context_paths(trees[(e.repo, e.commit)], e.path)]:
                _write(os.path.join(root, p), _git(gdir, ["show", f"{e.commit}:{p}"]))
        except subprocess.CalledProcessError as exc:
            err = exc.stderr.decode("utf-8", "replace").strip().splitlines()
            problems.append(f"{e.key}: git failed at {e.commit[:12]}: {err[-1] if err else exc}")
        except OSError as exc:
            problems.append(f"{e.key}: cannot write: {exc}")
    return problems


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folder", default=DEFAULT_FOLDER, help=f"where to write (default {DEFAULT_FOLDER})")
    ap.add_argument("--parts", default=DEFAULT_PARTS, help="folder of part files")
    ap.add_argument("--mirrors", default=DEFAULT_MIRRORS, help=f"fetched mirrors (default {DEFAULT_MIRRORS})")
    ap.add_argument("--clean", action="store_true", help="remove the folder first")
    args = ap.parse_args(argv)
    entries = load_parts_or_say(args.parts, "rebuild")
    if entries is None:
        return 2
    if args.clean and os.path.isdir(args.folder):
        shutil.rmtree(args.folder)
    problems = rebuild(entries, args.folder, args.mirrors)
    for p in problems:
        print(f"rebuild: {p}", file=sys.stderr)
    print(f"rebuild: {len(entries) - len(problems)} of {len(entries)} files written to {args.folder}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
