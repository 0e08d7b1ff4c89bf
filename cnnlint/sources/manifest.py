"""Dependency manifests: requirements files and conda environment.yml.

A manifest is read into `Entry` records, one per requirement, option target or
conda spec, each knowing where its text lies in the file (line and 1-based
column, across `\\` continuation lines), so findings point at the package
itself. Judging what an entry pins is the rules' business
(cnnlint/lint/dependencies.py); this module only reads.

Requirements files follow pip's own reader (pip/_internal/req/req_file.py):
lines ending in a backslash are joined (a comment line never continues), a `#`
at the start of a line or after whitespace starts a comment, a line whose
first token starts with `-` is an options line (`-r`, `-c`, `-e`, `-i`, ...),
anything else is a requirement followed by its own options (`--hash=...`).

environment.yml is read with `yaml.compose`, so every entry keeps its line and
column: the `dependencies:` list holds conda specs, and its `- pip:` sub-list
holds lines in requirements-file syntax.
"""

from __future__ import annotations

import codecs
import errno
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from cnnlint.findings import Finding, Severity
from cnnlint.sources.files import read_regular
from cnnlint.sources.model import SourceError
from cnnlint.sources.python import universal_newlines

# entry kinds
REQUIREMENT = "requirement"  # a PEP 508 requirement, URL or path (pip syntax)
EDITABLE = "editable"  # the value of -e / --editable
INCLUDE = "include"  # the file named by -r / --requirement
CONSTRAINT = "constraint"  # the file named by -c / --constraint
CONDA = "conda"  # a conda match spec in environment.yml

_COMMENT = re.compile(r"\s*#")  # with match(): a comment line
_TOKEN = re.compile(r"\S+")

# requirements-file options that name a file or a requirement, long and short forms
_VALUE_KINDS = {
    "-r": INCLUDE,
    "--requirement": INCLUDE,
    "-c": CONSTRAINT,
    "--constraint": CONSTRAINT,
    "-e": EDITABLE,
    "--editable": EDITABLE,
}
# requirements-file options that take a value (skipped with it)
_VALUE_OPTIONS = {
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-binary",
    "--only-binary", "--trusted-host", "--use-feature", "--hash", "--config-settings",
    "--global-option", "--install-option",
}


@dataclass(frozen=True)
class Segment:
    """A piece of an entry's value: value[offset:] starts at (line, column) of the file."""

    offset: int
    line: int
    column: int  # 1-based


@dataclass(frozen=True)
class Entry:
    kind: str  # REQUIREMENT | EDITABLE | INCLUDE | CONSTRAINT | CONDA
    value: str  # the requirement / file name / spec, as written (comments removed)
    segments: Tuple[Segment, ...]
    section: str = ""  # "pip" for the pip sub-list of environment.yml

    def position(self, offset: int) -> Tuple[int, int]:
        """(line, column) in the file of character `offset` of `value`."""
        found = self.segments[_segment_at(self.segments, offset)]
        return found.line, found.column + max(0, offset - found.offset)

    def span(self, start: int = 0, end: Optional[int] = None) -> Tuple[int, int, int, int]:
        """(line, column, end_line, end_column) of value[start:end] (end exclusive)."""
        end = len(self.value) if end is None else end
        line, column = self.position(start)
        end_line, end_column = self.position(max(start, end - 1))
        return line, column, end_line, end_column + 1

    @property
    def line(self) -> int:
        return self.segments[0].line

    @property
    def column(self) -> int:
        return self.segments[0].column


@dataclass
class Manifest:
    path: str
    kind: str  # "requirements" | "conda"
    text: str
    entries: List[Entry] = field(default_factory=list)


# pip's reader (pip/_internal/utils/encoding.py): a byte order mark, else a coding line on one of the
# first two lines, else UTF-8. UTF-32 is tried before UTF-16: FF FE 00 00 starts with FF FE.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PIP_CODING = re.compile(rb"coding[:=]\s*([-\w.]+)")


