"""The rules the database itself enforces: the transition table and trigger (invariant 5),
the append-only log, and projections rebuilt from the log equal to live ones (invariant 3)."""

from __future__ import annotations

import pytest
from nostrbazaar.orders.machine import NEW, TRANSITIONS
from nostrbazaar.services.rebuild import rebuild_projections
from nostrbazaar.storage.engines import IntegrityError
from support.orders_fixtures import Customer, Shop, busy_shop, place, snapshot


async def test_the_transition_table_is_exactly_the_one_defined_in_orders_py(shop: Shop) -> None:
    rows = await shop.db.fetchall("SELECT from_status, to_status FROM order_transitions")
    assert {(row[0], row[1]) for row in rows} == {(str(a), str(b)) for a, b in TRANSITIONS}


async def test_the_database_refuses_an_illegal_status_change_made_with_raw_sql(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    with pytest.raises(IntegrityError, match="illegal order status transition"):
        async with shop.db.transaction() as conn:
            await conn.execute("UPDATE orders SET status = 'shipped' WHERE id = 'o-1'")
    assert (await shop.order("o-1")).status == "awaiting_payment"


async def test_the_database_allows_a_legal_status_change_made_with_raw_sql(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    async with shop.db.transaction() as conn:
        await conn.execute("UPDATE orders SET status = 'cancelled' WHERE id = 'o-1'")
    assert (await shop.order("o-1")).status == "cancelled"


@pytest.mark.parametrize("status", ["paid", "shipped", "completed", "expired", "bogus"])
async def test_an_order_cannot_be_inserted_in_a_status_it_cannot_start_in(
    shop: Shop, status: str
) -> None:
    assert (NEW, status) not in TRANSITIONS
    with pytest.raises(IntegrityError, match="illegal initial order status"):
        async with shop.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO orders (merchant_id, id, status, public_key, transport, created_at,"
                " updated_at, version) VALUES ('merchant-1', 'x', ?, 'pk', 'nip04', 1, 1, 1)",
                (status,),
            )


@pytest.mark.parametrize(
    "statement",
    ["UPDATE order_events SET data = '{}'", "DELETE FROM order_events",
     "UPDATE stock_ledger SET delta = 0", "DELETE FROM stock_ledger"],
)  # fmt: skip
async def test_the_order_log_and_stock_ledger_refuse_update_and_delete(
    shop: Shop, customer: Customer, statement: str
) -> None:
    await place(shop, customer, "o-1")
    with pytest.raises(IntegrityError, match="append-only"):
        async with shop.db.transaction() as conn:
            await conn.execute(statement)


async def test_projections_rebuilt_from_the_log_and_ledger_equal_the_live_ones(shop: Shop) -> None:
    await busy_shop(shop)
    live = await snapshot(shop.db)
    statuses = {row[2] for row in live["orders"]}
    assert statuses == {"awaiting_payment", "paid", "shipped", "completed", "expired",
                        "cancelled", "rejected", "refund_needed"}  # fmt: skip
    rebuilt_orders = await rebuild_projections(shop.db, shop.merchant_id)
    assert rebuilt_orders == len(live["orders"])
    assert await snapshot(shop.db) == live


async def test_stock_is_the_sum_of_its_ledger(shop: Shop) -> None:
    await busy_shop(shop)
    async with shop.db.transaction() as conn:  # a catalogue edit goes through the trigger
        await conn.execute("UPDATE products SET quantity = quantity + 7 WHERE id = 'p1'")
    rows = await shop.db.fetchall(
        "SELECT p.id, p.quantity, (SELECT SUM(delta) FROM stock_ledger l WHERE l.product_id = p.id)"
        " FROM products p"
    )
    assert all(row[1] == row[2] for row in rows), [tuple(r) for r in rows]
