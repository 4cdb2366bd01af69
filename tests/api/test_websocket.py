"""The dashboard websocket: key in the first message, 4401 on a bad key, one merchant per stream."""

from __future__ import annotations

import json

import pytest
from nostrbazaar.app import create_app
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect


@pytest.fixture
def http(settings):
    with TestClient(create_app(settings)) as client:
        yield client


def open_shop(http, name):
    account = http.post("/api/v1/account", json={"name": name}).json()
    headers = {"X-Api-Key": account["adminkey"]}
    merchant = http.post("/api/v1/merchant", json={}, headers=headers).json()
    return account, headers, merchant


def add_zone(http, headers, name):
    response = http.post("/api/v1/zone", json={"name": name, "cost": 1}, headers=headers)
    return response.json()["id"]


@pytest.mark.parametrize(
    "first", ['{"api_key": "wrong"}', "not json", "[1, 2]", '{"api_key": 5}', '{"key": "x"}']
)
def test_a_bad_first_message_closes_with_4401(http, first):
    with http.websocket_connect("/api/v1/ws") as socket:
        socket.send_text(first)
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_text()
    assert closed.value.code == 4401


def test_a_binary_first_message_is_read_like_text(http):
    account, headers, _merchant = open_shop(http, "Alice")
    with http.websocket_connect("/api/v1/ws") as socket:
        socket.send_bytes(json.dumps({"api_key": account["inkey"]}).encode())
        assert socket.receive_json()["type"] == "hello"
        socket.send_bytes(b"\xff\xfe ping")  # ignored, and the stream stays open
        add_zone(http, headers, "Z")
        assert socket.receive_json()["type"] == "catalogue"


def test_an_account_without_merchant_is_closed_with_4404(http):
    account = http.post("/api/v1/account", json={"name": "x"}).json()
    with http.websocket_connect("/api/v1/ws") as socket:
        socket.send_text(json.dumps({"api_key": account["inkey"]}))
        with pytest.raises(WebSocketDisconnect) as closed:
            socket.receive_text()
    assert closed.value.code == 4404


def test_the_invoice_key_opens_the_stream_with_a_hello(http):
    account, _headers, merchant = open_shop(http, "Alice")
    with http.websocket_connect("/api/v1/ws") as socket:
        socket.send_text(json.dumps({"api_key": account["inkey"]}))
        hello = socket.receive_json()
    assert hello["type"] == "hello"
    assert hello["data"]["merchant_id"] == merchant["id"]
    assert len(hello["data"]["relays"]) == 1


def test_a_merchant_receives_its_own_notifications_and_never_anothers(http):
    alice, alice_headers, _m = open_shop(http, "Alice")
    _bob, bob_headers, _m = open_shop(http, "Bob")
    with http.websocket_connect("/api/v1/ws") as socket:
        socket.send_text(json.dumps({"api_key": alice["adminkey"]}))
        assert socket.receive_json()["type"] == "hello"
        bobs_zone = add_zone(http, bob_headers, "Bob's")
        alices_zone = add_zone(http, alice_headers, "Alice's")
        note = socket.receive_json()
    # Bob's change was announced first; had it reached Alice, it would be this message.
    assert note == {
        "type": "catalogue",
        "data": {"object": "zone", "id": alices_zone, "action": "created"},
    }
    assert bobs_zone not in json.dumps(note)


def test_notifications_published_on_the_bus_are_forwarded_as_json(http):
    alice, _headers, merchant = open_shop(http, "Alice")
    _bob, _bob_headers, bob = open_shop(http, "Bob")
    bus = http.app.state.runtime.bus
    with http.websocket_connect("/api/v1/ws") as socket:
        socket.send_text(json.dumps({"api_key": alice["inkey"]}))
        socket.receive_json()
        http.portal.call(_publish, bus, bob["id"], "order", {"id": "bobs-order"})
        http.portal.call(_publish, bus, merchant["id"], "order", {"id": "o-1"})
        assert socket.receive_json() == {"type": "order", "data": {"id": "o-1"}}


async def _publish(bus, merchant_id, kind, data):
    bus.publish(merchant_id, kind, data)
