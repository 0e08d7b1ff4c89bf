"""Sizes of memory written by people: `15GiB`, `16GB`, `8000MiB` (settings and command-line flags)."""

from __future__ import annotations

import re

GIB = 1024 ** 3
MIB = 1024 ** 2

_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 1000 ** 2, "mb": 1000 ** 2, "g": 1000 ** 3, "gb": 1000 ** 3, "t": 1000 ** 4, "tb": 1000 ** 4,
    "kib": 1024, "mib": MIB, "gib": GIB, "tib": 1024 ** 4,
}
_SIZE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """`15GiB`, `16GB`, `40 G`, `8000MiB`, `1.5GiB` -> bytes. A bare number is GiB."""
    m = _SIZE.match(text)
    if not m:
        raise ValueError(f"cannot read the size {text!r} (expected e.g. 15GiB, 16GB or 8000MiB)")
    unit = m.group("unit").lower()
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {m.group('unit')!r} in {text!r} (use GiB, GB, MiB or MB)")
    factor = GIB if unit == "" else _UNITS[unit]
    value = float(m.group("num")) * factor
    if value < MIB:
        raise ValueError(f"{text!r} is too small for a GPU memory size")
    return int(value)
