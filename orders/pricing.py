"""Check an order against the catalogue and price it in millisatoshis (pure, no I/O).

The total is the item prices, plus each product's shipping cost for the chosen
zone times its quantity, plus the zone's base cost. Amounts in one currency are
added as exact Decimals first and converted once, so rounding happens once per
currency (up, to whole millisatoshis). The rate used is returned for the order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from .rates import RateProvider, RateUnavailable, is_sats, rate_for, to_msat
from .state import LinePrice, OrderItem, Quote

_DIGITAL_WORDS = ("digital", "online", "email", "download")


class OrderInvalid(ValueError):
    """The order does not fit the catalogue; `reason` is for the customer."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CatalogueProduct:
    id: str
    stall_id: str
    name: str
    price: Decimal
    currency: str
    quantity: int
    active: bool = True
    pending: bool = False
    shipping: dict[str, Decimal] = field(default_factory=dict)  # zone id -> extra cost
    autoreply: str | None = None
    max_per_order: int | None = None  # units of this product one order may ask for


@dataclass(frozen=True)
class CatalogueZone:
    id: str
    cost: Decimal
    currency: str
    countries: tuple[str, ...] = ()
    stall_ids: frozenset[str] = frozenset()

    @property
    def physical(self) -> bool:
        """A zone ships physical goods unless it lists no region or only digital ones."""
        return any(not _is_digital(region) for region in self.countries)


def _is_digital(region: str) -> bool:
    lowered = region.lower()
    return any(word in lowered for word in _DIGITAL_WORDS)


@dataclass(frozen=True)
class Catalogue:
    """The part of a merchant's catalogue one order touches."""

    products: dict[str, CatalogueProduct]
    zone: CatalogueZone | None
    stall_currencies: dict[str, str]
    parked: int = 0  # messages waiting for this order id (read in the same query)


def check_order(
    items: tuple[OrderItem, ...], zone_id: str, address: str | None, catalogue: Catalogue
) -> str:
    """The stall the order is for; `OrderInvalid` with the first problem found."""
    products = [_product(catalogue, item.product_id) for item in items]
    _check_limits(items, catalogue)
    stalls = sorted({product.stall_id for product in products})
    if len(stalls) > 1:
        raise OrderInvalid(f"products from more than one stall ({', '.join(stalls)})")
    zone = catalogue.zone
    if zone is None or zone.id != zone_id:
        raise OrderInvalid(f"unknown shipping zone {zone_id}")
    if stalls[0] not in zone.stall_ids:
        raise OrderInvalid(f"shipping zone {zone_id} is not offered by this stall")
    if zone.physical and not (address and address.strip()):
        raise OrderInvalid(f"an address is required for shipping zone {zone_id}")
    return stalls[0]


def _product(catalogue: Catalogue, product_id: str) -> CatalogueProduct:
    product = catalogue.products.get(product_id)
    if product is None:
        raise OrderInvalid(f"unknown product {product_id}")
    if not product.active or product.pending:
        raise OrderInvalid(f"product {product.name} ({product_id}) is not for sale")
    return product


def _check_limits(items: tuple[OrderItem, ...], catalogue: Catalogue) -> None:
    """Each product's `max_per_order`, counted over every line that names it."""
    wanted: dict[str, int] = defaultdict(int)
    for item in items:
        wanted[item.product_id] += item.quantity
    for product_id, quantity in wanted.items():
        product = catalogue.products[product_id]
        limit = product.max_per_order
        if limit is not None and quantity > limit:
            raise OrderInvalid(
                f"at most {limit} of {product.name} ({product_id}) per order; you asked for"
                f" {quantity}"
            )


def price_order(
    items: tuple[OrderItem, ...], stall_id: str, catalogue: Catalogue, rates: RateProvider
) -> Quote:
    """The order's amounts in msat, with the fiat total and rate in the stall's currency."""
    zone = catalogue.zone
    assert zone is not None  # check_order ran first
    currency = catalogue.stall_currencies[stall_id]
    goods: dict[str, Decimal] = defaultdict(Decimal)
    shipping: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        product = catalogue.products[item.product_id]
        goods[product.currency] += product.price * item.quantity
        shipping[currency] += product.shipping.get(zone.id, Decimal(0)) * item.quantity
    shipping[zone.currency] += zone.cost
    try:
        quote = _quote(zone.id, goods, shipping, currency, rates)
    except RateUnavailable as error:
        raise OrderInvalid(str(error)) from None
    return replace(quote, lines=_lines(items, catalogue))


def _lines(items: tuple[OrderItem, ...], catalogue: Catalogue) -> tuple[LinePrice, ...]:
    """Each product's unit price, once per product, in the order's item order."""
    ids = dict.fromkeys(item.product_id for item in items)
    products = [catalogue.products[product_id] for product_id in ids]
    return tuple(LinePrice(p.id, str(p.price), p.currency) for p in products)


def _quote(
    zone_id: str,
    goods: dict[str, Decimal],
    shipping: dict[str, Decimal],
    currency: str,
    rates: RateProvider,
) -> Quote:
    goods = {code: amount for code, amount in goods.items() if amount}
    shipping = {code: amount for code, amount in shipping.items() if amount}
    subtotal = sum(to_msat(amount, code, rates) for code, amount in goods.items())
    shipping_msat = sum(to_msat(amount, code, rates) for code, amount in shipping.items())
    if subtotal + shipping_msat <= 0:
        raise OrderInvalid("the order's total is zero")
    codes = set(goods) | set(shipping)
    currency = _fiat_currency(currency, codes)
    rate = rate_for(currency, rates)
    fiat = None
    if rate is not None and codes <= {currency}:
        fiat = str(goods.get(currency, Decimal(0)) + shipping.get(currency, Decimal(0)))
    return Quote(
        zone_id=zone_id,
        subtotal_msat=subtotal,
        shipping_msat=shipping_msat,
        total_msat=subtotal + shipping_msat,
        currency="sat" if is_sats(currency) else currency.upper(),
        fiat_amount=fiat,
        fiat_rate=None if rate is None else str(rate),
    )


def _fiat_currency(stall_currency: str, codes: set[str]) -> str:
    """The fiat currency whose rate the order records: the stall's, else the only one used."""
    if not is_sats(stall_currency):
        return stall_currency
    fiat = sorted(code for code in codes if not is_sats(code))
    return fiat[0] if len(fiat) == 1 else stall_currency
