"""The states and statuses an order passes through while a batch of events applies.

The projection is written with one UPDATE per status the order passes through,
so that the transition trigger sees every step; these folds give that path.
"""

from __future__ import annotations

from .events import OrderEvent
from .machine import apply
from .state import OrderState, Status


def trace(before: OrderState, events: list[OrderEvent]) -> list[OrderState]:
    """The state after each of `events`, in order (one fold for every projection)."""
    states: list[OrderState] = []
    state = before
    for event in events:
        state = apply(state, event)
        states.append(state)
    return states


def status_path(before: OrderState, events: list[OrderEvent]) -> list[Status]:
    """Every status the order passes through while `events` apply (for the projection)."""
    return path_of(before, trace(before, events))


def path_of(before: OrderState, states: list[OrderState]) -> list[Status]:
    """The distinct statuses along `states` (as `trace` returned them), in order."""
    path: list[Status] = []
    for state in states:
        if state.status is not None and state.status != (path[-1] if path else before.status):
            path.append(state.status)
    return path
