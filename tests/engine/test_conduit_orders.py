"""Conduit orders through the whole ingest path: a real SQLite file, the real FakeWallet, and
a buyer on nostr-sdk whose messages are built as Conduit Market builds them
(`support/market_buyers.py` names the file of each: `apps/market/src/routes/checkout.tsx`,
`apps/market/src/lib/order-publish.ts`, `packages/core/src/protocol/orders.ts`).

The shop sells `p1` at 100 sat (+2 sat shipping each) to zone `zone-1` (5 sat).
"""

from __future__ import annotations

from typing import Any

import pytest
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services import lnurl
from nostrbazaar.services.order_admin import complete_order, ship_order
from support.gamma_buyer import value
from support.market_buyers import ConduitBuyer, json_content
from support.orders_fixtures import Shop, pay

TWO_P1 = 209


@pytest.fixture
def buyer() -> ConduitBuyer:
    return ConduitBuyer()


async def send(shop: Shop, buyer: ConduitBuyer, built: tuple[list[list[str]], str]) -> Any:
    tags, content = built
    event = buyer.wrapped(shop.merchant.public_key, 16, tags, content)
    return await ingest_event(shop.deps, shop.merchant, event)


def words(rumors: list[dict[str, Any]]) -> list[tuple[str | None, str | None]]:
    return [(value(r, "type"), value(r, "status")) for r in rumors]


async def test_a_conduit_order_is_invoiced_paid_shipped_and_completed_in_conduits_words(
    shop: Shop, buyer: ConduitBuyer
) -> None:
    """checkout.tsx `placeOrder` (pay later): the merchant's payment_request, then statuses."""
    pk = shop.merchant.public_key
    verdict = await send(shop, buyer, buyer.order(pk, "c-1", [("p1", 2)], TWO_P1))
    assert (verdict.verdict, verdict.order_id) == ("processed", "c-1")
    placed = await shop.order("c-1")
    assert (placed.status, placed.dialect, placed.total_msat) == ("awaiting_payment", "conduit",
                                                                  209_000)  # fmt: skip
    assert (placed.address, placed.name) == ("1 Road, Lisbon, 1000-001, PT", "Ann Buyer")
    (request,) = await buyer.inbox(shop, "c-1")
    assert (request["kind"], value(request, "type"), value(request, "amount")) == (
        16, "payment_request", "209")  # fmt: skip
    assert value(request, "payment_method") == "lightning"
    assert json_content(request)["invoice"] == placed.bolt11
    assert json_content(request)["orderId"] == "c-1"
    await pay(shop, placed.bolt11 or "")
    await ship_order(shop.deps, shop.merchant_id, "c-1", "posted today", "RR123PT", "CTT")
    await complete_order(shop.deps, shop.merchant_id, "c-1")
    rumors = await buyer.inbox(shop, "c-1")
    assert words(rumors) == [("payment_request", None), ("status_update", "paid"),
                             ("shipping_update", None), ("status_update", "shipped"),
                             ("status_update", "complete")]  # fmt: skip
    assert (value(rumors[2], "tracking"), value(rumors[2], "carrier")) == ("RR123PT", "CTT")
    assert (await shop.order("c-1")).status == "completed"


async def address_invoice(shop: Shop, sats: int) -> str:
    answer = await lnurl.address_invoice(shop.deps, npub_encode(shop.merchant.public_key),
                                         str(sats * 1000))  # fmt: skip
    return str(answer["pr"])


async def test_a_payment_proof_for_a_settled_lightning_address_invoice_pays_the_order(
    shop: Shop, buyer: ConduitBuyer
) -> None:
    """order-publish.ts `buildPaymentProofRumor` with `buildLightningPaymentProofMessage`."""
    pk = shop.merchant.public_key
    await send(shop, buyer, buyer.order(pk, "c-1", [("p1", 2)], TWO_P1))
    bolt11 = await address_invoice(shop, TWO_P1)
    unpaid = await send(shop, buyer, buyer.payment_proof(pk, "c-1", TWO_P1, bolt11, "00" * 32))
    assert unpaid.verdict == "rejected" and "has not received this payment" in unpaid.reason
    assert (await shop.order("c-1")).status == "awaiting_payment"  # a claim is no proof
    await shop.wallet.pay(bolt11)
    again = await send(shop, buyer, buyer.payment_proof(pk, "c-1", TWO_P1, bolt11, "00" * 32))
    assert again.verdict == "processed"
    assert (await shop.order("c-1")).status == "paid"
    rumors = await buyer.inbox(shop, "c-1")
    assert words(rumors) == [("payment_request", None), ("message", None),
                             ("status_update", "paid")]  # fmt: skip
    assert "was not applied" in json_content(rumors[1])["note"]
    source = await shop.db.fetchone("SELECT source FROM payments WHERE order_id = 'c-1'")
    assert source is not None and source["source"] == "lightning_address"


async def test_a_buyers_cancel_releases_the_stock_and_a_repost_is_only_kept(
    shop: Shop, buyer: ConduitBuyer
) -> None:
    """protocol.md: `status_update` `cancelled`; a kind 16 with no type is a NIP-18 repost."""
    pk = shop.merchant.public_key
    await send(shop, buyer, buyer.order(pk, "c-1", [("p1", 2)], TWO_P1))
    assert await shop.stock() == 3
    assert (await send(shop, buyer, buyer.cancel(pk, "c-1"))).verdict == "processed"
    assert ((await shop.order("c-1")).status, await shop.stock()) == ("cancelled", 5)
    repost = await send(shop, buyer, buyer.repost(pk))
    assert (repost.verdict, "repost" in (repost.reason or "")) == ("ignored", True)


async def test_an_order_naming_no_shipping_option_is_placed_on_the_stalls_zone(
    shop: Shop, buyer: ConduitBuyer
) -> None:
    pk = shop.merchant.public_key
    await send(shop, buyer, buyer.order(pk, "c-1", [("p1", 1)], 107, shipping=None))
    placed = await shop.order("c-1")
    assert (placed.status, placed.zone_id, placed.total_msat) == ("awaiting_payment", "zone-1",
                                                                  107_000)  # fmt: skip


async def test_the_same_conduit_order_twice_is_one_order_and_a_wrong_amount_is_refused(
    shop: Shop, buyer: ConduitBuyer
) -> None:
    pk = shop.merchant.public_key
    tags, content = buyer.order(pk, "c-1", [("p1", 2)], TWO_P1)
    wrap = buyer.wrapped(pk, 16, tags, content)
    assert (await ingest_event(shop.deps, shop.merchant, wrap)).verdict == "processed"
    assert (await ingest_event(shop.deps, shop.merchant, wrap)).reason == "duplicate"
    assert (await send(shop, buyer, (tags, content))).verdict == "ignored"  # sent again
    short = await send(shop, buyer, buyer.order(pk, "c-2", [("p1", 2)], 200))
    assert short.verdict == "rejected"
    (refusal,) = await buyer.inbox(shop, "c-2")
    assert (value(refusal, "type"), value(refusal, "status")) == ("status_update", "cancelled")
    assert "does not match the merchant's price" in json_content(refusal)["note"]
    assert len(await buyer.inbox(shop, "c-1")) == 1
