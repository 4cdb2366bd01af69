"""Invariant 7: stock is reserved with the invoice, released on expiry or cancellation,
never below zero, never oversold — also when customers race for the last unit."""

from __future__ import annotations

import asyncio

import pytest
from nostrbazaar.services.order_admin import cancel_order
from nostrbazaar.storage.engines import IntegrityError
from support.orders_fixtures import Customer, Shop, expire, place


async def test_two_customers_racing_for_the_last_unit_get_one_invoice_and_one_refusal(
    shop: Shop,
) -> None:
    await shop.product("last", "10", 1)
    ann, bob = Customer(), Customer()
    verdicts = await asyncio.gather(
        place(shop, ann, "ann-1", [("last", 1)]), place(shop, bob, "bob-1", [("last", 1)])
    )
    assert sorted(v.verdict for v in verdicts) == ["processed", "rejected"]
    statuses = sorted([(await shop.order("ann-1")).status, (await shop.order("bob-1")).status])
    assert statuses == ["awaiting_payment", "rejected"]
    assert await shop.stock("last") == 0
    invoices = await shop.db.fetchone("SELECT COUNT(*) FROM invoices")
    assert invoices is not None and invoices[0] == 1
    answers = [await c.inbox(shop) for c in (ann, bob)]
    kinds = sorted(bool(a[0]["payment_options"]) for a in answers)
    assert kinds == [False, True]
    refusal = next(a[0] for a in answers if not a[0]["payment_options"])
    assert refusal["message"].endswith("not enough stock of Product last: it is sold out")


async def test_many_customers_racing_never_oversell(shop: Shop) -> None:
    await shop.product("few", "10", 3)
    people = [Customer() for _ in range(10)]
    await asyncio.gather(*(place(shop, c, f"o-{n}", [("few", 1)]) for n, c in enumerate(people)))
    rows = await shop.db.fetchall("SELECT status, COUNT(*) FROM orders GROUP BY status")
    assert {row[0]: row[1] for row in rows} == {"awaiting_payment": 3, "rejected": 7}
    assert await shop.stock("few") == 0


async def test_an_order_for_more_than_is_left_reserves_nothing(shop: Shop) -> None:
    await shop.product("p2", "10", 2)
    verdict = await place(shop, Customer(), "o-1", [("p1", 1), ("p2", 3)])
    assert verdict.verdict == "rejected"
    assert (await shop.stock("p1"), await shop.stock("p2")) == (5, 2)


async def test_expiry_releases_the_reservation(shop: Shop, customer: Customer) -> None:
    await place(shop, customer, "o-1", [("p1", 2)])
    assert await shop.stock() == 3
    await expire(shop, "o-1")
    assert await shop.stock() == 5
    assert (await shop.order("o-1")).status == "expired"
    expired = (await customer.inbox(shop, "o-1"))[-1]
    assert (expired["type"], expired["paid"], expired["shipped"]) == (2, False, False)
    assert "expired" in expired["message"]


async def test_cancelling_releases_the_reservation(shop: Shop, customer: Customer) -> None:
    await place(shop, customer, "o-1", [("p1", 2)])
    await cancel_order(shop.deps, shop.merchant_id, "o-1", "out of season")
    assert await shop.stock() == 5
    assert "out of season" in (await customer.inbox(shop, "o-1"))[-1]["message"]


async def test_the_database_refuses_stock_below_zero(shop: Shop) -> None:
    with pytest.raises(IntegrityError, match=r"(?i)check"):
        async with shop.db.transaction() as conn:
            await conn.execute("UPDATE products SET quantity = -1 WHERE id = 'p1'")


async def test_the_stock_refusal_names_the_product_and_says_how_many_are_left(
    shop: Shop, customer: Customer
) -> None:
    await shop.product("few", "10", 2)
    verdict = await place(shop, customer, "o-1", [("few", 3)])
    assert verdict.verdict == "rejected"
    refusal = (await customer.inbox(shop, "o-1"))[0]
    assert refusal["message"].endswith(
        "not enough stock of Product few: 2 units are left, 3 asked for"
    )
