"""Another process holds the SQLite write lock (a real second process in `BEGIN IMMEDIATE`):
the writer waits without blocking the loop and the API answers meanwhile; held past the
writer's timeout, the unit fails with a clear error, the API answers 503, and the order
goes through once the lock is free. Last, through the running engine and a relay: an order
that meets either storage fault (a full disk, a held lock) is answered exactly once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from nostrbazaar.engine.ingest import ingest_event, retry_waiting
from nostrbazaar.storage.errors import StorageBusy
from support.faults import (
    ApiShop,
    LockHolder,
    compact,
    fill_disk,
    free_disk,
    open_api_shop,
    running_app,
)
from support.orders_fixtures import Customer
from support.relay_customer import RelayCustomer, of_type

pytestmark = pytest.mark.sqlite_only  # another process holds SQLite's write lock

LONG = {"address": "1 Road, Lisbon. " + "a" * 3900, "message": "Gift wrap. " + "m" * 3900}


@pytest.fixture
async def app_shop(tmp_path: Path) -> AsyncIterator[ApiShop]:
    async with running_app(tmp_path / "data") as (http, runtime):
        yield await open_api_shop(http, runtime)


@pytest.fixture
async def holder(app_shop: ApiShop) -> AsyncIterator[LockHolder]:
    lock = LockHolder(app_shop.runtime.db.path)
    yield lock
    await lock.close()


async def test_an_order_waits_for_another_process_write_lock_while_the_api_answers(
    app_shop: ApiShop, holder: LockHolder
) -> None:
    deps, merchant = app_shop.runtime.deps, app_shop.merchant
    event = Customer().nip04(merchant.public_key, app_shop.order("o-1"))
    await holder.start()
    placing = asyncio.create_task(ingest_event(deps, merchant, event))
    for _ in range(5):  # the loop is free: reads answer while the order waits for the lock
        assert await app_shop.orders() == []
        health = (await app_shop.get("/health")).json()
        assert health["database"] == "ok"
    assert not placing.done()
    await holder.release()
    verdict = await asyncio.wait_for(placing, 10)  # well within the writer's 5 s of waiting
    assert verdict.verdict == "processed"
    assert await app_shop.orders() == [("o-1", "awaiting_payment")]


async def test_a_write_lock_held_past_the_timeout_fails_clearly_and_the_api_says_503(
    app_shop: ApiShop, holder: LockHolder
) -> None:
    deps, merchant = app_shop.runtime.deps, app_shop.merchant
    writer = app_shop.runtime.db._writer
    assert writer is not None
    writer.lock_timeout = 0.3  # the same wait as the default 5 s, only shorter
    event = Customer().nip04(merchant.public_key, app_shop.order("o-1"))
    await holder.start()
    with pytest.raises(StorageBusy, match="another process has held the database's write lock"):
        await ingest_event(deps, merchant, event)
    zone = {"name": "Asia", "currency": "sat", "cost": 3, "countries": ["Japan"]}
    refused = await app_shop.post("/zone", zone)
    assert refused.status_code == 503
    assert refused.json()["detail"].startswith("storage is busy")
    assert await app_shop.orders() == []
    await holder.release()
    again = await ingest_event(deps, merchant, event)  # the engine's next try
    assert again.verdict == "processed"
    assert await retry_waiting(deps, merchant, older_than=0) == 0
    assert (await ingest_event(deps, merchant, event)).verdict == "ignored"
    assert await app_shop.orders() == [("o-1", "awaiting_payment")]
    assert (await app_shop.post("/zone", zone)).status_code == 200


async def _until(ready: Callable[[], bool], attempts: int = 200) -> None:
    for _ in range(attempts):  # bounded: about ten seconds at most
        if ready():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


@pytest.mark.parametrize("fault", ["full disk", "write lock"])
async def test_an_order_over_a_relay_that_meets_a_storage_fault_is_answered_once_it_clears(
    tmp_path: Path, fault: str, warnings: list[str]
) -> None:
    async with running_app(tmp_path / "data", background=True) as (http, runtime):
        shop = await open_api_shop(http, runtime)
        runtime.engine.storage_retry = (0.05, 0.2)  # the engine's waits, shortened
        assert runtime.db._writer is not None
        runtime.db._writer.lock_timeout = 0.2
        holder = LockHolder(runtime.db.path)
        customer = RelayCustomer(list(runtime.relays))
        await customer.connect()
        try:
            if fault == "full disk":
                await compact(runtime.db)
                fill_disk(runtime.db)
            else:
                await holder.start()
            pk = shop.merchant.public_key
            order = customer.me.nip04(pk, shop.order("o-1", **LONG))
            await customer.send(order)
            await _until(lambda: any("waits for the database" in w for w in warnings))
            free_disk(runtime.db)
            await holder.release()
            replies = await customer.wait_for(pk, lambda found: len(of_type(found, 1)) >= 1)
            assert len(of_type(replies, 1)) == 1  # one payment request
            assert await shop.orders() == [("o-1", "awaiting_payment")]
            verdict = await runtime.db.fetchone("SELECT verdict FROM inbox WHERE id = ?",
                                                (order["id"],))  # fmt: skip
            assert verdict is not None and verdict[0] == "processed"
        finally:
            await customer.close()
            await holder.close()
