"""A restore run as a job against a real relay (LocalRelay on 127.0.0.1): its progress
counts each relay's events and each placed order, and a job cancelled half-way or cut
short by a stop leaves a state that a retry completes to the live one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.crud.jobs import get_job
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.keys import PrivateKey
from support.orders_fixtures import create_catalogue, order_content, order_state, settings_for
from support.pg import DatabaseAt
from support.relay_customer import RelayCustomer, of_type

MERCHANT = PrivateKey.generate()
PK = MERCHANT.public_key
RuntimeFactory = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    started = EmbeddedRelay()
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def runtime_at(
    relay: EmbeddedRelay, database_at: DatabaseAt
) -> AsyncIterator[RuntimeFactory]:
    running: list[Runtime] = []

    async def start(data_dir: Path, background: bool = True) -> Runtime:
        url = await database_at(data_dir)
        settings = settings_for(data_dir, relays=(relay.url,), database_url=url)
        runtime = Runtime(settings, background=background)
        await runtime.start()
        running.append(runtime)
        if await runtime.db.fetchone("SELECT 1 FROM merchants") is None:
            await create_catalogue(runtime.db, runtime.keystore, MERCHANT)
        if background:
            await runtime.engine.refresh()
        return runtime

    yield start
    for runtime in running:
        if runtime.started:
            await runtime.stop()


@pytest.fixture
async def customer(relay: EmbeddedRelay) -> AsyncIterator[RelayCustomer]:
    client = RelayCustomer([relay.url])
    await client.connect()
    yield client
    await client.close()


class PausedPool:
    """The relay pool; its `pause_at`-th fetch waits until released (the restore runs)."""

    def __init__(self, pool: Any, pause_at: int) -> None:
        self.pool, self.pause_at, self.calls = pool, pause_at, 0
        self.reached, self.release = asyncio.Event(), asyncio.Event()

    async def fetch(
        self, filters: list[dict[str, Any]], timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]:  # fmt: skip
        self.calls += 1
        if self.calls == self.pause_at:
            self.reached.set()
            await self.release.wait()
        found: list[Event] = await self.pool.fetch(filters, timeout, relays)
        return found

    def status(self) -> dict[str, str]:
        status: dict[str, str] = self.pool.status()
        return status


async def live_shop(runtime_at: RuntimeFactory, customer: RelayCustomer, path: Path) -> Any:
    """Three orders (one refused: no such product) answered live; the live order state."""
    live = await runtime_at(path)
    await customer.send(customer.me.nip04(PK, order_content("one", [("p1", 2)])))
    await customer.send(customer.me.nip17(PK, order_content("two", [("p1", 1)])))
    await customer.send(customer.me.nip04(PK, order_content("ghost", [("nope", 1)])))
    for _ in range(400):  # bounded: until the three answers are on the relay
        if len(of_type(await customer.replies(PK), 1)) >= 3:
            break
        await asyncio.sleep(0.02)
    for _ in range(400):
        row = await live.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        if row is not None and row[0] == 0:
            break
        await asyncio.sleep(0.02)
    return await order_state(live.db)


async def parked(runtime: Runtime, count: int) -> None:
    """Wait (bounded) until `count` orders of the history are parked in the inbox."""
    for _ in range(400):
        row = await runtime.db.fetchone("SELECT COUNT(*) FROM inbox WHERE verdict = 'parked'")
        if row is not None and row[0] >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the history never reached the inbox")


async def test_a_restore_job_counts_each_relay_and_each_order_and_equals_the_live_state(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer, relay: EmbeddedRelay
) -> None:
    expected = await live_shop(runtime_at, customer, tmp_path / "live")
    fresh = await runtime_at(tmp_path / "restored", background=False)
    job = await fresh.jobs.restore("merchant-1")
    await fresh.jobs.wait(job.id)
    done = await get_job(fresh.db, "merchant-1", job.id)
    assert done is not None and done.state == "done", done
    assert await order_state(fresh.db) == expected
    progress = done.progress
    assert progress["relays"][relay.url] >= 6  # three orders, three answers
    assert (progress["orders_total"], progress["orders_placed"], progress["orders_refused"]) == (
        3, 2, 1,
    )  # fmt: skip
    assert progress["orders_adopted"] == 2  # the two answered invoices, not new ones
    assert done.result is not None and done.result["orders_restored"] == 3


async def test_a_cancelled_restore_job_is_completed_by_its_retry(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer
) -> None:
    expected = await live_shop(runtime_at, customer, tmp_path / "live")
    fresh = await runtime_at(tmp_path / "restored", background=False)
    paused = PausedPool(fresh.jobs.pool, pause_at=2)  # after the first page was ingested
    fresh.jobs.pool = paused
    job = await fresh.jobs.restore("merchant-1")
    await paused.reached.wait()
    await parked(fresh, 2)  # the first page is in: its orders wait to be placed
    cancelled = await fresh.jobs.cancel("merchant-1", job.id)
    assert cancelled.state == "cancelled" and cancelled.ended_at is not None
    assert await order_state(fresh.db) != expected  # parked, not placed
    paused.release.set()
    retry = await fresh.jobs.retry("merchant-1", job.id)
    await fresh.jobs.wait(retry.id)
    assert await order_state(fresh.db) == expected


async def test_a_restore_job_cut_short_by_a_stop_is_interrupted_and_a_retry_completes_it(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer
) -> None:
    expected = await live_shop(runtime_at, customer, tmp_path / "live")
    first = await runtime_at(tmp_path / "restored", background=False)
    paused = PausedPool(first.jobs.pool, pause_at=2)
    first.jobs.pool = paused
    job = await first.jobs.restore("merchant-1")
    await paused.reached.wait()
    await parked(first, 2)
    await first.stop()
    again = await runtime_at(tmp_path / "restored", background=False)
    interrupted = await get_job(again.db, "merchant-1", job.id)
    assert interrupted is not None and interrupted.state == "interrupted"
    retry = await again.jobs.retry("merchant-1", job.id)
    await again.jobs.wait(retry.id)
    assert await order_state(again.db) == expected
