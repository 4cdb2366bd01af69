"""While a restore places a merchant's events itself (oldest first, with its stock loans),
the engine's retry loop leaves that merchant's waiting events alone; once the restore has
ended, the loop places what still waits, once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nostrbazaar.crud.inbox import InboxEntry, insert_entry
from nostrbazaar.crud.jobs import end_job
from nostrbazaar.engine.jobs import RESTORE
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.jobs import create_job
from support.orders_fixtures import Customer, create_catalogue, order_content, settings_for

MERCHANT = PrivateKey.generate()


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str | None) -> AsyncIterator[Runtime]:
    settings = settings_for(tmp_path / "shop", database_url=database_url)
    started = Runtime(settings, background=False)
    await started.start()
    await create_catalogue(started.db, started.keystore, MERCHANT)
    yield started
    await started.stop()


async def order_waiting_in_the_inbox(runtime: Runtime, merchant_id: str) -> None:
    """A customer's order claimed long ago and left `received` (as after a wallet outage)."""
    event = Customer().nip04(MERCHANT.public_key, order_content("waiting-1"))
    entry = InboxEntry(
        event["id"], merchant_id, json.dumps(event), 4, event["pubkey"], event["created_at"],
        "received", received_at=runtime.deps.now() - 3600,
    )  # fmt: skip
    async with runtime.db.transaction() as conn:
        await insert_entry(conn, entry)


async def orders(runtime: Runtime) -> list[str]:
    return [row[0] for row in await runtime.db.fetchall("SELECT id FROM orders")]


async def test_the_retry_loop_waits_while_the_merchant_is_being_restored(
    runtime: Runtime,
) -> None:
    from nostrbazaar.engine.background import OrderEngine

    merchant = (await runtime.deps.merchants.all())[0]
    await order_waiting_in_the_inbox(runtime, merchant.id)
    engine = OrderEngine(runtime.deps, runtime.pool)
    job = await create_job(runtime.db, merchant.id, RESTORE, {})
    await engine._retry()
    assert await orders(runtime) == []  # the restore places it, not the loop
    engine.hold(merchant.id)
    async with runtime.db.transaction() as conn:
        await end_job(conn, job.id, "done", runtime.deps.now())
    await engine._retry()
    assert await orders(runtime) == []  # held: its imported history is still being restored
    await engine.release(merchant.id)
    await engine._retry()
    assert await orders(runtime) == ["waiting-1"]