@dataclass(frozen=True)
class ManifestEncoding:
    """How a manifest's bytes are text: `bom + text.encode(encoding)` gives them back."""

    encoding: str
    bom: bytes = b""
    declared: bool = False  # named by a coding line

    def decode(self, data: bytes) -> str:
        return data[len(self.bom) :].decode(self.encoding)

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.encoding)


def manifest_encoding(data: bytes, coding_line: bool = True) -> ManifestEncoding:
    """The encoding pip reads a requirements file in (decoding raises LookupError for a coding
    line that names no text encoding); YAML knows byte order marks only (coding_line=False)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return ManifestEncoding(encoding, bom)
    for line in data.split(b"\n", 2)[:2] if coding_line else ():
        found = _PIP_CODING.search(line) if line[:1] == b"#" else None
        if found:
            return ManifestEncoding(found.group(1).decode("ascii"), declared=True)
    return ManifestEncoding("utf-8")


def decode_manifest(data: bytes, what: str = "requirements file", coding_line: bool = True) -> str:
    """The manifest's text, with lone CRs made LFs (every offset stays); raises SourceError."""
    form = manifest_encoding(data, coding_line)
    if not form.bom and b"\0" in data[:8192]:
        raise SourceError(f"binary file (contains NUL bytes), not a {what}")
    try:
        text = form.decode(data)
    except UnicodeDecodeError as exc:
        if form.encoding == "utf-8" and not form.bom:
            why = f"cannot be decoded (a {what} must be UTF-8 unless it says otherwise); re-save the file as UTF-8"
            raise SourceError.undecodable(data, exc, why) from None
        body = data[len(form.bom) :]
        before = body[: exc.start].decode(form.encoding, "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        where = "its coding line" if form.declared else "its byte order mark"
        raise SourceError(f"the file is not valid {form.encoding}, the encoding {where} names", line, column) from None
    except UnicodeError as exc:
        raise SourceError(f"cannot be decoded as {form.encoding}: {' '.join(str(exc).split())}") from None
    except LookupError:
        try:
            codecs.lookup(form.encoding)
        except LookupError:
            raise SourceError(f"unknown encoding {form.encoding!r} in the coding line") from None
        raise SourceError(f"the coding line names {form.encoding!r}, which is not a text encoding") from None
    if "\0" in text[:8192]:
        raise SourceError(f"binary file (contains NUL characters), not a {what}")
    return universal_newlines(text)


# ---------------------------------------------------------------- requirements


def _logical_lines(text: str) -> List[List[Tuple[str, int, int]]]:
    """pip's join_lines: each logical line as pieces (text, line, 0-based column)."""
    result: List[List[Tuple[str, int, int]]] = []
    pending: List[Tuple[str, int, int]] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.endswith("\\") or _COMMENT.match(line):
            if pending:
                if _COMMENT.match(line):
                    line = " " + line  # a comment line ends the continuation (pip does the same)
                    pending.append((line, number, -1))
                else:
                    pending.append((line, number, 0))
                result.append(pending)
                pending = []
            else:
                result.append([(line, number, 0)])
        else:
            pending.append((line.rstrip("\\"), number, 0))
    if pending:
        result.append(pending)
    return result


def _joined(pieces: List[Tuple[str, int, int]]) -> Tuple[str, List[Segment]]:
    text = ""
    segments: List[Segment] = []
    for piece, line, column in pieces:
        segments.append(Segment(len(text), line, column + 1))
        text += piece
    return text, segments


def _segment_at(segments: Sequence[Segment], offset: int) -> int:
    """Index of the last segment starting at or before `offset` (0 when none does)."""
    lo, hi = 0, len(segments)
    while lo < hi:  # bisect by offset: a line continued ten thousand times stays linear
        mid = (lo + hi) // 2
        if segments[mid].offset <= offset:
            lo = mid + 1
        else:
            hi = mid
    return max(lo - 1, 0)


def _sub_entry(kind: str, text: str, segments: List[Segment], start: int, end: int, section: str) -> Entry:
    """The entry for text[start:end] of a logical line."""
    value = text[start:end]
    # value quoted the shell way in an options line: drop the quotes
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        start, end, value = start + 1, end - 1, value[1:-1]
    k = _segment_at(segments, start)
    first = segments[k]
    segs = [Segment(0, first.line, first.column + max(0, start - first.offset))]
    for k in range(k + 1, len(segments)):
        seg = segments[k]
        if seg.offset >= end:
            break
        segs.append(Segment(seg.offset - start, seg.line, seg.column))
    return Entry(kind, value, tuple(segs), section)


def _strip_comment(text: str) -> str:
    """The line without its comment: pip's `(^|\\s+)#.*$` removed, in linear time (the regex
    takes time quadratic in a run of spaces)."""
    at = text.find("#")
    while at > 0 and not text[at - 1].isspace():
        at = text.find("#", at + 1)
    return text if at < 0 else text[:at].rstrip()


def parse_requirement_line(text: str, segments: List[Segment], section: str = "") -> List[Entry]:
    """Entries of one logical requirements line (continuations joined, comment not yet removed)."""
    text = _strip_comment(text)
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
    if not tokens:
        return []
    first_option = next((k for k, (s, e) in enumerate(tokens) if text[s] == "-"), len(tokens))
    if first_option > 0:
        start, end = tokens[0][0], tokens[first_option - 1][1]
        return [_sub_entry(REQUIREMENT, text, segments, start, end, section)]
    entries: List[Entry] = []
    k = 0
    while k < len(tokens):
        s, e = tokens[k]
        token = text[s:e]
        k += 1
        if not token.startswith("-"):
            continue
        name, eq, attached = token.partition("=") if token.startswith("--") else (token, "", "")
        value_start = s + len(name) + len(eq)
        if not token.startswith("--") and len(token) > 2 and token[:2] in _VALUE_KINDS:
            name, attached, value_start = token[:2], token[2:], s + 2  # -rfile.txt
        kind = _VALUE_KINDS.get(name)
        if kind is None:
            if name in _VALUE_OPTIONS and not eq and k < len(tokens):
                k += 1  # the option's value
            continue
        if attached:
            entries.append(_sub_entry(kind, text, segments, value_start, e, section))
        elif k < len(tokens):
            vs, ve = tokens[k]
            k += 1
            entries.append(_sub_entry(kind, text, segments, vs, ve, section))
    return entries


def parse_requirements(text: str) -> List[Entry]:
    entries: List[Entry] = []
    for pieces in _logical_lines(text):
        line_text, segments = _joined(pieces)
        entries.extend(parse_requirement_line(line_text, segments))
    return entries


# ---------------------------------------------------------------- environment.yml


def _scalar_text(node: object) -> Optional[str]:
    import yaml

    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return str(node.value)
    return None


def _scalar_segments(node: object) -> List[Segment]:
    mark = node.start_mark  # type: ignore[attr-defined]
    quote = 1 if getattr(node, "style", None) in ("'", '"') else 0
    return [Segment(0, mark.line + 1, mark.column + 1 + quote)]


def parse_conda(text: str) -> List[Entry]:
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        raise SourceError(f"invalid YAML: {problem}", line, column) from None
    except RecursionError:
        raise SourceError("invalid YAML: too deeply nested") from None
    if not isinstance(root, yaml.MappingNode):
        return []
    deps = None
    for key, value in root.value:
        if _scalar_text(key) == "dependencies" and isinstance(value, yaml.SequenceNode):
            deps = value
    if deps is None:
        return []
    entries: List[Entry] = []
    for item in deps.value:
        spec = _scalar_text(item)
        if spec is not None:
            if spec.strip():
                lead = len(spec) - len(spec.lstrip())
                segs = _scalar_segments(item)
                entries.append(Entry(CONDA, spec.strip(), (Segment(0, segs[0].line, segs[0].column + lead),)))
            continue
        if not isinstance(item, yaml.MappingNode):
            continue
        for key, value in item.value:
            if _scalar_text(key) != "pip" or not isinstance(value, yaml.SequenceNode):
                continue
            for pip_item in value.value:
                line = _scalar_text(pip_item)
                if line is not None and "\n" not in line.strip():
                    entries.extend(parse_requirement_line(line, _scalar_segments(pip_item), "pip"))
    return entries


# ---------------------------------------------------------------- public


def read_manifest(path: str, data: bytes, kind: str) -> Manifest:
    """Read a requirements file ("requirements") or a conda environment.yml ("conda").

    Raises SourceError for input that cannot be read: binary data, non-UTF-8
    text, invalid YAML.
    """
    if kind == "requirements":
        text = decode_manifest(data, "requirements file")
        return Manifest(path=path, kind=kind, text=text, entries=parse_requirements(text))
    if kind == "conda":
        text = decode_manifest(data, "conda environment file", coding_line=False)
        return Manifest(path=path, kind=kind, text=text, entries=parse_conda(text))
    raise SourceError(f"unknown manifest kind {kind!r}")


def _is_local_target(value: str) -> bool:
    return bool(value) and "://" not in value and "${" not in value


def included_files(manifest: Manifest, constraints: bool = False) -> List[str]:
    """Files this manifest installs from with `-r` (and names with `-c` when asked).

    Paths are joined to the manifest's folder (absolute when manifest.path is),
    so the CLI can lint `-r` targets whose names do not look like requirements
    files. URLs and paths with environment variables are left out. Constraint
    files are not installs, so they are only listed with constraints=True.
    """
    kinds = {INCLUDE, CONSTRAINT} if constraints else {INCLUDE}
    base = os.path.dirname(manifest.path)
    found: Dict[str, None] = {}  # ordered, and a lookup per entry that does not grow with the file
    for entry in manifest.entries:
        if entry.kind in kinds and _is_local_target(entry.value):
            found.setdefault(os.path.normpath(os.path.join(base, os.path.expanduser(entry.value))))
    return list(found)


def unreadable_includes(manifest: Manifest, read: Callable[[str], Optional[bytes]], real_path: str) -> List[Finding]:
    """A CNL001 at each `-r` / `-c` file that cannot be opened: pip reads every file named
    before it installs anything, so the whole install fails ("Could not open requirements file").

    `read` reads a path relative to the manifest's folder (FileContext.read_related, which
    records it for the cache); URLs and paths with environment variables are not checked.
    """
    found: List[Finding] = []
    reasons: Dict[str, Optional[str]] = {}  # value -> why it cannot be read (None: it can)
    for entry in manifest.entries:
        if entry.kind not in (INCLUDE, CONSTRAINT) or not _is_local_target(entry.value):
            continue
        if entry.value not in reasons:
            reasons[entry.value] = None
            if read(entry.value) is None:
                full = os.path.join(os.path.dirname(real_path), entry.value)
                try:
                    read_regular(full, 0)
                    reasons[entry.value] = "cannot be read"
                except OSError as exc:
                    reasons[entry.value] = "does not exist" if exc.errno == errno.ENOENT else (exc.strerror or str(exc))
        reason = reasons[entry.value]
        if reason is None:
            continue
        option = "-r" if entry.kind == INCLUDE else "-c"
        line, column, end_line, end_column = entry.span()
        found.append(Finding(
            code="CNL001",
            severity=Severity.ERROR,
            message=f"cannot read {entry.value} (named by {option}): {reason}, so pip fails on this file",
            path=manifest.path,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            hint="fix the path (it is relative to this file's folder) or remove the line",
        ))
    return found
