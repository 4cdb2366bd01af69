"""`GET /product/{id}/reservations` (who holds a product unpaid) and `max_per_order`, on
orders placed by the real order engine."""

from __future__ import annotations

import json
import secrets
import time

from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order
from nostrbazaar.services.payments import receive_payment


async def order(engine, shop, product, customer, quantity=1):
    """A customer's order through the intake service; its id and verdict."""
    order_id = secrets.token_hex(8)
    content = json.dumps(
        {
            "id": order_id,
            "type": 0,
            "items": [{"product_id": product["id"], "quantity": quantity}],
            "shipping_id": product["config"]["shipping"][0]["id"],
            "address": "1 Tea Street",
        }
    )
    merchant = await engine.merchants.get(shop.merchant["id"])
    incoming = Incoming(
        merchant, None, secrets.token_hex(32), customer, False, "nip04", int(time.time()),
        content,
    )  # fmt: skip
    return order_id, await place_order(engine, incoming, parse_message(content))


async def paid_order(engine, client, shop, product, customer):
    order_id, _ = await order(engine, shop, product, customer)
    bolt11 = (await client.get(f"/api/v1/order/{order_id}", headers=shop.reader)).json()["bolt11"]
    await receive_payment(engine, await engine.wallet.pay(bolt11))
    return order_id


async def test_open_reservations_show_who_holds_how_much_until_when(engine, client, alice):
    product = await alice.product()
    newcomer, regular = PrivateKey.generate().public_key, PrivateKey.generate().public_key
    sold = await paid_order(engine, client, alice, product, regular)
    held_new, _ = await order(engine, alice, product, newcomer, 2)
    held_regular, _ = await order(engine, alice, product, regular, 1)

    response = await client.get(f"/api/v1/product/{product['id']}/reservations",
                                headers=alice.reader)  # fmt: skip
    assert response.status_code == 200, response.text
    rows = response.json()
    assert [(r["order_id"], r["quantity"], r["new_customer"]) for r in rows] == [
        (held_new, 2, True), (held_regular, 1, False)]  # fmt: skip  # soonest expiry first
    assert [r["customer"] for r in rows] == [npub_encode(newcomer), npub_encode(regular)]
    # a new customer's hold lasts 600 s, a returning one's 3600 s (placed within a second)
    assert abs(rows[1]["expires_at"] - rows[0]["expires_at"] - (3600 - 600)) <= 1
    assert sold not in {r["order_id"] for r in rows}


async def test_reservations_need_a_key_and_are_only_the_merchants_own(client, alice, bob):
    product = await alice.product()
    path = f"/api/v1/product/{product['id']}/reservations"
    assert (await client.get(path)).status_code == 401
    response = await client.get(path, headers=bob.reader)
    assert response.status_code == 404 and "detail" in response.json()
    assert (await client.get(path, headers=alice.reader)).json() == []


async def test_a_limit_per_order_is_kept_and_refuses_larger_orders(engine, client, alice):
    stall = await alice.stall()
    shipping = [{"id": stall["shipping_zones"][0]["id"], "cost": 1}]
    product = await alice.product(stall, config={"shipping": shipping, "max_per_order": 2})
    assert product["config"]["max_per_order"] == 2
    path = f"/api/v1/product/{product['id']}"
    # a nostrmarket-shaped config (no max_per_order) leaves the limit as it was
    kept = await client.patch(path, json={"config": {"description": "x"}}, headers=alice.admin)
    assert kept.json()["config"]["max_per_order"] == 2
    bad = await client.patch(path, json={"config": {"max_per_order": 0}}, headers=alice.admin)
    assert bad.status_code == 422 and "detail" in bad.json()
    customer = PrivateKey.generate().public_key
    _, verdict = await order(engine, alice, product, customer, 3)
    assert verdict.verdict == "rejected" and "at most 2 of Sencha" in (verdict.reason or "")
    cleared = await client.patch(path, json={"config": {"max_per_order": None}},
                                 headers=alice.admin)  # fmt: skip
    assert cleared.json()["config"]["max_per_order"] is None
