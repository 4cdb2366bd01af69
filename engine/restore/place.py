"""A restore's second step: the parked customer orders placed oldest first, a chunk at a time.

The order of placement is canonical (the customer's timestamp, then the message id),
as live processing saw it: it decides who gets the last unit of stock. Only the
orders' keys are held for the whole history; their events, and the merchant's own
earlier replies about them, are read, re-verified and opened one chunk at a time,
each reply once, with one query per chunk instead of one per order.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from loguru import logger

from ...crud.inbox import InboxEntry
from ...market.nip15 import OrderMessage, PaymentRequest, StatusUpdate
from ...market.shopstr import ShopstrCheckout
from ...services.conversation import AlreadyHandled, Verdict
from ...services.deps import Deps, Merchant
from ...services.intake import ParkedReply, WalletUnavailable, place_order
from ..ingest import WRAP_KIND, Opened, _reopen, parked_replies
from .progress import RestoreProgress
from .stock import Loan, StockLoans

CHUNK = 256  # orders opened and placed together
SCAN = 2000  # parked rows read at a time when listing the orders

OrderKey = tuple[int, str, str]  # created_at, message id, inbox id


async def place_parked(
    deps: Deps,
    merchant: Merchant,
    order_id: str | None = None,
    progress: RestoreProgress | None = None,
    loans: StockLoans | None = None,
) -> int:
    """Place the parked customer orders (all, or those of `order_id`) oldest first; with
    `loans` (the catalogue was recovered), each on lent stock (`restore/stock.py`).

    While one chunk is placed, the next is read and opened (verified, decrypted) on a
    worker thread: libsecp256k1 and OpenSSL let go of the GIL, so that work uses the
    second core."""
    keys = sorted(await _parked_orders(deps, merchant, order_id))
    if progress is not None:
        progress.placing(len(keys))
    chunks = [keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK)]
    placed: set[str] = set()  # order ids placed so far: their replies may have moved
    ahead = _prepare_soon(deps, merchant, chunks, 0)
    try:
        for index in range(len(chunks)):
            assert ahead is not None
            prepared = await ahead
            ahead = _prepare_soon(deps, merchant, chunks, index + 1)
            await _place_chunk(deps, merchant, prepared, placed, progress, loans)
    finally:
        if ahead is not None:
            ahead.cancel()
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
            " AND (CAST(? AS TEXT) IS NULL OR order_id = ?) AND (created_at, id) > (?, ?)"
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


@dataclass(frozen=True)
class _Prepared:
    """A chunk's orders, opened, and the merchant's parked replies about them, by order."""

    orders: list[Opened]
    replies: dict[str, list[ParkedReply]]


def _prepare_soon(
    deps: Deps, merchant: Merchant, chunks: list[list[OrderKey]], index: int
) -> asyncio.Task[_Prepared] | None:
    if index >= len(chunks):
        return None
    return asyncio.create_task(_prepare(deps, merchant, chunks[index]))


async def _prepare(deps: Deps, merchant: Merchant, keys: list[OrderKey]) -> _Prepared:
    """Read a chunk's events and replies (one query each), open them on a worker thread."""
    inbox_ids = [key[2] for key in keys]
    marks = ",".join("?" * len(inbox_ids))
    orders = await deps.db.fetchall(
        f"SELECT id, raw, order_id FROM inbox WHERE id IN ({marks})",  # noqa: S608
        inbox_ids,
    )
    order_ids = sorted({row["order_id"] for row in orders if row["order_id"]})
    marks = ",".join("?" * len(order_ids))
    replies = await deps.db.fetchall(
        "SELECT id, raw FROM inbox WHERE merchant_id = ? AND verdict = 'parked'"  # noqa: S608
        f" AND (kind = ? OR pubkey = ?) AND order_id IN ({marks})",
        (merchant.id, WRAP_KIND, merchant.public_key, *order_ids),
    )
    raws = {row["id"]: row["raw"] for row in orders}
    order_raws = [(inbox_id, raws[inbox_id]) for inbox_id in inbox_ids if inbox_id in raws]
    reply_raws = [(row["id"], row["raw"]) for row in replies]
    return await asyncio.to_thread(_open_chunk, merchant, order_raws, reply_raws, deps.now())


def _open_chunk(
    merchant: Merchant, orders: list[tuple[str, str]], replies: list[tuple[str, str]], now: int
) -> _Prepared:
    opened_orders: list[Opened] = []
    for inbox_id, raw in orders:
        opened = _reopen(merchant, _entry(inbox_id, merchant.id, raw), now)
        if opened and not opened.incoming.outgoing and isinstance(opened.message, OrderMessage):
            opened_orders.append(opened)
    by_order: dict[str, list[ParkedReply]] = {_order_id(o): [] for o in opened_orders}
    for inbox_id, raw in replies:
        reply = _reply(merchant, inbox_id, raw, now)
        if reply is not None and reply.message.id in by_order:
            by_order[reply.message.id].append(reply)
    for found in by_order.values():
        found.sort(key=lambda r: (r.incoming.created_at, r.incoming.message_id))
    return _Prepared(opened_orders, by_order)


async def _place_chunk(
    deps: Deps,
    merchant: Merchant,
    prepared: _Prepared,
    placed: set[str],
    progress: RestoreProgress | None = None,
    loans: StockLoans | None = None,
) -> None:
    async def load_parked(order_id: str) -> list[ParkedReply]:
        """The replies read with the chunk, unless an order with this id was placed
        already: then from the database, as they may have been adopted since."""
        if order_id in placed:
            return await parked_replies(deps, merchant, order_id)
        return prepared.replies.get(order_id, [])

    for opened in prepared.orders:
        loan = await _lend(loans, opened, load_parked)
        verdict = await _place_one(deps, opened, load_parked)
        if loans is not None and loan is not None:
            await loans.settle(loan)
        placed.add(_order_id(opened))
        if progress is not None:
            progress.placed(verdict)


async def _lend(loans: StockLoans | None, opened: Opened, load_parked: Any) -> Loan | None:
    if loans is None:
        return None
    assert isinstance(opened.message, OrderMessage)
    order_id = opened.message.id
    return await loans.lend(order_id, opened.message.items, await load_parked(order_id))


def _order_id(opened: Opened) -> str:
    assert isinstance(opened.message, OrderMessage)
    return opened.message.id


def _reply(merchant: Merchant, inbox_id: str, raw: str, now: int) -> ParkedReply | None:
    opened = _reopen(merchant, _entry(inbox_id, merchant.id, raw), now)
    message = None if opened is None else opened.message
    if opened and opened.incoming.outgoing and isinstance(message, PaymentRequest | StatusUpdate):
        return ParkedReply(inbox_id, opened.incoming, message)
    return None


async def _place_one(deps: Deps, opened: Opened, load_parked: Any) -> Verdict:
    assert isinstance(opened.message, OrderMessage)
    try:
        # A Shopstr checkout came paid: our first word to its buyer was no payment request
        # (nothing to adopt), so its invoice is issued again in silence.
        quiet = isinstance(opened.message, ShopstrCheckout)
        return await place_order(deps, opened.incoming, opened.message, load_parked, quiet)
    except AlreadyHandled:
        return Verdict("ignored", "already handled")
    except WalletUnavailable as error:
        logger.warning("restored order waits for the wallet: {}", error)
        return Verdict("parked", str(error))
