"""CNL3xx: model, loss and optimizer configuration."""

from __future__ import annotations

from typing import List

RULES: List[type] = []
