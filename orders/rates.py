"""Exchange rates: satoshis per unit of a fiat currency, as exact Decimals.

Prices in sats need no rate. A fiat price converts with a `RateProvider`; the
default uses fixed rates from configuration (`NOSTRBAZAAR_FIAT_RATES`). A
currency without a rate is an error with a clear message, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, Decimal
from typing import Protocol

SAT_CURRENCIES = frozenset({"sat", "sats"})
BTC_SATS = Decimal(100_000_000)


class RateUnavailable(LookupError):
    """No exchange rate is known for a currency."""

    def __init__(self, currency: str) -> None:
        super().__init__(f"no exchange rate for {currency}; the merchant must configure one")
        self.currency = currency


class RateProvider(Protocol):
    def sats_per_unit(self, currency: str) -> Decimal:
        """Satoshis per one unit of `currency`; raise `RateUnavailable` when unknown."""
        ...


class FixedRates:
    """Rates fixed in configuration; BTC is always 100,000,000 sats."""

    def __init__(self, rates: Mapping[str, Decimal]) -> None:
        self._rates = {code.upper(): Decimal(rate) for code, rate in rates.items()}
        self._rates.setdefault("BTC", BTC_SATS)

    def sats_per_unit(self, currency: str) -> Decimal:
        rate = self._rates.get(currency.upper())
        if rate is None:
            raise RateUnavailable(currency)
        return rate


def is_sats(currency: str) -> bool:
    return currency.lower() in SAT_CURRENCIES


def rate_for(currency: str, rates: RateProvider) -> Decimal | None:
    """The rate to record for `currency`: None for sats, else sats per unit."""
    return None if is_sats(currency) else rates.sats_per_unit(currency)


def to_msat(amount: Decimal, currency: str, rates: RateProvider) -> int:
    """`amount` of `currency` in whole millisatoshis, rounded up (never undercharge)."""
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"not a price: {amount}")
    sats = amount if is_sats(currency) else amount * rates.sats_per_unit(currency)
    return int((sats * 1000).to_integral_value(rounding=ROUND_CEILING))


def normalize_currency(code: str) -> str:
    """`sat` for any spelling of satoshis, otherwise the upper-case currency code."""
    return "sat" if is_sats(code) else code.upper()
