"""Jobs: long work a merchant starts and watches (a restore), kept with its progress.

The rules live here; running the work is the engine's (`engine/jobs.py`), which
drives the restore. A job is `queued`, then `running`, and ends `done`,
`failed`, `cancelled` or `interrupted` (the process stopped under it). One job
of a kind per merchant may be active: the database refuses a second (`crud.jobs`),
and the refusal names the job that runs. A job that did not finish well can be
run again as a new job that points back at it (`retry_of`).
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from ..crud import jobs as crud
from ..crud.jobs import JobRow
from ..storage.database import Database
from .bus import Bus
from .catalogue_errors import Conflict, NotFound
from .notifications import JOB_FAILED, Note, Notifier, sortable_id

RETRYABLE = ("failed", "cancelled", "interrupted")


class JobRunning(Conflict):
    """The merchant already has an active job of this kind."""

    def __init__(self, running: JobRow) -> None:
        super().__init__(
            f"a {running.kind} job is already {running.state} for this merchant: {running.id}"
        )
        self.running = running


def document(row: JobRow) -> dict[str, Any]:
    """A job as the API and the websocket show it."""
    return asdict(row)


def _now() -> int:
    return int(time.time())


async def create_job(
    db: Database, merchant_id: str, kind: str, params: dict[str, Any], retry_of: str | None = None
) -> JobRow:
    """A new queued job; `JobRunning` (409) naming the active one if there is one."""
    now = _now()
    row = JobRow(
        sortable_id(), merchant_id, kind, params, "queued", {}, None, None, retry_of,
        now, None, None, now,
    )  # fmt: skip
    async with db.transaction() as conn:
        created = await crud.insert_job(conn, row)
        running = None if created else await crud.active_job(conn, merchant_id, kind)
    if running is not None:
        raise JobRunning(running)
    if not created:  # it ended between the refusal and the look-up: try once more
        return await create_job(db, merchant_id, kind, params, retry_of)
    return row


async def get_job(db: Database, merchant_id: str, job_id: str) -> JobRow:
    """One of the merchant's jobs; 404 for a missing one or another merchant's."""
    row = await crud.get_job(db, merchant_id, job_id)
    if row is None:
        raise NotFound("job not found")
    return row


async def list_jobs(db: Database, merchant_id: str, limit: int, offset: int) -> list[JobRow]:
    return await crud.list_jobs(db, merchant_id, limit, offset)


def check_cancellable(row: JobRow) -> None:
    if row.state not in crud.ACTIVE:
        raise Conflict(f"job {row.id} has ended ({row.state}); there is nothing to cancel")


def check_retryable(row: JobRow) -> None:
    if row.state not in RETRYABLE:
        raise Conflict(
            f"job {row.id} is {row.state}; only a failed, cancelled or interrupted job is retried"
        )


async def begin(db: Database, bus: Bus, row: JobRow) -> JobRow | None:
    """queued -> running; None if it was cancelled while it waited."""
    now = _now()
    async with db.transaction() as conn:
        started = await crud.start_job(conn, row.id, now)
    if not started:
        return None
    running = JobRow(**{**asdict(row), "state": "running", "started_at": now, "updated_at": now})
    bus.publish(row.merchant_id, "job", document(running))
    return running


async def save_progress(db: Database, bus: Bus, row: JobRow, progress: dict[str, Any]) -> JobRow:
    """Keep and announce where a running job stands."""
    now = _now()
    async with db.transaction() as conn:
        await crud.set_progress(conn, row.id, progress, now)
    current = JobRow(**{**asdict(row), "progress": progress, "updated_at": now})
    bus.publish(row.merchant_id, "job", document(current))
    return current


async def finish(
    notifier: Notifier,
    row: JobRow,
    state: str,
    *,
    progress: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> JobRow:
    """The job ends in `state`; a failure is a notification, in the same transaction."""
    now = _now()
    note = None
    async with notifier.db.transaction() as conn:
        ended = await crud.end_job(
            conn, row.id, state, now, progress=progress, result=result, error=error
        )
        if ended and state == "failed":
            note = await notifier.record(conn, row.merchant_id, _failure(row, error))
    notifier.announce([note])
    final = await crud.get_job(notifier.db, row.merchant_id, row.id)
    assert final is not None
    notifier.bus.publish(row.merchant_id, "job", document(final))
    return final


def _failure(row: JobRow, error: str | None) -> Note:
    what = "restore of one order" if row.params.get("event_id") else "restore of every order"
    return Note(
        JOB_FAILED, "high", f"The {what} failed", error or "", "job", row.id, f"job:{row.id}"
    )


async def interrupt_all(db: Database) -> list[str]:
    """At start-up (nobody is watching yet): jobs a stopped process left active are
    `interrupted`; their ids."""
    async with db.transaction() as conn:
        return await crud.interrupt_active(conn, _now())
