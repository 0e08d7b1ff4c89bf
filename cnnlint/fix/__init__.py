"""--fix and --diff: apply the text edits that findings carry.

Findings are grouped by file. In each file (in a notebook: each cell) the fixes
are turned into character offsets; a fix that overlaps one taken before it is
left out (its finding stays, a later run can apply it). The edits are applied
from the end backwards, so earlier offsets stay valid.

Scripts are decoded the way Python reads them (PEP 263 coding line, BOM) and
written back in the same encoding; requirements files and environment.yml are
UTF-8. Line endings are kept: inserted line breaks take the file's own. In a
notebook only the fixed cells' "source" values change in the JSON text; every
other byte stays as it was.

Before anything is written the result is checked: a script (or a notebook
cell) must still parse, a manifest must still read; otherwise the file is left
alone and an error line says why. Files are written by cnnlint.atomic.write_file:
through symbolic links, never into a file that cannot be opened for writing
(one error line, the file left alone), replaced atomically (temporary file in
the same folder, fsync, os.replace) keeping mode and owner; a file with several
hard links is rewritten in place so the links keep sharing it.
"""

from __future__ import annotations

import codecs
import difflib
import io
import json
import os
import tokenize
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from cnnlint.atomic import write_file
from cnnlint.findings import Finding
from cnnlint.fix.text import FixError, _split_n, apply_to
from cnnlint.report.paths import quote_path

__all__ = ["FixOutcome", "apply_fixes", "FixError"]


@dataclass
class FixOutcome:
    fixed: List[Finding] = field(default_factory=list)  # findings whose fix was applied (or would be)
    diffs: Dict[str, str] = field(default_factory=dict)  # path -> unified diff
    errors: List[str] = field(default_factory=list)  # one line each: a fix that could not be applied
    texts: Dict[str, bytes] = field(default_factory=dict)  # path -> fixed content of a file given as `contents`


@dataclass
class _Result:
    old_text: str
    new_text: str
    new_data: bytes
    fixed: List[Finding]
    errors: List[str]


def apply_fixes(
    findings: Sequence[Finding],
    write: bool,
    kinds: Optional[Dict[str, str]] = None,
    contents: Optional[Dict[str, bytes]] = None,
) -> FixOutcome:
    """Apply (write=True) or only compute (write=False) the fixes the findings carry.

    Returns the findings whose fix was applied (or would be), a unified diff per
    changed file, and one error line per fix or file that could not be fixed.
    `kinds`: path -> kind of the files whose kind their name does not say (named
    files classified by content). `contents`: path -> the text of a file that is
    not on disk (standard input): fixed into `texts`, never written.
    """
    outcome = FixOutcome()
    by_path: Dict[str, List[Finding]] = {}
    for finding in findings:
        if finding.fix is not None:
            by_path.setdefault(finding.path, []).append(finding)
    for path, group in by_path.items():
        try:
            data = (contents or {}).get(path)
            if data is None:
                with open(path, "rb") as fh:
                    data = fh.read()
            result = _fix_file(path, data, (kinds or {}).get(path) or _kind(path), group)
        except FixError as exc:
            outcome.errors.append(f"{path}: fixes not applied: {exc}")
            continue
        except OSError as exc:
            outcome.errors.append(f"{path}: fixes not applied: cannot read the file: {exc.strerror or exc}")
            continue
        outcome.errors.extend(result.errors)
        if not result.fixed or result.new_text == result.old_text:
            continue
        if contents and path in contents:
            outcome.texts[path] = result.new_data
        elif write:
            try:
                write_file(path, result.new_data)
            except OSError as exc:
                outcome.errors.append(f"{path}: fixes not applied: cannot write the file: {exc.strerror or exc}")
                continue
        outcome.fixed.extend(result.fixed)
        outcome.diffs[path] = unified_diff(path, result.old_text, result.new_text)
    return outcome


# ---------------------------------------------------------------- one file


def _kind(path: str) -> str:
    from cnnlint.sources.read import classify

    kind = classify(path)
    # a file linted as a manifest without a manifest's name is a `-r` target: requirements
    return kind if kind in ("python", "notebook", "conda") else "requirements"


