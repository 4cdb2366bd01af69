"""Stalls: create, replace, read, list, delete, their products and their validation."""

from __future__ import annotations

import pytest


def settled(obj):
    """The object without its publication state, which the outbox publisher moves on."""
    if isinstance(obj, list):
        return [settled(item) for item in obj]
    return {k: v for k, v in obj.items() if k != "publication"}


async def test_created_stall_carries_its_zones_and_publication(alice):
    zone = await alice.zone()
    stall = await alice.stall(zone)
    assert stall["shipping_zones"] == [zone]
    assert stall["pending"] is False
    assert stall["config"] == {
        "description": "Loose leaf tea",
        "image_url": "https://example.com/t.png",
    }
    assert stall["publication"]["status"] in ("pending", "sent")
    assert stall["publication"]["event_id"] == stall["event_id"]


async def test_zones_may_be_given_as_lnbits_zone_objects(alice):
    zone = await alice.zone()
    stall = await alice.stall(zone, shipping_zones=[zone])
    assert stall["shipping_zones"] == [zone]


async def test_lnbits_stall_body_with_wallet_and_event_fields_is_accepted(alice):
    zone = await alice.zone()
    stall = await alice.stall(zone, wallet="w1", event_id=None, event_created_at=None, id=None)
    assert stall["name"] == "Tea stall"


async def test_get_and_list_return_the_stall(alice, client):
    stall = await alice.stall()
    got = await client.get(f"/api/v1/stall/{stall['id']}", headers=alice.reader)
    assert settled(got.json()) == settled(stall)
    listed = await client.get("/api/v1/stall", headers=alice.reader)
    assert settled(listed.json()) == settled([stall])
    pending = await client.get("/api/v1/stall", params={"pending": "true"}, headers=alice.reader)
    assert pending.json() == []


async def test_put_replaces_the_stall_and_republishes_it(alice, client):
    stall = await alice.stall()
    zone = await alice.zone(name="Asia")
    body = {
        "name": "Tea & cups",
        "currency": "sat",
        "shipping_zones": [zone["id"]],
        "config": {"description": "More"},
    }
    response = await client.put(f"/api/v1/stall/{stall['id']}", json=body, headers=alice.admin)
    assert response.status_code == 200
    updated = response.json()
    assert updated["name"] == "Tea & cups"
    assert updated["shipping_zones"] == [zone]
    assert updated["config"] == {"description": "More", "image_url": None}
    assert updated["event_id"] != stall["event_id"]


async def test_put_with_another_id_in_the_body_is_refused(alice, client):
    stall = await alice.stall()
    body = {k: v for k, v in stall.items() if k != "publication"} | {"id": "not-this-one"}
    response = await client.put(f"/api/v1/stall/{stall['id']}", json=body, headers=alice.admin)
    assert response.status_code == 400


async def test_fetched_stall_can_be_sent_back_as_is(alice, client):
    stall = await alice.stall()
    body = {k: v for k, v in stall.items() if k != "publication"}
    response = await client.put(f"/api/v1/stall/{stall['id']}", json=body, headers=alice.admin)
    assert response.status_code == 200, response.text


async def test_changing_the_stall_currency_needs_zones_in_that_currency(alice, client):
    stall = await alice.stall()
    body = {"name": "x", "currency": "USD", "shipping_zones": [stall["shipping_zones"][0]["id"]]}
    response = await client.put(f"/api/v1/stall/{stall['id']}", json=body, headers=alice.admin)
    assert response.status_code == 400
    assert "the stall in USD" in response.json()["detail"]


async def test_changing_the_stall_currency_republishes_its_products(alice, client, outbox):
    product = await alice.product()
    usd = await alice.zone(currency="USD")
    body = {"name": "x", "currency": "USD", "shipping_zones": [usd["id"]]}
    response = await client.put(
        f"/api/v1/stall/{product['stall_id']}", json=body, headers=alice.admin
    )
    assert response.status_code == 200
    fetched = await client.get(f"/api/v1/product/{product['id']}", headers=alice.reader)
    assert fetched.json()["config"]["currency"] == "USD"
    kinds = [e.kind for _p, e in await outbox(alice.merchant["id"])][-5:]
    assert kinds == [30406, 30405, 30017, 30402, 30018]  # with their Gamma twins


async def test_unknown_zone_is_refused(alice, client):
    body = {"name": "x", "shipping_zones": ["nope"]}
    response = await client.post("/api/v1/stall", json=body, headers=alice.admin)
    assert response.status_code == 400
    assert "'nope' does not exist" in response.json()["detail"]


async def test_stall_products_lists_the_stalls_products(alice, client):
    product = await alice.product()
    response = await client.get(
        f"/api/v1/stall/product/{product['stall_id']}", headers=alice.reader
    )
    assert response.status_code == 200
    assert settled(response.json()) == settled([product])


async def test_stall_products_of_unknown_stall_is_404(alice, client):
    response = await client.get("/api/v1/stall/product/unknown", headers=alice.reader)
    assert response.status_code == 404


async def test_delete_removes_the_stall_and_its_products(alice, client):
    product = await alice.product()
    response = await client.delete(f"/api/v1/stall/{product['stall_id']}", headers=alice.admin)
    assert response.status_code == 204
    assert (
        await client.get(f"/api/v1/stall/{product['stall_id']}", headers=alice.reader)
    ).status_code == 404
    assert (
        await client.get(f"/api/v1/product/{product['id']}", headers=alice.reader)
    ).status_code == 404


async def test_unknown_stall_is_404_for_every_verb(alice, client):
    zone = await alice.zone()
    body = {"name": "x", "shipping_zones": [zone["id"]]}
    assert (await client.get("/api/v1/stall/nope", headers=alice.reader)).status_code == 404
    assert (
        await client.put("/api/v1/stall/nope", json=body, headers=alice.admin)
    ).status_code == 404
    assert (await client.delete("/api/v1/stall/nope", headers=alice.admin)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "shipping_zones": ["z"]},
        {"name": "   ", "shipping_zones": ["z"]},
        {"name": "x" * 101, "shipping_zones": ["z"]},
        {"name": "x", "shipping_zones": []},
        {"name": "x", "shipping_zones": ["z"], "currency": "$$$"},
        {"name": "x", "shipping_zones": ["z"], "config": {"image_url": "javascript:alert(1)"}},
        {"name": "x", "shipping_zones": ["z"], "config": {"image_url": "ftp://example.com/a"}},
        {"name": "x", "shipping_zones": ["z"], "config": {"description": "d" * 5001}},
        {"name": "x", "shipping_zones": [{"name": "no id"}]},
        {"name": "x", "shipping_zones": ["z"], "pending": "yes"},
    ],
)
async def test_invalid_stall_bodies_are_rejected_with_422(alice, client, body):
    response = await client.post("/api/v1/stall", json=body, headers=alice.admin)
    assert response.status_code == 422, response.text
