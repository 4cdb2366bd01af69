"""The dialect an order came in, the replies it is owed in that dialect, and which dialect
a wrapped message speaks.

An order remembers its dialect (`OrderDetails.dialect`): `nip15` (JSON orders in
direct messages), `gamma` (the market spec's kind 16/17), `shopstr` (kind 14
with `subject` tags) or `conduit` (kind 16 with word types and JSON content).
Whatever moves the order later (a payment, the merchant shipping it, an expiry)
answers through here, so the customer always hears back in the words their
client reads. `read_rumor` tells the dialects apart by the rumor's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..orders.state import OrderState
from . import conduit, conduit_replies, gamma, gamma_replies, nip15, shopstr, shopstr_replies
from .nip15 import Reply

NIP15, GAMMA, SHOPSTR, CONDUIT = "nip15", "gamma", "shopstr", "conduit"
DIALECTS = (NIP15, GAMMA, SHOPSTR, CONDUIT)
LABELS = {NIP15: "NIP-15", GAMMA: "Gamma market", SHOPSTR: "Shopstr", CONDUIT: "Conduit"}
_REPLIES: dict[str, Any] = {
    GAMMA: gamma_replies,
    SHOPSTR: shopstr_replies,
    CONDUIT: conduit_replies,
}


@dataclass(frozen=True)
class Read:
    """A rumor read: its dialect, the message, and the buyer it names (Shopstr's `b`)."""

    dialect: str
    message: Any
    buyer: str | None = None


def dialect_of(state: OrderState) -> str:
    return state.details.dialect if state.details is not None else NIP15


def replies(state: OrderState, events: list[Any]) -> list[Reply]:
    """The messages `events` owe the customer, in the order's dialect."""
    module = _REPLIES.get(dialect_of(state))
    if module is not None:
        return list(module.replies(state, events))
    return nip15.replies(state.order_id, events, state.paid)


def refusal(dialect: str, order_id: str, text: str) -> Reply:
    """The order cannot be processed: `text` says why."""
    module = _REPLIES.get(dialect)
    if module is not None:
        return module.refusal(order_id, text)  # type: ignore[no-any-return]
    return Reply(nip15.PAYMENT_REQUEST, nip15.refusal(order_id, text))


def note(dialect: str, text: str, order_id: str | None = None) -> Reply:
    """Plain words for the customer (about `order_id`, when there is one)."""
    module = _REPLIES.get(dialect)
    if module is not None:
        return module.note(text, order_id)  # type: ignore[no-any-return]
    return Reply(-1, text)


def dialect_of_rumor(kind: int, tags: Any) -> str:
    """Which dialect a wrapped rumor of `kind` with `tags` speaks, by its shape alone."""
    if shopstr.is_shopstr(kind, tags):
        return SHOPSTR
    if conduit.is_conduit(kind, tags):
        return CONDUIT
    if kind in gamma.KINDS:
        return GAMMA
    return NIP15


def read_rumor(
    kind: int, tags: Any, content: str, merchant: str, outgoing: bool, public: bool = False
) -> Read:
    """Parse a rumor (or a public kind 16/17) in its dialect; `MessageError` if bad."""
    dialect = dialect_of_rumor(kind, tags)
    if dialect == SHOPSTR:
        buyer = None if outgoing else shopstr.buyer_of(tags)
        return Read(dialect, shopstr.parse_rumor(tags, content, merchant, outgoing), buyer)
    if dialect == CONDUIT:
        return Read(dialect, conduit.parse_rumor(tags, content, merchant, outgoing))
    if dialect == GAMMA:
        message = gamma.parse_rumor(kind, tags, content, merchant, outgoing, public)
        return Read(dialect, message)
    return Read(dialect, nip15.parse_message(content))