def _fix_file(path: str, data: bytes, kind: str, findings: List[Finding]) -> _Result:
    if kind == "notebook":
        return _fix_notebook(path, data, findings)
    if kind == "python":
        text, encode = _python_codec(data)
        check: Callable[[str], str] = _check_python
    else:
        text, encode = _manifest_codec(data, "a requirements file" if kind == "requirements" else "environment.yml")
        check = _manifest_check(path, kind)
    new_text, fixed, _left, errors = apply_to(text, [(f, f.fix.all_edits()) for f in findings])  # type: ignore[union-attr]
    if new_text != text:
        problem = check(new_text)
        if problem:
            raise FixError(f"{problem}; nothing was written")
    return _Result(text, new_text, encode(new_text), fixed, errors)


def _python_codec(data: bytes) -> Tuple[str, Callable[[str], bytes]]:
    from cnnlint.sources.model import SourceError
    from cnnlint.sources.python import decode_python

    try:
        text = decode_python(data)
    except SourceError as exc:
        raise FixError(exc.message) from None
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    bom = data.startswith(codecs.BOM_UTF8)
    if encoding == "utf-8-sig":
        encoding = "utf-8"

    def encode(new: str) -> bytes:
        try:
            return (codecs.BOM_UTF8 if bom else b"") + new.encode(encoding)
        except UnicodeEncodeError as exc:
            raise FixError(f"the fixed text cannot be written in the file's encoding ({encoding}): {exc.reason}") from None

    if encode(text) != data:
        raise FixError(f"the file would not be written back byte for byte in its encoding ({encoding})")
    return text, encode


def _manifest_codec(data: bytes, what: str) -> Tuple[str, Callable[[str], bytes]]:
    """Decoded as the reader decodes it (UTF-8, a byte order mark, a requirements coding line)."""
    from cnnlint.sources.manifest import manifest_encoding

    form = manifest_encoding(data, coding_line=what == "a requirements file")
    try:
        text = form.decode(data)
    except (UnicodeError, LookupError):
        raise FixError(f"{what} must be text in the encoding it declares (UTF-8 when it declares none)") from None

    def encode(new: str) -> bytes:
        try:
            return form.encode(new)
        except UnicodeEncodeError:
            raise FixError(f"the fixed text cannot be written as {form.encoding}") from None

    return text, encode


def _parses(code: str) -> bool:
    import libcst as cst

    try:
        cst.parse_module(code)
    except Exception:  # noqa: BLE001 - libcst raises assorted errors on odd input
        return False
    return True


def _check_python(text: str) -> str:
    from cnnlint.sources.python import code_to_parse

    return "" if _parses(code_to_parse(text)) else "the fixed file would not parse"  # IPython lines as read


