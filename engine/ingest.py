"""Every Nostr event for a merchant, from any source, goes through `ingest_event`.

verify -> inbox (the event id is the primary key: a duplicate stops here, as a
value) -> decrypt (NIP-04) or unwrap (NIP-17) -> parse (NIP-15) -> one service
call, whose transaction also settles the inbox row's verdict. A bad input is
kept with its reason and logged at warning; nothing here stops the caller's loop.

In `restore` mode customer orders are parked instead of placed, so that a whole
history can be ingested in any order and then placed in one canonical order
(`restore_place.place_parked`), with the merchant's own earlier replies adopted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

from loguru import logger

from ..crud import inbox as inbox_crud
from ..market import gamma, shopstr
from ..market.dialect import GAMMA, SHOPSTR, dialect_of_rumor, read_rumor
from ..market.nip15 import (
    MAX_CONTENT_BYTES,
    MessageError,
    OrderMessage,
    PaymentRequest,
    PlainText,
    Reply,
    StatusUpdate,
)
from ..nostr.event import Event, InvalidEvent, parse_event
from ..nostr.nip04 import Nip04Error
from ..nostr.nip04 import decrypt as nip04_decrypt
from ..nostr.nip17 import MESSAGE_KINDS
from ..nostr.nip17 import receive as nip17_receive
from ..nostr.nip59 import Nip59Error, Rumor
from ..services.chat import receive_chat
from ..services.conversation import AlreadyHandled, Incoming, Verdict
from ..services.deps import Deps, Merchant
from ..services.intake import (
    ParkedReply,
    WalletUnavailable,
    is_order_error,
    place_order,
    refuse_unreadable,
    reject_order,
    send_refusal,
)
from ..services.merchant_messages import record_outgoing, refuse_customer_status
from ..services.outgoing import NIP04, send_replies
from ..storage.errors import StorageUnavailable
from .market_routes import MarketMessage, route_market

DM_KIND, WRAP_KIND = 4, 1059
FUTURE_TOLERANCE = 15 * 60
WRAPPED_KINDS = MESSAGE_KINDS | gamma.KINDS  # NIP-17 chat, and the market spec's 16 and 17


class Unreadable(ValueError):
    """An event we cannot open: wrong recipient, undecryptable, or dated in the future."""


@dataclass(frozen=True)
class Opened:
    incoming: Incoming
    message: OrderMessage | PaymentRequest | StatusUpdate | PlainText | MarketMessage | None
    error: MessageError | None = None


def event_id_for_invalid(raw: object) -> str:
    """Invalid input is kept under a digest of itself, never under the id it claims:
    a forgery must not occupy the id of the real event that may come later."""
    text = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True, default=str)
    return "invalid:" + hashlib.sha256(text.encode()).hexdigest()


async def record_invalid(
    deps: Deps, merchant_id: str, raw: object, reason: str, relay: str | None
) -> None:
    """Keep an event that failed verification, with its reason; nothing else happens."""
    text = raw if isinstance(raw, str) else json.dumps(raw, default=str)
    entry = inbox_crud.InboxEntry(
        event_id_for_invalid(raw), merchant_id, text[: 2 * MAX_CONTENT_BYTES], None, None, None,
        "rejected", reason, None, deps.now(), relay,
    )  # fmt: skip
    async with deps.db.transaction() as conn:
        await inbox_crud.insert_entry(conn, entry)
    logger.warning("rejected an invalid event from {}: {}", relay, reason)


async def ingest_event(
    deps: Deps, merchant: Merchant, raw: Event | object, relay: str | None = None,
    *, restore: bool = False,
) -> Verdict:  # fmt: skip
    """Take one event for `merchant` through the whole pipeline; never raises for bad input."""
    try:
        event = raw if isinstance(raw, Event) else parse_event(raw)
    except InvalidEvent as invalid:
        await record_invalid(deps, merchant.id, raw, invalid.reason, relay)
        return Verdict("rejected", invalid.reason)
    problem = envelope_problem(event, merchant, deps.now())
    entry = inbox_entry(event, merchant, deps.now(), relay, problem)
    # The claim orders the work (a duplicate, even a concurrent one, stops here); it
    # commits with, or before, whatever processing the event then commits.
    async with deps.db.transaction(await_commit=False) as conn:
        if not await inbox_crud.insert_entry(conn, entry):
            return Verdict("ignored", "duplicate")
    if problem is not None:
        verdict = await _refuse_envelope(deps, merchant, event, problem, restore)
    else:
        verdict = await process(deps, merchant, event, restore=restore)
    await deps.db.settled()  # the claim too, when processing wrote nothing after it
    return verdict


def inbox_entry(
    event: Event, merchant: Merchant, now: int, relay: str | None, problem: str | None
) -> inbox_crud.InboxEntry:
    verdict = "received" if problem is None else "rejected"
    return inbox_crud.InboxEntry(
        event.id, merchant.id, event.to_json(), event.kind, event.pubkey, event.created_at,
        verdict, problem, None, now, relay,
    )  # fmt: skip


def envelope_problem(event: Event, merchant: Merchant, now: int) -> str | None:
    """Why the event cannot be a direct message for this merchant, or None."""
    if event.kind not in (DM_KIND, WRAP_KIND) and not _public_gamma(event, merchant):
        return f"kind {event.kind} is not a direct message"
    if len(event.content) > _content_limit(event.kind):
        return f"content is larger than {MAX_CONTENT_BYTES // 1024} KiB"
    if event.created_at > now + FUTURE_TOLERANCE:
        return "created_at is more than 15 minutes in the future"
    recipients = event.tag_values("p")
    if merchant.public_key not in recipients and event.pubkey != merchant.public_key:
        return "neither addressed to nor written by this merchant"
    return None


def _public_gamma(event: Event, merchant: Merchant) -> bool:
    """A buyer's signed, public kind 16 or 17 to the merchant (Plebeian Market publishes its
    order marker, status updates and receipts so); the merchant's own are never read so."""
    return (
        event.kind in gamma.KINDS
        and event.pubkey != merchant.public_key
        and merchant.public_key in event.tag_values("p")
    )


