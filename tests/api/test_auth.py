"""X-Api-Key: every route but sign-up, health, currencies and countries needs a key; writes
the admin key."""

from __future__ import annotations

import re

import pytest

PUBLIC = {
    ("POST", "/api/v1/account"),
    ("GET", "/api/v1/health"),
    ("GET", "/api/v1/currencies"),
    ("GET", "/api/v1/countries"),  # reference data: ISO codes and names for the zone picker
    # The fake wallet's "pay this invoice" stands in for a customer's wallet (dev only).
    ("POST", "/api/v1/fakewallet/pay"),
}


def operations(app):
    """(method, path with placeholders filled) of every documented API operation."""
    found = []
    for path, item in app.openapi()["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method in item:
            concrete = re.sub(r"\{[^}]+\}", "x" * 64, path)
            found.append((method.upper(), path, concrete))
    return found


async def call(client, method, path, headers=None):
    body = None if method in ("GET", "DELETE") else {}
    return await client.request(method, path, json=body, headers=headers or {})


async def test_every_private_route_answers_401_without_a_key(app, client):
    failures = []
    for method, template, path in operations(app):
        if (method, template) in PUBLIC:
            continue
        response = await call(client, method, path)
        if response.status_code != 401 or "detail" not in response.json():
            failures.append((method, template, response.status_code))
    assert failures == []


@pytest.mark.parametrize("key", ["wrong", "", "x" * 10_000, "' OR 1=1 --"])
async def test_every_private_route_answers_401_with_a_wrong_key(app, client, alice, key):
    failures = []
    for method, template, path in operations(app):
        if (method, template) in PUBLIC:
            continue
        response = await call(client, method, path, {"X-Api-Key": key})
        if response.status_code != 401:
            failures.append((method, template, response.status_code))
    assert failures == []


async def test_the_invoice_key_cannot_write_anywhere(app, client, alice):
    failures = []
    for method, template, path in operations(app):
        if method == "GET" or (method, template) in PUBLIC:
            continue
        response = await call(client, method, path, alice.reader)
        if response.status_code != 401:
            failures.append((method, template, response.status_code))
    assert failures == []


async def test_the_invoice_key_can_read(client, alice):
    for path in ("/api/v1/merchant", "/api/v1/zone", "/api/v1/stall"):
        assert (await client.get(path, headers=alice.reader)).status_code == 200


async def test_the_admin_key_can_read_too(client, alice):
    response = await client.get("/api/v1/merchant", headers=alice.admin)
    assert response.json()["id"] == alice.merchant["id"]


async def test_keys_are_long_random_and_distinct(client):
    accounts = [
        (await client.post("/api/v1/account", json={"name": f"n{i}"})).json() for i in range(3)
    ]
    keys = [a[k] for a in accounts for k in ("adminkey", "inkey")]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


async def test_an_account_without_a_merchant_gets_null_then_404(client):
    account = (await client.post("/api/v1/account", json={"name": "new"})).json()
    headers = {"X-Api-Key": account["adminkey"]}
    assert (await client.get("/api/v1/merchant", headers=headers)).json() is None
    response = await client.get("/api/v1/zone", headers=headers)
    assert response.status_code == 404
    assert "POST /api/v1/merchant" in response.json()["detail"]


async def test_the_key_is_read_from_the_header_only(client, alice):
    response = await client.get("/api/v1/zone", params={"api-key": alice.account["adminkey"]})
    assert response.status_code == 401