def _manifest_check(path: str, kind: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        from cnnlint.sources.manifest import read_manifest
        from cnnlint.sources.model import SourceError

        try:
            read_manifest(path, text.encode("utf-8"), kind)
        except (SourceError, UnicodeEncodeError) as exc:
            return f"the fixed file would not read ({getattr(exc, 'message', exc)})"
        return ""

    return check


# ---------------------------------------------------------------- notebooks


def _fix_notebook(path: str, data: bytes, findings: List[Finding]) -> _Result:
    from cnnlint.fix.notebook import new_source_json, source_span

    bom = data.startswith(codecs.BOM_UTF8)
    try:
        text = (data[3:] if bom else data).decode("utf-8")
        doc = json.loads(text)
        cells = doc["cells"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise FixError("not a readable notebook") from None
    by_cell: Dict[int, List[Finding]] = {}
    errors: List[str] = []
    for finding in findings:
        if finding.cell is None or not 1 <= finding.cell <= len(cells):
            errors.append(f"{finding.location()}: {finding.code} fix not applied: the finding has no cell of this notebook")
            continue
        by_cell.setdefault(finding.cell, []).append(finding)
    splices: List[Tuple[int, int, str]] = []
    fixed: List[Finding] = []
    new_sources: Dict[int, str] = {}
    ensure_ascii = text.isascii()
    for number in sorted(by_cell):
        cell = cells[number - 1]
        source = cell.get("source") if isinstance(cell, dict) else None
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            old = "".join(source)
        elif isinstance(source, str):
            old = source
        else:
            errors.append(f"{path}:cell {number}: fixes not applied: the cell has no text source")
            continue
        group = by_cell[number]
        new, done, _left, problems = apply_to(old, [(f, f.fix.all_edits()) for f in group], cell=True)  # type: ignore[union-attr]
        errors.extend(problems)
        if new == old:
            fixed.extend(done)
            continue
        start, end = source_span(text, number - 1)
        splices.append((start, end, new_source_json(text, start, end, old, new, ensure_ascii)))
        new_sources[number] = new
        fixed.extend(done)
    new_text = text
    for start, end, replacement in sorted(splices, reverse=True):
        new_text = new_text[:start] + replacement + new_text[end:]
    if new_text != text:
        _check_notebook(path, doc, new_text, new_sources)
    try:
        new_data = (codecs.BOM_UTF8 if bom else b"") + new_text.encode("utf-8")
    except UnicodeEncodeError:
        raise FixError("the fixed notebook cannot be written as UTF-8") from None
    return _Result(text, new_text, new_data, fixed, errors)


def _check_notebook(path: str, doc: dict, new_text: str, new_sources: Dict[int, str]) -> None:
    """The new JSON holds the old notebook with only these cells' sources changed, and they parse."""
    from cnnlint.sources.model import SourceError
    from cnnlint.sources.notebook import read_notebook

    try:
        new_doc = json.loads(new_text)
    except ValueError:
        raise FixError("the fixed notebook would not be valid JSON; nothing was written") from None
    expected = json.loads(json.dumps(doc))
    for number, source in new_sources.items():
        cell = new_doc["cells"][number - 1]
        got = cell.get("source")
        if ("".join(got) if isinstance(got, list) else got) != source:
            raise FixError(f"cell {number}'s new source did not land in the JSON; nothing was written")
        expected["cells"][number - 1]["source"] = got
    if new_doc != expected:
        raise FixError("the fixed notebook would change more than the fixed cells; nothing was written")
    old_nb = read_notebook(path, json.dumps(doc).encode("utf-8"))
    try:
        new_nb = read_notebook(path, new_text.encode("utf-8"))
    except (SourceError, UnicodeEncodeError) as exc:
        raise FixError(f"the fixed notebook would not read ({getattr(exc, 'message', exc)}); nothing was written") from None
    if old_nb is None or new_nb is None:
        return
    for number in new_sources:
        if _parses(_cell_code(new_nb, number)):
            continue
        if _parses(_cell_code(old_nb, number)) or not _parses(new_nb.text):
            raise FixError(f"cell {number} would not parse after the fix; nothing was written")


def _cell_code(source: object, number: int) -> str:
    """The Python text of one cell, as the notebook reader converted it."""
    lines = source.text.split("\n")  # type: ignore[attr-defined]
    mine = [lines[i] for i, (cell, _) in enumerate(source.line_map or ()) if cell == number and i < len(lines)]  # type: ignore[attr-defined]
    return "\n".join(mine) + "\n"


# ---------------------------------------------------------------- output


def _shown(path: str) -> str:
    shown = path
    if os.path.isabs(path):
        try:
            rel = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            rel = path
        if not rel.startswith(".."):
            shown = rel
    shown = shown.replace(os.sep, "/")
    while shown.startswith("./"):
        shown = shown[2:]
    return shown.lstrip("/")  # an absolute path reads a/tmp/x.py, as git writes it


def unified_diff(path: str, old: str, new: str) -> str:
    shown = _shown(path)
    out = []
    # a name that is not valid UTF-8 (or holds control characters or quotes) is quoted as git quotes it
    before, after = quote_path(f"a/{shown}"), quote_path(f"b/{shown}")
    for line in difflib.unified_diff(_split_n(old), _split_n(new), before, after):
        if line.endswith("\n"):
            out.append(line)
        elif line.startswith(("---", "+++", "@@")):
            out.append(line + "\n")
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
