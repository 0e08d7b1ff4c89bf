"""What text a file holds, by its content, when its name does not say (cnnlint.named).

`cnnlint train_script`, `cnnlint notes.txt`, `cnnlint env-gpu.yaml`: a file the user names is
checked by what it holds, never skipped in silence (a walked folder still goes by names,
sources/read.py: classify). Images are told apart before (cnnlint.named). In order:

- a NUL byte in the first 8 KiB: binary, refused;
- a JSON object with `cells` or `nbformat`: `notebook` (other JSON is refused);
- a top-level `dependencies:` key: `conda` (an environment.yml under another name);
- every line a requirement, URL, path or pip option: `requirements`;
- a Python shebang, import / def / class lines, or (up to 1 MiB) Python that parses: `python`
  (so a broken script still gets its syntax-error finding).

Anything else is refused: `Sniffed.kind` is None and `reason` says what it looked like.
"""

from __future__ import annotations

import ast
import codecs
import json
import re
from dataclasses import dataclass
from typing import Optional

SNIFF_LIMIT = 16 * 1024 * 1024  # bytes read to decide; a longer file is judged by this much
PARSE_LIMIT = 1024 * 1024  # larger files are not parsed to tell whether they are Python

_OPTION = re.compile(r"-[rceif]\b|--[a-z][a-z-]*(=|\s|$)")
_REQUIREMENT = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*(\[[\w,\s.-]*\])?"  # name[extras]
    r"(\s*(===|==|>=|<=|~=|!=|<|>)\s*[\w.*+!-]+(\s*,\s*(===|==|>=|<=|~=|!=|<|>)\s*[\w.*+!-]+)*)?"  # specifiers
    r"(\s*@\s*\S+)?"  # name @ url
    r"\s*(;.*)?(\s+--\S+)*$"  # marker, per-requirement options
)
_URL_OR_PATH = re.compile(r"(git\+|hg\+|svn\+|bzr\+|https?://|file:|\.{1,2}/|/)\S*$")
_CONDA = re.compile(r"^dependencies\s*:", re.MULTILINE)
_CODE_LINE = re.compile(r"^(import [\w.]+|from [\w.]+ import |def \w+\s*\(|class \w+\s*[(:]|async def \w+\s*\()", re.MULTILINE)
_SHEBANG = re.compile(rb"#![^\n]*python")


@dataclass(frozen=True)
class Sniffed:
    kind: Optional[str]  # python | notebook | requirements | conda | image (cnnlint.named); None: refused
    reason: str = ""  # why it was refused


def _text(data: bytes) -> Optional[str]:
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            data, forced = data[len(bom):], encoding
            break
    else:
        forced = "utf-8"
    try:
        return data.decode(forced)
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:  # cut in the middle of a character at the read limit
            return data[:exc.start].decode(forced, "replace")
        return None


def _json_kind(text: str) -> Optional[Sniffed]:
    """`notebook` for a notebook's JSON, refused for other JSON, None for what is not JSON."""
    if not text.lstrip().startswith(("{", "[")):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if isinstance(doc, dict) and (isinstance(doc.get("cells"), list) or "nbformat" in doc):
        return Sniffed("notebook")
    return Sniffed(None, "by its content, JSON that is not a notebook (no `cells`)")


def _is_requirements(text: str) -> bool:
    requirements = 0
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip().rstrip("\\").strip()
        if not line:
            continue
        if _OPTION.match(line):
            continue
        if not (_REQUIREMENT.match(line) or _URL_OR_PATH.match(line)):
            return False
        requirements += 1
    return requirements > 0


def _is_python(data: bytes, text: Optional[str]) -> bool:
    """A Python shebang, import / def / class lines (cheap: a regular expression), else a parse
    of a file no larger than PARSE_LIMIT (a parse costs about 200 times the file's size in memory)."""
    if _SHEBANG.match(data) or (text is not None and _CODE_LINE.search(text)):
        return True
    if len(data) > PARSE_LIMIT:
        return False
    try:
        ast.parse(data)
        return True
    except (RecursionError, MemoryError):
        return True  # too deeply nested or too long to parse: code all the same (the linter says so)
    except Exception:  # noqa: BLE001 - SyntaxError, ValueError (NUL), odd codecs: not Python that parses
        return False


def sniff(data: bytes) -> Sniffed:
    """The kind of text a file holds, from its first SNIFF_LIMIT bytes."""
    if b"\0" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return Sniffed(None, "by its content, a binary file: not a Python script, notebook, requirements file, "
                             "conda environment or image")
    text = _text(data)
    if text is not None:
        as_json = _json_kind(text)
        if as_json is not None:
            return as_json
        if _CONDA.search(text):
            return Sniffed("conda")
        if _is_requirements(text):
            return Sniffed("requirements")
    if _is_python(data, text):  # an empty file too: an empty script
        return Sniffed("python")
    return Sniffed(None, "by its content, not a Python script, notebook, requirements file, conda environment "
                         "or image")
