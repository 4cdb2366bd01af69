"""Catch-up: what a relay holds for a merchant since we last heard it, paged to the end.

The live subscription (resumed by the pool after each reconnect, with `since`) gets
back only as many stored events as a relay returns at once, often 500, newest first.
After a restart or a reconnect the gap can hold more: a burst of orders, NIP-17 gift
wraps dated up to two days back, copies of the merchant's own replies. So when a
merchant is first watched, and on every (re)connect of a relay, each of the merchant's
filters is paged back on that relay from now to `since` with the restore's pager
(`restore/history.py`: each filter on its own `until`, a crowded second narrowed by
counterparty) until an answer brings nothing new. One relay's merchants are caught up
one after another, so a reconnect costs the relay a few queries at a time.

`since` is two days (NIP-17) and an hour before the start of the last complete pass
on that relay (the live subscription covered what came after, until it dropped), or
before the newest event in the inbox when no pass ran yet. A pass the relay cut short
(a disconnect, a timeout, a CLOSED: `FetchIncomplete`) moves nothing and is run again
after a backoff, or at once when the relay reconnects.

Each page costs one query: events in the inbox (ingested already) or in the outbox
(our own replies, such as the gift wrap we send ourselves) are skipped unopened; the
rest go to the same ingest queue as live events, where the inbox's UNIQUE id makes an
overlap with the live subscription free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from loguru import logger

from ..crud.inbox import known_event_ids
from ..nostr.event import Event
from ..nostr.nip59 import TWO_DAYS
from ..nostr.relay_pool import RelayPool
from ..services.deps import Merchant
from ..storage.database import Database
from .ingest import DM_KIND, WRAP_KIND
from .restore.history import Fetcher, history_pages

LOOKBACK = TWO_DAYS + 3600  # NIP-17's randomised timestamps, and an hour for clocks
RETRY_FIRST, RETRY_MAX = 1.0, 60.0

Feed = Callable[[Merchant, Event, str], Awaitable[None]]


def dm_filters(merchant: Merchant, since: int) -> list[dict[str, Any]]:
    """What the engine watches live, and catches up on, from `since`: kind 4 to and from
    the merchant, gift wraps to it, and Gamma buyers' public kind 16/17 to it (Plebeian
    Market's order markers, receipts and cancellations)."""
    pk = merchant.public_key
    return [
        {"kinds": [DM_KIND], "#p": [pk], "since": since},
        {"kinds": [DM_KIND], "authors": [pk], "since": since},
        {"kinds": [WRAP_KIND], "#p": [pk], "since": since},
        {"kinds": [16, 17], "#p": [pk], "since": since},
    ]


async def catch_up(
    db: Database, pool: Fetcher, merchant: Merchant, relay: str, since: int, feed: Feed
) -> tuple[int, int]:
    """Page `relay` back to `since` for `merchant`, feeding what is new; (read, fed)."""
    read = fed = 0
    async for page in history_pages(pool, dm_filters(merchant, since), relays=[relay]):
        known = await known_event_ids(db, [event.id for event in page])
        read += len(page)
        for event in page:
            if event.id not in known:
                await feed(merchant, event, relay)
                fed += 1
    return read, fed


class CompleteFetcher:
    """The pool's `fetch` made to raise `FetchIncomplete` rather than return part of an
    answer: a page cut short must not look like the end of the history."""

    def __init__(self, pool: RelayPool) -> None:
        self._pool = pool

    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]:
        return await self._pool.fetch(filters, timeout, relays, complete=True)

    def status(self) -> dict[str, str]:
        return self._pool.status()


class CatchUp:
    """Catch-up passes per relay (one worker each) for the merchants being watched."""

    def __init__(self, db: Database, pool: Fetcher, feed: Feed, now: Callable[[], int]) -> None:
        self._db, self._pool, self._feed, self._now = db, pool, feed, now
        self._merchants: dict[str, Merchant] = {}
        self._first_since: dict[str, int] = {}  # merchant -> since, before any pass
        self._since: dict[tuple[str, str], int] = {}  # (relay, merchant) -> next since
        self._pending: dict[str, dict[str, Merchant]] = {}  # relay -> merchants to pass
        self._workers: dict[str, asyncio.Task[None]] = {}

    def watch(self, merchant: Merchant, since: int, connected: Iterable[str]) -> None:
        """Start catching up a newly watched merchant on the relays connected now (the
        others do it when they connect)."""
        self._merchants[merchant.id] = merchant
        self._first_since.setdefault(merchant.id, since)
        for relay in connected:
            self._want(relay, [merchant])

    def unwatch(self, merchant_id: str) -> None:
        """Forget a merchant: no more passes for it."""
        self._merchants.pop(merchant_id, None)
        self._first_since.pop(merchant_id, None)
        for pending in self._pending.values():
            pending.pop(merchant_id, None)
        for key in [key for key in self._since if key[1] == merchant_id]:
            del self._since[key]

    def relay_connected(self, relay: str) -> None:
        """A relay (re)connected: every watched merchant is caught up on it afresh."""
        worker = self._workers.pop(relay, None)
        if worker is not None:
            worker.cancel()  # its pass was cut short by the disconnect anyway
        self._want(relay, list(self._merchants.values()))

    async def wait(self) -> None:
        """Until every pass under way has ended (tests; a shutdown that wants them)."""
        while running := [task for task in self._workers.values() if not task.done()]:
            await asyncio.gather(*running, return_exceptions=True)

    async def stop(self) -> None:
        """Cancel every pass."""
        workers = list(self._workers.values())
        self._workers.clear()
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    def _want(self, relay: str, merchants: Iterable[Merchant]) -> None:
        self._pending.setdefault(relay, {}).update((m.id, m) for m in merchants)
        worker = self._workers.get(relay)
        if worker is None or worker.done():
            task = asyncio.create_task(self._work(relay), name=f"catch-up {relay}")
            self._workers[relay] = task

    async def _work(self, relay: str) -> None:
        pending = self._pending[relay]
        while pending:
            merchant = next(iter(pending.values()))
            await self._pass(relay, merchant)
            if pending.get(merchant.id) is merchant:
                del pending[merchant.id]

    async def _pass(self, relay: str, merchant: Merchant) -> None:
        """One complete pass for one merchant on one relay, tried until it completes."""
        key, delay = (relay, merchant.id), RETRY_FIRST
        while merchant.id in self._merchants:
            started = self._now()
            since = self._since.get(key, self._first_since.get(merchant.id, started - LOOKBACK))
            try:
                read, fed = await catch_up(self._db, self._pool, merchant, relay, since, self._feed)
            except Exception as error:  # the relay cut it short: nothing moves, try again
                level = "WARNING" if delay == RETRY_FIRST else "DEBUG"  # once, not every try
                logger.log(level, "catch-up on {} failed, again in {} s: {}", relay, delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            self._since[key] = max(since, started - LOOKBACK)
            logger.log(
                "INFO" if fed else "DEBUG",
                "catch-up on {} for {}: {} read, {} new", relay, merchant.id, read, fed,
            )  # fmt: skip
            return
