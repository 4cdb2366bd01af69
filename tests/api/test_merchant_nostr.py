"""PUT/DELETE /merchant/{id}/nostr: republish everything, import what only relays know, withdraw."""

from __future__ import annotations

import json

import pytest
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay_pool import RelayPool


@pytest.fixture
async def relay_pool(runtime):
    """A pool on the embedded relay, installed as the runtime's pool if it has none."""
    pool = RelayPool(list(runtime.relays))
    await pool.start()
    previous, runtime.pool = runtime.pool, runtime.pool or pool
    yield runtime.pool
    runtime.pool = previous
    await pool.close()


@pytest.fixture
async def key():
    return PrivateKey.generate()


@pytest.fixture
async def carol(client, key):
    """A merchant whose private key the test knows, to sign 'other software's' events."""
    account = (await client.post("/api/v1/account", json={"name": "Carol"})).json()
    headers = {"X-Api-Key": account["adminkey"]}
    merchant = (
        await client.post("/api/v1/merchant", json={"private_key": key.hex}, headers=headers)
    ).json()
    return merchant, headers


async def put_on_relay(pool, key, kind, content, tags):
    event = sign_event(key, kind, json.dumps(content), tags)
    results = await pool.publish(event, timeout=5)
    assert all(result.ok for result in results.values()), results
    return event


def stall_content(stall_id, zone_id="zone-1"):
    return {
        "id": stall_id,
        "name": "Found on Nostr",
        "description": "made elsewhere",
        "currency": "sat",
        "shipping": [{"id": zone_id, "name": "World", "cost": 3, "regions": ["*"]}],
    }


def product_content(product_id, stall_id, **extra):
    return {
        "id": product_id,
        "stall_id": stall_id,
        "name": "Mug",
        "description": "",
        "images": ["https://example.com/mug.png", "data:image/png;base64,AAAA"],
        "currency": "sat",
        "price": 2100,
        "quantity": None,
        "specs": [["colour", "blue"]],
        "shipping": [{"id": "zone-1", "cost": 1}],
        **extra,
    }


async def test_republish_queues_profile_relays_stalls_and_products(client, alice, outbox):
    await alice.product()
    before = len(await outbox(alice.merchant["id"]))
    response = await client.put(
        f"/api/v1/merchant/{alice.merchant['id']}/nostr", headers=alice.admin
    )
    assert response.status_code == 200
    assert response.json()["published"] == 4
    kinds = [e.kind for _p, e in (await outbox(alice.merchant["id"]))[before:]]
    # each stall with its Gamma twins (30406 per zone, 30405), each product with its 30402
    assert kinds == [0, 10050, 30406, 30405, 30017, 30402, 30018]


async def test_stalls_and_products_only_on_relays_come_back_pending(client, carol, key, relay_pool):
    merchant, headers = carol
    await put_on_relay(relay_pool, key, 30017, stall_content("st-1"), [["d", "st-1"]])
    await put_on_relay(
        relay_pool, key, 30018, product_content("pr-1", "st-1"), [["d", "pr-1"], ["t", "mugs"]]
    )
    response = await client.put(f"/api/v1/merchant/{merchant['id']}/nostr", headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["pending_stalls"], response.json()["pending_products"]) == (1, 1)

    pending = await client.get("/api/v1/stall", params={"pending": True}, headers=headers)
    [stall] = pending.json()
    assert (stall["id"], stall["pending"], stall["publication"]["status"]) == (
        "st-1",
        True,
        "external",
    )
    assert stall["shipping_zones"][0]["id"] == "zone-1"
    assert (await client.get("/api/v1/stall", headers=headers)).json() == []
    products = await client.get(
        "/api/v1/stall/product/st-1", params={"pending": True}, headers=headers
    )
    [product] = products.json()
    assert product["images"] == ["https://example.com/mug.png"]
    assert (product["quantity"], product["categories"]) == (0, ["mugs"])
    assert product["config"]["specs"] == [["colour", "blue"]]