def _content_limit(kind: int) -> int:
    """64 KiB of content; a gift wrap holds it encrypted twice, so it may be twice as big."""
    return MAX_CONTENT_BYTES * (2 if kind == WRAP_KIND else 1)


def open_event(merchant: Merchant, event: Event, now: int) -> Incoming:
    """Decrypt or unwrap; the message's author decides the direction."""
    if event.kind == WRAP_KIND:
        return _open_wrap(merchant, event, now)[0]
    if event.kind in gamma.KINDS:  # public and signed: nothing to open
        return Incoming(merchant, event.id, event.id, event.pubkey, False, "nip17",
                        event.created_at, event.content, GAMMA)  # fmt: skip
    outgoing = event.pubkey == merchant.public_key
    customer = event.first_tag("p") if outgoing else event.pubkey
    if not customer:
        raise Unreadable("the merchant's message names no recipient")
    try:
        content = nip04_decrypt(merchant.key, customer, event.content)
    except Nip04Error as error:
        raise Unreadable(f"cannot decrypt: {error}") from None
    return Incoming(
        merchant, event.id, event.id, customer, outgoing, "nip04", event.created_at, content
    )


def _open_wrap(merchant: Merchant, event: Event, now: int) -> tuple[Incoming, Rumor]:
    try:
        opened = nip17_receive(merchant.key, event, WRAPPED_KINDS)
    except (Nip59Error, Nip04Error, ValueError) as error:
        raise Unreadable(f"cannot unwrap: {error}") from None
    rumor = opened.rumor
    if rumor.created_at > now + FUTURE_TOLERANCE:
        raise Unreadable("message created_at is more than 15 minutes in the future")
    outgoing = opened.sender_pubkey == merchant.public_key
    recipients = [tag[1] for tag in rumor.tags if len(tag) > 1 and tag[0] == "p"]
    customer = (recipients[0] if recipients else "") if outgoing else opened.sender_pubkey
    if not customer:
        raise Unreadable("the merchant's message names no recipient")
    dialect = dialect_of_rumor(rumor.kind, rumor.tags)
    incoming = Incoming(merchant, event.id, rumor.id, customer, outgoing, "nip17",
                        rumor.created_at, rumor.content, dialect)  # fmt: skip
    return incoming, rumor


