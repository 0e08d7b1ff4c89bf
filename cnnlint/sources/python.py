"""Reading .py files: PEP 263 coding lines, BOMs, binary files."""

from __future__ import annotations

import codecs
import io
import tokenize

from cnnlint.sources.model import SourceError, SourceFile


def decode_python(data: bytes) -> str:
    """Decode a Python source the way the interpreter would, or raise SourceError."""
    if b"\0" in data[:8192]:
        raise SourceError("binary file (contains NUL bytes), not Python source")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError(f"invalid encoding declaration: {exc}") from None
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise SourceError(f"unknown encoding {encoding!r} in the coding line") from None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        where = "no coding line, so it must be UTF-8" if encoding == "utf-8" else encoding
        raise SourceError(
            f"cannot decode byte 0x{data[exc.start]:02x} ({where}); "
            "add a PEP 263 coding line or re-save the file as UTF-8",
            line,
            column,
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def read_python(path: str, data: bytes) -> SourceFile:
    return SourceFile(path=path, kind="python", text=decode_python(data))
