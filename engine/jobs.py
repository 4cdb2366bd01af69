"""The job runner: restores run as jobs, watched, cancelled, retried, and never lost.

`JobRunner.restore` creates the job (409 if the merchant has one active) and
runs it on a task of its own; the caller gets the queued job at once. At most
`concurrency` restores run at a time (the machine has few cores); the rest wait
`queued`. While one runs, `_Tracker` counts what the restore reports and what
each relay sent, and a ticker writes and announces it a few times a second (never
once per event). Cancelling cancels the task; the restore's units of work roll
back whole, and whatever it parked is placed by the next restore. On stop, the
runner's jobs end `interrupted`; at start-up, jobs a crashed process left active
are marked so too. Either can be retried as a new job.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any

from loguru import logger

from ..crud.inbox import get_entry
from ..crud.jobs import JobRow
from ..crud.stats import count_adopted_since
from ..nostr.event import Event
from ..services import jobs as jobs_service
from ..services.catalogue_errors import Unavailable
from ..services.conversation import Verdict
from ..services.deps import Deps
from ..services.notifications import Notifier
from . import restore
from .restore import RestoreSummary
from .restore.history import Fetcher
from .restore.progress import Counts

RESTORE = "restore"
TICK_SECONDS = 0.25  # how often a running job's progress is written and announced
FIND_TIMEOUT = 5.0  # looking up one event on the relays before accepting the job
STOPPED = "the server stopped while the job ran"


class _CountingFetcher:
    """The relay pool, counting the events each relay sends (the restore asks one at a time)."""

    def __init__(self, pool: Fetcher, counts: dict[str, int]) -> None:
        self._pool, self.counts = pool, counts

    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]:
        events = await self._pool.fetch(filters, timeout, relays)
        where = relays[0] if relays and len(relays) == 1 else "all relays"
        self.counts[where] = self.counts.get(where, 0) + len(events)
        return events

    def status(self) -> dict[str, str]:
        return self._pool.status()


# A placed order's verdict -> what it counts as (`parked`: waiting for the wallet).
_PLACED = {
    "processed": "orders_placed", "rejected": "orders_refused", "ignored": "orders_known",
    "parked": "orders_waiting",
}  # fmt: skip


class _Tracker:
    """A running restore's progress document, kept up to date by the restore's reports."""

    def __init__(self) -> None:
        self.relays: dict[str, int] = {}
        self.doc: dict[str, Any] = {
            "stage": "fetching", "relays": self.relays, "events_scanned": 0, "events_new": 0,
            "errors": 0, "orders_total": None, "orders_placed": 0, "orders_refused": 0,
            "orders_known": 0, "orders_waiting": 0, "orders_adopted": None, "fraction": None,
        }  # fmt: skip
        self.dirty = True

    def fetched(self, summary: Counts) -> None:
        self.doc.update(
            events_scanned=summary.events_scanned, events_new=summary.events_new,
            errors=summary.errors,
        )  # fmt: skip
        self.dirty = True

    def placing(self, total: int) -> None:
        self.doc.update(stage="placing", orders_total=total, fraction=0.0 if total else 1.0)
        self.dirty = True

    def placed(self, verdict: Verdict) -> None:
        self.doc[_PLACED.get(verdict.verdict, "orders_waiting")] += 1
        done = sum(self.doc[key] for key in _PLACED.values())
        self.doc["fraction"] = min(1.0, done / max(1, self.doc["orders_total"] or 0))
        self.dirty = True

    def checking(self) -> None:
        self.doc.update(stage="checking payments", fraction=1.0)
        self.dirty = True

    def snapshot(self) -> dict[str, Any]:
        self.dirty = False
        return {**self.doc, "relays": dict(self.relays)}


Work = Callable[[Fetcher, _Tracker], Awaitable[RestoreSummary]]


class JobRunner:
    """Runs the merchants' restore jobs over one set of dependencies and one relay pool."""

    def __init__(self, deps: Deps, pool: Fetcher | None, *, concurrency: int = 2) -> None:
        self.deps, self.pool = deps, pool
        self.notifier = Notifier.from_deps(deps)
        self._slots = asyncio.Semaphore(concurrency)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._ending: dict[str, str] = {}  # job id -> state it ends in when cancelled

    async def start(self) -> list[str]:
        """Mark what a stopped process left running as interrupted; their ids."""
        ids = await jobs_service.interrupt_all(self.deps.db)
        if ids:
            logger.warning("{} job(s) were cut short by a stop and are interrupted", len(ids))
        return ids

    async def stop(self) -> None:
        """Stop every job: each ends `interrupted` (it can be retried after the restart)."""
        for job_id in list(self._tasks):
            self._ending.setdefault(job_id, "interrupted")
            self._tasks[job_id].cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def restore(
        self, merchant_id: str, event_id: str | None = None, retry_of: str | None = None
    ) -> JobRow:
        """Start restoring every order (or the one of `event_id`); the queued job."""
        if event_id is not None and not await self._event_known(event_id):
            raise LookupError(f"event {event_id} was found neither on the relays nor in the inbox")
        params = {} if event_id is None else {"event_id": event_id}
        row = await jobs_service.create_job(self.deps.db, merchant_id, RESTORE, params, retry_of)
        self.deps.bus.publish(merchant_id, "job", jobs_service.document(row))
        self._spawn(row, self._restore_work(merchant_id, event_id))
        return row

    async def cancel(self, merchant_id: str, job_id: str) -> JobRow:
        """Cancel an active job of the merchant; 409 if it has ended, 404 if not theirs."""
        row = await jobs_service.get_job(self.deps.db, merchant_id, job_id)
        jobs_service.check_cancellable(row)
        task = self._tasks.get(job_id)
        if task is None:  # active in the database but not run here: end it all the same
            return await jobs_service.finish(self.notifier, row, "cancelled")
        self._ending[job_id] = "cancelled"
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return await jobs_service.get_job(self.deps.db, merchant_id, job_id)

    async def retry(self, merchant_id: str, job_id: str) -> JobRow:
        """Run a failed, cancelled or interrupted job again, as a new job."""
        row = await jobs_service.get_job(self.deps.db, merchant_id, job_id)
        jobs_service.check_retryable(row)
        return await self.restore(merchant_id, row.params.get("event_id"), retry_of=row.id)

    async def wait(self, job_id: str) -> None:
        """Until the job's task has ended (tests, and the CLI)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    def _pool(self) -> Fetcher:
        if self.pool is None:
            raise Unavailable("the relay pool is not running")
        return self.pool

    async def _event_known(self, event_id: str) -> bool:
        if await get_entry(self.deps.db, event_id) is not None:
            return True
        return bool(await self._pool().fetch([{"ids": [event_id]}], FIND_TIMEOUT))

    def _restore_work(self, merchant_id: str, event_id: str | None) -> Work:
        async def work(pool: Fetcher, tracker: _Tracker) -> RestoreSummary:
            if event_id is None:
                return await restore.restore_orders(self.deps, pool, merchant_id, tracker)
            return await restore.restore_order(self.deps, pool, merchant_id, event_id, tracker)

        return work

    def _spawn(self, row: JobRow, work: Work) -> None:
        task = asyncio.create_task(self._run(row, work), name=f"job {row.id}")
        self._tasks[row.id] = task
        task.add_done_callback(lambda _: self._forget(row.id))

    def _forget(self, job_id: str) -> None:
        self._tasks.pop(job_id, None)
        self._ending.pop(job_id, None)

    async def _run(self, row: JobRow, work: Work) -> None:
        """Wait for a slot, run, and end the job in the state that fits what happened."""
        tracker = _Tracker()
        try:
            async with self._slots:
                running = await jobs_service.begin(self.deps.db, self.deps.bus, row)
                if running is None:
                    return
                summary = await self._tracked(running, work, tracker)
        except asyncio.CancelledError:
            state = self._ending.get(row.id, "interrupted")
            error = STOPPED if state == "interrupted" else None
            await jobs_service.finish(
                self.notifier, row, state, progress=tracker.snapshot(), error=error
            )
            return  # the job is over; whoever cancelled it waits for this task, not past it
        except Exception as error:
            logger.opt(exception=error).warning("job {} failed", row.id)
            message = str(error) or type(error).__name__
            await jobs_service.finish(
                self.notifier, row, "failed", progress=tracker.snapshot(), error=message
            )
            return
        await self._done(row, tracker, summary)

    async def _tracked(self, running: JobRow, work: Work, tracker: _Tracker) -> RestoreSummary:
        """Run `work`, writing its progress every tick until it returns."""
        started = time.time()
        ticker = asyncio.create_task(self._tick(running, tracker))
        try:
            summary = await work(_CountingFetcher(self._pool(), tracker.relays), tracker)
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
        tracker.doc["orders_adopted"] = await count_adopted_since(
            self.deps.db, running.merchant_id, int(started)
        )
        return summary

    async def _tick(self, running: JobRow, tracker: _Tracker) -> None:
        while True:
            if tracker.dirty:
                await jobs_service.save_progress(
                    self.deps.db, self.deps.bus, running, tracker.snapshot()
                )
            await asyncio.sleep(TICK_SECONDS)

    async def _done(self, row: JobRow, tracker: _Tracker, summary: RestoreSummary) -> None:
        tracker.doc.update(stage="done", fraction=1.0)
        result = {**asdict(summary), "orders_adopted": tracker.doc["orders_adopted"]}
        await jobs_service.finish(
            self.notifier, row, "done", progress=tracker.snapshot(), result=result
        )
