"""The outbox publisher: deliver every queued event, record each relay's answer, retry.

It only ever reads the outbox, so a restart simply carries on with whatever is
still pending (including rows committed just before a crash). A row is `sent`
once at least one relay acknowledged it; otherwise it is tried again with
exponential backoff (2 s doubling up to 10 minutes: the default 20 attempts
span about two hours, so an hour with every relay down loses nothing), and
after `outbox_max_attempts` it is marked `failed` and the merchant is told.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from loguru import logger

from .bus import Bus
from .crud.outbox import Attempt, OutboxRow, due_events, record_attempts
from .db import Database
from .nostr.event import Event
from .nostr.relay import PublishResult


class Pool(Protocol):
    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]: ...


def backoff(attempts: int, base: float = 2.0, cap: float = 600.0) -> float:
    """Seconds before the next try after `attempts` failed ones (with ±20% jitter)."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy


class Publisher:
    """Publishes due outbox rows; `run()` loops until cancelled, `publish_due()` is one pass."""

    def __init__(
        self,
        db: Database,
        pool: Pool,
        bus: Bus,
        max_attempts: int,
        *,
        clock: Callable[[], float] = time.time,
        batch: int = 200,
        timeout: float = 5.0,
        idle: float = 0.05,
    ) -> None:
        self._db, self._pool, self._bus = db, pool, bus
        self._max_attempts = max_attempts
        self._clock = clock
        self._batch, self._timeout, self._idle = batch, timeout, idle
        self._wake = asyncio.Event()

    def poke(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            # Cleared before the pass, not before the sleep: a poke that lands while
            # the pass reads the outbox (its rows not visible to that read) must
            # still cut the sleep short, or the new row waits a whole `idle`.
            self._wake.clear()
            try:
                published = await self.publish_due()
            except Exception as error:  # keep publishing after a bad moment; say so
                logger.opt(exception=error).warning("outbox publisher pass failed")
                published = 0
            if published == 0:
                await self._sleep()

    async def _sleep(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self._idle)
        except TimeoutError:
            pass

    async def publish_due(self) -> int:
        """Publish every row due now (one batch); how many rows were tried."""
        rows = await due_events(self._db, int(self._clock()), self._batch)
        if not rows:
            return 0
        attempts = await asyncio.gather(*(self._attempt(row) for row in rows))
        async with self._db.transaction() as conn:
            await record_attempts(conn, attempts)
        for row, attempt in zip(rows, attempts, strict=True):
            if attempt.status == "failed":
                self._announce_failure(row, attempt)
        return len(rows)

    async def _attempt(self, row: OutboxRow) -> Attempt:
        event = Event(**row.event)
        relays = row.relays or None
        try:
            results = await self._pool.publish(event, relays, self._timeout)
        except Exception as error:  # a pool failure is one failed attempt, not a crash
            logger.opt(exception=error).warning("publishing {} failed", row.event_id)
            results = {}
        return self._outcome(row, results)

    def _outcome(self, row: OutboxRow, results: dict[str, PublishResult]) -> Attempt:
        now = int(self._clock())
        acks: dict[str, Any] = dict(row.acks)
        for url, result in results.items():
            acks[url] = {"ok": result.ok, "message": result.message, "at": now}
        if any(result.ok for result in results.values()):
            return Attempt(row.id, "sent", acks, now, None, now)
        error = "; ".join(f"{r.relay}: {r.message}" for r in results.values()) or "no relay"
        tries = row.attempts + 1
        if tries >= self._max_attempts:
            return Attempt(row.id, "failed", acks, now, error, None)
        return Attempt(row.id, "pending", acks, now + int(backoff(tries)), error, None)

    def _announce_failure(self, row: OutboxRow, attempt: Attempt) -> None:
        logger.warning(
            "gave up publishing {} ({}) after {} attempts: {}",
            row.event_id, row.purpose, self._max_attempts, attempt.last_error,
        )  # fmt: skip
        self._bus.publish(
            row.merchant_id,
            "outbox",
            {"event_id": row.event_id, "purpose": row.purpose, "order_id": row.order_id,
             "status": "failed", "error": attempt.last_error},
        )  # fmt: skip
