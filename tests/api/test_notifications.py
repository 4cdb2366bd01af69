"""The notifications API: the list (all, unread, read), the unread count, marking one or all
read, the DM setting; keys; another merchant's notification is 404; live over the socket."""

from __future__ import annotations

import json

import pytest
from nostrbazaar.app import create_app
from nostrbazaar.services.payments import receive_payment
from nostrbazaar.wallets.base import Settlement
from starlette.testclient import TestClient


async def unmatched(engine, shop, payment_hash: str) -> None:
    """A payment our wallet saw for an invoice of this merchant that we do not know."""
    extra = {"merchant_id": shop.merchant["id"]}
    await receive_payment(engine, Settlement(payment_hash, 21_000, 1, extra))


async def listed(client, shop, query: str = "") -> list[dict]:
    response = await client.get(f"/api/v1/notifications{query}", headers=shop.reader)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_notifications_are_listed_newest_first_and_marked_read_one_or_all(
    client, engine, alice
):
    for n in range(3):
        await unmatched(engine, alice, f"{n:02d}" * 32)
    notes = await listed(client, alice)
    assert [n["object"]["id"] for n in notes] == [f"{n:02d}" * 32 for n in (2, 1, 0)]
    assert all(not n["read"] and n["type"] == "payment_unmatched" for n in notes)
    count = await client.get("/api/v1/notifications/unread", headers=alice.reader)
    assert count.json() == {"unread": 3}
    first = notes[0]["id"]
    response = await client.put(f"/api/v1/notifications/{first}/read", headers=alice.admin)
    assert response.status_code == 200 and response.json()["read"] is True
    assert [n["id"] for n in await listed(client, alice, "?unread=false")] == [first]
    assert len(await listed(client, alice, "?unread=true")) == 2
    response = await client.put("/api/v1/notifications/read", headers=alice.admin)
    assert response.json() == {"marked": 2, "unread": 0}
    assert await listed(client, alice, "?unread=true") == []


async def test_another_merchants_notification_is_404_and_never_listed(client, engine, alice, bob):
    await unmatched(engine, alice, "aa" * 32)
    [note] = await listed(client, alice)
    response = await client.put(f"/api/v1/notifications/{note['id']}/read", headers=bob.admin)
    assert response.status_code == 404 and "detail" in response.json()
    assert await listed(client, bob) == []
    assert (await client.put("/api/v1/notifications/read", headers=bob.admin)).json()["marked"] == 0
    assert not (await listed(client, alice))[0]["read"]


async def test_notification_routes_need_a_key_and_changes_need_the_admin_key(client, alice):
    for path in ("", "/unread", "/settings"):
        assert (await client.get(f"/api/v1/notifications{path}")).status_code == 401
    for path in ("/read", "/x/read"):
        assert (await client.put(f"/api/v1/notifications{path}")).status_code == 401
        response = await client.put(f"/api/v1/notifications{path}", headers=alice.reader)
        assert response.status_code == 401
    body = {"dm_urgent": True}
    response = await client.put("/api/v1/notifications/settings", json=body, headers=alice.reader)
    assert response.status_code == 401


async def test_the_dm_setting_is_off_until_turned_on_and_refuses_a_non_boolean(client, alice):
    path = "/api/v1/notifications/settings"
    assert (await client.get(path, headers=alice.reader)).json() == {"dm_urgent": False}
    response = await client.put(path, json={"dm_urgent": True}, headers=alice.admin)
    assert response.status_code == 200 and response.json() == {"dm_urgent": True}
    assert (await client.get(path, headers=alice.reader)).json() == {"dm_urgent": True}
    bad = await client.put(path, json={"dm_urgent": "yes"}, headers=alice.admin)
    assert bad.status_code == 422


@pytest.fixture
def http(settings):
    app = create_app(settings)
    app.state.runtime.background = False
    with TestClient(app) as client:
        yield client


def test_a_notification_and_its_reading_come_live_over_the_websocket(http):
    account = http.post("/api/v1/account", json={"name": "Alice"}).json()
    admin = {"X-Api-Key": account["adminkey"]}
    merchant = http.post("/api/v1/merchant", json={}, headers=admin).json()
    runtime = http.app.state.runtime  # type: ignore[attr-defined]
    with http.websocket_connect("/api/v1/ws") as socket:
        socket.send_text(json.dumps({"api_key": account["inkey"]}))
        hello = socket.receive_json()
        assert hello["data"]["unread_notifications"] == 0
        settlement = Settlement("bb" * 32, 1_000, 1, {"merchant_id": merchant["id"]})
        http.portal.call(receive_payment, runtime.deps, settlement)  # type: ignore[attr-defined]
        message = socket.receive_json()
        assert message["type"] == "notification" and message["data"]["action"] == "new"
        note = message["data"]["notification"]
        assert (note["type"], note["priority"]) == ("payment_unmatched", "high")
        http.put(f"/api/v1/notifications/{note['id']}/read", headers=admin)
        read = socket.receive_json()
        assert read["data"] == {"action": "read", "ids": [note["id"]], "unread": 0}
