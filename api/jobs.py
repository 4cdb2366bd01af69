"""Routes for jobs: restores started as jobs, their state and progress, cancel and retry.

`PUT /orders/restore` and `PUT /order/restore/{event_id}` (in `api/orders.py`)
answer `202` with the queued job; the job runner (`engine/jobs.py`) does the
work and announces each step on the websocket as a `job` message.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from ..crud.jobs import JobRow
from ..engine.jobs import JobRunner
from ..engine.runtime import Runtime
from ..services import jobs as jobs_service
from ..services.catalogue_errors import Unavailable
from .auth import ReadMerchant, RuntimeDep, WriteMerchant
from .common import READ, WRITE, DomainErrorRoute

router = APIRouter(tags=["jobs"], route_class=DomainErrorRoute)


class Job(BaseModel):
    """Long work (a restore): its state, progress, outcome and times (Unix seconds)."""

    id: str
    merchant_id: str
    kind: str = Field(description="restore")
    params: dict[str, Any] = Field(description='{"event_id"} for a one-order restore')
    state: str = Field(description="queued, running, done, failed, cancelled or interrupted")
    progress: dict[str, Any] = Field(
        description="stage, relays (events each sent), events_scanned, events_new, errors,"
        " orders_total, orders_placed, orders_refused, orders_known, orders_waiting,"
        " orders_adopted, fraction (0..1, null while the history streams)"
    )
    result: dict[str, Any] | None = Field(description="the restore's summary when done")
    error: str | None
    retry_of: str | None = Field(description="the job this one runs again")
    created_at: int
    started_at: int | None
    ended_at: int | None
    updated_at: int

    @classmethod
    def of(cls, row: JobRow) -> Job:
        return cls(**jobs_service.document(row))


def runner_of(runtime: Runtime) -> JobRunner:
    """The runtime's job runner; 503 before it is started."""
    runner = getattr(runtime, "jobs", None)
    if not isinstance(runner, JobRunner):
        raise Unavailable("the job runner is not running")
    return runner


@router.get("/jobs", responses=READ)
async def api_jobs_list(
    merchant: ReadMerchant,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> list[Job]:
    """The merchant's jobs, newest first."""
    rows = await jobs_service.list_jobs(runtime.db, merchant.id, limit, offset)
    return [Job.of(row) for row in rows]


@router.get("/jobs/{job_id}", responses=READ)
async def api_job_get(job_id: str, merchant: ReadMerchant, runtime: RuntimeDep) -> Job:
    """One job: its state, progress, times and the error if any."""
    return Job.of(await jobs_service.get_job(runtime.db, merchant.id, job_id))


@router.put("/jobs/{job_id}/cancel", responses=WRITE)
async def api_job_cancel(job_id: str, merchant: WriteMerchant, runtime: RuntimeDep) -> Job:
    """Cancel a queued or running job (409 once it has ended); what it did so far stays."""
    return Job.of(await runner_of(runtime).cancel(merchant.id, job_id))


@router.put("/jobs/{job_id}/retry", status_code=status.HTTP_202_ACCEPTED, responses=WRITE)
async def api_job_retry(job_id: str, merchant: WriteMerchant, runtime: RuntimeDep) -> Job:
    """Run a failed, cancelled or interrupted job again: the new job, queued."""
    return Job.of(await runner_of(runtime).retry(merchant.id, job_id))
