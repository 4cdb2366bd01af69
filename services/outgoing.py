"""Messages to customers: encrypted, signed, stored and queued in the caller's transaction.

Replies go out on the transport the customer used: NIP-04 in, NIP-04 out
(kind 4); NIP-17 in, NIP-17 out (two gift wraps: one for the customer, one for
the merchant's own copy, both in the outbox). A Gamma reply is a kind 16 rumor
with its tags, wrapped the same way. The conversation keeps one row per
message: the kind-4 id, or the rumor id for NIP-17.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..crud.messages import DirectMessage, insert_messages
from ..crud.outbox import Outgoing, enqueue_events
from ..crud.uow import rows
from ..market.nip15 import Reply
from ..nostr import nip04, nip17
from ..nostr.event import Event, sign_event
from ..storage.database import Connection, Database
from .deps import Merchant

NIP04, NIP17 = "nip04", "nip17"


@dataclass(frozen=True)
class Envelope:
    """One message ready to go: the events to publish and the id of the message itself."""

    message_id: str
    events: list[Event]


def seal_message(
    key_owner: Merchant, recipient: str, message: Reply | str, transport: str, created_at: int
) -> Envelope:
    """Encrypt and sign `message` (a reply, or plain text) for `recipient` on `transport`:
    a rumor of the reply's kind and tags on NIP-17, its content alone on NIP-04."""
    reply = message if isinstance(message, Reply) else Reply(-1, message)
    key, content = key_owner.key, reply.content
    if transport == NIP17:
        rumor, wraps = nip17.chat_message(
            key, recipient, content, reply.tags, created_at=created_at, kind=reply.kind
        )
        return Envelope(rumor.id, wraps)
    encrypted = nip04.encrypt(key, recipient, content)
    event = sign_event(key, 4, encrypted, [["p", recipient]], created_at)
    return Envelope(event.id, [event])


@dataclass
class Presealed:
    """Replies sealed before the transaction that is expected to send them.

    Sealing a NIP-17 reply (two gift wraps) takes longer than the rest of an
    order's transaction, which holds the database's write lock; so the expected
    replies are sealed before it, and each is used if the transaction sends that
    very content with that very timestamp (otherwise it is sealed there).
    """

    envelopes: dict[tuple[Reply, int], Envelope] = field(default_factory=dict)

    def take(self, reply: Reply, stamp: int) -> Envelope | None:
        return self.envelopes.pop((reply, stamp), None)


_LAST_STAMP = (
    "SELECT MAX(created_at) AS t FROM direct_messages WHERE merchant_id = ? AND public_key = ?"
    " AND direction = 'out'"
)


def _stamp_of(found: object) -> int:
    value = None if found is None else found["t"]  # type: ignore[index]
    return 0 if value is None else int(value)


async def _last_stamp(conn: Connection, merchant_id: str, customer: str) -> int:
    found = await rows(conn, _LAST_STAMP, (merchant_id, customer))
    return _stamp_of(found[0] if found else None)


def reply_stamps(now: int, last_stamp: int, count: int) -> list[int]:
    """Strictly increasing timestamps per conversation: the history keeps its order
    (a restore adopts the merchant's replies in the order they were sent)."""
    first = max(now, last_stamp + 1)
    return list(range(first, first + count))


async def preseal(
    db: Database, merchant: Merchant, customer: str, transport: str, replies: Sequence[Reply],
    now: int,
) -> Presealed:  # fmt: skip
    """Seal `replies` with the timestamps they will get if sent at `now`."""
    last = _stamp_of(await db.fetchone_inline(_LAST_STAMP, (merchant.id, customer)))
    return seal_ahead(merchant, customer, transport, replies, reply_stamps(now, last, len(replies)))


def seal_ahead(
    merchant: Merchant, customer: str, transport: str, replies: Sequence[Reply],
    stamps: Sequence[int],
) -> Presealed:  # fmt: skip
    """`replies` sealed with the timestamps they are expected to get."""
    return Presealed({
        (reply, stamp): seal_message(merchant, customer, reply, transport, stamp)
        for reply, stamp in zip(replies, stamps, strict=True)
    })  # fmt: skip


async def send_replies(
    conn: Connection,
    merchant: Merchant,
    customer: str,
    transport: str,
    order_id: str | None,
    replies: Sequence[Reply],
    now: int,
    last_stamp: int | None = None,
    presealed: Presealed | None = None,
) -> list[DirectMessage]:
    """Queue each reply for publishing and store it in the conversation.

    `last_stamp` is the newest message already sent to the customer, when the caller
    read it already (it is read here otherwise)."""
    if not replies:
        return []
    queued: list[Outgoing] = []
    stored: list[DirectMessage] = []
    if last_stamp is None:
        last_stamp = await _last_stamp(conn, merchant.id, customer)
    stamps = reply_stamps(now, last_stamp, len(replies))
    for reply, stamp in zip(replies, stamps, strict=True):
        envelope = (presealed and presealed.take(reply, stamp)) or seal_message(
            merchant, customer, reply, transport, stamp
        )
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
