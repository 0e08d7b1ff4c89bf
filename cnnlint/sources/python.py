"""Reading .py files: PEP 263 coding lines, BOMs, binary files."""

from __future__ import annotations

import codecs
import io
import re
import tokenize

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
    return SourceFile(path=path, kind="python", text=universal_newlines(decode_python(data)))
