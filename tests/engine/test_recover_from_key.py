"""Recovery from the key alone: the data directory is gone, a fresh server gets the same
private key, and a restore brings back the catalogue (from the merchant's own signed
stalls and products on the relay) and then every order, with its status, total and stock.

Everything is real: a LocalRelay on 127.0.0.1, SQLite files or PostgreSQL (a lost database
is a schema left behind, the fresh one a new schema), the FakeWallet, nostr-sdk
customers over NIP-04 and NIP-17, the catalogue created and published by the services.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.catalogue_models import (
    ProductConfigIn,
    ProductCreate,
    ProductShipping,
    StallBody,
    ZoneCreate,
)
from nostrbazaar.crud.merchants import MerchantRow, get_merchant
from nostrbazaar.crud.stock import ledger_balances
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.engine.restore import RestoreSummary, restore_orders
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.models import MerchantCreate
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.accounts import create_merchant, new_account
from nostrbazaar.services.catalogue import create_stall, create_zone
from nostrbazaar.services.catalogue_products import create_product
from nostrbazaar.services.order_admin import ship_order
from support.orders_fixtures import order_content, order_state, settings_for
from support.pg import DatabaseAt
from support.relay_customer import RelayCustomer, of_type

MERCHANT = PrivateKey.generate()
PK = MERCHANT.public_key


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    started = EmbeddedRelay()
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def customers(relay: EmbeddedRelay) -> AsyncIterator[tuple[RelayCustomer, RelayCustomer]]:
    ann, bob = RelayCustomer([relay.url]), RelayCustomer([relay.url])
    for customer in (ann, bob):
        await customer.connect()
    yield ann, bob
    for customer in (ann, bob):
        await customer.close()


async def server(
    data_dir: Path, relay: EmbeddedRelay, background: bool, database_url: str | None
) -> Runtime:
    """A server on `data_dir` and `database_url` (None: the data dir's SQLite file)."""
    settings = settings_for(data_dir, relays=(relay.url,), database_url=database_url)
    runtime = Runtime(settings, background=background)
    await runtime.start()
    return runtime


async def import_key(runtime: Runtime) -> MerchantRow:
    """An account, and a merchant with the shop's private key (as `POST /merchant` does)."""
    account = await new_account(runtime.db, "shop")
    body = MerchantCreate(private_key=MERCHANT.hex)
    merchant = await create_merchant(runtime, account.id, body)
    row = await get_merchant(runtime.db, merchant.id)
    assert row is not None
    return row


async def open_shop(runtime: Runtime, merchant: MerchantRow) -> dict[str, str]:
    """A zone, a stall and two products, published by the catalogue services."""
    zone = await create_zone(
        runtime, merchant, ZoneCreate(name="Europe", cost=Decimal(5), countries=["Portugal"])
    )
    stall = await create_stall(runtime, merchant, StallBody(name="Tea", shipping_zones=[zone.id]))
    ids = {"zone": zone.id, "stall": stall.id}
    for name, price, quantity in (("green", 100, 5), ("black", 40, 3)):
        config = ProductConfigIn(shipping=[ProductShipping(id=zone.id, cost=Decimal(2))])
        body = ProductCreate(
            stall_id=stall.id, name=name, price=Decimal(price), quantity=quantity, config=config
        )
        ids[name] = (await create_product(runtime, merchant, body)).id
    return ids


def has(type_: int, order_id: str, **fields: Any) -> Callable[[list[Any]], bool]:
    def ready(replies: list[Any]) -> bool:
        return any(
            r["id"] == order_id and all(r.get(k) == v for k, v in fields.items())
            for r in of_type(replies, type_)
        )

    return ready


async def settle_outbox(runtime: Runtime, attempts: int = 200) -> None:
    """Wait (bounded) until the publisher has sent everything queued."""
    for _ in range(attempts):
        row = await runtime.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        if row is not None and row[0] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox never emptied")


async def order(customer: RelayCustomer, order_id: str, content: str, nip17: bool) -> str:
    """The customer orders over the relay; the bolt11 of the merchant's payment request."""
    make = customer.me.nip17 if nip17 else customer.me.nip04
    await customer.send(make(PK, content))
    replies = await customer.wait_for(PK, has(1, order_id))
    request = next(r for r in of_type(replies, 1) if r["id"] == order_id)
    return str(request["payment_options"][0]["link"])


async def pay_and_ship(runtime: Runtime, customer: RelayCustomer, order_id: str, bolt11: str):
    merchant = await runtime.db.fetchone("SELECT id FROM merchants")
    assert merchant is not None
    await runtime.wallet.pay(bolt11)
    await customer.wait_for(PK, has(2, order_id, paid=True))
    await ship_order(runtime.deps, merchant["id"], order_id, "posted today")
    await customer.wait_for(PK, has(2, order_id, shipped=True))


async def after_last_publication(runtime: Runtime) -> None:
    """Wait (bounded) for the clock to pass the second of the products' last publication,
    so the next reservation is plainly later than the stock the relays hold."""
    row = await runtime.db.fetchone("SELECT MAX(event_created_at) FROM products")
    assert row is not None
    for _ in range(60):
        if int(time.time()) > row[0]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the clock did not pass the last publication")


async def live_day(
    runtime: Runtime, ann: RelayCustomer, bob: RelayCustomer
) -> tuple[dict[str, str], dict[str, Any]]:
    """Four orders: one paid and shipped and one unpaid over each of NIP-04 and NIP-17.
    The NIP-04 unpaid one is older than the last stock publication, the NIP-17 one newer."""
    merchant = await import_key(runtime)
    ids = await open_shop(runtime, merchant)
    zone, green, black = ids["zone"], ids["green"], ids["black"]
    await order(ann, "unpaid-04", order_content("unpaid-04", [(green, 1)], zone), nip17=False)
    paid04 = order_content("paid-04", [(green, 2), (black, 1)], zone)
    bolt11 = await order(ann, "paid-04", paid04, nip17=False)
    await pay_and_ship(runtime, ann, "paid-04", bolt11)
    bolt11 = await order(bob, "paid-17", order_content("paid-17", [(black, 1)], zone), True)
    await pay_and_ship(runtime, bob, "paid-17", bolt11)
    await settle_outbox(runtime)
    await after_last_publication(runtime)
    await order(bob, "unpaid-17", order_content("unpaid-17", [(green, 1)], zone), nip17=True)
    await settle_outbox(runtime)
    return ids, await order_state(runtime.db)


async def catalogue(runtime: Runtime) -> list[tuple[Any, ...]]:
    rows = await runtime.db.fetchall(
        "SELECT 'stall', id, pending FROM stalls UNION ALL"
        " SELECT 'product', id, pending FROM products ORDER BY 1, 2"
    )
    return [tuple(row) for row in rows]


async def test_a_fresh_server_with_only_the_key_restores_catalogue_orders_and_stock(
    tmp_path: Path, relay: EmbeddedRelay, customers: tuple[RelayCustomer, RelayCustomer],
    database_at: DatabaseAt,
) -> None:  # fmt: skip
    data_dir = tmp_path / "shop"
    live = await server(data_dir, relay, True, await database_at(tmp_path / "lost"))
    try:
        ids, before = await live_day(live, *customers)
        published = await catalogue(live)
    finally:
        await live.stop()
    # the database, the sealed-key secret and the wallet's invoices (none there with a URL)
    shutil.rmtree(data_dir, ignore_errors=True)
    fresh = await server(data_dir, relay, False, await database_at(tmp_path / "new"))
    try:
        merchant = await import_key(fresh)
        summary = await restore_orders(fresh.deps, fresh.pool, merchant.id)
        after = await order_state(fresh.db)
        recovered = await catalogue(fresh)
        ledger = await ledger_balances(fresh.db, merchant.id)
    finally:
        await fresh.stop()
    statuses = {row[0]: row[1] for row in before["orders"]}
    assert statuses == {
        "paid-04": "shipped", "paid-17": "shipped",
        "unpaid-04": "awaiting_payment", "unpaid-17": "awaiting_payment",
    }  # fmt: skip
    assert after == before  # every order's status, total, items, invoice; every product's stock
    assert recovered == published  # same ids, none pending
    assert dict(before["stock"]) == {ids["green"]: 1, ids["black"]: 1}
    assert ledger == dict(after["stock"])  # every loan and taking back is a ledger row
    assert_summary(summary)


def assert_summary(summary: RestoreSummary) -> None:
    assert summary.orders_restored == 4
    assert summary.catalogue is not None
    assert (summary.catalogue.stalls, summary.catalogue.products) == (1, 2)
    assert summary.catalogue.zones == 1


async def restore_job_done(runtime: Runtime, attempts: int = 400) -> dict[str, Any]:
    """Wait (bounded) for the merchant's one restore job to end; its row."""
    for _ in range(attempts):
        rows = await runtime.db.fetchall("SELECT state, result, error FROM jobs")
        if len(rows) == 1 and rows[0]["state"] not in ("queued", "running"):
            return dict(rows[0])
        await asyncio.sleep(0.05)
    raise AssertionError("the restore job never ended")


async def test_importing_the_key_into_a_running_server_restores_before_taking_live_orders(
    tmp_path: Path, relay: EmbeddedRelay, customers: tuple[RelayCustomer, RelayCustomer],
    database_at: DatabaseAt,
) -> None:  # fmt: skip
    """With the engine running, importing the key restores the history as a job first: live
    catch-up alone would take the last two days of orders as new against an empty shop."""
    data_dir = tmp_path / "shop"
    live = await server(data_dir, relay, True, await database_at(tmp_path / "lost"))
    try:
        _, before = await live_day(live, *customers)
    finally:
        await live.stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    fresh = await server(data_dir, relay, True, await database_at(tmp_path / "new"))
    try:
        await import_key(fresh)
        job = await restore_job_done(fresh)
        await settle_outbox(fresh)
        after = await order_state(fresh.db)
        sent = await fresh.db.fetchone("SELECT COUNT(*) FROM outbox WHERE order_id IS NOT NULL")
    finally:
        await fresh.stop()
    assert job["state"] == "done", job
    assert after == before
    assert sent is not None and sent[0] == 0  # nothing answered again
