"""Products: create, patch, read, delete, and their validation against the stall."""

from __future__ import annotations

import pytest


def settled(obj):
    """The object without its publication state, which the outbox publisher moves on."""
    if isinstance(obj, list):
        return [settled(item) for item in obj]
    return {k: v for k, v in obj.items() if k != "publication"}


async def test_created_product_takes_its_stalls_currency(alice):
    product = await alice.product()
    assert product["price"] == 12.5
    assert product["quantity"] == 10
    assert product["config"]["currency"] == "sat"
    assert product["active"] is True and product["pending"] is False
    assert product["publication"]["event_id"] == product["event_id"]


async def test_get_returns_the_product(alice, client):
    product = await alice.product()
    response = await client.get(f"/api/v1/product/{product['id']}", headers=alice.reader)
    assert settled(response.json()) == settled(product)


async def test_patch_changes_only_the_given_fields(alice, client):
    product = await alice.product()
    response = await client.patch(
        f"/api/v1/product/{product['id']}", json={"price": "13"}, headers=alice.admin
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["price"] == 13
    assert {
        k: v
        for k, v in updated.items()
        if k not in ("price", "event_id", "event_created_at", "publication")
    } == {
        k: v
        for k, v in product.items()
        if k not in ("price", "event_id", "event_created_at", "publication")
    }


async def test_patch_accepts_the_whole_fetched_product(alice, client):
    product = await alice.product()
    body = {k: v for k, v in product.items() if k != "publication"} | {"name": "Gyokuro"}
    response = await client.patch(
        f"/api/v1/product/{product['id']}", json=body, headers=alice.admin
    )
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Gyokuro"


async def test_patch_can_move_a_product_to_another_stall(alice, client):
    product = await alice.product()
    other = await alice.stall(name="Second")
    response = await client.patch(
        f"/api/v1/product/{product['id']}",
        json={"stall_id": other["id"], "config": {}},
        headers=alice.admin,
    )
    assert response.status_code == 200, response.text
    assert response.json()["stall_id"] == other["id"]


async def test_shipping_cost_for_a_zone_outside_the_stall_is_refused(alice, client):
    stall = await alice.stall()
    foreign = await alice.zone(name="Mars")
    body = {
        "stall_id": stall["id"],
        "name": "x",
        "price": 1,
        "quantity": 1,
        "config": {"shipping": [{"id": foreign["id"], "cost": 1}]},
    }
    response = await client.post("/api/v1/product", json=body, headers=alice.admin)
    assert response.status_code == 400
    assert "not one of the stall's zones" in response.json()["detail"]


async def test_currency_other_than_the_stalls_is_refused(alice, client):
    stall = await alice.stall()
    body = {
        "stall_id": stall["id"],
        "name": "x",
        "price": 1,
        "quantity": 1,
        "config": {"currency": "USD"},
    }
    response = await client.post("/api/v1/product", json=body, headers=alice.admin)
    assert response.status_code == 400


async def test_unknown_stall_is_refused(alice, client):
    body = {"stall_id": "nope", "name": "x", "price": 1, "quantity": 1}
    response = await client.post("/api/v1/product", json=body, headers=alice.admin)
    assert response.status_code == 400
    assert "stall 'nope' does not exist" in response.json()["detail"]


async def test_delete_removes_the_product(alice, client):
    product = await alice.product()
    response = await client.delete(f"/api/v1/product/{product['id']}", headers=alice.admin)
    assert response.status_code == 204
    assert (
        await client.get(f"/api/v1/product/{product['id']}", headers=alice.reader)
    ).status_code == 404
    assert (
        await client.delete(f"/api/v1/product/{product['id']}", headers=alice.admin)
    ).status_code == 404


async def test_unknown_product_is_404_for_every_verb(alice, client):
    assert (await client.get("/api/v1/product/nope", headers=alice.reader)).status_code == 404
    assert (
        await client.patch("/api/v1/product/nope", json={}, headers=alice.admin)
    ).status_code == 404
    assert (await client.delete("/api/v1/product/nope", headers=alice.admin)).status_code == 404


@pytest.mark.parametrize(
    "change",
    [
        {"price": -1},
        {"price": "NaN"},
        {"price": "1e13"},
        {"price": "0.000000001"},
        {"quantity": -1},
        {"quantity": 1.5},
        {"quantity": "3"},
        {"quantity": 10**10},
        {"images": ["data:image/png;base64,AAAA"]},
        {"images": ["https://example.com/a.png"] * 21},
        {"categories": ["c" * 65]},
        {"categories": [""]},
        {"name": ""},
        {"config": {"autoreply_message": "m" * 1001}},
        {"config": {"specs": [["only key"]]}},
        {"config": {"shipping": [{"id": "z", "cost": -1}]}},
        {"unknown_field": 1},
    ],
)
async def test_invalid_product_bodies_are_rejected_with_422(alice, client, change):
    body = {"stall_id": "s", "name": "x", "price": 1, "quantity": 1, **change}
    response = await client.post("/api/v1/product", json=body, headers=alice.admin)
    assert response.status_code == 422, response.text
