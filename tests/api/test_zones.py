"""Shipping zones: list, create, update, delete, and their validation."""

from __future__ import annotations

import pytest


async def test_a_new_merchant_has_the_online_zone_like_lnbits(alice, client):
    response = await client.get("/api/v1/zone", headers=alice.reader)
    assert response.status_code == 200
    [zone] = response.json()
    assert (zone["name"], zone["currency"], zone["cost"], zone["countries"]) == (
        "Online",
        "sat",
        0,
        ["Free (digital)"],
    )


async def test_a_merchant_created_with_default_zone_false_has_no_zone(client):
    account = (await client.post("/api/v1/account", json={"name": "Dora"})).json()
    headers = {"X-Api-Key": account["adminkey"]}
    created = await client.post("/api/v1/merchant", json={"default_zone": False}, headers=headers)
    assert created.status_code == 200, created.text
    assert (await client.get("/api/v1/zone", headers=headers)).json() == []


async def test_the_merchant_body_documents_the_default_zone(client):
    schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
    field = schema["MerchantCreate"]["properties"]["default_zone"]
    assert field["default"] is True and "'Online'" in field["description"]


async def test_created_zone_is_listed_with_exact_cost(alice, client):
    zone = await alice.zone(cost="0.1", currency="sat")
    assert zone["cost"] == 0.1
    listed = (await client.get("/api/v1/zone", headers=alice.reader)).json()
    assert zone in listed


async def test_the_server_chooses_zone_ids(alice):
    zone = await alice.zone(id="my-own-id")
    assert zone["id"] != "my-own-id" and len(zone["id"]) == 32


async def test_patch_changes_only_given_fields(alice, client):
    zone = await alice.zone()
    response = await client.patch(
        f"/api/v1/zone/{zone['id']}", json={"countries": ["IT"]}, headers=alice.admin
    )
    assert response.status_code == 200
    assert response.json() == {**zone, "countries": ["IT"]}


async def test_patch_accepts_the_full_lnbits_zone_body(alice, client):
    zone = await alice.zone()
    body = {**zone, "name": "EU+"}
    response = await client.patch(f"/api/v1/zone/{zone['id']}", json=body, headers=alice.admin)
    assert response.json()["name"] == "EU+"


async def test_patch_with_another_id_in_the_body_is_refused(alice, client):
    zone = await alice.zone()
    response = await client.patch(
        f"/api/v1/zone/{zone['id']}", json={"id": "other"}, headers=alice.admin
    )
    assert response.status_code == 400


async def test_delete_removes_the_zone(alice, client):
    zone = await alice.zone()
    response = await client.delete(f"/api/v1/zone/{zone['id']}", headers=alice.admin)
    assert response.status_code == 204
    listed = (await client.get("/api/v1/zone", headers=alice.reader)).json()
    assert zone["id"] not in [z["id"] for z in listed]
    again = await client.delete(f"/api/v1/zone/{zone['id']}", headers=alice.admin)
    assert again.status_code == 404


async def test_a_stalls_only_zone_cannot_be_deleted(alice, client):
    stall = await alice.stall()
    zone_id = stall["shipping_zones"][0]["id"]
    response = await client.delete(f"/api/v1/zone/{zone_id}", headers=alice.admin)
    assert response.status_code == 409
    assert "only shipping zone" in response.json()["detail"]


async def test_deleting_one_of_two_zones_updates_the_stall(alice, client):
    first, second = await alice.zone(), await alice.zone(name="Asia")
    stall = await alice.stall(first, shipping_zones=[first["id"], second["id"]])
    await client.delete(f"/api/v1/zone/{second['id']}", headers=alice.admin)
    fetched = (await client.get(f"/api/v1/stall/{stall['id']}", headers=alice.reader)).json()
    assert [z["id"] for z in fetched["shipping_zones"]] == [first["id"]]
    assert fetched["event_id"] != stall["event_id"]


async def test_zone_currency_cannot_diverge_from_its_stalls(alice, client):
    stall = await alice.stall()
    zone_id = stall["shipping_zones"][0]["id"]
    response = await client.patch(
        f"/api/v1/zone/{zone_id}", json={"currency": "USD"}, headers=alice.admin
    )
    assert response.status_code == 409
    assert "priced in sat" in response.json()["detail"]


async def test_zone_currency_code_is_normalised(alice):
    assert (await alice.zone(currency="usd"))["currency"] == "USD"
    assert (await alice.zone(currency="SAT"))["currency"] == "sat"


async def test_currency_without_a_configured_rate_is_refused_with_the_known_ones(alice, client):
    response = await client.post(
        "/api/v1/zone", json={"name": "JP", "currency": "JPY", "cost": 1}, headers=alice.admin
    )
    assert response.status_code == 400
    assert response.json()["detail"].endswith("sat, EUR, USD")


async def test_currencies_lists_sat_and_configured_fiat(client):
    response = await client.get("/api/v1/currencies")
    assert response.json() == ["sat", "EUR", "USD"]


@pytest.mark.parametrize(
    "body",
    [
        {"currency": "sat", "cost": -1},
        {"currency": "sat", "cost": "NaN"},
        {"currency": "sat", "cost": "Infinity"},
        {"currency": "sat", "cost": 10**13},
        {"currency": "sat", "cost": "0.000000001"},
        {"currency": "dollars", "cost": 1},
        {"currency": "sat", "cost": 1, "countries": ["x" * 101]},
        {"currency": "sat", "cost": 1, "countries": ["DE"] * 301},
        {"currency": "sat", "cost": 1, "colour": "blue"},
        {"currency": "sat", "cost": True},
    ],
)
async def test_invalid_zone_bodies_are_rejected_with_422(alice, client, body):
    response = await client.post("/api/v1/zone", json=body, headers=alice.admin)
    assert response.status_code == 422, response.text
    assert isinstance(response.json()["detail"], list)
