"""`PUT /order/{id}/refunded`: the merchant records a refund the order owed, with a note."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order
from nostrbazaar.services.payments import receive_payment
from nostrbazaar.wallets.base import Settlement


@pytest.fixture
async def cancelled_order(alice, client, engine):
    """Alice's order, cancelled through the API: its invoice is cancelled at the wallet."""
    product = await alice.product()
    order_id = secrets.token_hex(8)
    content = json.dumps({
        "id": order_id, "type": 0, "address": "1 Tea Street",
        "items": [{"product_id": product["id"], "quantity": 1}],
        "shipping_id": product["config"]["shipping"][0]["id"],
    })  # fmt: skip
    merchant = await engine.merchants.get(alice.merchant["id"])
    customer = PrivateKey.generate().public_key
    incoming = Incoming(merchant, None, secrets.token_hex(32), customer, False, "nip04",
                        int(time.time()), content)  # fmt: skip
    assert (await place_order(engine, incoming, parse_message(content))).verdict == "processed"
    path = f"/api/v1/order/{order_id}/cancel"
    assert (await client.put(path, headers=alice.admin)).status_code == 200
    return order_id


async def test_paying_a_cancelled_orders_invoice_is_refused_by_the_fake_wallet(
    client, alice, cancelled_order
):
    order = (await client.get(f"/api/v1/order/{cancelled_order}", headers=alice.reader)).json()
    paid = await client.post("/api/v1/fakewallet/pay", json={"bolt11": order["bolt11"]})
    assert paid.status_code == 410
    assert "cancelled" in paid.json()["detail"]


async def test_the_merchant_marks_a_refund_with_a_note(client, alice, engine, cancelled_order):
    order = (await client.get(f"/api/v1/order/{cancelled_order}", headers=alice.reader)).json()
    late = Settlement(order["invoice_id"], order["total_msat"], int(time.time()))
    await receive_payment(engine, late)  # as a wallet that cannot cancel reports it
    path = f"/api/v1/order/{cancelled_order}/refunded"
    refunded = await client.put(path, json={"note": "sent back"}, headers=alice.admin)
    assert refunded.status_code == 200, refunded.text
    assert (refunded.json()["status"], refunded.json()["refund_msat"]) == ("refunded", 0)
    events = await client.get(f"/api/v1/order/{cancelled_order}/events", headers=alice.reader)
    last = events.json()[-1]
    assert last["type"] == "RefundRecorded" and last["data"]["note"] == "sent back"
    again = await client.put(path, json={"note": "twice?"}, headers=alice.admin)
    assert again.status_code == 409
    assert "nothing to refund" in again.json()["detail"]


async def test_marking_a_refund_needs_the_admin_key_and_an_order_of_ours(
    client, alice, bob, cancelled_order
):
    path = f"/api/v1/order/{cancelled_order}/refunded"
    assert (await client.put(path, headers=alice.reader)).status_code == 401
    assert (await client.put(path, headers=bob.admin)).status_code == 404
    long_note = {"note": "x" * 2_001}
    assert (await client.put(path, json=long_note, headers=alice.admin)).status_code == 422
