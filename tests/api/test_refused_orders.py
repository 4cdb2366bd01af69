"""Refused orders stand apart: `GET /order?refused=` lists them (or everything else) with
their own count, and neither an order nor its refusal raises the chat's unread count."""

from __future__ import annotations

import json
import secrets
import time

from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.chat import receive_chat
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order


async def order(engine, shop, product, customer, quantity):
    """A customer's order through the order engine; its id and verdict."""
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
    incoming = Incoming(merchant, None, secrets.token_hex(32), customer, False, "nip04",
                        int(time.time()), content)  # fmt: skip
    verdict = await place_order(engine, incoming, parse_message(content))
    return order_id, verdict.verdict


async def listed(client, shop, query):
    response = await client.get(f"/api/v1/order?total=true&{query}", headers=shop.reader)
    assert response.status_code == 200, response.text
    return sorted(o["id"] for o in response.json()), int(response.headers["X-Total-Count"])


async def test_refused_orders_are_listed_apart_with_their_own_count(client, alice, engine):
    tea = await alice.product(quantity=2)
    customer = PrivateKey.generate().public_key
    taken, taken_verdict = await order(engine, alice, tea, customer, 1)
    refused, refused_verdict = await order(engine, alice, tea, customer, 50)
    assert (taken_verdict, refused_verdict) == ("processed", "rejected")

    assert await listed(client, alice, "refused=true") == ([refused], 1)
    assert await listed(client, alice, "refused=false") == ([taken], 1)
    assert (await listed(client, alice, ""))[1] == 2
    assert await listed(client, alice, "refused=false&q=sencha") == ([taken], 1)
    bad = await client.get("/api/v1/order?refused=maybe", headers=alice.reader)
    assert bad.status_code == 422


async def test_orders_and_refusals_leave_the_chat_unread_count_alone(client, alice, engine):
    tea = await alice.product(quantity=2)
    customer = PrivateKey.generate().public_key
    await order(engine, alice, tea, customer, 1)
    await order(engine, alice, tea, customer, 50)

    async def unread():
        customers = (await client.get("/api/v1/customer", headers=alice.reader)).json()
        return [c["unread_messages"] for c in customers]

    assert await unread() == [0]
    merchant = await engine.merchants.get(alice.merchant["id"])
    text = Incoming(merchant, None, secrets.token_hex(32), customer, False, "nip04",
                    int(time.time()), "is there more tea coming?")  # fmt: skip
    await receive_chat(engine, text)
    assert await unread() == [1]
