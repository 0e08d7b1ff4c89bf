"""Reading .py files: PEP 263 coding lines, BOMs, binary files."""

from __future__ import annotations

import codecs
import io
import re
import tokenize
from typing import List

from cnnlint.findings import Finding, Severity
from cnnlint.sources.ipython import script_magics
from cnnlint.sources.model import SourceError, SourceFile


_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=]", re.MULTILINE)
_LONE_CR = re.compile(r"\r(?!\n)")


def decode_python(data: bytes) -> str:
    """Decode a Python source the way the interpreter would, or raise SourceError."""
    if b"\0" in data[:8192]:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if _COOKIE.search(b"\n".join(data.split(b"\n", 2)[:2])):
            raise SourceError(f"invalid encoding declaration: {exc}") from None
        encoding = "utf-8"  # no coding line; the first line is just not UTF-8
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding line") from None
    if _ascii_incompatible(encoding):  # UTF-16, UTF-32: the coding line itself could not be read
        raise SourceError(
            f"the coding line names {encoding!r}, which Python cannot read source code in "
            "(not ASCII-compatible); re-save the file as UTF-8",
            _cookie_line(data),
        )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        where = "UTF-8 (the file has no coding line)" if encoding == "utf-8" else encoding
        raise SourceError.undecodable(
            data, exc, f"is not valid {where}; add a PEP 263 coding line or re-save the file as UTF-8"
        ) from None
    except LookupError:  # rot13, hex, base64, zlib, uu, ...: codecs from bytes to bytes or str to str
        raise SourceError(
            f"the coding line names {encoding!r}, which is not a text encoding (Python refuses to run the file)",
            _cookie_line(data),
        ) from None
    except UnicodeError as exc:  # a text codec that fails another way (punycode)
        reason = " ".join(str(exc).split())  # one line
        raise SourceError(f"cannot be decoded as {encoding}: {reason}", _cookie_line(data)) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def _ascii_incompatible(encoding: str) -> bool:
    try:
        return b"# coding\n".decode(encoding) != "# coding\n"
    except LookupError:
        return False  # not a text encoding: decoding the file says so
    except UnicodeError:
        return True


def _cookie_line(data: bytes) -> int:
    """The line (1 or 2) of the PEP 263 coding line."""
    first = data.split(b"\n", 1)[0]
    return 1 if _COOKIE.search(first) else 2


def universal_newlines(text: str) -> str:
    """The text with each lone CR made an LF, as Python's tokenizer reads it (a CR alone ends a
    line); CRLF stays, and so does every offset: lines and columns then count as Python counts."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def read_python(path: str, data: bytes) -> SourceFile:
    """The script; one holding IPython syntax (`%matplotlib inline`) is read as a notebook cell
    is, with a CNL001 at its first magic line: plain Python cannot run it."""
    text = universal_newlines(decode_python(data))
    magics = script_magics(text)
    if magics is None:
        return SourceFile(path=path, kind="python", text=text)
    return SourceFile(path=path, kind="python", text=magics.text, shell=magics.shell, raw_text=text,
                      notes=[_magic_finding(path, text, magics.lines)])


def code_to_parse(text: str) -> str:
    """A script's text as the linter parses it: IPython lines replaced (see read_python)."""
    magics = script_magics(text)
    return text if magics is None else magics.text


def _magic_finding(path: str, text: str, lines: List[int]) -> Finding:
    line = text.split("\n", lines[0])[lines[0] - 1].rstrip("\r")
    shown = line.strip()
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    more = len(lines) - 1
    others = f" (and {more} more line{'s' if more > 1 else ''})" if more else ""
    return Finding(
        code="CNL001",
        severity=Severity.ERROR,
        message=f"IPython syntax `{shown}`{others}: plain Python cannot run this file",
        path=path,
        line=lines[0],
        column=len(line) - len(line.lstrip()) + 1,
        hint="cnnlint reads it as IPython would; run it in IPython (a `.ipy` file, a notebook), or write "
        "the line as Python (`subprocess.run([...])`, `get_ipython().run_line_magic(...)`)",
    )
