"""A batch gives what one event at a time gives (issue 21).

The same events, in the same order, go into two shops with the same merchant key
and the same clock: one takes them one at a time (`ingest_event`, as before
batches), the other as one batch (`ingest_batch`, what the engine's workers do
now). The batch holds what makes a run hard: two customers racing for the last
unit, the same event twice, a forged signature, an order the wallet cannot
invoice, an order for an unknown product, an order id used again, a chat
message that splits the run, a NIP-17 order, and a new customer held back by
the stock share. Both shops must end with the same verdicts, orders, stock,
reservations and answers (invoices aside: each wallet mints its own).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.engine.ingest_batch import ingest_batch
from nostrbazaar.nostr.event import parse_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.wallets.base import WalletError
from nostrbazaar.wallets.minting import create_invoices_concurrently
from support import pg
from support.orders_fixtures import Customer, Shop, make_shop, order_content

NOW = int(time.time())
FIELDS = (
    "id, status, public_key, stall_id, zone_id, items, subtotal_msat, shipping_msat,"
    " total_msat, transport, reason, paid, shipped, dialect, version"
)


class WalletFailingFor:
    """The shop's fake wallet, except that it cannot invoice one order."""

    def __init__(self, wallet: Any, order_id: str) -> None:
        self.wallet, self.order_id = wallet, order_id

    async def create_invoice(self, amount_msat: int, memo: str, *args: Any, **kw: Any) -> Any:
        if memo == f"Order {self.order_id}":
            raise WalletError("the node is offline")
        return await self.wallet.create_invoice(amount_msat, memo, *args, **kw)

    async def create_invoices(self, requests: Any) -> Any:
        return await create_invoices_concurrently(self, requests)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wallet, name)


@pytest.fixture(params=[100, 60], ids=["no share rule", "new customers hold 60%"])
async def two_shops(
    tmp_path: Path, db_engine: str, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Shop, Shop]]:
    """Two empty shops of one merchant key on the engine under test, with p1 (5 units)
    and p2 (3 units); new customers may hold all the stock, or 60% of it."""
    secret = PrivateKey.generate().hex
    shops = []
    for name in ("single", "batch"):
        url = None
        if db_engine == "postgresql":
            url = await pg.new_schema(request.getfixturevalue("pg_database"))
        shop = await make_shop(tmp_path / name, secret, clock=lambda: NOW, database_url=url,
                               new_customer_stock_share=request.param,
                               max_open_orders_per_customer=2)  # fmt: skip
        await shop.product("p2", quantity=3)
        shops.append(shop)
    yield shops[0], shops[1]
    for shop in shops:
        await shop.close()


def _events(merchant_pubkey: str) -> list[Any]:
    """The batch, in arrival order (dicts; the forged one is left unverified)."""
    alice, bob, carol, dave, erin, frank = (Customer() for _ in range(6))

    def order(customer: Customer, order_id: str, items: list[tuple[str, int]]) -> Any:
        return customer.nip04(merchant_pubkey, order_content(order_id, items), NOW - 60)

    first = order(alice, "o-alice", [("p1", 2)])
    forged = {**order(bob, "o-forged", [("p1", 1)]), "sig": "00" * 64}
    chat = alice.nip04(merchant_pubkey, "is it blue?", NOW - 50)
    return [
        first,
        order(bob, "o-bob", [("p1", 2)]),  # 4 of 5 held by new customers: over 60%
        order(carol, "o-carol", [("p2", 2)]),
        order(carol, "o-carol-2", [("p1", 1)]),  # answered right after her first
        order(carol, "o-carol-3", [("p1", 1)]),  # a third unpaid order: over the limit
        first,  # the same event again
        forged,
        order(dave, "o-dave", [("p2", 1)]),  # the last unit of p2 ...
        order(erin, "o-erin", [("p2", 1)]),  # ... which erin races dave for
        order(frank, "o-wallet", [("p2", 1)]),  # the wallet cannot invoice this one
        chat,  # splits the run
        order(carol, "o-unknown", [("p9", 1)]),  # no such product
        order(bob, "o-alice", [("p1", 1)]),  # an order id alice has taken
        frank.nip17(merchant_pubkey, order_content("o-frank", [("p1", 1)])),
    ]


