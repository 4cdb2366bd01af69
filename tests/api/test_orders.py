"""Orders, messages and customers through the API, on orders placed by the real order engine."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from nostrbazaar.market.nip15 import parse_message
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services.conversation import Incoming
from nostrbazaar.services.intake import place_order
from nostrbazaar.services.payments import receive_payment


@pytest.fixture
def customer():
    return PrivateKey.generate().public_key


@pytest.fixture
def order_for(engine):
    """`await order_for(shop, product, customer)`: the order id of a freshly placed order."""

    async def place(shop, product, customer, quantity=1):
        order_id = secrets.token_hex(8)
        zone_id = product["config"]["shipping"][0]["id"]
        content = json.dumps(
            {
                "id": order_id,
                "type": 0,
                "items": [{"product_id": product["id"], "quantity": quantity}],
                "shipping_id": zone_id,
                "address": "1 Tea Street",
            }
        )
        merchant = await engine.merchants.get(shop.merchant["id"])
        incoming = Incoming(
            merchant, None, secrets.token_hex(32), customer, False, "nip04", int(time.time()),
            content,
        )  # fmt: skip
        verdict = await place_order(engine, incoming, parse_message(content))
        assert verdict.verdict == "processed", verdict
        return order_id

    return place


@pytest.fixture
async def alices_order(alice, customer, order_for):
    product = await alice.product()
    return await order_for(alice, product, customer)


async def pay(engine, client, shop, order_id):
    order = (await client.get(f"/api/v1/order/{order_id}", headers=shop.reader)).json()
    settlement = await engine.wallet.pay(order["bolt11"])
    await receive_payment(engine, settlement)


async def test_a_placed_order_is_listed_and_readable(client, alice, alices_order, customer):
    listed = (await client.get("/api/v1/order", headers=alice.reader)).json()
    assert [o["id"] for o in listed] == [alices_order]
    order = (await client.get(f"/api/v1/order/{alices_order}", headers=alice.reader)).json()
    assert order["status"] == "awaiting_payment"
    assert order["public_key"] == customer
    # 12.50 sat of tea, 500 sat for the zone, 1 sat extra shipping for the product.
    assert order["total_msat"] == 513_500
    assert order["total"] == order["total_msat"] / 1000
    assert order["bolt11"].startswith("ln")
    assert (order["paid"], order["shipped"]) == (False, False)


async def test_orders_filter_by_status_paid_and_customer_npub(
    client, alice, alices_order, customer
):
    def query(**params):
        return client.get("/api/v1/order", params=params, headers=alice.reader)

    assert len((await query(status="awaiting_payment")).json()) == 1
    assert (await query(status="paid")).json() == []
    assert (await query(paid="false")).json()[0]["id"] == alices_order
    assert (await query(paid="true")).json() == []
    assert len((await query(pubkey=npub_encode(customer))).json()) == 1
    assert (await query(pubkey=PrivateKey.generate().public_key)).json() == []
    assert (await query(status="lost")).status_code == 422
    assert (await query(pubkey="npub1nonsense")).status_code == 422


async def test_orders_are_paginated_newest_first(client, alice, customer, order_for):
    product = await alice.product()
    ids = [await order_for(alice, product, customer) for _ in range(3)]
    page = (await client.get("/api/v1/order", params={"limit": 2}, headers=alice.reader)).json()
    rest = await client.get("/api/v1/order", params={"limit": 2, "offset": 2}, headers=alice.reader)
    assert {o["id"] for o in page + rest.json()} == set(ids)
    assert len(page) == 2 and len(rest.json()) == 1
    bad = await client.get("/api/v1/order", params={"limit": 0}, headers=alice.reader)
    assert bad.status_code == 422


async def test_the_order_log_is_returned_oldest_first(client, alice, alices_order):
    events = (await client.get(f"/api/v1/order/{alices_order}/events", headers=alice.reader)).json()
    assert events and [e["version"] for e in events] == sorted(e["version"] for e in events)
    assert events[0]["version"] == 1


async def test_stall_orders_lists_the_stalls_orders(client, alice, alices_order):
    order = (await client.get(f"/api/v1/order/{alices_order}", headers=alice.reader)).json()
    listed = await client.get(f"/api/v1/stall/order/{order['stall_id']}", headers=alice.reader)
    assert [o["id"] for o in listed.json()] == [alices_order]
    missing = await client.get("/api/v1/stall/order/nope", headers=alice.reader)
    assert missing.status_code == 404


async def test_cancel_cancels_an_unpaid_order_once(client, alice, alices_order):
    path = f"/api/v1/order/{alices_order}/cancel"
    response = await client.put(path, json={"reason": "out of tea"}, headers=alice.admin)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    again = await client.put(path, headers=alice.admin)
    assert again.status_code == 409


async def test_an_unpaid_order_cannot_be_shipped(client, alice, alices_order):
    response = await client.patch(
        f"/api/v1/order/{alices_order}", json={"shipped": True}, headers=alice.admin
    )
    assert response.status_code == 409


async def test_a_paid_order_is_shipped_with_the_merchants_message(
    client, alice, alices_order, engine
):
    await pay(engine, client, alice, alices_order)
    body = {"id": alices_order, "shipped": True, "message": "On its way"}
    response = await client.patch(f"/api/v1/order/{alices_order}", json=body, headers=alice.admin)
    assert response.status_code == 200, response.text
    order = response.json()
    assert (order["status"], order["paid"], order["shipped"]) == ("shipped", True, True)
    assert order["merchant_message"] == "On its way"


async def test_patch_with_shipped_false_or_another_id_is_refused(client, alice, alices_order):
    path = f"/api/v1/order/{alices_order}"
    assert (
        await client.patch(path, json={"shipped": False}, headers=alice.admin)
    ).status_code == 409
    other = {"id": "other", "shipped": True}
    assert (await client.patch(path, json=other, headers=alice.admin)).status_code == 400
    assert (await client.patch(path, json={}, headers=alice.admin)).status_code == 422


async def test_reissue_gives_an_unpaid_order_a_new_invoice(client, alice, alices_order):
    before = (await client.get(f"/api/v1/order/{alices_order}", headers=alice.reader)).json()
    response = await client.put(
        "/api/v1/order/reissue", json={"id": alices_order}, headers=alice.admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["invoice_id"] != before["invoice_id"]


async def test_unknown_orders_are_404(client, alice):
    assert (await client.get("/api/v1/order/nope", headers=alice.reader)).status_code == 404
    assert (await client.get("/api/v1/order/nope/events", headers=alice.reader)).status_code == 404
    assert (await client.put("/api/v1/order/nope/cancel", headers=alice.admin)).status_code == 404
    assert (
        await client.put("/api/v1/order/reissue", json={"id": "nope"}, headers=alice.admin)
    ).status_code == 404


async def test_another_merchants_orders_are_invisible_and_untouchable(
    client, alice, bob, alices_order
):
    assert (await client.get("/api/v1/order", headers=bob.reader)).json() == []
    for method, path, body in (
        ("GET", f"/api/v1/order/{alices_order}", None),
        ("GET", f"/api/v1/order/{alices_order}/events", None),
        ("PATCH", f"/api/v1/order/{alices_order}", {"shipped": True}),
        ("PUT", f"/api/v1/order/{alices_order}/cancel", None),
        ("PUT", "/api/v1/order/reissue", {"id": alices_order}),
    ):
        response = await client.request(method, path, json=body, headers=bob.admin)
        assert response.status_code == 404, (method, path, response.text)
        assert "1 Tea Street" not in response.text
    order = (await client.get(f"/api/v1/order/{alices_order}", headers=alice.reader)).json()
    assert order["status"] == "awaiting_payment"


# ---------------------------------------------------------------- messages and customers


async def test_messages_sent_to_a_customer_are_listed(client, alice, engine, customer):
    response = await client.post(
        "/api/v1/message",
        json={"message": "Hello!", "public_key": npub_encode(customer)},
        headers=alice.admin,
    )
    assert response.status_code == 200, response.text
    sent = response.json()
    assert (sent["message"], sent["incoming"], sent["public_key"]) == ("Hello!", False, customer)
    listed = (await client.get(f"/api/v1/message/{customer}", headers=alice.reader)).json()
    assert [m["message"] for m in listed] == ["Hello!"]


async def test_a_customers_order_message_shows_in_the_conversation(
    client, alice, alices_order, customer
):
    listed = (
        await client.get(f"/api/v1/message/{npub_encode(customer)}", headers=alice.reader)
    ).json()
    assert any(m["incoming"] and m["order_id"] == alices_order for m in listed)


async def test_messages_need_a_valid_public_key_and_text(client, alice):
    bad_key = {"message": "hi", "public_key": "not-a-key"}
    assert (
        await client.post("/api/v1/message", json=bad_key, headers=alice.admin)
    ).status_code == 422
    empty = {"message": "", "public_key": PrivateKey.generate().public_key}
    assert (
        await client.post("/api/v1/message", json=empty, headers=alice.admin)
    ).status_code == 422
    assert (await client.get("/api/v1/message/zzz", headers=alice.reader)).status_code == 422


async def test_customers_can_be_added_by_npub_once(client, alice, customer):
    body = {"public_key": npub_encode(customer)}
    created = await client.post("/api/v1/customer", json=body, headers=alice.admin)
    assert created.status_code == 200, created.text
    assert created.json()["public_key"] == customer
    again = await client.post(
        "/api/v1/customer", json={"public_key": customer}, headers=alice.admin
    )
    assert again.status_code == 409
    listed = (await client.get("/api/v1/customer", headers=alice.reader)).json()
    assert [c["public_key"] for c in listed] == [customer]


async def test_another_merchants_messages_and_customers_are_invisible(
    client, alice, bob, alices_order, customer
):
    assert (await client.get("/api/v1/customer", headers=bob.reader)).json() == []
    assert (await client.get(f"/api/v1/message/{customer}", headers=bob.reader)).json() == []
    mine = await client.post(
        "/api/v1/customer",
        json={"public_key": customer, "merchant_id": alice.merchant["id"]},
        headers=bob.admin,
    )
    assert mine.status_code == 400


async def test_a_merchant_with_orders_can_be_deleted(client, alice, alices_order):
    response = await client.delete(f"/api/v1/merchant/{alice.merchant['id']}", headers=alice.admin)
    assert response.status_code == 204
    assert (await client.get("/api/v1/merchant", headers=alice.reader)).json() is None


# ---------------------------------------------------------------- restore


async def finished_restore(client, runtime, shop):
    """Start a restore of every order (a job: 202), wait for it; its summary."""
    response = await client.put("/api/v1/orders/restore", headers=shop.admin)
    assert response.status_code == 202, response.text
    await runtime.jobs.wait(response.json()["id"])
    job = await client.get(f"/api/v1/jobs/{response.json()['id']}", headers=shop.reader)
    assert job.json()["state"] == "done", job.text
    return job.json()["result"]


async def test_restoring_all_orders_reports_what_it_did(client, runtime, alice, alices_order):
    summary = await finished_restore(client, runtime, alice)
    assert set(summary) - {"orders_adopted"} == {
        "events_scanned", "events_new", "orders_restored", "orders_updated", "errors", "reasons",
        "catalogue", "relays_read", "relays_unread",
    }  # fmt: skip
    assert summary["catalogue"] is None  # alice has a catalogue: nothing was recovered
    assert (summary["relays_read"], summary["relays_unread"]) == (list(runtime.relays), {})
    order = (await client.get(f"/api/v1/order/{alices_order}", headers=alice.reader)).json()
    assert order["status"] == "awaiting_payment"


async def test_restoring_an_unknown_event_is_404(client, alice):
    response = await client.put(f"/api/v1/order/restore/{'ab' * 32}", headers=alice.admin)
    assert response.status_code == 404
    assert "detail" in response.json()


async def test_restore_routes_need_the_admin_key(client, alice):
    assert (await client.put("/api/v1/orders/restore", headers=alice.reader)).status_code == 401
    path = f"/api/v1/order/restore/{'ab' * 32}"
    assert (await client.put(path, headers=alice.reader)).status_code == 401


async def test_restoring_as_another_merchant_leaves_the_first_ones_orders_alone(
    client, runtime, alice, bob, alices_order
):
    assert (await finished_restore(client, runtime, bob))["orders_restored"] == 0
    assert (await client.get("/api/v1/order", headers=bob.reader)).json() == []
