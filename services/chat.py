"""Plain-text direct messages: a customer's stored with an unread count; the merchant's
sent on the transport the customer last used (NIP-04 unless they wrote with NIP-17)."""

from __future__ import annotations

from ..crud.messages import MessageRow, list_messages, mark_read, touch_customers
from ..crud.uow import unit_of_work
from ..market.nip15 import MAX_CONTENT_BYTES, Reply
from ..nostr.nip19 import normalize_public_key
from ..storage.database import Connection
from .conversation import Incoming, Verdict, claim, record_message
from .deps import Deps
from .outgoing import NIP04, send_replies


class MessageInvalid(ValueError):
    """A message the merchant cannot send (empty, too long, bad public key)."""


async def receive_chat(deps: Deps, incoming: Incoming) -> Verdict:
    """Keep a plain-text message in the conversation; the customer appears if new."""
    async with unit_of_work(deps.db) as conn:
        await claim(conn, incoming, verdict="outgoing" if incoming.outgoing else "processed")
        await record_message(conn, incoming)
    deps.bus.publish(incoming.merchant.id, "message", {"public_key": incoming.customer})
    return Verdict("outgoing" if incoming.outgoing else "processed")


async def send_message(deps: Deps, merchant_id: str, customer_pubkey: str, text: str) -> MessageRow:
    """Send `text` to a customer (hex or npub) and return the stored message."""
    customer = _customer(customer_pubkey)
    if not text.strip() or len(text.encode()) > MAX_CONTENT_BYTES:
        raise MessageInvalid("a message must be between 1 byte and 64 KiB")
    merchant = await deps.merchants.get(merchant_id)
    transport = await _transport(deps, merchant_id, customer)
    async with unit_of_work(deps.db) as conn:
        sent = await send_replies(
            conn, merchant, customer, transport, None, [Reply(-1, text)], deps.now()
        )
        await record_customer(conn, merchant_id, customer, deps.now())
    deps.bus.publish(merchant_id, "message", {"public_key": customer})
    rows = await list_messages(deps.db, merchant_id, customer)
    return next(row for row in reversed(rows) if row.event_id == sent[0].event_id)


async def record_customer(conn: Connection, merchant_id: str, customer: str, now: int) -> None:
    """Make sure the customer exists (the merchant may write first)."""
    await touch_customers(conn, merchant_id, [(customer, 0, now)])


async def read_conversation(deps: Deps, merchant_id: str, customer_pubkey: str) -> None:
    """The merchant read the conversation: its unread count drops to zero."""
    customer = _customer(customer_pubkey)
    async with unit_of_work(deps.db) as conn:
        await mark_read(conn, merchant_id, customer)


def _customer(pubkey: str) -> str:
    try:
        return normalize_public_key(pubkey)
    except ValueError as error:
        raise MessageInvalid(f"not a public key: {error}") from None


async def _transport(deps: Deps, merchant_id: str, customer: str) -> str:
    row = await deps.db.fetchone(
        "SELECT transport FROM direct_messages WHERE merchant_id = ? AND public_key = ?"
        " AND direction = 'in' ORDER BY created_at DESC, id DESC LIMIT 1",
        (merchant_id, customer),
    )
    return NIP04 if row is None else str(row["transport"])
