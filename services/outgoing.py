"""Messages to customers: encrypted, signed, stored and queued in the caller's transaction.

Replies go out on the transport the customer used: NIP-04 in, NIP-04 out
(kind 4); NIP-17 in, NIP-17 out (two gift wraps: one for the customer, one for
the merchant's own copy, both in the outbox). The conversation keeps one row
per message: the kind-4 id, or the rumor id for NIP-17.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..crud.messages import DirectMessage, insert_messages
from ..crud.outbox import Outgoing, enqueue_events
from ..crud.uow import rows
from ..db import Connection
from ..nostr import nip04, nip17
from ..nostr.event import Event, sign_event
from ..order_messages import Reply
from .deps import Merchant

NIP04, NIP17 = "nip04", "nip17"


@dataclass(frozen=True)
class Envelope:
    """One message ready to go: the events to publish and the id of the message itself."""

    message_id: str
    events: list[Event]


def seal_message(
    key_owner: Merchant, recipient: str, content: str, transport: str, created_at: int
) -> Envelope:
    """Encrypt and sign `content` for `recipient` on `transport`."""
    key = key_owner.key
    if transport == NIP17:
        rumor, wraps = nip17.chat_message(key, recipient, content, created_at=created_at)
        return Envelope(rumor.id, wraps)
    encrypted = nip04.encrypt(key, recipient, content)
    event = sign_event(key, 4, encrypted, [["p", recipient]], created_at)
    return Envelope(event.id, [event])


async def _last_stamp(conn: Connection, merchant_id: str, customer: str) -> int:
    found = await rows(
        conn,
        "SELECT MAX(created_at) AS t FROM direct_messages WHERE merchant_id = ? AND public_key = ?"
        " AND direction = 'out'",
        (merchant_id, customer),
    )
    return 0 if not found or found[0]["t"] is None else int(found[0]["t"])


async def send_replies(
    conn: Connection,
    merchant: Merchant,
    customer: str,
    transport: str,
    order_id: str | None,
    replies: Sequence[Reply],
    now: int,
    last_stamp: int | None = None,
) -> list[DirectMessage]:
    """Queue each reply for publishing and store it in the conversation.

    `last_stamp` is the newest message already sent to the customer, when the caller
    read it already (it is read here otherwise)."""
    if not replies:
        return []
    queued: list[Outgoing] = []
    stored: list[DirectMessage] = []
    # Strictly increasing timestamps per conversation: the history keeps its order
    # (a restore adopts the merchant's replies in the order they were sent).
    if last_stamp is None:
        last_stamp = await _last_stamp(conn, merchant.id, customer)
    stamp = max(now, last_stamp + 1) - 1
    for reply in replies:
        stamp += 1
        envelope = seal_message(merchant, customer, reply.content, transport, stamp)
        purpose = "dm" if reply.type < 0 else f"order:type{reply.type}"
        queued += [
            Outgoing(merchant.id, event, purpose, order_id, merchant.relays)
            for event in envelope.events
        ]
        stored.append(
            DirectMessage(merchant.id, customer, envelope.message_id, "out", reply.content,
                          transport, stamp, reply.type, order_id)
        )  # fmt: skip
    await enqueue_events(conn, queued)
    await insert_messages(conn, stored)
    return stored
