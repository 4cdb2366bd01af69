"""A server killed (SIGKILL) in the middle of a burst of orders, behind a relay that answers
at most CAP events per filter: after the restart every order exists once and every
customer has exactly one payment request per order.

The real entry point (`nostrbazaar serve`) in a subprocess; a real relay (nostr-sdk's
LocalRelay, capped); customers on nostr-sdk sending NIP-04 and NIP-17 orders (gift
wraps dated up to two days back). While the server is down the relay gathers more of
the merchant's messages than one answer holds, so only paging reaches them all.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import nostr_sdk as sdk
import pytest
from nostrbazaar.migrations import run_migrations
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.storage.database import Database
from nostrbazaar.storage.keystore import KeyStore
from support.capped_relay import CappedRelay
from support.orders_fixtures import SECRET, create_catalogue, order_content, settings_for
from support.relay_customer import RelayCustomer, of_type
from support.serve_process import ServeProcess

CAP = 50  # stored events per filter the relay returns at most
CUSTOMERS = 8
ORDERS_EACH = 25  # 200 orders: half NIP-04, half NIP-17
ANSWERED_BEFORE_KILL = 5
MERCHANT = PrivateKey.generate()
PK = MERCHANT.public_key


@pytest.fixture
async def relay() -> AsyncIterator[CappedRelay]:
    started = CappedRelay(CAP)
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def customers(relay: CappedRelay) -> AsyncIterator[list[RelayCustomer]]:
    clients = [RelayCustomer([relay.url]) for _ in range(CUSTOMERS)]
    for client in clients:
        await client.connect()
    yield clients
    for client in clients:
        await client.close()


@pytest.fixture
async def server(tmp_path: Path, relay: CappedRelay) -> AsyncIterator[ServeProcess]:
    data_dir = tmp_path / "shop"
    await open_shop(data_dir)
    process = ServeProcess(
        data_dir, relays=relay.url, secret=SECRET, max_open_orders="10000", log_level="INFO"
    )
    yield process
    process.stop()


async def open_shop(data_dir: Path) -> None:
    """The merchant and its catalogue, written before the server first starts."""
    db = Database(settings_for(data_dir).database_path)
    await db.connect()
    try:
        await run_migrations(db)
        await create_catalogue(db, KeyStore(SECRET), MERCHANT)
        async with db.transaction() as conn:
            await conn.execute("UPDATE products SET quantity = 100000")
    finally:
        await db.close()


def orders_in(data_dir: Path) -> Counter[str]:
    """Order ids in the server's database (read-only, beside the running server)."""
    path = settings_for(data_dir).database_path
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
        return Counter(row[0] for row in db.execute("SELECT id FROM orders"))


async def payment_requests(customers: list[RelayCustomer]) -> Counter[str]:
    """Payment requests on the relay, per order id, over every customer's replies."""
    found: Counter[str] = Counter()
    for customer in customers:
        found.update(reply["id"] for reply in of_type(await customer.replies(PK), 1))
    return found


async def merchant_replies(client: RelayCustomer) -> int:
    dms = sdk.Filter().kinds([sdk.Kind(4)]).author(sdk.PublicKey.parse(PK))
    events = await client.client.fetch_events(sdk.ReqTarget.auto([dms]), timedelta(seconds=2))
    return len(events)


async def send_burst(customers: list[RelayCustomer]) -> list[str]:
    """Every customer's orders, interleaved, alternating NIP-04 and NIP-17."""
    sent: list[str] = []
    for n in range(ORDERS_EACH):
        for c, customer in enumerate(customers):
            order_id = f"c{c}-o{n}"
            make = customer.me.nip04 if (n + c) % 2 == 0 else customer.me.nip17
            await customer.send(make(PK, order_content(order_id)))
            sent.append(order_id)
        await asyncio.sleep(0.02)  # pace the burst so the kill falls inside it
    return sent


async def wait_until_answered(
    server: ServeProcess, customers: list[RelayCustomer], expected: set[str]
) -> None:
    """Bounded: until every order exists and has a payment request on the relay."""
    for _ in range(240):
        if set(orders_in(server.data_dir)) == expected:
            if set(await payment_requests(customers)) == expected:
                return
        await asyncio.sleep(0.25)
    missing = expected - set(orders_in(server.data_dir))
    raise AssertionError(f"{len(missing)} orders never arrived: {sorted(missing)[:20]}")


async def test_no_order_is_lost_or_answered_twice_after_a_kill_in_a_burst_behind_a_capped_relay(
    server: ServeProcess, customers: list[RelayCustomer]
) -> None:
    await server.start()
    burst = asyncio.create_task(send_burst(customers))
    for _ in range(400):  # bounded: until the server has answered a few orders
        if await merchant_replies(customers[0]) >= ANSWERED_BEFORE_KILL or burst.done():
            break
    assert not burst.done(), "the burst ended before the server answered: no kill mid-burst"
    server.kill()
    expected = set(await burst)
    assert set(await payment_requests(customers)) < expected  # the kill left work undone
    await server.start()
    await wait_until_answered(server, customers, expected)
    server.stop()  # whatever it would still send has been sent or is in its outbox
    assert orders_in(server.data_dir) == Counter(expected)
    answers = await payment_requests(customers)
    assert answers == Counter(expected), {k: v for k, v in answers.items() if v != 1}
