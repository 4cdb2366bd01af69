"""SQL for jobs: long work (a restore) with its state, progress and outcome. No rules here.

One job of a kind per merchant may be active (`queued` or `running`): a partial
UNIQUE index (migration `m007_console`) refuses a second one in the same
statement that would create it, so two requests at once cannot both start a
restore (no check-then-act). Progress and the outcome are JSON documents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..storage.database import Connection, Database, fetchall
from .catalogue import Source, one

ACTIVE = ("queued", "running")
STATES = ("queued", "running", "done", "failed", "cancelled", "interrupted")

_COLUMNS = (
    "id, merchant_id, kind, params, state, progress, result, error, retry_of,"
    " created_at, started_at, ended_at, updated_at"
)


@dataclass(frozen=True)
class JobRow:
    id: str
    merchant_id: str
    kind: str
    params: dict[str, Any]
    state: str
    progress: dict[str, Any]
    result: dict[str, Any] | None
    error: str | None
    retry_of: str | None
    created_at: int
    started_at: int | None
    ended_at: int | None
    updated_at: int


def _job(row: Any) -> JobRow:
    data = dict(row)
    data["params"] = json.loads(data["params"] or "{}")
    data["progress"] = json.loads(data["progress"] or "{}")
    data["result"] = None if data["result"] is None else json.loads(data["result"])
    return JobRow(**data)


async def insert_job(conn: Connection, job: JobRow) -> bool:
    """Create a job; False when the merchant already has an active job of this kind."""
    cursor = await conn.execute(
        f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
        " ON CONFLICT DO NOTHING",
        (
            job.id, job.merchant_id, job.kind, json.dumps(job.params), job.state,
            json.dumps(job.progress), None if job.result is None else json.dumps(job.result),
            job.error, job.retry_of, job.created_at, job.started_at, job.ended_at, job.updated_at,
        ),
    )  # fmt: skip
    return cursor.rowcount == 1


async def active_job(src: Source, merchant_id: str, kind: str) -> JobRow | None:
    """The merchant's queued or running job of this kind, if any."""
    row = await one(
        src,
        f"SELECT {_COLUMNS} FROM jobs WHERE merchant_id = ? AND kind = ?"  # noqa: S608
        " AND state IN ('queued', 'running')",
        (merchant_id, kind),
    )
    return None if row is None else _job(row)


async def get_job(db: Database, merchant_id: str, job_id: str) -> JobRow | None:
    """One of the merchant's jobs (another merchant's is None, like a missing one)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM jobs WHERE merchant_id = ? AND id = ?",  # noqa: S608
        (merchant_id, job_id),
    )
    return None if row is None else _job(row)


async def list_jobs(db: Database, merchant_id: str, limit: int, offset: int) -> list[JobRow]:
    """The merchant's jobs, newest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM jobs WHERE merchant_id = ?"  # noqa: S608
        " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        (merchant_id, limit, offset),
    )
    return [_job(row) for row in rows]


async def start_job(conn: Connection, job_id: str, now: int) -> bool:
    """queued -> running; False if it is no longer queued (cancelled meanwhile)."""
    cursor = await conn.execute(
        "UPDATE jobs SET state = 'running', started_at = ?, updated_at = ?"
        " WHERE id = ? AND state = 'queued'",
        (now, now, job_id),
    )
    return cursor.rowcount == 1


async def set_progress(conn: Connection, job_id: str, progress: dict[str, Any], now: int) -> None:
    """Replace the job's progress document (while it is active)."""
    await conn.execute(
        "UPDATE jobs SET progress = ?, updated_at = ?"
        " WHERE id = ? AND state IN ('queued', 'running')",
        (json.dumps(progress), now, job_id),
    )


async def end_job(
    conn: Connection,
    job_id: str,
    state: str,
    now: int,
    *,
    progress: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> bool:
    """An active job ends in `state`; False if it had ended already (nothing changes)."""
    cursor = await conn.execute(
        "UPDATE jobs SET state = ?, ended_at = ?, updated_at = ?, error = ?,"
        " result = COALESCE(?, result), progress = COALESCE(?, progress)"
        " WHERE id = ? AND state IN ('queued', 'running')",
        (
            state, now, now, error, None if result is None else json.dumps(result),
            None if progress is None else json.dumps(progress), job_id,
        ),
    )  # fmt: skip
    return cursor.rowcount == 1


async def interrupt_active(conn: Connection, now: int) -> list[str]:
    """Every job left active by a process that stopped is `interrupted`; their ids."""
    rows = await fetchall(
        conn, "SELECT id FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at"
    )
    ids = [row["id"] for row in rows]
    await conn.execute(
        "UPDATE jobs SET state = 'interrupted', ended_at = ?, updated_at = ?, error = ?"
        " WHERE state IN ('queued', 'running')",
        (now, now, "the server stopped while the job ran"),
    )
    return ids
