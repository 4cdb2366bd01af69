"""Faults no test tried before (issue 17), each provoked for real: a full disk (SQLite's own
SQLITE_FULL, from a page limit on the writer's connection) and another process holding
the write lock. A unit of work fails whole, nothing is half-written, the event waits and
is processed exactly once when the database can take it again, the API answers 503."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from nostrbazaar.engine.ingest import ingest_event, retry_waiting
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.storage.database import Database, SqliteDatabase
from nostrbazaar.storage.errors import StorageFull, StorageUnavailable
from nostrbazaar.storage.group_commit import BatchLost
from support.faults import compact, fill_disk, free_disk, running_app, table_counts
from support.orders_fixtures import Customer, Shop, order_content

pytestmark = pytest.mark.sqlite_only  # faults injected through SQLite's own file and locks

# An order whose rows cannot fit in the pages the database already has (two 4,000-character
# fields: overflow pages in the inbox, the conversation, the order and its log).
LONG = {"address": "1 Road, Lisbon. " + "a" * 3900, "message": "Gift wrap. " + "m" * 3900}


async def _notes(tmp_path: Path) -> Database:
    database = SqliteDatabase(tmp_path / "notes.sqlite3")
    await database.connect()
    async with database.transaction() as conn:
        await conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)")
        await conn.execute("INSERT INTO notes (body) VALUES ('kept')")
    return database


async def _bodies(database: Database) -> list[object]:
    return [row[0] for row in await database.fetchall("SELECT body FROM notes ORDER BY id")]


async def _update(database: Database, body: str) -> None:
    async with database.transaction() as conn:
        await conn.execute("UPDATE notes SET body = ? WHERE id = 1", (body,))


async def test_a_unit_that_fills_the_disk_fails_whole_and_its_commit_mates_are_told(
    tmp_path: Path,
) -> None:
    database = await _notes(tmp_path)
    fill_disk(database)

    async def too_big() -> None:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES ('half')")
            await conn.execute("INSERT INTO notes (body) VALUES (?)", (b"x" * 100_000,))

    # The update ends first and waits for its commit; the insert then fails in the same
    # open transaction, which SQLite rolls back whole: the update is lost, and says so.
    results = await asyncio.gather(_update(database, "changed"), too_big(), return_exceptions=True)
    assert isinstance(results[1], StorageFull), results[1]
    assert "storage is full" in str(results[1])
    assert isinstance(results[0], BatchLost) and isinstance(results[0], StorageUnavailable)
    assert await _bodies(database) == ["kept"]  # nothing of either unit
    await _update(database, "changed")  # the writer goes on: a write that fits commits
    assert await _bodies(database) == ["changed"]
    await database.close()


async def test_when_sqlite_undoes_only_the_failed_statement_the_units_sharing_its_commit_stand(
    tmp_path: Path,
) -> None:
    database = await _notes(tmp_path)
    fill_disk(database)

    async def too_big() -> None:  # a multi-row statement: SQLite rolls back just this one
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES ('half')")
            await conn.execute(
                "INSERT INTO notes (body) SELECT randomblob(50000) FROM (SELECT 1 UNION SELECT 2)"
            )

    results = await asyncio.gather(_update(database, "changed"), too_big(), return_exceptions=True)
    assert results[0] is None
    assert isinstance(results[1], StorageFull)
    assert await _bodies(database) == ["changed"]  # the first unit, none of the second
    await database.close()


async def _order_state(shop: Shop, event_id: str) -> tuple[dict[str, int], object]:
    verdict = (await shop.verdicts()).get(event_id)
    return await table_counts(shop.db), verdict


@pytest.mark.parametrize("spare_pages", [0, 6], ids=["at-the-claim", "after-the-claim"])
async def test_an_order_that_finds_the_disk_full_leaves_nothing_and_goes_through_once_later(
    shop: Shop, customer: Customer, spare_pages: int
) -> None:
    event = customer.nip04(shop.merchant.public_key, order_content("o-1", **LONG))
    before = await table_counts(shop.db)
    await compact(shop.db)
    fill_disk(shop.db, spare_pages)
    with pytest.raises(StorageFull):
        await ingest_event(shop.deps, shop.merchant, event)
    counts, verdict = await _order_state(shop, event["id"])
    assert counts == before and await shop.stock() == 5  # no order, no reply, no reservation
    assert verdict in (None, ("received", None))  # never taken as processed or rejected
    free_disk(shop.db)
    # What the engine does next: deliver the event again, and retry what waits in the inbox.
    again = await ingest_event(shop.deps, shop.merchant, event)
    await retry_waiting(shop.deps, shop.merchant, older_than=0)
    assert again.verdict in ("processed", "ignored")
    assert (await shop.order("o-1")).status == "awaiting_payment"
    assert [m["type"] for m in await customer.inbox(shop, "o-1")] == [1]  # one payment request
    assert (await shop.verdicts())[event["id"]] == ("processed", None)
    assert await shop.stock() == 4
    third = await ingest_event(shop.deps, shop.merchant, event)
    assert third.verdict == "ignored"
    assert await retry_waiting(shop.deps, shop.merchant, older_than=0) == 0


async def test_an_order_waiting_in_the_inbox_stays_waiting_while_the_disk_is_full(
    shop: Shop, customer: Customer
) -> None:
    event = customer.nip04(shop.merchant.public_key, order_content("o-1", **LONG))
    await shop.wallet.stop()  # first it waits for the wallet: kept as `received`
    waiting = await ingest_event(shop.deps, shop.merchant, event)
    assert waiting.verdict == "received"
    await shop.wallet.start()
    before = await table_counts(shop.db)
    await compact(shop.db)
    fill_disk(shop.db)
    assert await retry_waiting(shop.deps, shop.merchant, older_than=0) == 1  # tried, failed
    verdict, reason = (await shop.verdicts())[event["id"]]
    assert verdict == "received" and reason is not None and "wallet" in reason
    assert await table_counts(shop.db) == before
    free_disk(shop.db)
    assert await retry_waiting(shop.deps, shop.merchant, older_than=0) == 1
    assert (await shop.verdicts())[event["id"]] == ("processed", None)
    assert [m["type"] for m in await customer.inbox(shop, "o-1")] == [1]
    assert await retry_waiting(shop.deps, shop.merchant, older_than=0) == 0


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    async with running_app(tmp_path / "data") as running:
        yield running


async def test_the_api_answers_503_saying_the_storage_is_full_and_writes_nothing(
    api: tuple[httpx.AsyncClient, Runtime],
) -> None:
    http, runtime = api
    account = (await http.post("/api/v1/account", json={"name": "Tea"})).json()
    admin = {"X-Api-Key": account["adminkey"]}
    assert (await http.post("/api/v1/merchant", json={}, headers=admin)).status_code == 200
    [online] = (await http.get("/api/v1/zone", headers=admin)).json()
    # Bigger than a page, so it needs the file to grow (zones now hold only country codes).
    stall = {"name": "World", "currency": "sat", "shipping_zones": [online["id"]],
             "config": {"description": "Tea from everywhere. " * 200}}  # fmt: skip

    async def stall_names() -> list[str]:
        listed = await http.get("/api/v1/stall", headers=admin)  # reads answer all along
        assert listed.status_code == 200
        return sorted(z["name"] for z in listed.json())

    before = await stall_names()
    await compact(runtime.db)
    fill_disk(runtime.db)
    full = await http.post("/api/v1/stall", json=stall, headers=admin)
    assert full.status_code == 503
    assert "storage is full" in full.json()["detail"]
    assert await stall_names() == before
    free_disk(runtime.db)
    created = await http.post("/api/v1/stall", json=stall, headers=admin)
    assert created.status_code == 200, created.text
    assert await stall_names() == sorted([*before, "World"])
