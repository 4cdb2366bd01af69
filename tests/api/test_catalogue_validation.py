"""Catalogue input is checked where it enters: a zone's countries are ISO 3166-1 codes (names
taken and stored as codes, anything else a 422 saying what to send), a price of 0 only for a
product marked free, and amounts come back in one shape (JSON numbers, as nostrmarket's)."""

from __future__ import annotations

from decimal import Decimal


def problems(response):
    """A 422's problems as "where: what" lines joined by " | "."""
    assert response.status_code == 422, response.text
    found = response.json()["detail"]
    return " | ".join(f"{'.'.join(map(str, p['loc']))}: {p['msg']}" for p in found)


async def test_country_names_are_stored_as_codes_once(alice):
    zone = await alice.zone(countries=["Germany", "de", " fr ", "Europe", "côte d'ivoire"])
    assert zone["countries"] == ["DE", "FR", "EU", "CI"]
    online = await alice.zone(countries=["free (digital)", "WORLDWIDE"])
    assert online["countries"] == ["Free (digital)", "Worldwide"]


async def test_a_place_that_is_no_country_is_refused_saying_what_to_send(alice, client):
    body = {"name": "Far", "cost": 1, "countries": ["DE", "Atlantis"]}
    response = await client.post("/api/v1/zone", json=body, headers=alice.admin)
    assert problems(response) == (
        "body.countries.1: 'Atlantis' is not a country: use an ISO 3166-1 alpha-2 code (DE)"
        " or an English country name (Germany), or EU, Worldwide or Free (digital)"
    )
    zone = await alice.zone()
    patch = await client.patch(
        f"/api/v1/zone/{zone['id']}", json={"countries": ["XX"]}, headers=alice.admin
    )
    assert "'XX' is not a country" in problems(patch)


async def test_the_countries_a_zone_may_list_are_served_with_their_names(client):
    response = await client.get("/api/v1/countries")
    assert response.status_code == 200
    listed = response.json()
    assert listed[0] == {"code": "EU", "name": "European Union"}
    assert {"code": "DE", "name": "Germany"} in listed
    assert len({item["code"] for item in listed}) == len(listed) == 252


async def test_a_price_of_zero_needs_the_product_marked_free(alice, client):
    stall = await alice.stall()
    body = {"stall_id": stall["id"], "name": "Sticker", "price": 0, "quantity": 5}
    refused = await client.post("/api/v1/product", json=body, headers=alice.admin)
    assert problems(refused) == (
        "body: price must be more than 0; to give a product away set config.free to true"
    )
    free = await alice.product(stall, price=0, config={"free": True})
    assert (free["price"], free["config"]["free"]) == (0, True)
    priced = {**body, "price": 5, "config": {"free": True}}
    contradiction = await client.post("/api/v1/product", json=priced, headers=alice.admin)
    assert "config.free true has price 0" in problems(contradiction)

    paid = await alice.product(stall)
    assert paid["config"]["free"] is False
    path = f"/api/v1/product/{paid['id']}"
    to_zero = await client.patch(path, json={"price": "0.0"}, headers=alice.admin)
    assert "price must be more than 0" in problems(to_zero)
    again = await client.patch(
        f"/api/v1/product/{free['id']}", json={"quantity": 7}, headers=alice.admin
    )
    assert (again.status_code, again.json()["config"]["free"]) == (200, True)


async def test_a_product_read_back_can_be_sent_again_unchanged(alice, client):
    """A nostrmarket client edits by sending back what it read, `free` included."""
    free = await alice.product(price=0, config={"free": True})
    read_only = {"id", "pending", "event_id", "event_created_at", "publication"}
    body = {k: v for k, v in free.items() if k not in read_only}
    response = await client.patch(f"/api/v1/product/{free['id']}", json=body, headers=alice.admin)
    assert response.status_code == 200, response.text


async def test_amounts_come_back_as_json_numbers_in_plain_notation(alice, client):
    zone = await alice.zone(cost="0.50")
    stall = await alice.stall(zone)
    product = await alice.product(stall, price="12.50")
    small = await alice.product(stall, price="0.00001")
    listed = await client.get(f"/api/v1/stall/product/{stall['id']}", headers=alice.reader)
    text = listed.text
    assert (zone["cost"], product["price"]) == (0.5, 12.5)
    assert isinstance(small["price"], float) and Decimal(str(small["price"])) == Decimal("0.00001")
    assert "e-" not in text.lower(), text
