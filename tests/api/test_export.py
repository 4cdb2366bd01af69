"""The orders table that scales (search, date range, sorting, a total) and the CSV exports:
100 orders exported, parsed back and checked against `GET /order`, row by row."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import secrets
import time

import pytest
from nostrbazaar.crud.messages import set_profile
from nostrbazaar.crud.order_search import OrderQuery, each_order_chunk
from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order
from nostrbazaar.services.order_admin import cancel_order
from nostrbazaar.services.payments import receive_payment

ORDERS = 100
START = int(time.time()) - 100 * 3600  # order n is placed n hours after this


async def place(engine, shop, product, customer, order_id, created_at, quantity=1):
    content = json.dumps({
        "id": order_id, "type": 0, "items": [{"product_id": product["id"], "quantity": quantity}],
        "shipping_id": product["config"]["shipping"][0]["id"], "address": "1 Tea Street",
        "name": f"buyer {order_id}",
    })  # fmt: skip
    merchant = await engine.merchants.get(shop.merchant["id"])
    incoming = Incoming(
        merchant, None, secrets.token_hex(32), customer, False, "nip04", created_at, content
    )
    verdict = await place_order(engine, incoming, parse_message(content))
    assert verdict.verdict == "processed", verdict


@pytest.fixture
def settings(settings):
    """Customers here keep many orders open at once."""
    return dataclasses.replace(settings, max_open_orders_per_customer=1000)


@pytest.fixture
async def shop_with_orders(client, engine, alice):
    """100 orders of two products by five customers over 100 hours; every third paid, every
    seventh cancelled; the first customer is called Satoshi."""
    stall = await alice.stall()
    sencha = await alice.product(stall, name="Sencha", quantity=1000)
    matcha = await alice.product(stall, name="Matcha powder", quantity=1000)
    customers = [PrivateKey.generate().public_key for _ in range(5)]
    for n in range(ORDERS):
        product = sencha if n % 2 else matcha
        await place(engine, alice, product, customers[n % 5], f"order-{n:03d}", START + n * 3600)
        if n % 3 == 0:
            order = (await client.get(f"/api/v1/order/order-{n:03d}", headers=alice.reader)).json()
            await receive_payment(engine, await engine.wallet.pay(order["bolt11"]))
        elif n % 7 == 0:
            await cancel_order(engine, alice.merchant["id"], f"order-{n:03d}")
    async with engine.db.transaction() as conn:
        await set_profile(conn, alice.merchant["id"], customers[0], {"name": "Satoshi"}, 10)
    return alice, customers


async def export(client, shop, query: str = "") -> list[dict[str, str]]:
    response = await client.get(f"/api/v1/order/export.csv{query}", headers=shop.reader)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(response.text)))


async def listed(client, shop, query: str) -> list[dict]:
    response = await client.get(f"/api/v1/order?limit=500&{query}", headers=shop.reader)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_csv_of_100_orders_parses_back_to_what_get_order_lists(client, shop_with_orders):
    shop, _customers = shop_with_orders
    rows = await export(client, shop)
    orders = await listed(client, shop, "")
    assert len(rows) == len(orders) == ORDERS
    for row, order in zip(rows, orders, strict=True):
        assert row["id"] == order["id"] and row["status"] == order["status"]
        assert row["customer_npub"] == npub_encode(order["public_key"])
        assert row["customer_name"] == order["name"]
        assert float(row["total_sat"]) * 1000 == order["total_msat"]
        assert float(row["subtotal_sat"]) * 1000 == order["subtotal_msat"]
        assert float(row["shipping_sat"]) * 1000 == order["shipping_msat"]
        assert row["created"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(order["time"]))
        assert row["items"] in ("Sencha x1", "Matcha powder x1")
        assert row["shipping_zone"] == "Europe"
        assert bool(row["paid_at"]) == order["paid"] and row["shipped_at"] == ""
        assert row["dialect"] == order.get("dialect", "nip15")


async def test_the_csv_takes_the_same_filters_as_the_list(client, shop_with_orders):
    shop, customers = shop_with_orders
    queries = ["?paid=true", "?status=cancelled", f"?pubkey={npub_encode(customers[1])}",
               "?q=matcha", f"?since={START + 10 * 3600}&until={START + 20 * 3600}"]  # fmt: skip
    for query in queries:
        rows = await export(client, shop, query)
        orders = await listed(client, shop, query.lstrip("?"))
        assert [row["id"] for row in rows] == [order["id"] for order in orders], query
        assert rows, query


async def test_csv_and_search_need_a_key(client, alice):
    assert (await client.get("/api/v1/order/export.csv")).status_code == 401
    assert (await client.get("/api/v1/product/export.csv")).status_code == 401
    assert (await client.get("/api/v1/order?q=x")).status_code == 401


async def test_an_export_reads_the_orders_a_chunk_at_a_time(engine, shop_with_orders):
    shop, _customers = shop_with_orders
    chunks = [
        chunk async for chunk in each_order_chunk(engine.db, shop.merchant["id"], OrderQuery(), 7)
    ]
    assert [len(chunk) for chunk in chunks] == [7] * 14 + [2]
    ids = [row.id for chunk in chunks for row in chunk]
    assert ids == [f"order-{n:03d}" for n in range(ORDERS - 1, -1, -1)]  # newest first, once each


async def test_search_finds_an_order_by_id_customer_name_npub_or_product(client, shop_with_orders):
    shop, customers = shop_with_orders
    assert [o["id"] for o in await listed(client, shop, "q=order-042")] == ["order-042"]
    by_name = await listed(client, shop, "q=satoshi")
    assert len(by_name) == 20 and {o["public_key"] for o in by_name} == {customers[0]}
    by_npub = await listed(client, shop, f"q={npub_encode(customers[2])}")
    assert {o["public_key"] for o in by_npub} == {customers[2]} and len(by_npub) == 20
    powder = await listed(client, shop, "q=POWDER")
    assert len(powder) == 50 and all(int(o["id"][-3:]) % 2 == 0 for o in powder)
    assert await listed(client, shop, "q=100%25") == []  # a literal %, not a wildcard


async def test_a_page_of_a_sorted_search_comes_with_its_total(client, shop_with_orders):
    shop, _customers = shop_with_orders
    query = "q=sencha&sort=created_at&desc=false&limit=10&offset=10&total=true"
    response = await client.get(f"/api/v1/order?{query}", headers=shop.reader)
    assert response.headers["x-total-count"] == "50"
    assert [o["id"] for o in response.json()] == [f"order-{n:03d}" for n in range(21, 41, 2)]
    plain = await client.get("/api/v1/order?paid=true&total=true&limit=5", headers=shop.reader)
    assert plain.headers["x-total-count"] == "34" and len(plain.json()) == 5
    by_total = await listed(client, shop, "sort=total&desc=false")
    totals = [o["total_msat"] for o in by_total]
    assert totals == sorted(totals)


async def test_the_products_csv_has_a_row_per_product(client, alice):
    stall = await alice.stall()
    await alice.product(stall, name="=cmd|' /C calc'!A0")  # a formula-looking name
    await alice.product(stall, name="Matcha", price="3.5")
    response = await client.get("/api/v1/product/export.csv", headers=alice.reader)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert sorted(row["name"] for row in rows) == ["'=cmd|' /C calc'!A0", "Matcha"]
    assert {row["stall"] for row in rows} == {"Tea stall"}
    assert {row["price"] for row in rows} == {"12.5", "3.5"}
