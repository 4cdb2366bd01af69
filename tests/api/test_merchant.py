"""The merchant: create (new or imported key), read, update, toggle, delete."""

from __future__ import annotations

import json

import pytest
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip19 import npub_encode, nsec_encode


async def new_account(client, name="Carol"):
    account = (await client.post("/api/v1/account", json={"name": name})).json()
    return account, {"X-Api-Key": account["adminkey"]}


async def test_sign_up_returns_the_account_and_its_two_keys(client):
    response = await client.post("/api/v1/account", json={"name": "Carol"})
    assert response.status_code == 200
    assert set(response.json()) == {"id", "name", "adminkey", "inkey"}


async def test_sign_up_can_be_turned_off(settings, tmp_path):
    import httpx
    from asgi_lifespan import LifespanManager
    from nostrbazaar.app import create_app
    from nostrbazaar.config import Settings

    closed = Settings(data_dir=tmp_path / "closed", secret="s", allow_signup=False)
    app = create_app(closed)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/api/v1/account", json={"name": "Carol"})
    assert response.status_code == 403
    assert "disabled" in response.json()["detail"]


async def test_a_new_merchant_gets_a_fresh_key_and_never_shows_the_private_key(client):
    _account, headers = await new_account(client)
    response = await client.post("/api/v1/merchant", json={}, headers=headers)
    assert response.status_code == 200
    merchant = response.json()
    assert merchant["npub"] == npub_encode(merchant["public_key"])
    assert merchant["config"]["active"] is True
    assert "private_key" not in json.dumps(merchant)


@pytest.mark.parametrize("form", ["hex", "nsec"])
async def test_a_merchant_can_import_a_private_key_as_hex_or_nsec(client, outbox, form):
    key = PrivateKey.generate()
    given = key.hex if form == "hex" else nsec_encode(key.hex)
    _account, headers = await new_account(client)
    response = await client.post(
        "/api/v1/merchant",
        json={"private_key": given, "public_key": npub_encode(key.public_key)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    merchant = response.json()
    assert merchant["public_key"] == key.public_key
    # An imported key may have a profile and DM relays elsewhere: nothing is overwritten.
    assert await outbox(merchant["id"]) == []


async def test_the_private_key_is_stored_sealed(client, runtime):
    key = PrivateKey.generate()
    _account, headers = await new_account(client)
    await client.post("/api/v1/merchant", json={"private_key": key.hex}, headers=headers)
    row = await runtime.db.fetchone("SELECT private_key_sealed FROM merchants")
    assert key.hex not in row["private_key_sealed"]
    assert runtime.keystore.open(row["private_key_sealed"]) == key.hex


async def test_a_public_key_that_is_not_the_private_keys_is_refused(client):
    _account, headers = await new_account(client)
    body = {
        "private_key": PrivateKey.generate().hex,
        "public_key": PrivateKey.generate().public_key,
    }
    response = await client.post("/api/v1/merchant", json=body, headers=headers)
    assert response.status_code == 422
    assert "does not belong" in json.dumps(response.json())


async def test_a_bad_private_key_is_refused_without_echoing_it(client):
    _account, headers = await new_account(client)
    secret = "nsec1" + "q" * 58
    response = await client.post("/api/v1/merchant", json={"private_key": secret}, headers=headers)
    assert response.status_code == 422
    assert secret not in response.text


async def test_the_same_public_key_cannot_be_two_merchants(client):
    key = PrivateKey.generate()
    for name, expected in (("first", 200), ("second", 409)):
        _account, headers = await new_account(client, name)
        response = await client.post(
            "/api/v1/merchant", json={"private_key": key.hex}, headers=headers
        )
        assert response.status_code == expected
    assert "already exists" in response.json()["detail"]


async def test_an_account_has_one_merchant(client, alice):
    response = await client.post("/api/v1/merchant", json={}, headers=alice.admin)
    assert response.status_code == 409


async def test_patch_updates_profile_relays_and_active(client, alice):
    path = f"/api/v1/merchant/{alice.merchant['id']}"
    body = {
        "config": {"about": "Teas", "picture": "https://example.com/me.png", "active": False},
        "relays": ["wss://relay.example.com"],
    }
    response = await client.patch(path, json=body, headers=alice.admin)
    assert response.status_code == 200
    merchant = response.json()
    assert merchant["config"]["name"] == "Alice"
    assert merchant["config"]["about"] == "Teas"
    assert merchant["config"]["active"] is False
    assert merchant["relays"] == ["wss://relay.example.com"]
    assert merchant["publication"]["profile"]["event_id"] == merchant["config"]["event_id"]


@pytest.mark.parametrize(
    "body",
    [
        {"relays": ["https://not-a-relay.example"]},
        {"relays": ["wss://r.example"] * 21},
        {"config": {"picture": "file:///etc/passwd"}},
        {"config": {"nip05": "not an address"}},
        {"config": {"name": "n" * 101}},
        {"config": {"active": "yes"}},
    ],
)
async def test_patch_rejects_invalid_values(client, alice, body):
    path = f"/api/v1/merchant/{alice.merchant['id']}"
    response = await client.patch(path, json=body, headers=alice.admin)
    assert response.status_code == 422


async def test_toggle_flips_active(client, alice):
    path = f"/api/v1/merchant/{alice.merchant['id']}/toggle"
    first = (await client.put(path, headers=alice.admin)).json()
    second = (await client.put(path, headers=alice.admin)).json()
    assert (first["config"]["active"], second["config"]["active"]) == (False, True)


async def test_delete_removes_the_merchant_and_its_catalogue(client, alice):
    product = await alice.product()
    response = await client.delete(f"/api/v1/merchant/{alice.merchant['id']}", headers=alice.admin)
    assert response.status_code == 204
    assert (await client.get("/api/v1/merchant", headers=alice.reader)).json() is None
    # A new merchant on the same account starts with an empty catalogue.
    await client.post("/api/v1/merchant", json={}, headers=alice.admin)
    gone = await client.get(f"/api/v1/product/{product['id']}", headers=alice.reader)
    assert gone.status_code == 404


async def test_merchant_routes_with_another_id_are_404(client, alice, bob):
    other = bob.merchant["id"]
    assert (
        await client.patch(f"/api/v1/merchant/{other}", json={}, headers=alice.admin)
    ).status_code == 404
    for method, suffix in (
        ("DELETE", ""),
        ("PUT", "/nostr"),
        ("DELETE", "/nostr"),
        ("PUT", "/toggle"),
    ):
        response = await client.request(
            method, f"/api/v1/merchant/{other}{suffix}", headers=alice.admin
        )
        assert response.status_code == 404, (method, suffix)
    assert (await client.get("/api/v1/merchant", headers=bob.reader)).json()["config"]["active"]
