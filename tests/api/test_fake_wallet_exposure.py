"""The fake wallet's pay endpoint takes no key: it is mounted only on a loopback bind and
refuses proxied requests; with public relays the operator is warned (log, health, dashboard)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from loguru import logger
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings

PAY = "/api/v1/fakewallet/pay"


async def serve(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    application = create_app(settings)
    application.state.runtime.background = False
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@pytest.fixture
def warnings() -> AsyncIterator[list[str]]:
    messages: list[str] = []
    sink = logger.add(lambda message: messages.append(str(message)), level="WARNING")
    yield messages  # type: ignore[misc]
    logger.remove(sink)


async def test_the_pay_endpoint_is_not_mounted_when_the_server_binds_a_public_address(
    tmp_path: Path,
) -> None:
    settings = Settings(host="0.0.0.0", data_dir=tmp_path / "data", secret="s")
    async for http in serve(settings):
        assert (await http.post(PAY, json={"bolt11": "lnbc1"})).status_code == 404
        assert PAY not in (await http.get("/openapi.json")).json()["paths"]


async def test_the_pay_endpoint_on_a_loopback_bind_refuses_a_request_forwarded_by_a_proxy(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret="s")
    async for http in serve(settings):
        direct = await http.post(PAY, json={"bolt11": "junk"})
        assert direct.status_code == 400  # mounted: it read the body
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            proxied = await http.post(PAY, json={"bolt11": "junk"}, headers={header: "1.2.3.4"})
            assert proxied.status_code == 403, header
            assert "proxy" in proxied.json()["detail"]


async def test_the_fake_wallet_with_public_relays_is_reported_in_the_log_and_in_health(
    tmp_path: Path, warnings: list[str]
) -> None:
    relays = ("wss://relay.invalid", "ws://127.0.0.1:9")
    settings = Settings(data_dir=tmp_path / "data", secret="s", relays=relays)
    async for http in serve(settings):
        health = (await http.get("/api/v1/health")).json()
    assert health["fake_wallet_with_public_relays"] is True
    [warning] = health["warnings"]
    assert "fake wallet" in warning and "wss://relay.invalid" in warning
    assert "127.0.0.1:9" not in warning
    assert any("fake wallet is active with public relays" in line for line in warnings)


async def test_the_fake_wallet_on_the_embedded_relay_gives_no_warning(
    tmp_path: Path, warnings: list[str]
) -> None:
    async for http in serve(Settings(data_dir=tmp_path / "data", secret="s")):
        health = (await http.get("/api/v1/health")).json()
    assert (health["fake_wallet_with_public_relays"], health["warnings"]) == (False, [])
    assert not any("fake wallet" in line for line in warnings)


async def test_the_dashboard_shows_the_servers_warnings() -> None:
    page = (Path(__file__).resolve().parents[2] / "templates/nostrbazaar/index.html").read_text()
    script = (Path(__file__).resolve().parents[2] / "static/js/dashboard.js").read_text()
    assert 'v-for="warning in serverWarnings"' in page
    assert 'NB.api.get("/health", "")' in script and "health.warnings" in script
