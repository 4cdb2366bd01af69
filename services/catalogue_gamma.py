"""The catalogue in the Gamma market spec's kinds, beside NIP-15's (pure: no I/O).

Every active product is also a kind 30402 listing, each stall a kind 30405
collection and each of its shipping zones a kind 30406 shipping option, with our
ids as `d`: a buyer's `item 30402:<pubkey>:<d>` names one of our products and
`shipping 30406:<pubkey>:<d>` one of our zones (`market.gamma` reads them so).
The tags are the spec's (`../shared/specs/gamma/market-spec.md`), in the shapes
Plebeian Market's schemas accept; prices in satoshis say `SATS`, as it does.

Shopstr reads none of the spec's shipping options: only its own listing tag
`["shipping", <type>, <cost>, <currency>]`, and it charges price + that cost
(`utils/parsers/product-tag-helpers.ts`: `parseShippingTag`, `calculateTotalCost`).
Its orders name no zone, so we place them on the stall's cheapest zone
(`crud.order_catalogue.default_zone`); each listing carries that zone's cost
plus the product's extra cost for it, so what Shopstr sends is what we charge.
"""

from __future__ import annotations

from decimal import Decimal

from ..catalogue_models import Product, Stall, Zone
from ..crud.catalogue import decimal_text
from ..market.gamma import COLLECTION_KIND, LISTING_KIND, SHIPPING_OPTION_KIND
from ..nostr.event import Event, sign_event
from ..nostr.keys import PrivateKey
from ..orders.pricing import CatalogueZone

Tags = list[list[str]]
SUMMARY = 200  # characters of the description's first line in a `summary`


def address(kind: int, public_key: str, identifier: str) -> str:
    return f"{kind}:{public_key}:{identifier}"


def spec_currency(currency: str) -> str:
    """The price tag's currency: ISO 4217, with sats as `SATS` (Plebeian Market's spelling)."""
    return "SATS" if currency.lower() in ("sat", "sats") else currency.upper()


def _amount(value: Decimal) -> str:
    return decimal_text(value)


def _summary(text: str) -> Tags:
    first = text.strip().splitlines()[0][:SUMMARY] if text.strip() else ""
    return [["summary", first]] if first else []


def _physical(zone: Zone) -> bool:
    return CatalogueZone(zone.id, zone.cost, zone.currency, tuple(zone.countries)).physical


def listing_event(key: PrivateKey, product: Product, stall: Stall, created_at: int) -> Event:
    """Kind 30402: the product, its stock, its stall's zones with the product's extra cost."""
    pk = key.public_key
    extra = {item.id: item.cost for item in product.config.shipping}
    physical = any(_physical(zone) for zone in stall.shipping_zones)
    tags: Tags = [
        ["d", product.id],
        ["title", product.name],
        ["price", _amount(product.price), spec_currency(stall.currency)],
        ["type", "simple", "physical" if physical else "digital"],
        ["visibility", "on-sale"],
        ["stock", str(product.quantity)],
        *_summary(product.config.description or ""),
        *(["image", url, "", str(order)] for order, url in enumerate(product.images)),
        *(["spec", spec[0], spec[1]] for spec in product.config.specs if len(spec) == 2),
        *(["t", category] for category in product.categories),
    ]
    for zone in stall.shipping_zones:
        option = ["shipping_option", address(SHIPPING_OPTION_KIND, pk, zone.id)]
        cost = extra.get(zone.id)
        tags.append([*option, _amount(cost)] if cost else option)
    tags += shopstr_shipping(product, stall)
    tags.append(["a", address(COLLECTION_KIND, pk, stall.id)])
    content = product.config.description or ""
    return sign_event(key, LISTING_KIND, content, tags, created_at)


def shopstr_zone(zones: list[Zone]) -> Zone | None:
    """The zone a Shopstr order is placed on: the lowest base cost, ties by id, as
    `default_zone` orders them in SQL."""
    return min(zones, key=lambda zone: (float(zone.cost), zone.id), default=None)


def shopstr_shipping(product: Product, stall: Stall) -> Tags:
    """Shopstr's `shipping` tag: the cost of the zone its orders are priced on, in the
    listing's currency; "Free" (or "N/A" for a digital zone, no address asked) at 0."""
    zone = shopstr_zone(stall.shipping_zones)
    if zone is None:
        return []
    extra = next((i.cost for i in product.config.shipping if i.id == zone.id), Decimal(0))
    cost = zone.cost + extra
    kind = "Added Cost" if cost > 0 else "Free" if _physical(zone) else "N/A"
    return [["shipping", kind, _amount(cost), spec_currency(stall.currency)]]


def collection_event(
    key: PrivateKey, stall: Stall, product_ids: list[str], created_at: int
) -> Event:
    """Kind 30405: the stall, the addresses of its active products and its zones."""
    pk = key.public_key
    description = stall.config.description or ""
    zones = [address(SHIPPING_OPTION_KIND, pk, zone.id) for zone in stall.shipping_zones]
    tags: Tags = [
        ["d", stall.id],
        ["title", stall.name],
        *(["a", address(LISTING_KIND, pk, product_id)] for product_id in product_ids),
        *([["image", stall.config.image_url]] if stall.config.image_url else []),
        *_summary(description),
        *(["shipping_option", zone] for zone in zones),
    ]
    return sign_event(key, COLLECTION_KIND, description, tags, created_at)


def shipping_option_event(key: PrivateKey, zone: Zone, created_at: int) -> Event:
    """Kind 30406: the zone's base cost and countries. Regions that are not ISO 3166-1
    codes ("Europe", "Free (digital)") are kept in the content for people."""
    regions = [region.strip() for region in zone.countries]
    codes = [r.upper() for r in regions if len(r) == 2 and r.isalpha()]
    others = [r for r in regions if r.upper() not in codes]
    tags: Tags = [
        ["d", zone.id],
        ["title", zone.name or "Shipping"],
        ["price", _amount(zone.cost), spec_currency(zone.currency)],
        *([["country", *codes]] if codes else []),  # none for a digital-only zone
        ["service", "standard" if _physical(zone) else "digital"],
    ]
    content = ", ".join([zone.name or "Shipping", *others])
    return sign_event(key, SHIPPING_OPTION_KIND, content, tags, created_at)
