"""API test fixtures: the app itself (for its runtime), a client, and ready-made shops."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from fastapi import FastAPI
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.event import Event, parse_event
from nostrbazaar.services.deps import Deps
from nostrbazaar.wallets.fake import FakeWallet


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults on a fresh data directory, with fixed USD and EUR rates."""
    rates = {"USD": Decimal("1600"), "EUR": Decimal("1700")}
    return Settings(data_dir=tmp_path / "data", secret="test-secret", fiat_rates=rates)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    """A fully started app on a fresh data directory (with an embedded relay)."""
    application = create_app(settings)
    # No background engine (publisher, sweeper, ingest): tests drive the services directly
    # and the outbox is read, not sent, so each test starts in a fraction of the time.
    application.state.runtime.background = False
    async with LifespanManager(application):
        yield application


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    return app.state.runtime  # type: ignore[no-any-return]


@pytest.fixture
async def engine(runtime: Runtime, tmp_path: Path) -> Deps:
    """The order engine's dependencies, with the fake wallet if the runtime has none yet."""
    if runtime.wallet is None:
        wallet = FakeWallet(tmp_path / "wallet")
        await wallet.start()
        runtime.wallet = wallet
    return runtime.deps or Deps.from_runtime(runtime)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


@dataclass
class Shop:
    """An account with a merchant, and shortcuts to fill its catalogue."""

    client: httpx.AsyncClient
    account: dict[str, Any]
    merchant: dict[str, Any] = field(default_factory=dict)

    @property
    def admin(self) -> dict[str, str]:
        return {"X-Api-Key": self.account["adminkey"]}

    @property
    def reader(self) -> dict[str, str]:
        return {"X-Api-Key": self.account["inkey"]}

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(f"/api/v1{path}", json=body, headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    async def zone(self, **overrides: Any) -> dict[str, Any]:
        body = {"name": "Europe", "currency": "sat", "cost": 500, "countries": ["DE", "FR"]}
        return await self.post("/zone", {**body, **overrides})

    async def stall(self, zone: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
        zone = zone or await self.zone()
        body = {
            "name": "Tea stall",
            "currency": zone["currency"],
            "shipping_zones": [zone["id"]],
            "config": {"description": "Loose leaf tea", "image_url": "https://example.com/t.png"},
        }
        return await self.post("/stall", {**body, **overrides})

    async def product(
        self, stall: dict[str, Any] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        stall = stall or await self.stall()
        body = {
            "stall_id": stall["id"],
            "name": "Sencha",
            "price": "12.50",
            "quantity": 10,
            "images": ["https://example.com/sencha.jpg"],
            "categories": ["tea", "green"],
            "config": {
                "description": "Steamed green tea",
                "shipping": [{"id": stall["shipping_zones"][0]["id"], "cost": 1}],
            },
        }
        return await self.post("/product", {**body, **overrides})


async def open_shop(client: httpx.AsyncClient, name: str, **merchant: Any) -> Shop:
    response = await client.post("/api/v1/account", json={"name": name})
    assert response.status_code == 200, response.text
    shop = Shop(client, response.json())
    shop.merchant = await shop.post("/merchant", {"config": {"name": name}, **merchant})
    return shop


@pytest.fixture
async def alice(client: httpx.AsyncClient) -> Shop:
    return await open_shop(client, "Alice")


@pytest.fixture
async def bob(client: httpx.AsyncClient) -> Shop:
    return await open_shop(client, "Bob")


@pytest.fixture
def outbox(runtime: Runtime) -> Any:
    """`await outbox(merchant_id)`: the merchant's queued events, verified, oldest first."""

    async def read(merchant_id: str, purpose: str | None = None) -> list[tuple[str, Event]]:
        rows = await runtime.db.fetchall(
            "SELECT purpose, event FROM outbox WHERE merchant_id = ? ORDER BY id",
            (merchant_id,),
        )
        return [
            (row["purpose"], parse_event(json.loads(row["event"])))
            for row in rows
            if purpose is None or row["purpose"] == purpose
        ]

    return read
