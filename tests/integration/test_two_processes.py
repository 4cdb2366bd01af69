"""Two real `nostrbazaar serve` processes on one PostgreSQL database and one LocalRelay.

A burst of orders from many customers: each is answered once, whichever process
took it. One process is killed with SIGKILL mid-burst; the other answers the
rest, including any event the dead one had claimed (taken over once it has
waited the lease) and any reply it had leased in the outbox (published once the
lease runs out: `test_shared_outbox.py` shows that step on its own). Payments are
settled through the survivor, for invoices either process issued.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import nostr_sdk as sdk
import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay, free_port
from nostrbazaar.migrations import run_migrations
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.storage.keystore import KeyStore
from nostrbazaar.storage.postgres import PgDatabase
from support import pg
from support.orders_fixtures import SECRET, Customer, create_catalogue, order_content
from support.relay_customer import RelayCustomer

MERCHANT = PrivateKey.generate()
ORDERS = 16
LEASE = 2


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    started = EmbeddedRelay()
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def shop_url(pg_database: str) -> str:
    """A schema with the merchant and its catalogue (10 units of product p1)."""
    url = await pg.new_schema(pg_database)
    db = PgDatabase(url)
    await db.connect()
    try:
        await run_migrations(db)
        await create_catalogue(db, KeyStore(SECRET), MERCHANT)
        async with db.transaction() as conn:
            await conn.execute("UPDATE products SET quantity = 100 WHERE id = 'p1'")
    finally:
        await db.close()
    return url


class Server:
    """One `nostrbazaar serve` process."""

    def __init__(self, url: str, relay: str, data_dir: Path) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "NOSTRBAZAAR_DATABASE_URL": url,
            "NOSTRBAZAAR_SECRET": SECRET,
            "NOSTRBAZAAR_RELAYS": relay,
            "NOSTRBAZAAR_ALLOW_PRIVATE_RELAYS": "true",
            "NOSTRBAZAAR_HOST": "127.0.0.1",
            "NOSTRBAZAAR_PORT": str(self.port),
            "NOSTRBAZAAR_DATA_DIR": str(data_dir),
            "NOSTRBAZAAR_LEASE_SECONDS": str(LEASE),
            "NOSTRBAZAAR_LOG_LEVEL": "WARNING",
        }
        self.log = (data_dir.parent / f"serve-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nostrbazaar.cli", "serve"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"

    async def ready(self) -> None:
        async with httpx.AsyncClient() as http:
            for _ in range(300):  # about 30 s at most
                assert self.process.poll() is None, "the server stopped"
                try:
                    if (await http.get(f"{self.base}/api/v1/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.base} never became healthy")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def servers(shop_url: str, relay: EmbeddedRelay, tmp_path: Path) -> Iterator[list[Server]]:
    started = [Server(shop_url, relay.url, tmp_path / name) for name in ("a", "b")]
    yield started
    for server in started:
        server.stop()


async def _count(url: str, sql: str) -> int:
    db = PgDatabase(url, min_size=1, max_size=1)
    await db.connect()
    try:
        row = await db.fetchone(sql)
        return int(row[0]) if row else 0
    finally:
        await db.close()


async def _requests_by_customer(
    watcher: RelayCustomer, customers: list[Customer]
) -> dict[str, list[dict[str, Any]]]:
    """Each customer's payment requests (type 1) the merchant published on the relay."""
    events = await watcher.client.fetch_events(_merchant_dms(), timedelta(seconds=2))
    raw = [json.loads(event.as_json()) for event in events]
    found: dict[str, list[dict[str, Any]]] = {c.pubkey: [] for c in customers}
    for customer in customers:
        for event in raw:
            content = customer.read(event)
            if isinstance(content, dict) and content.get("type") == 1:
                found[customer.pubkey].append(content)
    return found


def _merchant_dms() -> Any:
    author = sdk.PublicKey.parse(MERCHANT.public_key)
    return sdk.ReqTarget.auto([sdk.Filter().kinds([sdk.Kind(4)]).author(author)])


async def test_a_burst_is_answered_once_per_order_when_one_of_two_processes_is_killed(
    servers: list[Server], shop_url: str, relay: EmbeddedRelay
) -> None:
    await asyncio.gather(*(server.ready() for server in servers))
    doomed, survivor = servers
    watcher = RelayCustomer([relay.url])
    await watcher.connect()
    try:
        customers = [Customer() for _ in range(ORDERS)]
        events = [
            c.nip04(MERCHANT.public_key, order_content(f"o-{n}", [("p1", 1)]))
            for n, c in enumerate(customers)
        ]
        half = ORDERS // 2
        for event in events[:half]:
            await watcher.send(event)
        for _ in range(200):  # until some orders are in: the burst is under way
            if await _count(shop_url, "SELECT COUNT(*) FROM orders") >= 2:
                break
            await asyncio.sleep(0.05)
        at_kill = await _count(shop_url, "SELECT COUNT(*) FROM orders")
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
        assert 2 <= at_kill < ORDERS  # killed mid-burst
        for event in events[half:]:
            await watcher.send(event)
        answered: dict[str, list[dict[str, Any]]] = {}
        for _ in range(200):  # bounded: about 40 s (lease, retry pass, publishing)
            answered = await _requests_by_customer(watcher, customers)
            if all(answered.values()):
                break
            await asyncio.sleep(0.2)
        assert all(len(requests) == 1 for requests in answered.values()), {
            k[:8]: len(v) for k, v in answered.items()
        }
        assert await _count(shop_url, "SELECT COUNT(*) FROM orders") == ORDERS
        assert await _count(shop_url, "SELECT COUNT(*) FROM invoices") == ORDERS
        assert (
            await _count(shop_url, "SELECT 100 - quantity FROM products WHERE id = 'p1'") == ORDERS
        )
        await _pay_through(survivor, answered, shop_url)
    finally:
        await watcher.close()


async def _pay_through(server: Server, answered: dict[str, list[dict[str, Any]]], url: str) -> None:
    """Every order paid through the survivor's fake-pay endpoint, whoever issued it."""
    invoices = [
        option["link"]
        for requests in answered.values()
        for option in requests[0]["payment_options"]
        if option["type"] == "ln"
    ]
    async with httpx.AsyncClient() as http:
        for bolt11 in invoices:
            paid = await http.post(f"{server.base}/api/v1/fakewallet/pay", json={"bolt11": bolt11})
            assert paid.status_code == 200, paid.text
    for _ in range(200):
        if await _count(url, "SELECT COUNT(*) FROM orders WHERE status = 'paid'") == ORDERS:
            break
        await asyncio.sleep(0.1)
    assert await _count(url, "SELECT COUNT(*) FROM payments") == ORDERS
    assert await _count(url, "SELECT COUNT(*) FROM orders WHERE status = 'paid'") == ORDERS
