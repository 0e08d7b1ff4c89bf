"""File names that are not valid UTF-8, written so that every output stays valid.

A POSIX file name is bytes; Python decodes the bytes that are not UTF-8 as lone surrogates
(U+DC80..U+DCFF, "surrogateescape"), which no UTF-8 output can hold. Each format writes them
one way, the way git and Ruff do:

- text: a path holding such bytes, a control character, `"` or (on POSIX) `\\` is quoted as
  git quotes it: in double quotes, with C escapes and each undecodable byte in octal
  (`"bad\\377.py"`); other paths are written as they are. Messages get the same escapes
  without the quotes. `--format github` escapes paths and messages that way, unquoted.
- JSON (`--format json`, baselines): the surrogates are written as `\\udcXX` escapes, so the
  document is valid UTF-8 JSON, and `json.load` then `os.fsencode` give back the exact bytes.
- SARIF: URIs are percent-encoded from the file name's bytes (`bad%FF.py`); texts as in JSON.
"""

from __future__ import annotations

import os
import re

_SURROGATE = re.compile("[\ud800-\udfff]")
_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f",
              "\r": "\\r", '"': '\\"', "\\": "\\\\"}
_NEEDS_QUOTES = re.compile('[\x00-\x1f\x7f"\ud800-\udfff' + ("\\\\" if os.sep == "/" else "") + "]")


def _octal(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte
        return "\\%03o" % (code - 0xDC00)
    if code >= 0xD800:  # a surrogate that is no byte (not from a file name): its code point
        return "\\u%04x" % code
    return "\\%03o" % code


def _c_escape(char: str) -> str:
    return _C_ESCAPES.get(char) or _octal(char)


def quote_path(path: str) -> str:
    """The path for text output: as it is, or quoted as git quotes it."""
    if not _NEEDS_QUOTES.search(path):
        return path
    return '"' + _NEEDS_QUOTES.sub(lambda m: _c_escape(m.group()), path) + '"'


def escape_text(text: str) -> str:
    """Text whose undecodable bytes are octal escapes (`\\377`); everything else unchanged."""
    return _SURROGATE.sub(lambda m: _octal(m.group()), text)


def json_safe(text: str) -> str:
    """JSON written with ensure_ascii=False, its lone surrogates (possible only inside strings)
    turned into `\\udcXX` escapes: valid UTF-8 JSON that reads back to the same strings."""
    return _SURROGATE.sub(lambda m: "\\u%04x" % ord(m.group()), text)

