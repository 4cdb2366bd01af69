"""A restore's first pass, the common case in bulk: what only waits for its order.

In a restore, a customer's order is parked (placed later, oldest first), and the
merchant's own payment request or status update about an order that does not
exist yet is parked too, kept in the conversation. `ingest.process` does that
one event and one unit of work at a time; here a page's such events are opened
and parked in one unit of work, with the same inbox verdicts, messages and
customers as `process` leaves. Anything else (chat, a reply about an order that
exists, the merchant's echo of its own outbox, a dialect's own message, what does
not open) goes through `process` as before. If the unit fails, nothing of it was
written and its events go through `process` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loguru import logger

from ...crud.inbox import record_verdict
from ...crud.messages import DirectMessage, insert_messages, touch_customers
from ...crud.order_batch import existing_order_ids
from ...crud.outbox import outbox_event_ids
from ...market.nip15 import OrderMessage, PaymentRequest, StatusUpdate
from ...market.shopstr import ShopstrCheckout
from ...nostr.event import Event
from ...services.conversation import Incoming, Verdict
from ...services.deps import Deps, Merchant
from ...storage.errors import StorageUnavailable
from ..ingest import Opened, Unreadable, read

ORDER_PARKED = "restore: placed later"
REPLY_PARKED = "waiting for the order to arrive"
_PARKED = ("received", "parked")


@dataclass(frozen=True)
class _Parkable:
    event: Event
    incoming: Incoming
    order_id: str
    reply_type: int | None  # the merchant's payment request (1) or status (2); None: an order


async def park_page(
    deps: Deps, merchant: Merchant, events: Sequence[Event]
) -> tuple[list[Verdict], list[Event]]:
    """Park what only waits for its order; the verdicts, and the events left to process."""
    now = deps.now()
    parkable: list[_Parkable] = []
    rest: list[Event] = []
    for event in events:
        found = _parkable(merchant, event, now)
        if found is None:
            rest.append(event)
        else:
            parkable.append(found)
    if not parkable:
        return [], rest
    try:
        parked, unparked = await _park(deps, merchant, parkable)
    except StorageUnavailable:
        raise
    except Exception as error:  # nothing was written: one at a time instead
        logger.opt(exception=error).warning("parking a page in bulk failed; one at a time")
        return [], list(events)
    return parked, rest + unparked


def _parkable(merchant: Merchant, event: Event, now: int) -> _Parkable | None:
    try:
        opened = read(merchant, event, now)
    except Unreadable:
        return None
    return _waiting(opened, event, merchant)


def _waiting(opened: Opened, event: Event, merchant: Merchant) -> _Parkable | None:
    """A customer's order, or the merchant's reply to a customer (not a note to self)."""
    incoming, message = opened.incoming, opened.message
    if opened.error is not None:
        return None
    if not incoming.outgoing:
        if type(message) in (OrderMessage, ShopstrCheckout):
            assert isinstance(message, OrderMessage)
            return _Parkable(event, incoming, message.id, None)
        return None
    if incoming.customer == merchant.public_key:
        return None
    if isinstance(message, PaymentRequest):
        return _Parkable(event, incoming, message.id, 1)
    if isinstance(message, StatusUpdate):
        return _Parkable(event, incoming, message.id, 2)
    return None


async def _park(
    deps: Deps, merchant: Merchant, parkable: list[_Parkable]
) -> tuple[list[Verdict], list[Event]]:
    """One unit of work; replies whose order exists, and our own echoes, are left out."""
    verdicts: list[Verdict] = []
    unparked: list[Event] = []
    async with deps.db.transaction() as conn:
        reply_orders = [p.order_id for p in parkable if p.reply_type is not None]
        existing = await existing_order_ids(conn, merchant.id, reply_orders)
        ours = await outbox_event_ids(conn, [p.event.id for p in parkable if p.reply_type])
        messages: list[DirectMessage] = []
        async with conn.grouped():
            for item in parkable:
                if item.reply_type is not None and (
                    item.order_id in existing or item.event.id in ours
                ):
                    unparked.append(item.event)
                    continue
                reason = ORDER_PARKED if item.reply_type is None else REPLY_PARKED
                await record_verdict(conn, item.event.id, "parked", reason, item.order_id,
                                     _PARKED)  # fmt: skip
                verdicts.append(Verdict("parked", reason, item.order_id))
                if item.reply_type is not None:
                    messages.append(_message(item))
            await insert_messages(conn, messages)
            await touch_customers(conn, merchant.id,
                                  [(m.public_key, 0, m.created_at) for m in messages])  # fmt: skip
    return verdicts, unparked


def _message(item: _Parkable) -> DirectMessage:
    incoming = item.incoming
    return DirectMessage(
        incoming.merchant.id, incoming.customer, incoming.message_id, "out", incoming.content,
        incoming.transport, incoming.created_at, item.reply_type or -1, item.order_id,
    )  # fmt: skip
