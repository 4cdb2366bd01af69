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

from ..crud.notifications import NotificationRow
from ..crud.outbox import (
    Attempt,
    OutboxRow,
    claim,
    due_events,
    record_attempts,
    retry_waiting_now,
)
from ..nostr.event import Event
from ..nostr.relay import PublishResult
from ..services.bus import Bus
from ..services.notifications import DM_PURPOSE, OUTBOX_FAILED, Note, Notifier
from ..storage.database import Connection, Database


class Pool(Protocol):
    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]: ...


def backoff(attempts: int, base: float = 2.0, cap: float = 600.0) -> float:
    """Seconds before the next try after `attempts` failed ones (with ±20% jitter)."""
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy


class Publisher:
    """Publishes due outbox rows; `run()` loops until cancelled, `publish_due()` is one pass.

    In `run()` each row is published as soon as it is picked up, beside the rows
    still waiting for their relays' OK (at most `batch` at once), and each outcome
    is recorded as soon as it is known, in one transaction with the others that
    ended meanwhile. So a new reply never waits for an earlier one's OK, for a
    slow relay's timeout, or for the write lock its record needs. A row is in
    flight from its pick-up until its outcome is recorded: never tried twice at once.
    """

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
        notifier: Notifier | None = None,
        lease: tuple[str, int] | None = None,
    ) -> None:
        self._db, self._pool, self._bus = db, pool, bus
        self._notifier = notifier  # a row failed for good becomes a notification
        self._lease = lease  # (this process, seconds): rows are claimed before publishing
        self._max_attempts = max_attempts
        self._clock = clock
        self._batch, self._timeout, self._idle = batch, timeout, idle
        self._wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._reads = 0  # outbox reads under way
        self._recorded_meanwhile: set[int] = set()
        self._ended: list[tuple[OutboxRow, Attempt]] = []
        self._recording = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def poke(self) -> None:
        """Something was queued: look now instead of at the next poll."""
        self._wake.set()

    async def relay_connected(self, url: str) -> None:
        """A relay (re)connected: what waits out a backoff after failing goes now."""
        async with self._db.transaction() as conn:
            due = await retry_waiting_now(conn, int(self._clock()))
        if due:
            logger.info("{} connected: {} waiting messages retried now", url, due)
            self.poke()

    async def run(self) -> None:
        try:
            while True:
                # Cleared before the pass, not before the sleep: a poke that lands while
                # the pass reads the outbox (its rows not visible to that read) must
                # still cut the sleep short, or the new row waits a whole `idle`.
                self._wake.clear()
                try:
                    started = self._start(await self._pick_due())
                except Exception as error:  # keep publishing after a bad moment; say so
                    logger.opt(exception=error).warning("outbox publisher pass failed")
                    started = 0
                if started == 0:
                    await self._sleep()
        finally:
            await self._cancel_attempts()

    async def publish_due(self) -> int:
        """Publish every row due now and record the outcomes; how many rows were tried."""
        rows = await self._pick_due()
        await asyncio.gather(*(self._publish(row) for row in rows))
        return len(rows)

    async def _sleep(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self._idle)
        except TimeoutError:
            pass

    async def _pick_due(self) -> list[OutboxRow]:
        """Due rows that are not in flight (up to the room left), now marked in flight.

        A row recorded while the read was under way may still look pending in what
        the read returns: it is left out too (`_recorded_meanwhile`), or it would be
        published again."""
        room = self._batch - len(self._in_flight)
        if room <= 0:
            return []
        self._reads += 1
        try:
            now = int(self._clock())
            rows = await due_events(self._db, now, room, tuple(self._in_flight))
            rows = await self._leased(rows, now)
        finally:
            self._reads -= 1
        busy = self._in_flight | self._recorded_meanwhile
        if self._reads == 0:
            self._recorded_meanwhile.clear()
        fresh = [row for row in rows if row.id not in busy]
        self._in_flight.update(row.id for row in fresh)
        return fresh

    async def _leased(self, rows: list[OutboxRow], now: int) -> list[OutboxRow]:
        """On a database several processes share, the rows this one got a lease on: the
        others publish theirs (`lease` seconds, then a dead holder's rows are free)."""
        if self._lease is None or not rows:
            return rows
        owner, seconds = self._lease
        async with self._db.transaction() as conn:
            got = await claim(conn, [row.id for row in rows], owner, now, now + seconds)
        return [row for row in rows if row.id in got]

    def _start(self, rows: list[OutboxRow]) -> int:
        for row in rows:
            task = asyncio.create_task(self._publish(row), name=f"publish {row.event_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(rows)

    async def _cancel_attempts(self) -> None:
        """On stop: abandon attempts under way; their rows stay pending for next time."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _publish(self, row: OutboxRow) -> None:
        """One attempt, then its record; the row leaves the in-flight set only after."""
        try:
            attempt = await self._attempt(row)
            self._ended.append((row, attempt))  # the list as it is now, not before the await
            await self._record_ended()
        finally:
            was_full = len(self._in_flight) >= self._batch
            self._in_flight.discard(row.id)
            if self._reads:
                self._recorded_meanwhile.add(row.id)
            if was_full:
                self.poke()  # room again for rows the last pass had to leave

    async def _record_ended(self) -> None:
        """Record every attempt that ended so far in one transaction.

        Whoever holds the lock takes all outcomes queued until then, so when this
        returns the caller's own outcome is recorded (by it or by the one before)."""
        async with self._recording:
            ended, self._ended = self._ended, []
            if not ended:
                return
            notes: list[NotificationRow | None] = []
            try:
                async with self._db.transaction() as conn:
                    await record_attempts(conn, [attempt for _, attempt in ended])
                    notes = await self._record_failures(conn, ended)
            except Exception as error:  # rows stay pending: they are tried again
                logger.opt(exception=error).warning(
                    "recording {} outbox attempts failed", len(ended)
                )
                return
        for row, attempt in ended:
            if attempt.status == "failed":
                self._announce_failure(row, attempt)
        if self._notifier is not None:
            self._notifier.announce(notes)

    async def _record_failures(
        self, conn: Connection, ended: list[tuple[OutboxRow, Attempt]]
    ) -> list[NotificationRow | None]:
        """A notification for each row that failed for good, in the transaction that says so."""
        if self._notifier is None:
            return []
        return [
            await self._notifier.record(conn, row.merchant_id, _failure_note(row, attempt))
            for row, attempt in ended
            if attempt.status == "failed"
        ]

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


def _failure_note(row: OutboxRow, attempt: Attempt) -> Note:
    """What the merchant is told about a message no relay took; a notification DM that
    failed is noted but never sent again as a DM."""
    what = "A reply about an order" if row.order_id else "A message"
    if row.purpose == DM_PURPOSE:
        what = "A notification DM to yourself"
    return Note(
        OUTBOX_FAILED, "high", f"{what} could not be published",
        f"No relay accepted event {row.event_id} ({row.purpose}): {attempt.last_error}",
        "order" if row.order_id else "outbox", row.order_id or row.event_id,
        f"outbox:{row.event_id}", dm=row.purpose != DM_PURPOSE,
    )  # fmt: skip
