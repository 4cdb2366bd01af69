"""Two instances on one PostgreSQL database race on the same order id: the same event
delivered to both, or two events with the same order id from the same customer, at once.
The outcome is the one a single instance gives when the two come one after the other:
one order, placed once, answered once; the other delivery ignored or refused cleanly,
and the order never rejected because of the race."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.nostr.keys import PrivateKey
from support import pg
from support.orders_fixtures import Customer, Shop, make_shop, order_content

MERCHANT = PrivateKey.generate().hex
ROUNDS = 12  # each round races a fresh order id; one lost race is enough to fail


async def stocked(shop: Shop) -> Shop:
    """Enough of p1 for every round (the catalogue's five would sell out)."""
    async with shop.db.transaction() as conn:
        await conn.execute("UPDATE products SET quantity = 100 WHERE id = 'p1'")
    return shop


@pytest.fixture
async def instances(tmp_path: Path, pg_database: str) -> AsyncIterator[tuple[Shop, Shop]]:
    """Two shops (each its own pool, wallet and Deps) on one PostgreSQL schema."""
    url = await pg.new_schema(pg_database)
    first = await stocked(await make_shop(tmp_path / "a", MERCHANT, database_url=url))
    second = await make_shop(tmp_path / "b", MERCHANT, database_url=url)
    yield first, second
    await second.close()
    await first.close()


@pytest.fixture
async def single(tmp_path: Path, pg_database: str) -> AsyncIterator[Shop]:
    """One instance on a schema of its own: the outcome to match."""
    url = await pg.new_schema(pg_database)
    shop = await stocked(await make_shop(tmp_path / "one", MERCHANT, database_url=url))
    yield shop
    await shop.close()


async def outcome(shop: Shop, order_id: str, verdicts: list[Any]) -> dict[str, Any]:
    """What a customer and the merchant see of one order id after both deliveries."""
    order = await shop.order(order_id)
    answers = [row for row in await shop.outbox(order_id) if row["purpose"].startswith("order:")]
    return {
        "status": order.status,
        "verdicts": sorted((v.verdict, v.reason or "") for v in verdicts),
        "answers": len(answers),
    }


async def race(shops: tuple[Shop, Shop], events: tuple[dict[str, Any], dict[str, Any]]) -> Any:
    first, second = shops
    return await asyncio.gather(
        ingest_event(first.deps, first.merchant, events[0]),
        ingest_event(second.deps, second.merchant, events[1]),
    )


async def one_after_the_other(shop: Shop, events: tuple[dict[str, Any], dict[str, Any]]) -> Any:
    return [await ingest_event(shop.deps, shop.merchant, event) for event in events]


def same_event(customer: Customer, pk: str, order_id: str) -> tuple[dict[str, Any], ...]:
    event = customer.nip04(pk, order_content(order_id))
    return event, event


def resent(customer: Customer, pk: str, order_id: str) -> tuple[dict[str, Any], ...]:
    """The same order sent twice as two events (another created_at)."""
    content = order_content(order_id)
    first = customer.nip04(pk, content)
    return first, customer.nip04(pk, content, created_at=first["created_at"] - 1)


def changed(customer: Customer, pk: str, order_id: str) -> tuple[dict[str, Any], ...]:
    """Two different orders under one order id."""
    return (
        customer.nip04(pk, order_content(order_id, [("p1", 1)])),
        customer.nip04(pk, order_content(order_id, [("p1", 2)])),
    )


@pytest.mark.parametrize("make", [same_event, resent, changed])
async def test_a_race_on_one_order_id_between_two_instances_ends_as_on_one_instance(
    instances: tuple[Shop, Shop], single: Shop, make: Any
) -> None:
    pk = instances[0].merchant.public_key
    for n in range(ROUNDS):
        order_id = f"o-{n}"
        events = make(Customer(), pk, order_id)
        raced = await outcome(instances[0], order_id, await race(instances, events))
        alone = await outcome(single, order_id, await one_after_the_other(single, events))
        assert raced["status"] == "awaiting_payment", raced
        assert raced == alone, f"round {n}"
    assert await instances[0].stock() == 100 - await units_ordered(instances[0])


async def units_ordered(shop: Shop) -> int:
    """Units of p1 in the orders placed (a raced `changed` pair may keep either version)."""
    rows = await shop.db.fetchall("SELECT items FROM orders")
    return sum(item["quantity"] for row in rows for item in json.loads(row["items"]))
