"""Live exchange rates from a configurable provider, with the fixed rates as the fallback.

`NOSTRBAZAAR_RATES_URL` answers one JSON object with the price of one bitcoin in
each currency: `{"USD": 62500.5, "EUR": 58000}`, or, as blockchain.info's
`/ticker` does, `{"USD": {"last": 62500.5, ...}, ...}`. `LiveRates.refresh` fetches
it (the runtime calls it every `NOSTRBAZAAR_RATES_REFRESH` seconds) and keeps the
rates in memory; pricing reads them synchronously (`sats_per_unit`, the
`orders.rates.RateProvider` interface), so an order never waits for the network.

Which rate an order gets: a live rate younger than three refresh intervals, else
the fixed one (`NOSTRBAZAAR_FIAT_RATES`), else none (the order is refused with
"no exchange rate for USD"): a rate hours old is not used. The rate used is
recorded on the order, as always. A provider that fails (down, an error, a body
that is not the format above) changes nothing: the last good rates stay until they
are too old; the failure is logged when it starts and when it ends, once each.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from loguru import logger

from ..orders.rates import BTC_SATS, RateUnavailable

TIMEOUT = 10.0  # seconds for the whole exchange with the provider
STALE_AFTER = 3  # refresh intervals after which a live rate is no longer used


class RatesUnreadable(ValueError):
    """The provider's answer is not a JSON object of positive BTC prices."""


def sats_per_unit(prices: Mapping[str, Any]) -> dict[str, Decimal]:
    """`{"USD": 62500}` (BTC prices) -> `{"USD": Decimal(1600)}` (sats per unit)."""
    rates: dict[str, Decimal] = {}
    for code, value in prices.items():
        price = _price(value.get("last") if isinstance(value, dict) else value)
        if price is not None and isinstance(code, str) and code.isalpha():
            rates[code.upper()] = BTC_SATS / price
    if not rates:
        raise RatesUnreadable("no currency with a positive price in the answer")
    return rates


def _price(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return price if price.is_finite() and price > 0 else None


class LiveRates:
    """A `RateProvider`: fresh live rates first, then the fixed ones."""

    def __init__(
        self, url: str, fixed: Mapping[str, Decimal], refresh_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.url = url
        self.refresh_seconds = refresh_seconds
        self._fixed = {code.upper(): Decimal(rate) for code, rate in fixed.items()}
        self._live: dict[str, Decimal] = {}
        self._fetched_at: float | None = None
        self._failing: str | None = None
        self._clock = clock

    def sats_per_unit(self, currency: str) -> Decimal:
        """Satoshis per unit: live if fresh, else fixed; `RateUnavailable` if neither."""
        code = currency.upper()
        if code == "BTC":
            return BTC_SATS
        live = self._live.get(code) if self.fresh else None
        rate = live if live is not None else self._fixed.get(code)
        if rate is None:
            raise RateUnavailable(currency)
        return rate

    @property
    def fresh(self) -> bool:
        """Whether the live rates are recent enough to be used."""
        if self._fetched_at is None:
            return False
        return self._clock() - self._fetched_at <= STALE_AFTER * self.refresh_seconds

    def currencies(self) -> list[str]:
        """The codes an order can be priced in now (fixed, and live while fresh)."""
        live = set(self._live) if self.fresh else set()
        return sorted(live | set(self._fixed))

    def status(self) -> dict[str, Any]:
        """For `GET /health`: where rates come from, and whether the live ones are used."""
        return {"source": self.url, "fresh": self.fresh, "fetched_at": self._fetched_at,
                "error": self._failing}  # fmt: skip

    async def refresh(self) -> bool:
        """Fetch the provider's rates once; False (and the old rates kept) if that failed."""
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                response = await http.get(self.url, headers={"Accept": "application/json"})
                response.raise_for_status()
                rates = sats_per_unit(_object(response.json()))
        except (httpx.HTTPError, ValueError) as error:
            self._failed(f"{type(error).__name__}: {error}")
            return False
        self._live, self._fetched_at = rates, self._clock()
        if self._failing is not None:
            logger.info("exchange rates from {} are back", self.url)
        self._failing = None
        return True

    def _failed(self, why: str) -> None:
        if self._failing is None:
            logger.warning(
                "exchange rates from {} failed ({}); the fixed rates are used once the "
                "last live ones are older than {} s",
                self.url, why, STALE_AFTER * self.refresh_seconds,
            )  # fmt: skip
        self._failing = why


def _object(document: object) -> Mapping[str, Any]:
    if not isinstance(document, dict):
        raise RatesUnreadable("the answer is not a JSON object")
    return document
