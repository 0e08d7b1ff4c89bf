"""Words that say train or validation/test in names and paths (CNL103, CNL203)."""

from __future__ import annotations

import re
from typing import List, Optional

_SPLIT = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_VAL_TOKEN = re.compile(
    r"^(val|valid|validation|validate|test|testing|eval|evaluation)"
    r"(dir|path|data|set|ds|loader|dl|gen|generator|dataset|images|imgs|folder|root|x|y|df)?$"
)
_TRAIN_TOKEN = re.compile(r"^train(ing)?")


def tokens(text: str) -> List[str]:
    """The lower-cased words of a name or path (`valDir` -> `val`, `dir`)."""
    return [t.lower() for t in _SPLIT.findall(text)]


def word_kind(text: str) -> Optional[str]:
    """"val" when a name or path says validation/test (and not train), "train" when it says train."""
    found = tokens(text)
    if any(_TRAIN_TOKEN.match(t) for t in found):
        return "train"
    if any(_VAL_TOKEN.match(t) for t in found):
        return "val"
    return None
