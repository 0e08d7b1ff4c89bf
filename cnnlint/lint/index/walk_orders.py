"""Bindings kept in walk order, looked up by position: a use sees those before it."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence


def rising_orders(binds: Sequence[Any]) -> Optional[List[int]]:
    """The walk orders of `binds` (anything with an `.order`) when they rise along the list, for
    a bisection; None when they do not (a binding recorded after the ones that follow it: a walrus
    inside an assignment's value, an accumulation bound after the walk), to be filtered instead."""
    orders = [b.order for b in binds]
    return orders if all(a <= b for a, b in zip(orders, orders[1:])) else None
