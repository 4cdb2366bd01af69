"""The order engine's background work, started and stopped by the Runtime.

- ingest: one subscription per merchant, active or not (kind 4 to and from it, gift
  wraps to it; an inactive merchant's new orders are refused at once, with the
  reason), handed from the pool's dispatcher to a bounded queue and a few
  workers, so the pool never waits on a wallet call and nothing is dropped;
- catch-up (`catchup.py`): when a merchant is first watched and whenever a relay
  (re)connects, that relay's history since we last heard it is paged to the end
  into the same queue (a resumed subscription gets only the relay's cap of it);
- the outbox publisher; the expiry sweeper; the settlement consumer;
- at start-up, every unsettled invoice is looked up again (payments made while
  we were down are applied, exactly once);
- events left waiting for the wallet are retried; customers' kind 0 fetched;
- an event the database cannot take (disk full, locked by another process) waits
  in its worker and is tried again, with a growing pause.
Every loop logs a failure at warning and carries on.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from loguru import logger

from ..crud.inbox import newest_received
from ..crud.jobs import active_job
from ..crud.messages import customers_without_profile, set_profile
from ..nostr.event import Event
from ..nostr.relay_pool import RelayPool
from ..services.cashu_payments import resume_claimed
from ..services.deps import Deps, Merchant, MerchantNotFound
from ..services.notifications import Notifier
from ..services.payments import expire_due, receive_payment, recheck_unsettled
from ..storage.errors import StorageUnavailable
from .catchup import LOOKBACK, CatchUp, CompleteFetcher, dm_filters
from .ingest import record_invalid, retry_waiting
from .ingest_batch import ingest_batch
from .jobs import RESTORE
from .publisher import Publisher
from .watch import WATCH_SECONDS, HealthWatch

WORKERS = 2  # batches in flight at once; their commits are grouped (db_commit)
BATCH_MAX = 16  # events a worker takes at once (ingest_batch); a full queue makes each
# event wait for its batch: 16 kept p99 near 50 ms, 32 cost 4% less CPU an order
QUEUE_SIZE = 1000
STORAGE_RETRY = (1.0, 30.0)  # seconds: first and longest wait before retrying a storage failure


class OrderEngine:
    """Background tasks over one set of dependencies and one relay pool."""

    def __init__(self, deps: Deps, pool: RelayPool, *, sweep_every: float = 5.0) -> None:
        self.deps, self.pool = deps, pool
        # On a database other processes share, an outbox row is published by the one
        # holding its lease, and an event a dead process had claimed is taken over once
        # it has waited `lease_seconds` (on SQLite, 30 s: the wallet retry's pace).
        self.lease = deps.settings.lease_seconds if deps.db.shared else 30
        self.publisher = Publisher(
            deps.db, pool, deps.bus, deps.settings.outbox_max_attempts,
            notifier=Notifier.from_deps(deps),
            lease=(f"{os.getpid()}-{secrets.token_hex(4)}", self.lease) if deps.db.shared else None,
        )  # fmt: skip
        self.watch_health = HealthWatch(deps, pool)  # the wallet and the relays, for notifications
        deps.db.add_commit_listener(self.publisher.poke)  # replies leave as soon as committed
        pool.add_connect_listener(self.publisher.relay_connected)  # no backoff once it is back
        pool.add_connect_listener(self._relay_connected)  # page what the relay holds for us
        self.sweep_every = sweep_every
        self.storage_retry = STORAGE_RETRY
        self._queue: asyncio.Queue[tuple[Merchant, Event, str]] = asyncio.Queue(QUEUE_SIZE)
        self.catchup = CatchUp(deps.db, CompleteFetcher(pool), self._enqueue, deps.now)
        self._watched: dict[str, str] = {}
        self._held: set[str] = set()  # merchants whose history is being restored first
        self._started = deps.now()
        self._tasks: list[asyncio.Task[Any]] = []
        self._pending: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        self._started = self.deps.now()
        await self.refresh()
        loops: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "outbox publisher": self.publisher.run,
            "settlements": self._settlements,
            "start-up re-check": self._recheck,
            "expiry sweeper": lambda: self._every(self.sweep_every, self._sweep),
            "merchant refresh": lambda: self._every(30.0, self.refresh),
            "wallet retry": lambda: self._every(min(30.0, self.lease), self._retry),
            "customer profiles": lambda: self._every(10.0, self.fetch_profiles),
            "health watch": lambda: self._every(WATCH_SECONDS, self.watch_health.check),
        }
        loops.update({f"ingest worker {n}": self._worker for n in range(WORKERS)})
        self._tasks = [asyncio.create_task(run(), name=name) for name, run in loops.items()]

    async def stop(self) -> None:
        await self.catchup.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def refresh(self) -> None:
        """Subscribe to new merchants; drop the ones that were deleted."""
        active = {merchant.id: merchant for merchant in await self.deps.merchants.all()}
        for merchant_id in list(self._watched):
            if merchant_id not in active:
                await self.pool.unsubscribe(self._watched.pop(merchant_id))
                self.catchup.unwatch(merchant_id)
        for merchant in active.values():
            if merchant.id not in self._watched and merchant.id not in self._held:
                await self.watch(merchant)

    def hold(self, merchant_id: str) -> None:
        """Do not watch this merchant until `release`: its history is being restored."""
        self._held.add(merchant_id)

    async def release(self, merchant_id: str) -> None:
        """Watch the merchant again (live and catch-up), as `refresh` does."""
        self._held.discard(merchant_id)
        await self.refresh()

    async def watch(self, merchant: Merchant) -> None:
        """Live direct messages for one merchant from two days before the newest seen, and
        a catch-up of that window on each relay connected now (see `catchup.py`)."""
        newest = await newest_received(self.deps.db, merchant.id)
        since = (newest if newest is not None else self.deps.now()) - LOOKBACK
        sub_id = f"dm-{merchant.id}"[:64]
        self.pool.subscribe(sub_id, dm_filters(merchant, since), self._handler(merchant))
        self._watched[merchant.id] = sub_id
        connected = [url for url, status in self.pool.status().items() if status == "connected"]
        self.catchup.watch(merchant, since, connected)

    async def _relay_connected(self, url: str) -> None:
        self.catchup.relay_connected(url)

    def _handler(self, merchant: Merchant) -> Callable[[Event, str], Awaitable[None]]:
        async def handle(event: Event, relay: str) -> None:
            await self._enqueue(merchant, event, relay)

        return handle

    async def _enqueue(self, merchant: Merchant, event: Event, relay: str) -> None:
        await self._queue.put((merchant, event, relay))  # waits when full: backpressure

    def on_reject(self, relay: str, raw: object, reason: str) -> None:
        """The pool found an invalid event: keep it with its reason (invariant 1)."""
        merchant_id = self._merchant_of(raw)
        task = asyncio.create_task(record_invalid(self.deps, merchant_id, raw, reason, relay))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _merchant_of(self, raw: object) -> str:
        if not isinstance(raw, dict):
            return ""
        names = {str(raw.get("pubkey"))} | {
            t[1] for t in raw.get("tags") or [] if isinstance(t, list) and len(t) > 1
        }
        by_key = {m.public_key: m.id for m in self.deps.merchants.cached()}
        return next((by_key[n] for n in names if n in by_key), "")

    async def _worker(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < BATCH_MAX and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                for merchant, events in by_merchant(batch):
                    await self._guarded(self._ingest(merchant, events), "ingest")
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _ingest(
        self, merchant: Merchant, events: list[tuple[Event | object, str | None]]
    ) -> None:
        """Ingest a batch of one merchant's events; while the database cannot take them
        (full, locked), wait and try again (what was done is then a duplicate). The
        worker holds the batch meanwhile: the queue fills and the pool stops reading the
        relays (backpressure), so nothing is dropped."""
        delay, longest = self.storage_retry
        for attempt in itertools.count():
            try:
                await ingest_batch(self.deps, await self._current(merchant), events)
                break
            except StorageUnavailable as error:
                level = "WARNING" if attempt == 0 else "DEBUG"  # once per batch, not per try
                logger.log(
                    level, "ingest of {} event(s) waits for the database: {}", len(events), error
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, longest)
        if attempt:
            logger.info("{} event(s) ingested after {} storage retries", len(events), attempt)

    async def _current(self, merchant: Merchant) -> Merchant:
        """The merchant as it is now (`merchant_changed` drops the cached one: a merchant
        switched off refuses the next order at once), not as it was when it was watched;
        a merchant deleted meanwhile is taken as it was."""
        try:
            return await self.deps.merchants.get(merchant.id)
        except MerchantNotFound:
            return merchant

    async def drain(self) -> None:
        """Wait until every queued event was ingested (for tests and shutdown)."""
        await self._queue.join()

    async def _settlements(self) -> None:
        """Apply each settled payment; reopen the stream if the wallet restarts."""
        while True:
            try:
                async for settlement in self.deps.wallet.settlements():
                    await self._guarded(receive_payment(self.deps, settlement), "payment")
            except Exception as error:
                logger.opt(exception=error).warning("settlement stream failed")
            await asyncio.sleep(1.0)

    async def _recheck(self) -> None:
        await self._guarded(recheck_unsettled(self.deps), "start-up invoice re-check")
        await self._guarded(self._resume_interrupted(), "start-up resume of claimed events")
        await self._guarded(resume_claimed(self.deps), "start-up resume of ecash redemptions")

    async def _resume_interrupted(self) -> None:
        """Events the last run claimed in the inbox but did not finish (killed between the
        claim's commit and the work's): the catch-up skips them as known, so they are
        processed now rather than after the wallet retry's 30 s."""
        older_than = self.deps.now() - self._started + 1  # claimed before this run began
        for merchant in await self.deps.merchants.all():
            await retry_waiting(self.deps, merchant, older_than)

    async def _sweep(self) -> None:
        await expire_due(self.deps)

    async def _retry(self) -> None:
        for merchant in await self.deps.merchants.all():
            if not await self._restoring(merchant.id):
                await retry_waiting(self.deps, merchant, older_than=self.lease)

    async def _restoring(self, merchant_id: str) -> bool:
        """A restore is placing this merchant's events itself, oldest first and with its
        stock loans: the retry loop must not place them out of turn meanwhile."""
        if merchant_id in self._held:
            return True
        return await active_job(self.deps.db, merchant_id, RESTORE) is not None
        await resume_claimed(self.deps)  # a token whose mint was away is swapped when it is back

    async def fetch_profiles(self) -> None:
        """Fetch the kind 0 of customers we have not described yet."""
        wanted = await customers_without_profile(self.deps.db)
        if not wanted:
            return
        authors = sorted({pubkey for _, pubkey in wanted})
        events = await self.pool.fetch([{"kinds": [0], "authors": authors}], timeout=5.0)
        newest: dict[str, Event] = {}
        for event in sorted(events, key=lambda e: e.created_at):
            newest[event.pubkey] = event
        async with self.deps.db.transaction() as conn:
            for merchant_id, pubkey in wanted:
                found = newest.get(pubkey)
                profile, at = _profile(found) if found else ({}, 1)
                await set_profile(conn, merchant_id, pubkey, profile, at)

    async def _every(self, seconds: float, job: Callable[[], Awaitable[None]]) -> None:
        while True:
            await self._guarded(job(), getattr(job, "__name__", "job"))
            await asyncio.sleep(seconds)

    @staticmethod
    async def _guarded(work: Awaitable[Any], what: str) -> None:
        try:
            await work
        except Exception as error:  # a background job must never die of one failure
            logger.opt(exception=error).warning("{} failed", what)


def _profile(event: Event) -> tuple[dict[str, Any], int]:
    try:
        data = json.loads(event.content)
    except ValueError:
        return {}, event.created_at
    return (data if isinstance(data, dict) else {}), event.created_at


def by_merchant(
    batch: list[tuple[Merchant, Event, str]],
) -> list[tuple[Merchant, list[tuple[Event | object, str | None]]]]:
    """The batch's events grouped by merchant, each group in arrival order."""
    groups: dict[str, tuple[Merchant, list[tuple[Event | object, str | None]]]] = {}
    for merchant, event, relay in batch:
        groups.setdefault(merchant.id, (merchant, []))[1].append((event, relay))
    return list(groups.values())
