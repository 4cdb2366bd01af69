"""Restore orders from the merchant's direct-message history, through the ingest path.

(a) `restore_orders`: every kind 4 to and from the merchant and every gift wrap
to it, from the relays (no `since`, paged backwards with `until`) and from the
local inbox. (b) `restore_order`: one order, from one event id.

Both ingest in restore mode: customer orders are parked while the history
streams in, a page at a time (`restore_history`: each filter paged on its own;
`restore_batch`: a page's inbox rows written at once, its events processed side
by side), in whatever order the relays send it, then placed oldest first, a
chunk at a time (`restore_place`). Memory holds a page and a chunk, not the
history.
An order the merchant already answered adopts that answer (its invoice rebuilt
from the BOLT11, its paid/shipped status from the merchant's own signed
messages): it gets no new invoice and no second payment request.
A merchant with no catalogue here (a fresh server, the key imported) first gets it back
from its own signed stalls and products on the relays (`catalogue.py`), and its
orders are then placed on lent stock, counted against the published quantities
(`stock.py`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from loguru import logger

from ...crud import inbox as inbox_crud
from ...market import gamma
from ...market.nip15 import OrderMessage, PaymentRequest, StatusUpdate
from ...nostr.event import Event, InvalidEvent, parse_event
from ...services.deps import Deps, Merchant
from ...services.payments import recheck_unsettled
from ..ingest import DM_KIND, WRAP_KIND, process, read
from .batch import ingest_page
from .catalogue import CatalogueSummary, recover_first
from .history import Fetcher, history_pages
from .place import place_parked
from .progress import RestoreProgress
from .reach import Reach, reachable
from .stock import StockLoans

T = TypeVar("T")


@dataclass
class RestoreSummary:
    """What a restore did, for the API and the dashboard."""

    events_scanned: int = 0
    events_new: int = 0
    orders_restored: int = 0
    orders_updated: int = 0
    errors: int = 0
    reasons: list[str] = field(default_factory=list)
    catalogue: CatalogueSummary | None = None  # recovered from the relays: there was none
    relays_read: list[str] = field(default_factory=list)
    relays_unread: dict[str, str] = field(default_factory=dict)  # url -> why not read

    def count(self, verdict: str, reason: str | None) -> None:
        self.events_scanned += 1
        if reason != "duplicate":
            self.events_new += 1
        if verdict == "rejected":
            self.errors += 1
            if reason and len(self.reasons) < 20:
                self.reasons.append(reason)


async def fetch_history(
    pool: Fetcher, filters: list[dict[str, Any]], timeout: float = 10.0
) -> list[Event]:
    """Every event matching `filters`, newest first (for one conversation: small)."""
    seen: dict[str, Event] = {}
    async for page in history_pages(pool, filters, timeout=timeout):
        seen.update((event.id, event) for event in page)
    return sorted(seen.values(), key=lambda e: (-e.created_at, e.id))


def history_filters(merchant: Merchant) -> list[dict[str, Any]]:
    """Kind 4 both ways, gift wraps to the merchant, and buyers' public kind 16/17 to it
    (Plebeian Market's order markers, receipts and cancellations)."""
    pubkey = merchant.public_key
    return [
        {"kinds": [DM_KIND], "#p": [pubkey]},
        {"kinds": [DM_KIND], "authors": [pubkey]},
        {"kinds": [WRAP_KIND], "#p": [pubkey]},
        {"kinds": sorted(gamma.KINDS), "#p": [pubkey]},
    ]


async def _versions(deps: Deps, merchant_id: str) -> dict[str, int]:
    rows = await deps.db.fetchall(
        "SELECT id, version FROM orders WHERE merchant_id = ?", (merchant_id,)
    )
    return {row["id"]: int(row["version"]) for row in rows}


async def restore_events(
    deps: Deps,
    merchant: Merchant,
    events: Sequence[Event | dict[str, Any]],
    order_id: str | None = None,
    progress: RestoreProgress | None = None,
    loans: StockLoans | None = None,
) -> RestoreSummary:
    """Ingest a history in restore mode (any order, duplicates welcome), then place orders."""
    return await restore_pages(deps, merchant, _as_pages(events), order_id, progress, loans)


async def _as_pages(events: Sequence[Event | dict[str, Any]]) -> AsyncIterator[Sequence[Any]]:
    yield events


async def restore_pages(
    deps: Deps,
    merchant: Merchant,
    pages: AsyncIterator[Sequence[Event | dict[str, Any]]],
    order_id: str | None = None,
    progress: RestoreProgress | None = None,
    loans: StockLoans | None = None,
) -> RestoreSummary:
    """Ingest pages as they come, then the local leftovers, then place the parked orders;
    `progress` hears of each step; `loans`: the catalogue was recovered (`stock.py`)."""
    summary = RestoreSummary()
    before = await _versions(deps, merchant.id)
    async for page in _read_ahead(pages):
        await ingest_page(deps, merchant, page, summary.count)
        if progress is not None:
            progress.fetched(summary)
    await _reprocess_local(deps, merchant)
    await place_parked(deps, merchant, order_id, progress, loans)
    if progress is not None:
        progress.checking()
    await recheck_unsettled(deps, merchant.id)  # restored invoices may have been paid
    after = await _versions(deps, merchant.id)
    summary.orders_restored = len(after.keys() - before.keys())
    summary.orders_updated = sum(1 for k, v in after.items() if k in before and before[k] != v)
    return summary


async def _read_ahead(pages: AsyncIterator[T]) -> AsyncIterator[T]:
    """The next page is fetched (by the relays, verified here) while this one is ingested."""
    queue: asyncio.Queue[tuple[T] | None] = asyncio.Queue(maxsize=1)

    async def produce() -> None:
        try:
            async for page in pages:
                await queue.put((page,))
        except asyncio.CancelledError:
            raise  # the reader stopped: nobody waits for the end mark
        except BaseException:
            await queue.put(None)
            raise
        await queue.put(None)

    producer = asyncio.create_task(produce())
    try:
        while (item := await queue.get()) is not None:
            yield item[0]
        await producer  # raises what the fetch raised
    finally:
        producer.cancel()


async def _reprocess_local(deps: Deps, merchant: Merchant) -> None:
    """Events already in the local inbox that never finished (waiting for the wallet)."""
    for entry in await inbox_crud.entries_with_verdict(deps.db, merchant.id, "received", 10**9):
        try:
            event = parse_event(entry.raw)
        except InvalidEvent as invalid:
            logger.warning("inbox entry {} no longer verifies: {}", entry.id, invalid.reason)
            continue
        await process(deps, merchant, event, restore=True)


async def restore_orders(
    deps: Deps, pool: Fetcher, merchant_id: str, progress: RestoreProgress | None = None
) -> RestoreSummary:
    """All of a merchant's orders from the relays' DM history and the local inbox."""
    merchant = await deps.merchants.get(merchant_id)
    reach = await reachable(pool)  # NoRelayRead: the job fails saying so
    loans, catalogue = await recover_first(deps, pool, merchant)
    customers = await _customers(deps, merchant_id)
    pages = history_pages(pool, history_filters(merchant), customers, relays=reach.read)
    summary = await restore_pages(deps, merchant, pages, progress=progress, loans=loans)
    summary.catalogue = catalogue
    _report(summary, reach, pool)
    logger.info("restore for {}: {} events from relays", merchant_id, summary.events_scanned)
    return summary


async def _customers(deps: Deps, merchant_id: str) -> list[str]:
    """Customers known already: they narrow a crowded second of the history."""
    rows = await deps.db.fetchall(
        "SELECT public_key FROM customers WHERE merchant_id = ?", (merchant_id,)
    )
    return [row["public_key"] for row in rows]


async def restore_order(
    deps: Deps,
    pool: Fetcher,
    merchant_id: str,
    event_id: str,
    progress: RestoreProgress | None = None,
) -> RestoreSummary:
    """One order, from one event id (the order, or the merchant's reply about it)."""
    merchant = await deps.merchants.get(merchant_id)
    reach = await reachable(pool)
    event = await _find_event(deps, pool, event_id)
    if event is None:
        raise LookupError(f"event {event_id} was found neither on the relays nor in the inbox")
    try:
        opened = read(merchant, event, deps.now())
    except ValueError as unreadable:
        raise LookupError(f"event {event_id} cannot be read: {unreadable}") from None
    order_id = _order_id_of(opened.message)
    conversation = await fetch_history(
        pool, _conversation_filters(merchant, opened.incoming.customer)
    )
    loans, catalogue = await recover_first(deps, pool, merchant)
    history = [event, *conversation]
    summary = await restore_events(deps, merchant, history, order_id, progress, loans)
    summary.catalogue = catalogue
    _report(summary, reach, pool)
    return summary


def _report(summary: RestoreSummary, reach: Reach, pool: Fetcher) -> None:
    """Which relays the summary's counts come from, and which were not (fully) read."""
    reach.recheck(pool)
    summary.relays_read, summary.relays_unread = list(reach.read), dict(reach.unread)
    for url, why in sorted(reach.unread.items()):
        logger.warning("restore: relay {} not read: {}", url, why)


async def _find_event(deps: Deps, pool: Fetcher, event_id: str) -> Event | None:
    found = await pool.fetch([{"ids": [event_id]}])
    if found:
        return found[0]
    entry = await inbox_crud.get_entry(deps.db, event_id)
    if entry is None:
        return None
    try:
        return parse_event(entry.raw)
    except InvalidEvent:
        return None


def _order_id_of(message: object) -> str | None:
    if isinstance(message, OrderMessage | PaymentRequest | StatusUpdate):
        return message.id
    return None


def _conversation_filters(merchant: Merchant, customer: str) -> list[dict[str, Any]]:
    """Both directions of kind 4 with one customer; gift wraps cannot be told apart unopened."""
    pubkey = merchant.public_key
    return [
        {"kinds": [DM_KIND], "authors": [pubkey], "#p": [customer]},
        {"kinds": [DM_KIND], "authors": [customer], "#p": [pubkey]},
        {"kinds": [WRAP_KIND], "#p": [pubkey]},
    ]
