"""Shared pieces of every message-driven use case: the incoming message, claiming its
inbox row, storing it in the conversation, and announcing committed changes."""

from __future__ import annotations

from dataclasses import dataclass

from ..crud import inbox as inbox_crud
from ..crud.messages import DirectMessage, insert_messages, touch_customers
from ..orders.events import OrderPaid, PaymentReceived, RefundNeeded
from ..storage.database import Connection
from .deps import Deps, Merchant
from .order_store import Applied


class AlreadyHandled(Exception):
    """Another delivery of the same event was applied first; this one changes nothing."""


@dataclass(frozen=True)
class Incoming:
    """A decrypted direct message between a merchant and a customer."""

    merchant: Merchant
    inbox_id: str | None  # the ingested event (kind 4 or gift wrap); None when not from Nostr
    message_id: str  # the kind 4 id, or the NIP-17 rumor id
    customer: str
    outgoing: bool  # written by the merchant's own key
    transport: str
    created_at: int
    content: str
    dialect: str = "nip15"  # "gamma" for the market spec's kind 16/17 messages

    @property
    def cause(self) -> str:
        return f"nostr:{self.inbox_id or self.message_id}"


@dataclass(frozen=True)
class Verdict:
    """What became of an ingested event: its inbox verdict, and why."""

    verdict: str
    reason: str | None = None
    order_id: str | None = None


async def claim(conn: Connection, incoming: Incoming, verdict: str = "processed") -> None:
    """Take the inbox row for this transaction; if another delivery took it, stop here."""
    if incoming.inbox_id is None:
        return
    if not await inbox_crud.set_verdict(conn, incoming.inbox_id, verdict):
        raise AlreadyHandled(incoming.inbox_id)


async def settle_verdict(
    conn: Connection,
    incoming: Incoming,
    verdict: Verdict,
    expected: tuple[str, ...] = ("processed", "outgoing"),
) -> Verdict:
    """Replace the verdict claimed at the start of the transaction by the real one."""
    if incoming.inbox_id is not None:
        await inbox_crud.record_verdict(
            conn, incoming.inbox_id, verdict.verdict, verdict.reason, verdict.order_id, expected
        )
    return verdict


async def record_message(
    conn: Connection, incoming: Incoming, type_: int = -1, order_id: str | None = None
) -> None:
    """Keep the message in the conversation. Only a customer's plain-text message adds to the
    unread count: an order or a status is news for the orders table, not the chat badge."""
    direction = "out" if incoming.outgoing else "in"
    merchant_id = incoming.merchant.id
    message = DirectMessage(
        merchant_id, incoming.customer, incoming.message_id, direction, incoming.content,
        incoming.transport, incoming.created_at, type_, order_id,
    )  # fmt: skip
    await insert_messages(conn, [message])
    unread = 0 if incoming.outgoing or type_ >= 0 else 1
    await touch_customers(conn, merchant_id, [(incoming.customer, unread, incoming.created_at)])


def announce(deps: Deps, applied: Applied) -> None:
    """Tell the dashboard what a committed command changed."""
    after, merchant_id = applied.after, applied.merchant_id
    if applied.before.status is None:
        deps.bus.publish(merchant_id, "order", {"id": after.order_id, "status": str(after.status)})
    elif applied.status_changed:
        deps.bus.publish(merchant_id, "status", {"id": after.order_id, "status": str(after.status)})
    if any(isinstance(event, PaymentReceived | OrderPaid) for event in applied.events):
        deps.bus.publish(merchant_id, "payment", {"id": after.order_id, "paid": after.paid})
    for event in applied.events:
        if isinstance(event, RefundNeeded):
            deps.bus.publish(merchant_id, "payment", _refund_note(after.order_id, event))


def _refund_note(order_id: str, event: RefundNeeded) -> dict[str, object]:
    return {
        "id": order_id,
        "refund_needed": True,
        "amount_msat": event.amount_msat,
        "payment_hash": event.payment_hash,
        "reason": event.reason,
    }
