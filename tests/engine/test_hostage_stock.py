"""Issue 17: stock held hostage by throwaway keys. A hundred fresh keys, each ordering and
never paying, hold at most the new-customer share of a product, and only for the new-customer
expiry; a paying customer gets through (SQLite and PostgreSQL, the real fake wallet)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nostrbazaar.crud.reservations import open_reservations
from nostrbazaar.services.payments import expire_due
from nostrbazaar.services.rebuild import rebuild_projections
from nostrbazaar.wallets.invoice_codec import decode_invoice
from support.orders_fixtures import (
    Customer,
    Shop,
    busy_shop,
    current_bolt11,
    make_shop,
    pay,
    place,
)

STOCK, SHARE, NEW_EXPIRY, EXPIRY = 10, 50, 600, 3600


class Clock:
    """The engine's and the wallet's time, moved by the test."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def guarded(tmp_path: Path, clock: Clock, database_url: str | None) -> AsyncIterator[Shop]:
    """A shop with the defaults: new customers hold at most 50 % of a product, 10 minutes;
    on each engine (on PostgreSQL the hundred orders run in concurrent transactions)."""
    shop = await make_shop(
        tmp_path / "shop",
        clock=clock,
        database_url=database_url,
        invoice_expiry_seconds=EXPIRY,
        new_customer_expiry_seconds=NEW_EXPIRY,
        new_customer_stock_share=SHARE,
    )
    await shop.product("scarce", "10", STOCK)
    yield shop
    await shop.close()


async def hostage_takers(shop: Shop, count: int = 100) -> list[str]:
    """`count` fresh keys each order one unit, all at once; the verdicts' reasons."""
    keys = [Customer() for _ in range(count)]
    verdicts = await asyncio.gather(
        *(place(shop, key, f"hostage-{n}", [("scarce", 1)]) for n, key in enumerate(keys))
    )
    return [v.reason or "" for v in verdicts if v.verdict == "rejected"]


async def returning_customer(shop: Shop) -> Customer:
    """A customer with one paid order at this merchant (of another product)."""
    regular = Customer()
    await place(shop, regular, "earlier", [("p1", 1)])
    await pay(shop, await current_bolt11(shop, "earlier"))
    assert (await shop.order("earlier")).status == "paid"
    return regular


async def test_a_hundred_fresh_keys_hold_only_the_new_customer_share(guarded: Shop) -> None:
    refusals = await hostage_takers(guarded)
    assert len(refusals) == 100 - STOCK * SHARE // 100
    assert await guarded.stock("scarce") == STOCK - 5
    assert set(refusals) == {
        "5 units of Product scarce are held by unpaid orders; try again in 10 minutes"
    }
    held = await open_reservations(guarded.db, guarded.merchant_id, "scarce")
    assert [(r.quantity, r.new_customer) for r in held] == [(1, True)] * 5


async def test_the_returning_customer_is_served_while_a_hundred_keys_hold_stock(
    guarded: Shop,
) -> None:
    regular = await returning_customer(guarded)
    await hostage_takers(guarded)
    verdict = await place(guarded, regular, "regular-buys", [("scarce", 5)])
    assert verdict.verdict == "processed", verdict.reason
    await pay(guarded, await current_bolt11(guarded, "regular-buys"))
    assert (await guarded.order("regular-buys")).status == "paid"
    assert await guarded.stock("scarce") == 0


async def test_the_invoice_of_a_new_customer_says_it_expires_sooner(
    guarded: Shop, clock: Clock
) -> None:
    regular = await returning_customer(guarded)
    await place(guarded, Customer(), "new", [("scarce", 1)])
    await place(guarded, regular, "again", [("scarce", 1)])
    for order_id, seconds in (("new", NEW_EXPIRY), ("again", EXPIRY)):
        fields = decode_invoice(await current_bolt11(guarded, order_id))
        assert (fields.timestamp, fields.expiry) == (int(clock.now), seconds)
    held = await open_reservations(guarded.db, guarded.merchant_id, "scarce")
    assert {(r.order_id, r.expires_at, r.new_customer) for r in held} == {
        ("new", int(clock.now) + NEW_EXPIRY, True),
        ("again", int(clock.now) + EXPIRY, False),
    }


async def test_fresh_keys_cannot_keep_a_paying_customer_waiting_past_the_new_customer_expiry(
    guarded: Shop, clock: Clock
) -> None:
    await hostage_takers(guarded)
    await guarded.product("taken", "10", 1)
    await place(guarded, Customer(), "hostage-last", [("taken", 1)])
    buyer = Customer()  # new too: no paid order here yet
    refused = await place(guarded, buyer, "buyer-1", [("scarce", 1)])
    assert refused.verdict == "rejected"
    assert "try again in 10 minutes" in (refused.reason or "")
    assert "try again in 10 minutes" in (await buyer.inbox(guarded, "buyer-1"))[0]["message"]
    assert (await place(guarded, buyer, "buyer-2", [("taken", 1)])).verdict == "rejected"

    clock.now += NEW_EXPIRY  # the longest the setting allows
    assert await expire_due(guarded.deps) == 6
    assert (await guarded.stock("scarce"), await guarded.stock("taken")) == (STOCK, 1)
    assert await open_reservations(guarded.db, guarded.merchant_id, "scarce") == []

    verdict = await place(guarded, buyer, "buyer-3", [("scarce", 1), ("taken", 1)])
    assert verdict.verdict == "processed", verdict.reason
    await pay(guarded, await current_bolt11(guarded, "buyer-3"))
    assert (await guarded.order("buyer-3")).status == "paid"


async def test_a_product_limit_per_order_is_refused_with_its_reason(guarded: Shop) -> None:
    async with guarded.db.transaction() as conn:
        await conn.execute("UPDATE products SET max_per_order = 2 WHERE id = 'p1'")
    customer = Customer()
    verdict = await place(guarded, customer, "greedy", [("p1", 1), ("p1", 2)])
    assert verdict.verdict == "rejected"
    reason = "at most 2 of Product p1 (p1) per order; you asked for 3"
    assert reason in (await customer.inbox(guarded, "greedy"))[0]["message"]
    assert await guarded.stock("p1") == 5
    assert (await place(guarded, customer, "fine", [("p1", 2)])).verdict == "processed"


async def held_counts(shop: Shop) -> list[tuple[str, int, int]]:
    """Each product's `held` beside the sum of its held reservations."""
    rows = await shop.db.fetchall(
        "SELECT p.id, p.held, (SELECT COALESCE(SUM(r.quantity), 0) FROM reservations r"
        " WHERE r.product_id = p.id AND r.state = 'held') FROM products p ORDER BY p.id"
    )
    return [(row[0], row[1], row[2]) for row in rows]


async def test_the_held_count_follows_the_reservations_through_every_change_and_a_rebuild(
    shop: Shop,
) -> None:
    await busy_shop(shop)  # orders in every status: held, sold, released, refused
    counts = await held_counts(shop)
    assert all(held == summed for _, held, summed in counts)
    assert sum(held for _, held, _ in counts) > 0
    await rebuild_projections(shop.db, shop.merchant_id)
    assert await held_counts(shop) == counts
