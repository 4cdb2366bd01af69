"""Restore as a job: 202 and the job at once, its state and progress, one restore per
merchant at a time, cancel, retry, interrupted by a restart, a failure notified, keys."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.nostr.event import Event

from .conftest import open_shop


class GatedPool:
    """The runtime's relay pool, whose `block_at`-th fetch waits for `gate` (or raises
    `error`): a restore that is running, for as long as the test wants."""

    def __init__(self, pool: Any, block_at: int = 1, error: Exception | None = None) -> None:
        self.pool, self.block_at, self.error = pool, block_at, error
        self.gate, self.reached = asyncio.Event(), asyncio.Event()
        self.calls = 0

    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]:
        self.calls += 1
        if self.calls == self.block_at:
            self.reached.set()
            if self.error is not None:
                raise self.error
            await self.gate.wait()
        events: list[Event] = await self.pool.fetch(filters, timeout, relays)
        return events

    def status(self) -> dict[str, str]:
        status: dict[str, str] = self.pool.status()
        return status


@pytest.fixture
def gated(runtime):
    """Put a gate in front of the job runner's relay pool; the gate object."""
    gate = GatedPool(runtime.jobs.pool)
    runtime.jobs.pool = gate
    return gate


async def started(client, shop) -> dict[str, Any]:
    response = await client.put("/api/v1/orders/restore", headers=shop.admin)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


async def job_of(client, shop, job_id) -> dict[str, Any]:
    response = await client.get(f"/api/v1/jobs/{job_id}", headers=shop.reader)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_a_restore_answers_202_with_the_queued_job_which_ends_done_with_its_summary(
    client, alice, runtime
):
    job = await started(client, alice)
    assert job["kind"] == "restore" and job["state"] in ("queued", "running")
    await runtime.jobs.wait(job["id"])
    done = await job_of(client, alice, job["id"])
    assert done["state"] == "done" and done["error"] is None
    assert done["started_at"] is not None and done["ended_at"] >= done["started_at"]
    assert {"events_scanned", "orders_restored", "orders_adopted"} <= set(done["result"])
    progress = done["progress"]
    assert progress["stage"] == "done" and progress["fraction"] == 1.0
    assert set(progress["relays"]) == set(runtime.relays)  # each relay was asked, and counted
    listed = (await client.get("/api/v1/jobs", headers=alice.reader)).json()
    assert [item["id"] for item in listed] == [job["id"]]


async def test_a_second_restore_while_one_runs_is_409_naming_the_running_job(
    client, alice, gated, runtime
):
    first = await started(client, alice)
    await gated.reached.wait()
    second = await client.put("/api/v1/orders/restore", headers=alice.admin)
    assert second.status_code == 409
    assert first["id"] in second.json()["detail"]
    one = await client.put(f"/api/v1/order/restore/{'ab' * 32}", headers=alice.admin)
    assert one.status_code == 404  # an unknown event is refused before any job is made
    gated.gate.set()
    await runtime.jobs.wait(first["id"])
    assert (await job_of(client, alice, first["id"]))["state"] == "done"


async def test_two_merchants_restore_at_the_same_time(client, alice, bob, gated, runtime):
    first = await started(client, alice)
    await gated.reached.wait()
    other = await started(client, bob)  # one restore per merchant, not per server
    gated.gate.set()
    for job, shop in ((first, alice), (other, bob)):
        await runtime.jobs.wait(job["id"])
        assert (await job_of(client, shop, job["id"]))["state"] == "done"


async def test_a_cancelled_restore_ends_cancelled_and_a_retry_runs_it_again(
    client, alice, gated, runtime
):
    job = await started(client, alice)
    await gated.reached.wait()
    response = await client.put(f"/api/v1/jobs/{job['id']}/cancel", headers=alice.admin)
    assert response.status_code == 200, response.text
    cancelled = response.json()
    assert cancelled["state"] == "cancelled" and cancelled["ended_at"] is not None
    again = await client.put(f"/api/v1/jobs/{job['id']}/cancel", headers=alice.admin)
    assert again.status_code == 409
    gated.gate.set()
    retry = await client.put(f"/api/v1/jobs/{job['id']}/retry", headers=alice.admin)
    assert retry.status_code == 202, retry.text
    assert retry.json()["retry_of"] == job["id"] and retry.json()["id"] != job["id"]
    await runtime.jobs.wait(retry.json()["id"])
    assert (await job_of(client, alice, retry.json()["id"]))["state"] == "done"
    done_again = await client.put(f"/api/v1/jobs/{retry.json()['id']}/retry", headers=alice.admin)
    assert done_again.status_code == 409  # a job that finished well is not run again