async def test_accepting_a_pending_stall_and_product_publishes_them(
    client, carol, key, relay_pool, outbox
):
    merchant, headers = carol
    first = await put_on_relay(relay_pool, key, 30017, stall_content("st-2"), [["d", "st-2"]])
    await put_on_relay(relay_pool, key, 30018, product_content("pr-2", "st-2"), [["d", "pr-2"]])
    await client.put(f"/api/v1/merchant/{merchant['id']}/nostr", headers=headers)

    product_early = await client.patch(
        "/api/v1/product/pr-2", json={"pending": False}, headers=headers
    )
    assert product_early.status_code == 400  # its stall is still pending

    stall = (await client.get("/api/v1/stall/st-2", headers=headers)).json()
    body = {k: v for k, v in stall.items() if k != "publication"} | {"pending": False}
    accepted = await client.put("/api/v1/stall/st-2", json=body, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["pending"] is False
    _purpose, event = (await outbox(merchant["id"]))[-1]
    assert event.kind == 30017 and event.created_at > first.created_at

    product = await client.patch(
        "/api/v1/product/pr-2", json={"pending": False, "quantity": 5}, headers=headers
    )
    assert product.status_code == 200, product.text
    assert (product.json()["pending"], product.json()["quantity"]) == (False, 5)
    assert (await outbox(merchant["id"]))[-1][1].kind == 30018


async def test_discarding_a_pending_stall_publishes_nothing(client, carol, key, relay_pool, outbox):
    merchant, headers = carol
    await put_on_relay(relay_pool, key, 30017, stall_content("st-3"), [["d", "st-3"]])
    await client.put(f"/api/v1/merchant/{merchant['id']}/nostr", headers=headers)
    before = await outbox(merchant["id"])
    response = await client.delete("/api/v1/stall/st-3", headers=headers)
    assert response.status_code == 204
    assert await outbox(merchant["id"]) == before


async def test_a_stall_deleted_here_is_not_imported_again(client, alice, relay_pool, runtime):
    stall = await alice.stall()
    # What the outbox publisher would do, done by hand: the stall reaches the relay.
    row = await runtime.db.fetchone(
        "SELECT event FROM outbox WHERE event_id = ?", (stall["event_id"],)
    )
    from nostrbazaar.nostr.event import parse_event

    await relay_pool.publish(parse_event(json.loads(row["event"])), timeout=5)
    await client.delete(f"/api/v1/stall/{stall['id']}", headers=alice.admin)
    response = await client.put(
        f"/api/v1/merchant/{alice.merchant['id']}/nostr", headers=alice.admin
    )
    assert response.json()["pending_stalls"] == 0


async def test_events_claiming_another_merchants_ids_are_never_imported(
    client, alice, carol, key, relay_pool
):
    merchant, headers = carol
    alices = await alice.stall()
    hostile = stall_content(alices["id"])
    await put_on_relay(relay_pool, key, 30017, hostile, [["d", alices["id"]]])
    await client.put(f"/api/v1/merchant/{merchant['id']}/nostr", headers=headers)
    assert (
        await client.get("/api/v1/stall", params={"pending": True}, headers=headers)
    ).json() == []
    mine = (await client.get(f"/api/v1/stall/{alices['id']}", headers=alice.reader)).json()
    assert mine["name"] == "Tea stall"


async def test_malformed_relay_events_are_skipped_with_a_reason(client, carol, key, relay_pool):
    merchant, headers = carol
    await put_on_relay(relay_pool, key, 30017, "not an object", [["d", "y"]])
    await put_on_relay(
        relay_pool, key, 30017, stall_content("x", "z") | {"currency": 5}, [["d", "x"]]
    )
    response = await client.put(f"/api/v1/merchant/{merchant['id']}/nostr", headers=headers)
    body = response.json()
    assert body["pending_stalls"] == 0
    assert len(body["skipped"]) == 2


async def test_delete_nostr_withdraws_the_catalogue_but_keeps_it_here(client, alice, outbox):
    product = await alice.product()
    response = await client.delete(
        f"/api/v1/merchant/{alice.merchant['id']}/nostr", headers=alice.admin
    )
    assert response.status_code == 200
    result = response.json()
    assert (result["deleted_stalls"], result["deleted_products"]) == (1, 1)
    _purpose, event = (await outbox(alice.merchant["id"]))[-1]
    assert event.kind == 5 and event.id == result["event_id"]
    pubkey = alice.merchant["public_key"]
    assert set(event.tag_values("a")) == {
        f"30017:{pubkey}:{product['stall_id']}",
        f"30405:{pubkey}:{product['stall_id']}",
        f"30018:{pubkey}:{product['id']}",
        f"30402:{pubkey}:{product['id']}",
    }
    kept = await client.get(f"/api/v1/product/{product['id']}", headers=alice.reader)
    assert kept.json()["event_id"] == event.id

    republished = await client.put(
        f"/api/v1/merchant/{alice.merchant['id']}/nostr", headers=alice.admin
    )
    assert republished.status_code == 200
    again = [e for _p, e in await outbox(alice.merchant["id"]) if e.kind == 30018][-1]
    assert again.created_at > event.created_at
