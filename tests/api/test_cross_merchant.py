"""One merchant's key never reads or changes another merchant's catalogue: always 404, no data."""

from __future__ import annotations

import pytest


@pytest.fixture
async def alices_catalogue(alice):
    zone = await alice.zone(name="Alice's zone")
    stall = await alice.stall(zone)
    product = await alice.product(stall)
    return {"zone": zone, "stall": stall, "product": product}


def leaks(response, catalogue):
    """Whether a response mentions any of the other merchant's ids or names."""
    text = response.text
    return any(obj["id"] in text for obj in catalogue.values()) or "Alice's zone" in text


async def test_reads_of_another_merchants_objects_are_404_without_data(
    client, bob, alices_catalogue
):
    c = alices_catalogue
    for path in (
        f"/api/v1/stall/{c['stall']['id']}",
        f"/api/v1/stall/product/{c['stall']['id']}",
        f"/api/v1/product/{c['product']['id']}",
    ):
        for headers in (bob.reader, bob.admin):
            response = await client.get(path, headers=headers)
            assert response.status_code == 404, path
            assert not leaks(response, c)


async def test_lists_show_only_the_callers_objects(client, bob, alices_catalogue):
    for path in ("/api/v1/zone", "/api/v1/stall", "/api/v1/stall?pending=true"):
        response = await client.get(path, headers=bob.reader)
        assert response.status_code == 200
        assert not leaks(response, alices_catalogue)


async def test_changes_to_another_merchants_objects_are_404_and_change_nothing(
    client, alice, bob, alices_catalogue
):
    c = alices_catalogue
    bobs_zone = await bob.zone()
    attempts = [
        ("PATCH", f"/api/v1/zone/{c['zone']['id']}", {"name": "pwned"}),
        ("DELETE", f"/api/v1/zone/{c['zone']['id']}", None),
        (
            "PUT",
            f"/api/v1/stall/{c['stall']['id']}",
            {"name": "pwned", "shipping_zones": [bobs_zone["id"]]},
        ),
        ("DELETE", f"/api/v1/stall/{c['stall']['id']}", None),
        ("PATCH", f"/api/v1/product/{c['product']['id']}", {"name": "pwned"}),
        ("DELETE", f"/api/v1/product/{c['product']['id']}", None),
    ]
    for method, path, body in attempts:
        response = await client.request(method, path, json=body, headers=bob.admin)
        assert response.status_code == 404, (method, path, response.text)
        assert not leaks(response, c)
    stall = await client.get(f"/api/v1/stall/{c['stall']['id']}", headers=alice.reader)
    product = await client.get(f"/api/v1/product/{c['product']['id']}", headers=alice.reader)
    assert stall.json() == c["stall"] | {"publication": stall.json()["publication"]}
    assert product.json()["name"] == "Sencha"
    zones = (await client.get("/api/v1/zone", headers=alice.reader)).json()
    assert c["zone"] in zones


async def test_another_merchants_zone_cannot_be_used_in_a_stall(client, bob, alices_catalogue):
    body = {"name": "x", "shipping_zones": [alices_catalogue["zone"]["id"]]}
    response = await client.post("/api/v1/stall", json=body, headers=bob.admin)
    assert response.status_code == 400
    assert "does not exist" in response.json()["detail"]


async def test_a_product_cannot_be_put_in_another_merchants_stall(client, bob, alices_catalogue):
    body = {"stall_id": alices_catalogue["stall"]["id"], "name": "x", "price": 1, "quantity": 1}
    response = await client.post("/api/v1/product", json=body, headers=bob.admin)
    assert response.status_code == 400
    bobs = await bob.product()
    moved = await client.patch(
        f"/api/v1/product/{bobs['id']}",
        json={"stall_id": alices_catalogue["stall"]["id"], "config": {}},
        headers=bob.admin,
    )
    assert moved.status_code == 400


async def test_a_product_cannot_ship_to_another_merchants_zone(client, bob, alices_catalogue):
    stall = await bob.stall()
    body = {
        "stall_id": stall["id"],
        "name": "x",
        "price": 1,
        "quantity": 1,
        "config": {"shipping": [{"id": alices_catalogue["zone"]["id"], "cost": 1}]},
    }
    response = await client.post("/api/v1/product", json=body, headers=bob.admin)
    assert response.status_code == 400
