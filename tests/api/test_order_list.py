"""The order list: every filter and combination, stable pages, refused filters, index plans."""

from __future__ import annotations

import itertools
import json
import secrets

import pytest
from nostrbazaar.crud.order_list import OrderFilter, page_keys_query, page_parameters
from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order
from nostrbazaar.services.payments import receive_payment

T0 = 1_760_000_000


@pytest.fixture
def place(engine):
    """`await place(shop, product, customer, created_at)`: a new order's id."""

    async def order(shop, product, customer, created_at):
        order_id = secrets.token_hex(8)
        zone_id = product["config"]["shipping"][0]["id"]
        content = json.dumps(
            {
                "id": order_id,
                "type": 0,
                "items": [{"product_id": product["id"], "quantity": 1}],
                "shipping_id": zone_id,
                "address": "1 Tea Street",
            }
        )
        merchant = await engine.merchants.get(shop.merchant["id"])
        message_id = secrets.token_hex(32)
        incoming = Incoming(
            merchant, None, message_id, customer, False, "nip04", created_at, content
        )
        verdict = await place_order(engine, incoming, parse_message(content))
        assert verdict.verdict == "processed", verdict
        return order_id

    return order


@pytest.fixture
async def orders_of_every_kind(client, alice, engine, place):
    """Two customers, two stalls, orders awaiting payment, paid, shipped and cancelled,
    some created in the same second."""
    first, second = PrivateKey.generate().public_key, PrivateKey.generate().public_key
    tea = await alice.product(quantity=50)
    cups = await alice.product(name="Cup", quantity=50)
    plan = [
        (tea, first, T0, "awaiting"), (tea, first, T0 + 10, "paid"),
        (cups, first, T0 + 10, "shipped"), (tea, first, T0 + 10, "cancelled"),
        (cups, second, T0 + 20, "awaiting"), (tea, second, T0 + 30, "paid"),
        (cups, second, T0 + 30, "shipped"),
    ]  # fmt: skip
    for product, customer, created_at, fate in plan:
        order_id = await place(alice, product, customer, created_at)
        await _move(client, alice, engine, order_id, fate)
    return first, second


async def _move(client, shop, engine, order_id, fate):
    path = f"/api/v1/order/{order_id}"
    if fate == "cancelled":
        assert (await client.put(f"{path}/cancel", headers=shop.admin)).status_code == 200
    if fate in ("paid", "shipped"):
        order = (await client.get(path, headers=shop.reader)).json()
        await receive_payment(engine, await engine.wallet.pay(order["bolt11"]))
    if fate == "shipped":
        response = await client.patch(path, json={"shipped": True}, headers=shop.admin)
        assert response.status_code == 200, response.text


def _matches(order, params):
    flags = {"true": True, "false": False}
    return all(
        order[{"pubkey": "public_key"}.get(name, name)] == flags.get(value, value)
        for name, value in params.items()
    )


async def test_every_filter_combination_lists_exactly_its_orders_newest_first(
    client, alice, orders_of_every_kind
):
    customers = orders_of_every_kind
    everything = (await client.get("/api/v1/order", headers=alice.reader)).json()
    assert len(everything) == 7
    assert [(-o["time"], o["id"]) for o in everything] == sorted(
        (-o["time"], o["id"]) for o in everything
    )
    choices = {
        "status": [None, "awaiting_payment", "paid", "shipped", "cancelled", "expired"],
        "paid": [None, "true", "false"],
        "shipped": [None, "true", "false"],
        "pubkey": [None, *customers],
    }
    for values in itertools.product(*choices.values()):
        params = {
            name: value for name, value in zip(choices, values, strict=True) if value is not None
        }
        response = await client.get("/api/v1/order", params=params, headers=alice.reader)
        assert response.status_code == 200, response.text
        expected = [o["id"] for o in everything if _matches(o, params)]
        assert [o["id"] for o in response.json()] == expected, params


async def test_a_listed_order_is_the_order_as_read_alone(client, alice, orders_of_every_kind):
    listed = (await client.get("/api/v1/order", headers=alice.reader)).json()
    for order in listed:
        alone = await client.get(f"/api/v1/order/{order['id']}", headers=alice.reader)
        assert order == alone.json()


async def test_a_stalls_orders_are_filtered_like_the_list(client, alice, orders_of_every_kind):
    customers = orders_of_every_kind
    everything = (await client.get("/api/v1/order", headers=alice.reader)).json()
    stall_id = everything[0]["stall_id"]
    choices = {"paid": [None, "true", "false"], "pubkey": [None, *customers]}
    for values in itertools.product(*choices.values()):
        params = {
            name: value for name, value in zip(choices, values, strict=True) if value is not None
        }
        path = f"/api/v1/stall/order/{stall_id}"
        response = await client.get(path, params=params, headers=alice.reader)
        expected = [o["id"] for o in everything if _matches(o, {**params, "stall_id": stall_id})]
        assert [o["id"] for o in response.json()] == expected, params


async def test_pages_of_orders_placed_in_the_same_second_neither_overlap_nor_skip(
    client, alice, place
):
    product = await alice.product(quantity=50)
    customer = PrivateKey.generate().public_key
    ids = [await place(alice, product, customer, T0) for _ in range(5)]

    async def page(offset):
        params = {"limit": 2, "offset": offset}
        return (await client.get("/api/v1/order", params=params, headers=alice.reader)).json()

    pages = [await page(offset) for offset in (0, 2, 4, 0)]
    listed = [o["id"] for o in pages[0] + pages[1] + pages[2]]
    assert listed == sorted(ids)
    assert pages[3] == pages[0]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "lost"),
        ("paid", "maybe"),
        ("shipped", "2"),
        ("pubkey", "npub1nonsense"),
        ("limit", "0"),
        ("limit", "501"),
        ("offset", "-1"),
        ("offset", "first"),
    ],
)
async def test_a_bad_filter_value_is_refused_with_the_reason(client, alice, name, value):
    response = await client.get("/api/v1/order", params={name: value}, headers=alice.reader)
    assert response.status_code == 422
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["query", name]
    assert problem["msg"]
    assert value not in json.dumps(problem)


def _every_filter():
    choices = {
        "status": [None, "paid"],
        "paid": [None, True],
        "shipped": [None, False],
        "public_key": [None, "ab" * 32],
        "stall_id": [None, "stall"],
    }
    for values in itertools.product(*choices.values()):
        yield OrderFilter(**dict(zip(choices, values, strict=True)))


async def test_every_filter_combination_reads_its_page_from_an_index_alone_in_order(runtime):
    for filters in _every_filter():
        parameters = page_parameters("m", filters, 50, 0)
        plan = await runtime.db.fetchall(
            f"EXPLAIN QUERY PLAN {page_keys_query(filters)}", parameters
        )
        reads = [row[3] for row in plan if row[3].startswith(("SEARCH", "SCAN"))]
        assert reads, (filters, plan)
        for read in reads:
            covering = read.startswith("SEARCH orders USING COVERING INDEX")
            stall_only = filters.stall_id and not filters.public_key  # the stall's rows only
            assert covering or (stall_only and read.startswith("SEARCH orders USING INDEX")), read
        assert not any("TEMP B-TREE" in row[3] for row in plan), (filters, plan)
