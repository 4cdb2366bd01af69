"""Which relays a merchant may name, and which ones `/market` sends its visitors to.

A server on a public address accepts only `wss://` relays on public hosts (the
operator's own relays always), and the market page offers the operator's relays
plus those of the merchants it shows, never a relay a merchant may not use.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from nostrbazaar.engine.runtime import Runtime

from .conftest import Shop, open_shop

PRIVATE = [
    "ws://127.0.0.1:7999",
    "wss://127.0.0.1:7999",
    "wss://localhost:7000",
    "wss://10.1.2.3",
    "wss://192.168.0.10/relay",
    "wss://169.254.169.254",
    "wss://[::1]:7000",
    "wss://[::ffff:127.0.0.1]",
    "wss://2130706433",
    "wss://printer.local",
    "wss://db.internal",
    "wss://intranet",
    "ws://relay.example.com",
]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A server bound to every address: public rules, sign-up opened by the operator."""
    return Settings(
        host="0.0.0.0", data_dir=tmp_path / "data", secret="test-secret", allow_signup=True
    )


async def relays_of(shop: Shop) -> list[str]:
    response = await shop.client.get("/api/v1/merchant", headers=shop.reader)
    return list(response.json()["relays"])


@pytest.mark.parametrize("url", PRIVATE)
async def test_a_public_server_refuses_a_merchant_relay_that_is_not_public_wss(
    client: httpx.AsyncClient, url: str
) -> None:
    account = (await client.post("/api/v1/account", json={"name": "Mallory"})).json()
    headers = {"X-Api-Key": account["adminkey"]}
    response = await client.post("/api/v1/merchant", json={"relays": [url]}, headers=headers)
    assert response.status_code == 400, response.text
    assert url in response.json()["detail"]
    assert (await client.get("/api/v1/merchant", headers=headers)).json() is None


async def test_a_public_server_refuses_a_private_relay_patched_in_and_keeps_the_old_list(
    client: httpx.AsyncClient,
) -> None:
    shop = await open_shop(client, "Alice", relays=["wss://relay.example.com"])
    path = f"/api/v1/merchant/{shop.merchant['id']}"
    body = {"relays": ["wss://relay.example.com", "ws://127.0.0.1:7999"]}
    response = await client.patch(path, json=body, headers=shop.admin)
    assert response.status_code == 400
    assert "ws://127.0.0.1:7999" in response.json()["detail"]
    assert await relays_of(shop) == ["wss://relay.example.com"]


async def test_public_wss_relays_and_the_operators_own_relays_are_accepted(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    operator = runtime.relays[0]
    assert operator.startswith("ws://127.0.0.1:")  # the embedded relay
    wanted = ["wss://relay.example.com", "wss://1.1.1.1", operator]
    shop = await open_shop(client, "Alice", relays=wanted)
    assert await relays_of(shop) == wanted


async def test_the_market_offers_the_operators_relays_and_those_of_the_merchants_it_shows(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    alice = await open_shop(client, "Alice", relays=["wss://alice.example.com"])
    bob = await open_shop(client, "Bob", relays=["wss://bob.example.com"])
    everyone = (await client.get("/market/config.json")).json()
    assert everyone["merchants"] == [alice.merchant["public_key"], bob.merchant["public_key"]]
    assert everyone["relays"] == [*runtime.relays, "wss://alice.example.com",
                                  "wss://bob.example.com"]  # fmt: skip
    only_alice = (
        await client.get("/market/config.json", params={"merchant": alice.merchant["npub"]})
    ).json()
    assert only_alice == {
        "relays": [*runtime.relays, "wss://alice.example.com"],
        "merchants": [alice.merchant["public_key"]],
    }


async def test_a_market_naming_an_unknown_merchant_offers_only_the_operators_relays(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    await open_shop(client, "Alice", relays=["wss://alice.example.com"])
    named = {"merchant": ["f" * 64, "not-a-key"]}
    config = (await client.get("/market/config.json", params=named)).json()
    assert config == {"relays": list(runtime.relays), "merchants": []}


async def test_the_market_leaves_out_a_private_relay_a_merchant_kept_from_before(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    shop = await open_shop(client, "Alice", relays=["wss://alice.example.com"])
    kept = ["ws://127.0.0.1:7999", "wss://alice.example.com", "wss://10.0.0.8"]
    async with runtime.db.transaction() as conn:  # as a record written before the rule
        await conn.execute(
            "UPDATE merchants SET relays = ? WHERE id = ?", (json.dumps(kept), shop.merchant["id"])
        )
    config = (await client.get("/market/config.json")).json()
    assert config["relays"] == [*runtime.relays, "wss://alice.example.com"]
    page = await client.get("/market", params={"merchant": shop.merchant["npub"]})
    assert page.status_code == 200
    assert "127.0.0.1:7999" not in page.text and "10.0.0.8" not in page.text
    assert "wss://alice.example.com" in page.text


async def start_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings)
    application.state.runtime.background = False
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.mark.parametrize(
    ("host", "allow", "opened"),
    [
        ("0.0.0.0", None, False),
        ("203.0.113.7", None, False),
        ("127.0.0.1", None, True),
        ("0.0.0.0", True, True),
        ("127.0.0.1", False, False),
    ],
)
async def test_sign_up_is_open_by_default_only_on_a_loopback_address(
    tmp_path: Path, host: str, allow: bool | None, opened: bool
) -> None:
    settings = Settings(host=host, data_dir=tmp_path / "data", secret="s", allow_signup=allow)
    async for http in start_client(settings):
        response = await http.post("/api/v1/account", json={"name": "Eve"})
        assert response.status_code == (200 if opened else 403), response.text


async def test_a_loopback_server_lets_merchants_use_a_local_relay(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret="s")  # 127.0.0.1, a developer's
    async for http in start_client(settings):
        shop = await open_shop(http, "Dev", relays=["ws://127.0.0.1:7999"])
        assert shop.merchant["relays"] == ["ws://127.0.0.1:7999"]
