"""Live fiat rates from a provider over HTTP (a stand-in on 127.0.0.1, started and stopped
by each test), the fixed rates as the fallback, the rate used recorded on the order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from nostrbazaar.engine.embedded_relay import free_port
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.orders.rates import RateUnavailable
from nostrbazaar.services.catalogue import currencies
from nostrbazaar.services.live_rates import STALE_AFTER, LiveRates
from support.orders_fixtures import Customer, make_shop, place, settings_for

REFRESH = 60


class Provider:
    """An exchange-rate API on 127.0.0.1: answers `body` (or fails) at GET /rates."""

    def __init__(self) -> None:
        self.body: Any = {"USD": 62500}
        self.status = 200
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/rates"
        self.asked = 0
        app = FastAPI()
        app.add_api_route("/rates", self._answer)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._task: asyncio.Task[None] | None = None

    async def _answer(self) -> Response:
        self.asked += 1
        if isinstance(self.body, str):
            return PlainTextResponse(self.body, status_code=self.status)
        return JSONResponse(self.body, status_code=self.status)

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve())
        for _ in range(250):
            if self.server.started:
                return
            await asyncio.sleep(0.02)
        raise AssertionError("the stand-in rate provider did not start")

    async def stop(self) -> None:
        if self._task is not None:
            self.server.should_exit = True
            await asyncio.wait_for(self._task, 10)
            self._task = None


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    running = Provider()
    await running.start()
    yield running
    await running.stop()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def live(
    provider: Provider, fixed: dict[str, Decimal] | None = None, clock: Any = None
) -> LiveRates:
    return LiveRates(provider.url, fixed or {}, REFRESH, clock or Clock())


async def test_the_providers_btc_prices_become_sats_per_unit(provider: Provider) -> None:
    rates = live(provider)
    assert await rates.refresh() is True
    assert rates.sats_per_unit("USD") == Decimal(1600)  # 100,000,000 / 62,500
    provider.body = {"EUR": {"last": 50000, "buy": 49990}, "JPY": {"last": "10000000"}}
    assert await rates.refresh() is True  # blockchain.info's /ticker shape
    assert (rates.sats_per_unit("eur"), rates.sats_per_unit("JPY")) == (Decimal(2000), Decimal(10))
    assert rates.currencies() == ["EUR", "JPY"]


async def test_an_order_in_dollars_is_priced_at_the_live_rate_and_records_it(
    tmp_path: Path, provider: Provider
) -> None:
    shop = await make_shop(tmp_path / "shop", fiat_rates={"USD": Decimal("1000")})
    try:
        rates = live(provider, {"USD": Decimal("1000")})
        await rates.refresh()
        shop = replace(shop, deps=replace(shop.deps, rates=rates))
        await shop.product("mug", "2.50", 5, currency="USD", zone_cost=None)
        await place(shop, Customer(), "o-1", [("mug", 2)])
        order = await shop.order("o-1")
        assert (order.currency, order.fiat_rate) == ("USD", "1600")
        assert order.subtotal_msat == 8_000_000  # 5 USD at 1,600 sats, not 1,000
    finally:
        await shop.close()


async def test_with_the_provider_down_the_fixed_rate_takes_over_once_the_live_one_is_stale(
    provider: Provider,
) -> None:
    clock = Clock()
    rates = live(provider, {"USD": Decimal("1000")}, clock)
    await rates.refresh()
    await provider.stop()
    clock.now += REFRESH
    assert await rates.refresh() is False
    assert rates.sats_per_unit("USD") == Decimal(1600)  # the last live rate, still fresh
    clock.now += STALE_AFTER * REFRESH
    assert rates.sats_per_unit("USD") == Decimal(1000)  # the fixed fallback
    assert rates.status()["fresh"] is False and rates.status()["error"]


async def test_without_a_fixed_rate_a_stale_live_rate_is_not_used(provider: Provider) -> None:
    clock = Clock()
    rates = live(provider, None, clock)
    await rates.refresh()
    clock.now += STALE_AFTER * REFRESH + 1
    with pytest.raises(RateUnavailable, match="no exchange rate for USD"):
        rates.sats_per_unit("USD")
    assert rates.currencies() == []


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, {"error": "busy"}), (200, "<html>maintenance</html>"), (200, {"USD": "n/a"}),
     (200, [62500])],
)  # fmt: skip
async def test_a_failing_or_unreadable_answer_keeps_the_last_good_rates(
    provider: Provider, status: int, body: Any
) -> None:
    rates = live(provider)
    await rates.refresh()
    provider.status, provider.body = status, body
    assert await rates.refresh() is False
    assert rates.sats_per_unit("USD") == Decimal(1600)


async def test_the_running_server_fetches_live_rates_and_offers_their_currencies(
    tmp_path: Path, provider: Provider
) -> None:
    settings = replace(settings_for(tmp_path / "shop"), rates_url=provider.url)
    runtime = Runtime(settings)
    await runtime.start()
    try:
        for _ in range(250):  # bounded: the first fetch runs in the background at start-up
            if "USD" in currencies(runtime):
                break
            await asyncio.sleep(0.02)
        assert currencies(runtime) == ["sat", "USD"]
        assert runtime.deps.rates.sats_per_unit("USD") == Decimal(1600)
        assert (await runtime.health())["rates"]["fresh"] is True
    finally:
        await runtime.stop()
