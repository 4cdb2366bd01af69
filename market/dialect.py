"""The dialect an order came in, and the replies it is owed in that dialect.

An order remembers its dialect (`OrderDetails.dialect`): `nip15` (JSON orders in
direct messages) or `gamma` (kind 16 rumors). Whatever moves the order later (a
payment, the merchant shipping it, an expiry) answers through here, so the
customer always hears back in the words their client reads.
"""

from __future__ import annotations

from typing import Any

from ..orders.state import OrderState
from . import gamma_replies, nip15
from .nip15 import Reply

NIP15, GAMMA = "nip15", "gamma"
DIALECTS = (NIP15, GAMMA)
LABELS = {NIP15: "NIP-15", GAMMA: "Gamma market"}


def dialect_of(state: OrderState) -> str:
    return state.details.dialect if state.details is not None else NIP15


def replies(state: OrderState, events: list[Any]) -> list[Reply]:
    """The messages `events` owe the customer, in the order's dialect."""
    if dialect_of(state) == GAMMA:
        return gamma_replies.replies(state, events)
    return nip15.replies(state.order_id, events, state.paid)


def refusal(dialect: str, order_id: str, text: str) -> Reply:
    """The order cannot be processed: `text` says why."""
    if dialect == GAMMA:
        return gamma_replies.refusal(order_id, text)
    return Reply(nip15.PAYMENT_REQUEST, nip15.refusal(order_id, text))


def note(dialect: str, text: str, order_id: str | None = None) -> Reply:
    """Plain words for the customer (about `order_id`, when there is one)."""
    if dialect == GAMMA:
        return gamma_replies.note(text, order_id)
    return Reply(-1, text)
