"""The dashboard websocket says when a relay the merchant depends on goes down and comes
back (`relay` {url, status}), so the header can tell it in plain words within seconds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from starlette.testclient import TestClient
from support.relay_process import RelayProcess


@pytest.fixture
def relay() -> Iterator[RelayProcess]:
    process = RelayProcess()
    process.start()
    yield process
    process.stop()


def next_relay_news(socket: Any, url: str, up: bool, most: int = 50) -> str:
    """The next `relay` status of `url` that is (or is not) "connected"."""
    for _ in range(most):
        message = socket.receive_json()
        data = message["data"]
        if message["type"] == "relay" and data["url"] == url:
            if (data["status"] == "connected") == up:
                return str(data["status"])
    raise AssertionError(f"no relay news for {url} in {most} messages")


def test_a_relay_going_down_and_coming_back_is_pushed_to_the_dashboard(
    tmp_path: Path, relay: RelayProcess
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret="test", relays=(relay.url,))
    with TestClient(create_app(settings)) as http:
        account = http.post("/api/v1/account", json={"name": "Alice"}).json()
        http.post("/api/v1/merchant", json={}, headers={"X-Api-Key": account["adminkey"]})
        with http.websocket_connect("/api/v1/ws") as socket:
            socket.send_text(json.dumps({"api_key": account["inkey"]}))
            hello = socket.receive_json()
            assert list(hello["data"]["relays"]) == [relay.url]
            if hello["data"]["relays"][relay.url] != "connected":
                next_relay_news(socket, relay.url, up=True)
            relay.stop()
            assert next_relay_news(socket, relay.url, up=False) != "connected"
            relay.start()
            assert next_relay_news(socket, relay.url, up=True) == "connected"
