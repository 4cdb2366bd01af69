"""Every order id the engine accepts is reachable through the API: read, ship, cancel."""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest
from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.deps import Deps
from nostrbazaar.services.intake import place_order
from nostrbazaar.services.payments import receive_payment

from .conftest import Shop

ODD_BUT_SAFE = ["v1.2:x_y-z", "...", "A:B:C", "-._:"]


async def placed(engine: Deps, shop: Shop, order_id: str) -> None:
    product = await shop.product()
    content = json.dumps({"id": order_id, "type": 0, "address": "1 Tea Street",
                          "items": [{"product_id": product["id"], "quantity": 1}],
                          "shipping_id": product["config"]["shipping"][0]["id"]})  # fmt: skip
    merchant = await engine.merchants.get(shop.merchant["id"])
    customer = PrivateKey.generate().public_key
    incoming = Incoming(merchant, None, secrets.token_hex(32), customer, False, "nip04",
                        int(time.time()), content)  # fmt: skip
    assert (await place_order(engine, incoming, parse_message(content))).verdict == "processed"


@pytest.mark.parametrize("order_id", ODD_BUT_SAFE)
async def test_a_paid_order_with_any_accepted_id_can_be_read_and_shipped(
    client: httpx.AsyncClient, alice: Shop, engine: Deps, order_id: str
) -> None:
    await placed(engine, alice, order_id)
    path = f"/api/v1/order/{order_id}"
    order = (await client.get(path, headers=alice.reader)).json()
    assert order["id"] == order_id
    await receive_payment(engine, await engine.wallet.pay(order["bolt11"]))
    shipped = await client.patch(path, json={"shipped": True}, headers=alice.admin)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    events = await client.get(f"{path}/events", headers=alice.reader)
    assert events.status_code == 200 and events.json()


async def test_an_unpaid_order_with_an_odd_id_can_be_cancelled(
    client: httpx.AsyncClient, alice: Shop, engine: Deps
) -> None:
    await placed(engine, alice, "v1.2:x_y-z")
    cancelled = await client.put("/api/v1/order/v1.2:x_y-z/cancel", headers=alice.admin)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