async def test_a_failed_restore_keeps_its_error_and_becomes_a_notification(client, alice, runtime):
    runtime.jobs.pool = GatedPool(runtime.jobs.pool, error=RuntimeError("the relay exploded"))
    job = await started(client, alice)
    await runtime.jobs.wait(job["id"])
    failed = await job_of(client, alice, job["id"])
    assert failed["state"] == "failed" and failed["error"] == "the relay exploded"
    notes = (await client.get("/api/v1/notifications", headers=alice.reader)).json()
    assert [(n["type"], n["priority"], n["object"]) for n in notes] == [
        ("job_failed", "high", {"type": "job", "id": job["id"]})
    ]
    assert "the relay exploded" in notes[0]["body"]


async def test_another_merchants_job_is_404_everywhere(client, alice, bob, runtime):
    job = await started(client, alice)
    await runtime.jobs.wait(job["id"])
    assert (await client.get(f"/api/v1/jobs/{job['id']}", headers=bob.reader)).status_code == 404
    for action in ("cancel", "retry"):
        path = f"/api/v1/jobs/{job['id']}/{action}"
        assert (await client.put(path, headers=bob.admin)).status_code == 404
    assert (await client.get("/api/v1/jobs", headers=bob.reader)).json() == []


async def test_job_routes_need_a_key_and_changes_need_the_admin_key(client, alice, runtime):
    job = await started(client, alice)
    await runtime.jobs.wait(job["id"])
    for path in ("/api/v1/jobs", f"/api/v1/jobs/{job['id']}"):
        assert (await client.get(path)).status_code == 401
    for path in ("/orders/restore", f"/jobs/{job['id']}/cancel", f"/jobs/{job['id']}/retry"):
        assert (await client.put(f"/api/v1{path}")).status_code == 401
        assert (await client.put(f"/api/v1{path}", headers=alice.reader)).status_code == 401


async def test_a_restore_cut_short_by_a_restart_is_interrupted_and_can_be_retried(settings):
    first_app = create_app(settings)
    first_app.state.runtime.background = False
    async with LifespanManager(first_app):
        runtime = first_app.state.runtime
        gate = GatedPool(runtime.jobs.pool)
        runtime.jobs.pool = gate
        transport = httpx.ASGITransport(app=first_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            shop = await open_shop(client, "Alice")
            job = await started(client, shop)
            await gate.reached.wait()
    # the server stopped while the restore ran; it starts again on the same data
    second_app = create_app(settings)
    second_app.state.runtime.background = False
    async with LifespanManager(second_app):
        transport = httpx.ASGITransport(app=second_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            shop.client = client
            interrupted = await job_of(client, shop, job["id"])
            assert interrupted["state"] == "interrupted" and interrupted["error"]
            retry = await client.put(f"/api/v1/jobs/{job['id']}/retry", headers=shop.admin)
            assert retry.status_code == 202
            await second_app.state.runtime.jobs.wait(retry.json()["id"])
            assert (await job_of(client, shop, retry.json()["id"]))["state"] == "done"


async def test_a_job_left_running_by_a_crash_is_interrupted_at_the_next_start(settings):
    app = create_app(settings)
    app.state.runtime.background = False
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            shop = await open_shop(client, "Alice")
        db = app.state.runtime.db
        async with db.transaction() as conn:  # what a killed process leaves behind
            await conn.execute(
                "INSERT INTO jobs (id, merchant_id, kind, state, created_at, started_at,"
                " updated_at) VALUES ('crashed', ?, 'restore', 'running', 1, 1, 1)",
                (shop.merchant["id"],),
            )
    again = create_app(settings)
    again.state.runtime.background = False
    async with LifespanManager(again):
        transport = httpx.ASGITransport(app=again)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            shop.client = client
            assert (await job_of(client, shop, "crashed"))["state"] == "interrupted"
            assert (await started(client, shop))["state"] in ("queued", "running")
