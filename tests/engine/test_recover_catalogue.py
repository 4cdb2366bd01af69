"""The catalogue recovered from the merchant's own events (on both engines): the newest
undeleted version of each stall and product, accepted, under its `d` id, with the zones
of the stalls' shipping options; nothing signed by another key; never over a catalogue."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.migrations import run_migrations
from nostrbazaar.nostr.event import Event, sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.catalogue_recover import recover_catalogue
from nostrbazaar.storage.database import Database
from nostrbazaar.storage.engines import open_database

KEY = PrivateKey.generate()
T = 1_790_000_000


@pytest.fixture
async def db(tmp_path: Path, database_url: str | None) -> AsyncIterator[Database]:
    opened = open_database(database_url, tmp_path / "shop.sqlite3")
    await opened.connect()
    await run_migrations(opened)
    for n, key in ((1, KEY), (2, PrivateKey.generate())):
        await merchant(opened, f"merchant-{n}", key)
    yield opened
    await opened.close()


async def merchant(db: Database, merchant_id: str, key: PrivateKey) -> None:
    now = int(time.time())
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO accounts (id, name, admin_key, invoice_key, created_at)"
            " VALUES (?, 'shop', ?, ?, ?)",
            (f"account-{merchant_id}", f"admin-{merchant_id}", f"in-{merchant_id}", now),
        )
        await conn.execute(
            "INSERT INTO merchants (id, account_id, public_key, private_key_sealed, created_at,"
            " updated_at) VALUES (?, ?, ?, 'sealed', ?, ?)",
            (merchant_id, f"account-{merchant_id}", key.public_key, now, now),
        )


def stall(d: str, name: str, at: int, zones: list[dict[str, Any]], key: PrivateKey = KEY) -> Event:
    content = {"id": d, "name": name, "currency": "sat", "shipping": zones}
    return sign_event(key, 30017, json.dumps(content), [["d", d]], at)


def product(d: str, at: int, key: PrivateKey = KEY, **fields: Any) -> Event:
    content = {"id": d, "stall_id": "tea", "name": d, "price": 100, "quantity": 4, **fields}
    return sign_event(key, 30018, json.dumps(content), [["d", d]], at)


def history() -> list[Event]:
    europe = {"id": "europe", "name": "Europe", "cost": 5, "regions": ["Portugal"]}
    world = {"id": "world", "name": "World", "cost": 20, "regions": []}
    deletion = sign_event(KEY, 5, "", [["a", f"30018:{KEY.public_key}:gone"]], T - 10)
    return [
        stall("tea", "Old name", T - 100, [europe]),
        stall("tea", "Tea", T, [europe, world]),
        product("green", T, shipping=[{"id": "europe", "cost": 1}, {"id": "moon", "cost": 9}]),
        product("gone", T - 50),
        deletion,
        product("forged", T, key=PrivateKey.generate()),  # another key: never the merchant's
        sign_event(KEY, 30017, "not json", [["d", "broken"]], T),
    ]


async def rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await db.fetchall(sql)]


async def test_the_newest_undeleted_version_of_each_comes_back_accepted(db: Database) -> None:
    recovered = await recover_catalogue(db, "merchant-1", KEY.public_key, history())
    assert recovered is not None
    assert (recovered.stalls, recovered.products, recovered.zones) == (1, 1, 2)
    assert recovered.published == {"green": T}
    assert [reason.split(": ", 1)[1] for reason in recovered.skipped] == ["content is not JSON"]
    assert await rows(db, "SELECT id, name, pending, event_created_at FROM stalls") == [
        ("tea", "Tea", 0, T)
    ]
    assert await rows(db, "SELECT id, quantity, pending, active FROM products") == [
        ("green", 4, 0, 1)
    ]
    zones = "SELECT id, name, currency, cost, merchant_id FROM zones ORDER BY id"
    assert await rows(db, zones) == [
        ("europe", "Europe", "sat", "5", "merchant-1"),
        ("world", "World", "sat", "20", "merchant-1"),
    ]
    assert await rows(db, "SELECT product_id, zone_id FROM product_shipping") == [
        ("green", "europe")  # the moon is none of the stall's zones
    ]


async def test_a_merchant_with_a_catalogue_gets_nothing_recovered_over_it(db: Database) -> None:
    first = await recover_catalogue(db, "merchant-1", KEY.public_key, history()[:2])
    assert first is not None and first.stalls == 1
    again = await recover_catalogue(db, "merchant-1", KEY.public_key, history())
    assert again is None
    assert await rows(db, "SELECT id FROM products") == []


async def test_an_id_another_merchant_holds_here_is_skipped_with_a_reason(db: Database) -> None:
    other = PrivateKey.generate()
    taken = [stall("tea", "Theirs", T, [], key=other), product("green", T, key=other)]
    await recover_catalogue(db, "merchant-2", other.public_key, taken)
    recovered = await recover_catalogue(db, "merchant-1", KEY.public_key, history())
    assert recovered is not None and (recovered.stalls, recovered.products) == (0, 0)
    assert "stall tea: the id is another merchant's here" in recovered.skipped
    assert "product green: the id is another merchant's here" in recovered.skipped
    assert await rows(db, "SELECT id, merchant_id FROM stalls") == [("tea", "merchant-2")]
