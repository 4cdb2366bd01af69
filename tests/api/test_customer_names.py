"""The chat's customers by name: their profile's name when we have it, else the name they
gave in their latest order, else none (the dashboard then shows the npub, once)."""

from __future__ import annotations

import json
import secrets
import time

from nostrbazaar.crud.messages import set_profile
from nostrbazaar.crud.uow import unit_of_work
from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.chat import receive_chat
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order


async def order(engine, shop, product, customer, name, at):
    content = json.dumps(
        {
            "id": secrets.token_hex(8),
            "type": 0,
            "name": name,
            "items": [{"product_id": product["id"], "quantity": 1}],
            "shipping_id": product["config"]["shipping"][0]["id"],
            "address": "1 Tea Street",
        }
    )
    merchant = await engine.merchants.get(shop.merchant["id"])
    incoming = Incoming(merchant, None, secrets.token_hex(32), customer, False, "nip04", at,
                        content)  # fmt: skip
    await place_order(engine, incoming, parse_message(content))


async def names(client, shop):
    customers = (await client.get("/api/v1/customer", headers=shop.reader)).json()
    return {c["public_key"]: c["name"] for c in customers}


async def test_a_customer_is_named_by_their_profile_else_their_latest_order(client, alice, engine):
    tea = await alice.product(quantity=10)
    buyer, chatter = PrivateKey.generate().public_key, PrivateKey.generate().public_key
    now = int(time.time())
    await order(engine, alice, tea, buyer, "Alice", now - 60)
    await order(engine, alice, tea, buyer, "Alice Smith", now)
    merchant = await engine.merchants.get(alice.merchant["id"])
    await receive_chat(engine, Incoming(merchant, None, secrets.token_hex(32), chatter, False,
                                        "nip04", now, "hello"))  # fmt: skip
    assert await names(client, alice) == {buyer: "Alice Smith", chatter: None}

    async with unit_of_work(engine.db) as conn:
        await set_profile(conn, alice.merchant["id"], buyer, {"name": "alice_on_nostr"}, now)
    assert (await names(client, alice))[buyer] == "alice_on_nostr"


async def test_another_merchants_orders_never_name_my_customer(client, alice, bob, engine):
    customer = PrivateKey.generate().public_key
    await order(engine, bob, await bob.product(quantity=5), customer, "Bob's Alice", 1)
    merchant = await engine.merchants.get(alice.merchant["id"])
    await receive_chat(engine, Incoming(merchant, None, secrets.token_hex(32), customer, False,
                                        "nip04", 2, "hi"))  # fmt: skip
    assert await names(client, alice) == {customer: None}