def read(merchant: Merchant, event: Event, now: int) -> Opened:
    """Open and parse (a kind 16 or 17, wrapped or public, by its tags); `Unreadable` when
    it cannot be opened at all."""
    if event.kind == WRAP_KIND:
        incoming, rumor = _open_wrap(merchant, event, now)
        kind, tags = rumor.kind, rumor.tags
    else:
        incoming, kind, tags = open_event(merchant, event, now), event.kind, event.tags
    if incoming.dialect == SHOPSTR:  # a token in the text is money: never kept in clear
        incoming = replace(incoming, content=shopstr.redact(incoming.content))
    try:
        read = read_rumor(kind, tags, incoming.content, merchant.public_key,
                          incoming.outgoing, public=event.kind != WRAP_KIND)  # fmt: skip
    except MessageError as error:
        return Opened(_as_buyer(incoming, shopstr.buyer_of(tags)), None, error)
    return Opened(_as_buyer(incoming, read.buyer), read.message)


def _as_buyer(incoming: Incoming, buyer: str | None) -> Incoming:
    """Shopstr signs with a random key per checkout and names the buyer in `b`: the order,
    and every reply, belong to that buyer."""
    if buyer is None or incoming.outgoing or incoming.dialect != SHOPSTR:
        return incoming
    return replace(incoming, customer=buyer)


async def process(
    deps: Deps, merchant: Merchant, event: Event, *, restore: bool = False
) -> Verdict:
    """Everything after the inbox: open, parse, route; failures become verdicts."""
    try:
        opened = read(merchant, event, deps.now())
        if opened.incoming.outgoing and opened.incoming.customer == merchant.public_key:
            # The merchant's notification DMs to itself (services/notifications.py): no chat.
            return await mark(deps, event.id, "ignored", "a note to self")
        return await route(deps, opened, restore=restore)
    except Unreadable as error:
        if not restore:
            await _tell_author(deps, merchant, event, str(error))
        return await mark(deps, event.id, "rejected", str(error))
    except AlreadyHandled:
        return Verdict("ignored", "already handled by another delivery")
    except WalletUnavailable as error:
        logger.warning("order in {} waits for the wallet: {}", event.id, error)
        return await mark(deps, event.id, "received", str(error), expected=("received",))
    except StorageUnavailable:
        raise  # nothing was written (the claim may be lost too): the caller tries again later
    except Exception as error:  # a bug must not stop ingest; keep the input and the reason
        logger.opt(exception=error).warning("ingest of {} failed", event.id)
        return await mark(deps, event.id, "rejected", f"internal error: {error!r}")


async def mark(
    deps: Deps, event_id: str, verdict: str, reason: str,
    expected: tuple[str, ...] = ("received", "parked"),
) -> Verdict:  # fmt: skip
    if verdict == "rejected":
        logger.warning("rejected event {}: {}", event_id, reason)
    async with deps.db.transaction() as conn:
        await inbox_crud.set_verdict(conn, event_id, verdict, reason, None, expected)
    return Verdict(verdict, reason)


async def route(deps: Deps, opened: Opened, *, restore: bool = False) -> Verdict:
    """Hand the message to the one service that handles it."""
    incoming, message = opened.incoming, opened.message
    if opened.error is not None:
        return await _bad_message(deps, incoming, opened.error)
    if isinstance(message, PlainText):
        return await receive_chat(deps, incoming)
    if incoming.outgoing:
        if not isinstance(message, PaymentRequest | StatusUpdate):
            return await mark(
                deps, incoming.inbox_id or "", "ignored", "an order from the merchant"
            )
        return await record_outgoing(deps, incoming, message)
    handled = await route_market(deps, incoming, message, restore=restore)
    if handled is not None:
        return handled
    if isinstance(message, PaymentRequest | StatusUpdate):
        return await refuse_customer_status(deps, incoming, message, quiet=restore)
    assert isinstance(message, OrderMessage)
    if restore:
        await _park(deps, incoming, message)
        return Verdict("parked", "restore: placed later", message.id)
    merchant = incoming.merchant

    async def load_parked(order_id: str) -> list[ParkedReply]:
        return await parked_replies(deps, merchant, order_id)

    return await place_order(deps, incoming, message, load_parked)