def _verified(raw: Any) -> Any:
    """What the relay pool hands over: a verified Event, or the raw input it refused."""
    try:
        return parse_event(raw)
    except ValueError:
        return raw


async def _one_at_a_time(shop: Shop, events: list[Any]) -> list[Any]:
    deps = replace(shop.deps, wallet=WalletFailingFor(shop.wallet, "o-wallet"))
    return [await ingest_event(deps, shop.merchant, _verified(raw), "wss://r") for raw in events]


async def _as_a_batch(shop: Shop, events: list[Any]) -> list[Any]:
    deps = replace(shop.deps, wallet=WalletFailingFor(shop.wallet, "o-wallet"))
    batch = [(_verified(raw), "wss://r") for raw in events]
    return await ingest_batch(deps, shop.merchant, batch)


async def _state(shop: Shop) -> dict[str, Any]:
    db = shop.db
    orders = await db.fetchall(f"SELECT {FIELDS} FROM orders ORDER BY id")
    inbox = await db.fetchall("SELECT id, verdict, reason, order_id FROM inbox ORDER BY id")
    answers = await db.fetchall(
        "SELECT public_key, type, order_id, transport, created_at FROM direct_messages"
        " WHERE direction = 'out' ORDER BY public_key, created_at"
    )
    return {
        "orders": [tuple(row) for row in orders],
        "stock": await _rows(db, "SELECT id, quantity, held FROM products ORDER BY id"),
        "reservations": await _rows(db, "SELECT order_id, product_id, quantity, state"
                                        " FROM reservations ORDER BY order_id, product_id"),
        "inbox": [tuple(row) for row in inbox],
        "answers": [tuple(row) for row in answers],
        "outbox": len(await shop.outbox()),
        "log": await _rows(db, "SELECT order_id, version, type FROM order_events"
                               " ORDER BY order_id, version"),
    }  # fmt: skip


async def _rows(db: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await db.fetchall(sql)]


def _refusals(shop_state: dict[str, Any]) -> dict[str, str]:
    return {row[0]: row[10] for row in shop_state["orders"] if row[1] == "rejected"}


async def test_a_batch_ends_where_one_event_at_a_time_ends(two_shops: tuple[Shop, Shop]) -> None:
    single, batch = two_shops
    events = _events(single.merchant.public_key)
    one_by_one = await _one_at_a_time(single, events)
    together = await _as_a_batch(batch, events)
    assert together == one_by_one
    expected, got = await _state(single), await _state(batch)
    assert got == expected
    refused = _refusals(got)  # the cases the batch holds really happened
    if single.deps.settings.new_customer_stock_share == 100:
        assert "o-bob" not in refused and "o-carol" not in refused
        assert refused["o-erin"] == "not enough stock of Product p2: it is sold out"
        assert "you already have 2 unpaid orders" in refused["o-carol-3"]
    else:
        assert "at most 1 of Product p2 can be reserved" in refused["o-carol"]
        assert "held by unpaid orders" in refused["o-bob"]
        assert "held by unpaid orders" in refused["o-erin"]
    assert refused["o-unknown"] == "unknown product p9"
    statuses = {row[0]: row[1] for row in got["orders"]}
    assert statuses["o-alice"] == statuses["o-dave"] == statuses["o-carol-2"] == "awaiting_payment"
    assert "o-frank" in refused  # p1 is gone (or held) by then
    assert "o-wallet" not in statuses and "o-forged" not in statuses
    verdicts = [v.verdict for v in together]
    assert verdicts[5] == "ignored" and verdicts[6] == "rejected"  # duplicate, forgery
    assert together[9].verdict == "received" and "node is offline" in (together[9].reason or "")
    assert together[12].verdict == "rejected"  # the id alice took


async def test_a_run_that_cannot_be_written_is_placed_one_order_at_a_time(
    two_shops: tuple[Shop, Shop], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's transaction fails (here: placing in the run raises); nothing of it
    was written, and each order is then placed on its own, with the same outcome."""
    single, batch = two_shops
    events = _events(single.merchant.public_key)
    one_by_one = await _one_at_a_time(single, events)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the run")

    monkeypatch.setattr("nostrbazaar.services.intake_batch.place_in_run", broken)
    together = await _as_a_batch(batch, events)
    assert together == one_by_one
    assert await _state(batch) == await _state(single)
    assert json.dumps(_refusals(await _state(batch)))  # refusals are there, as one by one
