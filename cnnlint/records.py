"""Dataclass records as plain dicts, for JSON and for the workers' results."""

from __future__ import annotations

import copy
from dataclasses import fields, is_dataclass
from typing import Any, Dict, Tuple

_FIELD_NAMES: Dict[type, Tuple[str, ...]] = {}
_PLAIN = (str, int, float, bool, type(None))


def as_dict(record: Any) -> Dict[str, Any]:
    """What `dataclasses.asdict` returns (the same keys in the same order, nested records, lists,
    tuples and dicts converted, anything else deep-copied), without its per-value dispatch: the
    workers turn every finding and every script's facts into a dict."""
    return _convert(record)  # type: ignore[no-any-return]


def _convert(value: Any) -> Any:
    tp = type(value)
    if tp in _PLAIN:
        return value
    names = _FIELD_NAMES.get(tp)
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[tp] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _convert(getattr(value, name)) for name in names}
    if tp is list:
        return [_convert(v) for v in value]
    if tp is tuple:
        return tuple(_convert(v) for v in value)
    if tp is dict:
        return {_convert(k): _convert(v) for k, v in value.items()}
    return copy.deepcopy(value)
