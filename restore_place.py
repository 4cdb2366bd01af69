"""A restore's second step: the parked customer orders placed oldest first, a chunk at a time.

The order of placement is canonical (the customer's timestamp, then the message id),
as live processing saw it: it decides who gets the last unit of stock. Only the
orders' keys are held for the whole history; their events, and the merchant's own
earlier replies about them, are read, re-verified and opened one chunk at a time,
each reply once, with one query per chunk instead of one per order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from loguru import logger

from .crud.inbox import InboxEntry
from .ingest import WRAP_KIND, Opened, _reopen, parked_replies
from .order_messages import OrderMessage, PaymentRequest, StatusUpdate
from .services.conversation import AlreadyHandled, Verdict
from .services.deps import Deps, Merchant
from .services.intake import ParkedReply, WalletUnavailable, place_order

CHUNK = 256  # orders opened and placed together
SCAN = 2000  # parked rows read at a time when listing the orders

OrderKey = tuple[int, str, str]  # created_at, message id, inbox id


async def place_parked(deps: Deps, merchant: Merchant, order_id: str | None = None) -> int:
    """Place the parked customer orders (all, or those of `order_id`) oldest first."""
    keys = sorted(await _parked_orders(deps, merchant, order_id))
    for start in range(0, len(keys), CHUNK):
        await _place_chunk(deps, merchant, keys[start : start + CHUNK])
    return len(keys)


async def _parked_orders(deps: Deps, merchant: Merchant, order_id: str | None) -> list[OrderKey]:
    """Keys of the parked customer orders: a kind 4's from its columns, a gift wrap's from
    its rumor (a wrap may also be the merchant's own copy of a reply)."""
    keys: list[OrderKey] = []
    after: tuple[int, str] = (-1, "")
    while True:
        rows = await deps.db.fetchall(
            "SELECT id, kind, created_at, CASE WHEN kind = ? THEN raw END AS raw FROM inbox"
            " WHERE merchant_id = ? AND verdict = 'parked' AND (kind = ? OR pubkey <> ?)"
            " AND (? IS NULL OR order_id = ?) AND (created_at, id) > (?, ?)"
            " ORDER BY created_at, id LIMIT ?",
            (WRAP_KIND, merchant.id, WRAP_KIND, merchant.public_key, order_id, order_id,
             *after, SCAN),
        )  # fmt: skip
        keys += [key for row in rows if (key := _order_key(deps, merchant, row)) is not None]
        if len(rows) < SCAN:
            return keys
        after = (rows[-1]["created_at"], rows[-1]["id"])


def _order_key(deps: Deps, merchant: Merchant, row: Any) -> OrderKey | None:
    if row["kind"] != WRAP_KIND:
        return (row["created_at"], row["id"], row["id"])
    opened = _reopen(merchant, _entry(row["id"], merchant.id, row["raw"]), deps.now())
    if opened is None or opened.incoming.outgoing or not isinstance(opened.message, OrderMessage):
        return None
    return (opened.incoming.created_at, opened.incoming.message_id, row["id"])


def _entry(event_id: str, merchant_id: str, raw: str) -> InboxEntry:
    return InboxEntry(event_id, merchant_id, raw, None, None, None, "parked")


async def _place_chunk(deps: Deps, merchant: Merchant, keys: list[OrderKey]) -> None:
    raws = await _raws(deps, [key[2] for key in keys])
    orders: list[Opened] = []
    for _, _, inbox_id in keys:
        opened = _reopen(merchant, _entry(inbox_id, merchant.id, raws[inbox_id]), deps.now())
        if opened and not opened.incoming.outgoing and isinstance(opened.message, OrderMessage):
            orders.append(opened)
    replies = await _replies_for(deps, merchant, [_order_id(o) for o in orders])

    async def load_parked(order_id: str) -> list[ParkedReply]:
        """The chunk's replies, once; asked again (a second order with that id) from the
        database, as they may have been adopted since."""
        found = replies.pop(order_id, None)
        return found if found is not None else await parked_replies(deps, merchant, order_id)

    for opened in orders:
        await _place_one(deps, opened, load_parked)


def _order_id(opened: Opened) -> str:
    assert isinstance(opened.message, OrderMessage)
    return opened.message.id


async def _raws(deps: Deps, inbox_ids: list[str]) -> dict[str, str]:
    marks = ",".join("?" * len(inbox_ids))
    rows = await deps.db.fetchall(
        f"SELECT id, raw FROM inbox WHERE id IN ({marks})",  # noqa: S608 - only placeholders
        inbox_ids,
    )
    return {row["id"]: row["raw"] for row in rows}


async def _replies_for(
    deps: Deps, merchant: Merchant, order_ids: Iterable[str]
) -> dict[str, list[ParkedReply]]:
    """The merchant's own parked messages about these orders, by order, oldest first."""
    wanted = sorted(set(order_ids))
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    rows = await deps.db.fetchall(
        "SELECT id, raw FROM inbox WHERE merchant_id = ? AND verdict = 'parked'"  # noqa: S608
        f" AND (kind = ? OR pubkey = ?) AND order_id IN ({marks})",
        (merchant.id, WRAP_KIND, merchant.public_key, *wanted),
    )
    replies: dict[str, list[ParkedReply]] = defaultdict(list)
    for row in rows:
        opened = _reopen(merchant, _entry(row["id"], merchant.id, row["raw"]), deps.now())
        message = None if opened is None else opened.message
        if (
            opened
            and opened.incoming.outgoing
            and isinstance(message, PaymentRequest | StatusUpdate)
        ):
            replies[message.id].append(ParkedReply(row["id"], opened.incoming, message))
    for found in replies.values():
        found.sort(key=lambda r: (r.incoming.created_at, r.incoming.message_id))
    return {order_id: replies.get(order_id, []) for order_id in wanted}


def _reply(merchant: Merchant, inbox_id: str, raw: str, now: int) -> ParkedReply | None:
    opened = _reopen(merchant, _entry(inbox_id, merchant.id, raw), now)
    message = None if opened is None else opened.message
    if opened and opened.incoming.outgoing and isinstance(message, PaymentRequest | StatusUpdate):
        return ParkedReply(inbox_id, opened.incoming, message)
    return None


async def _place_one(deps: Deps, opened: Opened, load_parked: Any) -> Verdict:
    assert isinstance(opened.message, OrderMessage)
    try:
        return await place_order(deps, opened.incoming, opened.message, load_parked)
    except AlreadyHandled:
        return Verdict("ignored", "already handled")
    except WalletUnavailable as error:
        logger.warning("restored order waits for the wallet: {}", error)
        return Verdict("parked", str(error))
