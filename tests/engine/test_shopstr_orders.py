"""Shopstr checkouts through the whole ingest path (Lightning preference): a real SQLite
file, the real FakeWallet, a buyer on nostr-sdk whose messages are built as Shopstr builds
them (`support/market_buyers.py`: `utils/nostr/gift-wrap.ts`,
`components/product-invoice-card.tsx`, `utils/payments/checkout-messages.ts`). Ecash
checkouts, with a real mint, are in tests/integration/test_cashu_checkout.py.

The shop sells `p1` at 100 sat (+2 sat shipping) to zone `zone-1` (5 sat): 107 sat.
Shopstr knows that total only from our 30402 listing's `["shipping", type, cost, currency]`
tag (utils/parsers/product-tag-helpers.ts, `parseShippingTag` and `calculateTotalCost`):
the last tests read it from the listing we publish and pay what Shopstr would.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from nostrbazaar.crud.products import get_product
from nostrbazaar.crud.stalls import get_stall
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.market.shopstr import required_msat
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services import lnurl
from nostrbazaar.services.catalogue_gamma import listing_event
from nostrbazaar.services.order_admin import ship_order
from support.gamma_buyer import tag, value
from support.market_buyers import ShopstrBuyer
from support.orders_fixtures import Shop

ONE_P1 = 107


@pytest.fixture
def buyer() -> ShopstrBuyer:
    return ShopstrBuyer()


async def send(shop: Shop, buyer: ShopstrBuyer, built: tuple[list[list[str]], str]) -> Any:
    tags, content = built
    event = buyer.wrapped(shop.merchant.public_key, 14, tags, content)
    return await ingest_event(shop.deps, shop.merchant, event)


async def melt_to_address(shop: Shop, sats: int) -> str:
    """What Shopstr does with the seller's `lightning` preference: an invoice from the
    lightning address, paid (by melting the buyer's ecash)."""
    name = npub_encode(shop.merchant.public_key)
    bolt11 = str((await lnurl.address_invoice(shop.deps, name, str(sats * 1000)))["pr"])
    await shop.wallet.pay(bolt11)
    return bolt11


def shopstr_melt(total: int, donation_pct: float = 2.1) -> tuple[int, int]:
    """Shopstr's own arithmetic (`splitDonationAndSellerAmount`, `sendTokens`): the donation
    and the amount it melts to the seller's lightning address."""
    donation = -(-int(total * donation_pct * 1000) // 100_000) if donation_pct else 0
    return donation, int((total - donation) * 0.98 - 2)


@pytest.mark.parametrize("donation_pct", [2.1, 0])
async def test_a_lightning_checkout_is_paid_by_its_payment_to_the_lightning_address(
    shop: Shop, buyer: ShopstrBuyer, donation_pct: float
) -> None:
    """product-invoice-card.tsx, `sendTokens` with `payment_preference` lightning: the melt
    keeps 2% + 2 sat and Shopstr's donation; never refused as short."""
    pk, address = shop.merchant.public_key, f"{npub_encode(shop.merchant.public_key)}@shop"
    donation, melted = shopstr_melt(ONE_P1, donation_pct)
    await melt_to_address(shop, melted)
    built = buyer.payment(pk, "s-1", "p1", melted, "lightning", address, donation)
    verdict = await send(shop, buyer, built)
    assert (verdict.verdict, verdict.order_id) == ("processed", "s-1")
    order = await shop.order("s-1")
    assert (order.status, order.dialect, order.public_key) == ("paid", "shopstr", buyer.pubkey)
    assert (order.total_msat, await shop.stock()) == (107_000, 4)
    (confirmed,) = await buyer.inbox(shop, "s-1")  # to the `b` buyer, not the checkout key
    assert (confirmed["kind"], value(confirmed, "subject"), value(confirmed, "status")) == (
        14, "order-info", "confirmed")  # fmt: skip
    assert value(confirmed, "b") == buyer.pubkey
    assert melted * 1000 >= required_msat(107_000, donation * 1000, "lightning")


async def test_the_address_follows_and_the_buyer_hears_of_the_shipment(
    shop: Shop, buyer: ShopstrBuyer
) -> None:
    """`order-info` (type 1) with the address after the payment; `shipping-info` back."""
    pk = shop.merchant.public_key
    _, melted = shopstr_melt(ONE_P1)
    await melt_to_address(shop, melted)
    await send(shop, buyer, buyer.payment(pk, "s-1", "p1", melted, "lightning", "x@y", 3))
    info = await send(shop, buyer, buyer.order_info(pk, "s-1", "p1", ONE_P1))
    assert (info.verdict, info.order_id) == ("processed", "s-1")
    stored = await shop.db.fetchone(
        "SELECT message FROM direct_messages WHERE order_id = 's-1' AND message LIKE 'Please%'"
    )
    assert stored is not None and "1 Road, Lisbon" in stored["message"]
    await ship_order(shop.deps, shop.merchant_id, "s-1", "", "RR123PT", "CTT")
    shipped = (await buyer.inbox(shop, "s-1"))[-1]
    assert (value(shipped, "subject"), value(shipped, "status")) == ("shipping-info", "shipped")
    assert (value(shipped, "tracking"), value(shipped, "carrier")) == ("RR123PT", "CTT")


async def test_a_lightning_checkout_with_no_payment_found_is_answered_with_our_invoice(
    shop: Shop, buyer: ShopstrBuyer
) -> None:
    pk = shop.merchant.public_key
    _, melted = shopstr_melt(ONE_P1)
    await send(shop, buyer, buyer.payment(pk, "s-1", "p1", melted, "lightning", "x@y", 3))
    order = await shop.order("s-1")
    assert (order.status, await shop.stock()) == ("awaiting_payment", 4)
    note, request = await buyer.inbox(shop, "s-1")
    assert "no payment of" in note["content"] and "lightning address was found" in note["content"]
    assert value(request, "subject") == "order-payment"
    assert tag(request, "payment") == ["payment", "lightning", order.bolt11]


async def test_a_short_lightning_checkout_is_refused_with_the_reason(
    shop: Shop, buyer: ShopstrBuyer
) -> None:
    pk = shop.merchant.public_key
    await melt_to_address(shop, 50)
    await send(shop, buyer, buyer.payment(pk, "s-1", "p1", 50, "lightning", "x@y"))
    assert (await shop.order("s-1")).status == "awaiting_payment"
    note = (await buyer.inbox(shop, "s-1"))[0]
    assert "the payment of 50 sat is short of the 101 sat this order needs" in note["content"]


async def test_one_lightning_payment_pays_one_checkout_and_a_duplicate_changes_nothing(
    shop: Shop, buyer: ShopstrBuyer
) -> None:
    pk = shop.merchant.public_key
    _, melted = shopstr_melt(ONE_P1)
    await melt_to_address(shop, melted)
    built = buyer.payment(pk, "s-1", "p1", melted, "lightning", "x@y", 3)
    wrap = buyer.wrapped(pk, 14, *built)
    assert (await ingest_event(shop.deps, shop.merchant, wrap)).verdict == "processed"
    assert (await ingest_event(shop.deps, shop.merchant, wrap)).reason == "duplicate"
    await send(shop, buyer, buyer.payment(pk, "s-2", "p1", melted, "lightning", "x@y", 3))
    assert [(await shop.order(i)).status for i in ("s-1", "s-2")] == ["paid", "awaiting_payment"]
    paid = await shop.db.fetchall("SELECT order_id FROM payments WHERE outcome = 'paid'")
    assert [row["order_id"] for row in paid] == ["s-1"]


async def test_a_checkout_for_an_unknown_listing_is_refused_and_its_payment_not_taken(
    shop: Shop, buyer: ShopstrBuyer
) -> None:
    pk = shop.merchant.public_key
    _, melted = shopstr_melt(ONE_P1)
    await melt_to_address(shop, melted)
    verdict = await send(shop, buyer, buyer.payment(pk, "s-1", "p9", melted, "lightning", "x@y"))
    assert verdict.verdict == "rejected" and "unknown product p9" in (verdict.reason or "")
    (refusal,) = await buyer.inbox(shop, "s-1")
    assert (value(refusal, "subject"), value(refusal, "status")) == ("order-info", "canceled")
    assert refusal["content"].startswith("Order s-1 refused: ")
    claimed = await shop.db.fetchone(
        "SELECT COUNT(*) FROM lnurl_invoices WHERE used_by_order IS NOT NULL"
    )
    assert claimed is not None and claimed[0] == 0  # the money waits, unclaimed


# -- what Shopstr charges, read from our 30402 listing ---------------------------------------

SHIPPING_TYPES = ("N/A", "Free", "Pickup", "Free/Pickup", "Added Cost")


def shopstr_total(tags: list[list[str]]) -> float:
    """Shopstr's `totalCost` for a shipped order (utils/parsers/product-tag-helpers.ts:
    `parseShippingFromTags` keeps the last valid 4-element `shipping` tag of a known type,
    `calculateTotalCost` adds its cost to the price; `product-invoice-card.tsx` charges it)."""
    price = next(float(t[1]) for t in tags if t[0] == "price")
    cost = 0.0
    for t in tags:
        if t[0] == "shipping" and len(t) == 4 and t[1] in SHIPPING_TYPES and t[3]:
            if t[2].strip() and float(t[2]) >= 0:
                cost = float(t[2])
    return price + cost


async def published_listing(shop: Shop, product_id: str) -> list[list[str]]:
    """The 30402 we publish for the product, as `catalogue_publish` builds it."""
    product = await get_product(shop.db, shop.merchant_id, product_id)
    assert product is not None
    stall = await get_stall(shop.db, shop.merchant_id, product.stall_id)
    assert stall is not None
    return listing_event(shop.merchant.key, product, stall, int(time.time())).tags


async def add_zone(shop: Shop, zone_id: str, cost: str) -> None:
    """Another zone on `stall-1`: dearer by base cost, cheaper than zone-1 with p1's extra."""
    async with shop.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO zones (id, merchant_id, name, currency, cost, countries, created_at,"
            " updated_at) VALUES (?, 'merchant-1', 'World', 'sat', ?, '[\"Spain\"]', 0, 0)",
            (zone_id, cost),
        )
        await conn.execute(
            "INSERT INTO stall_zones (stall_id, zone_id) VALUES ('stall-1', ?)", (zone_id,)
        )


async def test_a_checkout_paying_what_the_listing_tells_shopstr_is_paid_in_full(
    shop: Shop, buyer: ShopstrBuyer
) -> None:
    """The stall's cheapest zone (zone-1, 5 sat, +2 for p1) costs more than 0: Shopstr,
    reading only our `shipping` tag, charges 100 + 7 and the order is priced the same."""
    await add_zone(shop, "zone-2", "6")
    tags = await published_listing(shop, "p1")
    assert ["shipping", "Added Cost", "7", "SATS"] in tags
    total = shopstr_total(tags)
    assert total == ONE_P1
    pk = shop.merchant.public_key
    donation, melted = shopstr_melt(int(total))
    await melt_to_address(shop, melted)
    await send(shop, buyer, buyer.payment(pk, "s-1", "p1", melted, "lightning", "x@y", donation))
    order = await shop.order("s-1")
    assert (order.status, order.zone_id, order.total_msat) == ("paid", "zone-1", total * 1000)


async def test_a_checkout_paying_the_price_alone_is_refused_as_short_with_the_reason(
    shop: Shop, buyer: ShopstrBuyer
) -> None:
    """What Shopstr sent before the listing carried its `shipping` tag: the price alone."""
    tags = await published_listing(shop, "p1")
    price_alone = shopstr_total([t for t in tags if t[0] != "shipping"])
    donation, melted = shopstr_melt(int(price_alone))
    assert (price_alone, donation, melted) == (100, 3, 93)
    await melt_to_address(shop, melted)
    pk = shop.merchant.public_key
    await send(shop, buyer, buyer.payment(pk, "s-1", "p1", melted, "lightning", "x@y", donation))
    assert (await shop.order("s-1")).status == "awaiting_payment"
    note = (await buyer.inbox(shop, "s-1"))[0]
    assert "the payment of 93 sat is short of the 98 sat this order needs" in note["content"]