async def _park(deps: Deps, incoming: Incoming, message: OrderMessage) -> None:
    async with deps.db.transaction() as conn:
        await inbox_crud.set_verdict(
            conn, incoming.inbox_id or "", "parked", "restore: placed later", message.id
        )


async def _refuse_envelope(
    deps: Deps, merchant: Merchant, event: Event, problem: str, restore: bool = False
) -> Verdict:
    """An event refused before opening; if it is readable and an order, the customer is told
    (too large to open: its author is told that)."""
    logger.warning("rejected event {}: {}", event.id, problem)
    verdict = Verdict("rejected", problem)
    if event.kind == DM_KIND and len(event.content) > MAX_CONTENT_BYTES and not restore:
        await _tell_author(deps, merchant, event, problem)
    if event.kind != DM_KIND or len(event.content) > MAX_CONTENT_BYTES:
        return verdict
    try:
        opened = read(merchant, event, event.created_at)
    except Unreadable:
        return verdict
    order_id = _order_id(opened)
    if order_id is not None and not opened.incoming.outgoing:
        await send_refusal(deps, opened.incoming, order_id, problem)
    return verdict


async def _tell_author(deps: Deps, merchant: Merchant, event: Event, reason: str) -> None:
    """A customer's kind-4 message to the merchant that cannot be read: its author is told
    why, in plain text (a gift wrap's author is unknown until it is opened)."""
    if event.kind != DM_KIND or event.pubkey == merchant.public_key:
        return
    if merchant.public_key not in event.tag_values("p"):
        return
    text = f"Your message could not be read: {reason}."
    async with deps.db.transaction() as conn:
        await send_replies(conn, merchant, event.pubkey, NIP04, None, [Reply(-1, text)], deps.now())


def _order_id(opened: Opened) -> str | None:
    if isinstance(opened.message, OrderMessage):
        return opened.message.id
    if opened.error is not None and is_order_error(opened.error):
        return opened.error.order_id
    return None


async def retry_waiting(deps: Deps, merchant: Merchant, older_than: int = 30) -> int:
    """Process again the events left `received` (the wallet or the storage was away);
    how many were tried. A pass stops at the first storage failure: the rest wait too."""
    entries = await inbox_crud.entries_with_verdict(deps.db, merchant.id, "received", limit=200)
    due = [e for e in entries if e.received_at <= deps.now() - older_than]
    for tried, entry in enumerate(due):
        try:
            await process(deps, merchant, parse_event(entry.raw))
        except InvalidEvent as invalid:
            await mark(deps, entry.id, "rejected", invalid.reason)
        except StorageUnavailable as error:
            logger.warning("events waiting in the inbox wait on: {}", error)
            return tried + 1
    return len(due)


async def _bad_message(deps: Deps, incoming: Incoming, error: MessageError) -> Verdict:
    """A message that does not parse: an order gets a refusal, anything else a reason."""
    if incoming.outgoing:
        return await mark(deps, incoming.inbox_id or "", "outgoing", error.reason)
    if is_order_error(error):
        return await reject_order(deps, incoming, error.order_id or "", error.reason)
    return await refuse_unreadable(deps, incoming, error.reason)


async def parked_replies(deps: Deps, merchant: Merchant, order_id: str) -> list[ParkedReply]:
    """The merchant's own messages about `order_id` that arrived before the order."""
    entries = await inbox_crud.parked_for(deps.db, merchant.id, order_id)
    replies: list[ParkedReply] = []
    for entry in entries:
        opened = _reopen(merchant, entry, deps.now())
        message = None if opened is None else opened.message
        if (
            opened
            and opened.incoming.outgoing
            and isinstance(message, PaymentRequest | StatusUpdate)
        ):
            replies.append(ParkedReply(entry.id, opened.incoming, message))
    return sorted(replies, key=lambda r: (r.incoming.created_at, r.incoming.message_id))


def _reopen(merchant: Merchant, entry: inbox_crud.InboxEntry, now: int) -> Opened | None:
    """Re-verify and re-open an event kept in the inbox (it came from the database)."""
    try:
        return read(merchant, parse_event(entry.raw), now)
    except (InvalidEvent, Unreadable) as error:
        logger.warning("parked event {} no longer opens: {}", entry.id, error)
        return None


__all__ = ["ingest_event", "process", "record_invalid", "retry_waiting"]
