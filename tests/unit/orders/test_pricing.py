"""Pricing: exact decimals, integer millisatoshis, the rate recorded, clear refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nostrbazaar.crud.orders import decode_event, encode_event
from nostrbazaar.orders.events import InvoiceIssued
from nostrbazaar.orders.pricing import (
    Catalogue,
    CatalogueProduct,
    CatalogueZone,
    OrderInvalid,
    check_order,
    price_order,
)
from nostrbazaar.orders.rates import FixedRates, RateUnavailable, to_msat
from nostrbazaar.orders.state import Invoice, LinePrice, OrderItem

RATES = FixedRates({"USD": Decimal("1600.5"), "EUR": Decimal("1700")})
ZONE = CatalogueZone("z1", Decimal("2.10"), "USD", ("Portugal",), frozenset({"s1"}))


def product(pid: str, price: str, currency: str = "USD", **kw: object) -> CatalogueProduct:
    return CatalogueProduct(pid, str(kw.pop("stall", "s1")), pid, Decimal(price), currency, 5, **kw)  # type: ignore[arg-type]


def catalogue(*products: CatalogueProduct, zone: CatalogueZone | None = ZONE) -> Catalogue:
    return Catalogue({p.id: p for p in products}, zone, {"s1": "USD", "s2": "sat"})


def test_fiat_prices_add_up_exactly_and_convert_once_rounding_up() -> None:
    cat = catalogue(product("a", "0.10"), product("b", "0.20", shipping={"z1": Decimal("0.05")}))
    items = (OrderItem("a", 3), OrderItem("b", 1))
    quote = price_order(items, check_order(items, "z1", "1 Road", cat), cat, RATES)
    # goods 0.50 USD * 1600.5 = 800.25 sat; shipping 0.05 + 2.10 = 2.15 USD = 3441.075 sat
    assert quote.subtotal_msat == 800_250
    assert quote.shipping_msat == 3_441_075
    assert quote.total_msat == 4_241_325
    assert (quote.currency, quote.fiat_amount, quote.fiat_rate) == ("USD", "2.65", "1600.5")


def test_sat_prices_need_no_rate() -> None:
    zone = CatalogueZone("z1", Decimal(0), "sat", (), frozenset({"s2"}))
    cat = catalogue(product("a", "21", "sat", stall="s2"), zone=zone)
    quote = price_order((OrderItem("a", 2),), "s2", cat, FixedRates({}))
    assert (quote.total_msat, quote.fiat_rate, quote.fiat_amount) == (42_000, None, None)


def test_a_currency_without_a_rate_is_a_clear_refusal() -> None:
    cat = catalogue(product("a", "1", "JPY"))
    with pytest.raises(OrderInvalid, match="no exchange rate for JPY"):
        price_order((OrderItem("a", 1),), "s1", cat, RATES)
    with pytest.raises(RateUnavailable):
        to_msat(Decimal(1), "JPY", RATES)


def test_millisatoshi_rounding_never_undercharges() -> None:
    assert to_msat(Decimal("0.0000001"), "USD", RATES) == 1
    assert to_msat(Decimal("1.5"), "sat", RATES) == 1500


@pytest.mark.parametrize(
    ("products", "items", "zone", "address", "reason"),
    [
        ((), (OrderItem("x", 1),), "z1", "a", "unknown product x"),
        ((product("a", "1", active=False),), (OrderItem("a", 1),), "z1", "a", "not for sale"),
        ((product("a", "1", pending=True),), (OrderItem("a", 1),), "z1", "a", "not for sale"),
        (
            (product("a", "1"), product("b", "1", stall="s2")),
            (OrderItem("a", 1), OrderItem("b", 1)),
            "z1",
            "a",
            "more than one stall",
        ),
        ((product("a", "1"),), (OrderItem("a", 1),), "z9", "a", "unknown shipping zone z9"),
        ((product("b", "1", stall="s2"),), (OrderItem("b", 1),), "z1", "a", "not offered"),
        ((product("a", "1"),), (OrderItem("a", 1),), "z1", " ", "address is required"),
    ],
)
def test_orders_that_do_not_fit_the_catalogue_are_refused_with_a_reason(
    products: tuple[CatalogueProduct, ...],
    items: tuple[OrderItem, ...],
    zone: str,
    address: str,
    reason: str,
) -> None:
    with pytest.raises(OrderInvalid, match=reason):
        check_order(items, zone, address, catalogue(*products))


def test_a_digital_zone_needs_no_address() -> None:
    zone = CatalogueZone("z1", Decimal(0), "USD", ("Free (digital)",), frozenset({"s1"}))
    assert check_order((OrderItem("a", 1),), "z1", None, catalogue(product("a", "1"), zone=zone))


def test_an_order_over_a_products_limit_per_order_is_refused_with_the_limit() -> None:
    cat = catalogue(product("a", "1", max_per_order=2), product("b", "1"))
    with pytest.raises(OrderInvalid, match=r"at most 2 of a \(a\) per order; you asked for 3"):
        check_order((OrderItem("a", 1), OrderItem("b", 9), OrderItem("a", 2)), "z1", "Rd", cat)
    assert check_order((OrderItem("a", 2), OrderItem("b", 9)), "z1", "Rd", cat) == "s1"


def test_each_products_unit_price_is_kept_with_the_quote_and_survives_the_log() -> None:
    cat = catalogue(product("a", "0.10"), product("b", "2.5"))
    items = (OrderItem("b", 1), OrderItem("a", 3), OrderItem("b", 2))
    quote = price_order(items, check_order(items, "z1", "1 Road", cat), cat, RATES)
    assert quote.lines == (LinePrice("b", "2.5", "USD"), LinePrice("a", "0.10", "USD"))
    issued = InvoiceIssued(Invoice("h", "lnbc1", quote.total_msat, 1), quote)
    assert decode_event(*encode_event(issued)) == issued
