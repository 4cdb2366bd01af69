"""Gamma market spec orders through the whole ingest path: a real SQLite file, the real
FakeWallet, and a buyer on nostr-sdk (`support/gamma_buyer.py` names the spec example or
the Plebeian Market file each message is modelled on).

The shop sells `p1` at 100 sat (+2 sat shipping each) to zone `zone-1` (5 sat): two
units cost 209 sat.
"""

from __future__ import annotations

from typing import Any

import pytest
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services import lnurl
from nostrbazaar.services.order_admin import complete_order, ship_order
from nostrbazaar.services.payments import receive_payment
from nostrbazaar.wallets.fake import FakeWallet
from support.gamma_buyer import GammaBuyer, kinds_and_types, tag, value
from support.orders_fixtures import Customer, Shop, pay, place

TWO_P1 = 209  # sat: 2 x 100 + 2 x 2 shipping + 5 for the zone


@pytest.fixture
def buyer() -> GammaBuyer:
    return GammaBuyer()


async def send(shop: Shop, event: dict[str, Any]) -> Any:
    return await ingest_event(shop.deps, shop.merchant, event)


async def order(shop: Shop, buyer: GammaBuyer, order_id: str, qty: int = 2, **kw: Any) -> Any:
    amount = kw.pop("amount", TWO_P1 if qty == 2 else 100 * qty + 2 * qty + 5)
    tags = buyer.spec_order(shop.merchant.public_key, order_id, [("p1", qty)], amount, **kw)
    return await send(shop, buyer.wrapped(shop.merchant.public_key, 16, tags, "gift wrap it"))


async def test_a_gamma_order_is_asked_for_payment_then_confirmed_shipped_and_completed(
    shop: Shop, buyer: GammaBuyer
) -> None:
    verdict = await order(shop, buyer, "g-1")
    assert (verdict.verdict, verdict.order_id) == ("processed", "g-1")
    placed = await shop.order("g-1")
    assert (placed.status, placed.dialect) == ("awaiting_payment", "gamma")
    assert placed.transport == "nip17"
    assert (placed.total_msat, placed.contact["email"]) == (209_000, "buyer@example.com")
    assert await shop.stock() == 3
    (request,) = await buyer.inbox(shop, "g-1")
    assert (request["kind"], request["sender"]) == (16, shop.merchant.public_key)
    assert [value(request, name) for name in ("type", "order", "amount")] == ["2", "g-1", "209"]
    assert tag(request, "payment") == ["payment", "lightning", placed.bolt11]
    assert value(request, "expiration") == await _expiry(shop, "g-1")
    await pay(shop, placed.bolt11 or "")
    await ship_order(shop.deps, shop.merchant_id, "g-1", "posted today", "RR123PT", "CTT")
    await complete_order(shop.deps, shop.merchant_id, "g-1")
    rumors = await buyer.inbox(shop, "g-1")
    assert kinds_and_types(rumors) == [
        (16, "2", None), (16, "3", "confirmed"), (16, "4", "shipped"), (16, "3", "completed"),
    ]  # fmt: skip
    shipped = rumors[2]
    assert (value(shipped, "tracking"), value(shipped, "carrier")) == ("RR123PT", "CTT")
    assert shipped["content"] == "posted today"
    assert (await shop.order("g-1")).status == "completed"


async def _expiry(shop: Shop, order_id: str) -> str:
    row = await shop.db.fetchone("SELECT expires_at FROM invoices WHERE order_id = ?", (order_id,))
    assert row is not None
    return str(row["expires_at"])


async def refusal_of(buyer: GammaBuyer, shop: Shop, order_id: str) -> dict[str, Any]:
    (reply,) = [r for r in await buyer.inbox(shop) if value(r, "order") == order_id]
    assert (reply["kind"], value(reply, "type"), value(reply, "status")) == (16, "3", "cancelled")
    return reply


@pytest.mark.parametrize(
    ("kw", "reason"),
    [
        ({"qty": 6}, "not enough stock"),
        ({"amount": 200}, "amount (200 sat) does not match the merchant's price (209 sat)"),
        ({"shipping": "zone-x"}, "unknown shipping zone zone-x"),
    ],
)  # fmt: skip
async def test_an_order_that_cannot_be_sold_is_cancelled_with_the_reason(
    shop: Shop, buyer: GammaBuyer, kw: dict[str, Any], reason: str
) -> None:
    verdict = await order(shop, buyer, "g-no", **kw)
    assert verdict.verdict == "rejected" and reason in (verdict.reason or "")
    assert (await shop.order("g-no")).status == "rejected"
    reply = await refusal_of(buyer, shop, "g-no")
    assert reply["content"].startswith("Order g-no refused: ") and reason in reply["content"]
    assert await shop.stock() == 5


async def test_an_unknown_listing_is_refused_with_the_reason(shop: Shop, buyer: GammaBuyer) -> None:
    pk = shop.merchant.public_key
    ghost = buyer.spec_order(pk, "g-ghost", [("p9", 1)], 107)
    other = buyer.spec_order(pk, "g-other", [("p1", 1)], 107)
    other[5] = ["item", f"30402:{'ab' * 32}:p1", "1"]  # another merchant's listing
    await send(shop, buyer.wrapped(pk, 16, ghost))
    await send(shop, buyer.wrapped(pk, 16, other))
    assert "unknown product p9" in (await refusal_of(buyer, shop, "g-ghost"))["content"]
    assert "unknown listing 30402:abab" in (await refusal_of(buyer, shop, "g-other"))["content"]
    assert [(await shop.order(i)).status for i in ("g-ghost", "g-other")] == ["rejected"] * 2


async def test_the_same_order_twice_is_one_order_with_one_answer(
    shop: Shop, buyer: GammaBuyer
) -> None:
    pk = shop.merchant.public_key
    wrap = buyer.wrapped(pk, 16, buyer.spec_order(pk, "g-1", [("p1", 2)], TWO_P1))
    assert (await send(shop, wrap)).verdict == "processed"
    assert (await send(shop, wrap)).reason == "duplicate"  # the same event, from a 2nd relay
    again = buyer.wrapped(pk, 16, buyer.spec_order(pk, "g-1", [("p1", 2)], TWO_P1))
    assert (await send(shop, again)).verdict == "ignored"  # the same order, sent again
    assert kinds_and_types(await buyer.inbox(shop)) == [(16, "2", None)]
    assert await shop.stock() == 3


async def test_a_buyer_cancels_before_paying_and_the_stock_comes_back(
    shop: Shop, buyer: GammaBuyer
) -> None:
    await order(shop, buyer, "g-1")
    pk = shop.merchant.public_key
    verdict = await send(shop, buyer.wrapped(pk, 16, buyer.plebeian_cancel(pk, "g-1"), "no"))
    assert verdict.verdict == "processed"
    cancelled = await shop.order("g-1")
    assert (cancelled.status, cancelled.reason) == ("cancelled", "no")
    assert await shop.stock() == 5
    last = (await buyer.inbox(shop, "g-1"))[-1]
    assert (value(last, "status"), last["content"]) == ("cancelled", "Order g-1 was cancelled. no")


async def test_a_paid_order_cannot_be_cancelled_by_the_buyer_and_they_are_told(
    shop: Shop, buyer: GammaBuyer
) -> None:
    await order(shop, buyer, "g-1")
    await pay(shop, (await shop.order("g-1")).bolt11 or "")
    pk = shop.merchant.public_key
    cancel = buyer.public(16, buyer.plebeian_cancel(pk, "g-1"), "Order status updated to cancelled")
    verdict = await send(shop, cancel)  # Plebeian's `updateOrderStatus` publishes it signed
    assert verdict.verdict == "rejected" and "already paid" in (verdict.reason or "")
    assert (await shop.order("g-1")).status == "paid"
    note = (await buyer.inbox(shop, "g-1"))[-1]
    assert (note["kind"], value(note, "subject")) == (14, "g-1")
    assert note["content"].startswith("Your cancellation for order g-1 was not applied: ")


async def test_someone_elses_order_cannot_be_cancelled(shop: Shop, buyer: GammaBuyer) -> None:
    await order(shop, buyer, "g-1")
    stranger, pk = GammaBuyer(), shop.merchant.public_key
    verdict = await send(shop, stranger.wrapped(pk, 16, stranger.plebeian_cancel(pk, "g-1")))
    assert verdict.reason == "there is no order g-1 of yours here"
    assert (await shop.order("g-1")).status == "awaiting_payment"


async def test_a_nip15_order_in_a_kind_14_stays_a_nip15_order(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "n-1", transport="nip17")
    assert (await shop.order("n-1")).dialect == "nip15"
    (reply,) = await customer.inbox(shop, "n-1")
    assert isinstance(reply, dict) and reply["type"] == 1  # a NIP-15 payment request


async def test_a_receipt_for_the_orders_own_invoice_pays_it_once(
    shop: Shop, buyer: GammaBuyer
) -> None:
    """The wallet's settlement has not reached us yet; the receipt makes us ask the wallet."""
    await order(shop, buyer, "g-1")
    bolt11, pk = (await shop.order("g-1")).bolt11 or "", shop.merchant.public_key
    settlement = await shop.wallet.pay(bolt11)
    receipt = buyer.plebeian_receipt(pk, "g-1", bolt11, TWO_P1)
    assert (await send(shop, buyer.wrapped(pk, 17, receipt))).verdict == "processed"
    assert (await shop.order("g-1")).status == "paid"
    assert await receive_payment(shop.deps, settlement) is None  # the stream, late: no change
    again = await send(shop, buyer.wrapped(pk, 17, receipt))
    assert "already counted" in (again.reason or "")
    assert kinds_and_types(await buyer.inbox(shop, "g-1"))[:2] == [
        (16, "2", None), (16, "3", "confirmed"),
    ]  # fmt: skip
    count = await shop.db.fetchone("SELECT COUNT(*) FROM payments")
    assert count is not None and count[0] == 1


# -- the lightning address and receipts (Plebeian Market's way of paying) -----------------


async def address_invoice(shop: Shop, sats: int) -> str:
    """An invoice from the merchant's lightning address, as a buyer's wallet gets it."""
    name = npub_encode(shop.merchant.public_key)
    answer = await lnurl.address_invoice(shop.deps, name, str(sats * 1000))
    return str(answer["pr"])


async def plebeian_order(shop: Shop, buyer: GammaBuyer, order_id: str) -> None:
    pk = shop.merchant.public_key
    details = buyer.plebeian_order(pk, order_id, [("p1", 2)], TWO_P1)
    await send(shop, buyer.wrapped(pk, 16, details))  # the wrap first, then the marker
    marker = await send(shop, buyer.plebeian_marker(pk, order_id, [("p1", 2)], TWO_P1))
    assert (marker.verdict, marker.order_id) == ("ignored", order_id)


@pytest.mark.parametrize("sent", ["wrapped", "public"])
async def test_a_plebeian_buyer_pays_the_lightning_address_and_the_receipt_confirms_it(
    shop: Shop, buyer: GammaBuyer, sent: str
) -> None:
    await plebeian_order(shop, buyer, "g-1")
    placed = await shop.order("g-1")
    assert (placed.name, placed.address) == ("Ann Buyer", "1 Road\n\nLisbon\n1000-001\nPT")
    bolt11 = await address_invoice(shop, TWO_P1)
    settlement = await shop.wallet.pay(bolt11)
    assert await receive_payment(shop.deps, settlement) is None  # waits for the receipt
    pk = shop.merchant.public_key
    tags = buyer.plebeian_receipt(pk, "g-1", bolt11, TWO_P1)
    event = buyer.wrapped(pk, 17, tags) if sent == "wrapped" else buyer.public(17, tags)
    assert (await send(shop, event)).verdict == "processed"
    assert ((await shop.order("g-1")).status, await shop.stock()) == ("paid", 3)
    payments = await shop.db.fetchall("SELECT payment_hash, source, outcome FROM payments")
    assert [tuple(row) for row in payments] == [
        (settlement.payment_hash, "lightning_address", "paid")
    ]
    used = await shop.db.fetchone("SELECT used_by_order FROM lnurl_invoices")
    assert used is not None and used[0] == "g-1"
    assert kinds_and_types(await buyer.inbox(shop, "g-1")) == [
        (16, "2", None), (16, "3", "confirmed"),
    ]  # fmt: skip
    assert await receive_payment(shop.deps, settlement) is None  # reported again: nothing


async def refused_receipt(shop: Shop, buyer: GammaBuyer, order_id: str, bolt11: str) -> str:
    """Send a receipt that must be refused; the reason, after checking nothing changed."""
    before = await shop.order(order_id)
    pk = shop.merchant.public_key
    event = buyer.wrapped(pk, 17, buyer.plebeian_receipt(pk, order_id, bolt11, TWO_P1))
    verdict = await send(shop, event)
    assert verdict.verdict == "rejected"
    after = await shop.order(order_id)
    assert (after.status, after.paid, after.version) == (before.status, before.paid, before.version)
    note = (await buyer.inbox(shop, order_id))[-1]
    assert (note["kind"], value(note, "subject")) == (14, order_id)
    expected = f"Your receipt for order {order_id} was not applied: {verdict.reason}."
    assert note["content"] == expected
    return verdict.reason or ""


async def test_a_receipt_for_an_invoice_this_merchant_never_issued_is_refused(
    shop: Shop, buyer: GammaBuyer, tmp_path: Any
) -> None:
    await plebeian_order(shop, buyer, "g-1")
    elsewhere = FakeWallet(tmp_path / "another-wallet")
    await elsewhere.start()
    try:
        foreign = (await elsewhere.create_invoice(TWO_P1 * 1000, "elsewhere", 600)).bolt11
        await elsewhere.pay(foreign)
    finally:
        await elsewhere.stop()
    reason = await refused_receipt(shop, buyer, "g-1", foreign)
    assert reason == "the invoice was not issued by this merchant"


async def test_a_receipt_for_an_unpaid_invoice_is_refused(shop: Shop, buyer: GammaBuyer) -> None:
    await plebeian_order(shop, buyer, "g-1")
    unpaid = await address_invoice(shop, TWO_P1)
    reason = await refused_receipt(shop, buyer, "g-1", unpaid)
    assert reason == "the wallet has not received this payment (the invoice is pending)"
    mine = (await shop.order("g-1")).bolt11 or ""  # the order's own invoice, unpaid too
    assert "has not received this payment" in await refused_receipt(shop, buyer, "g-1", mine)


async def test_a_receipt_for_too_small_an_invoice_is_refused(shop: Shop, buyer: GammaBuyer) -> None:
    await plebeian_order(shop, buyer, "g-1")
    small = await address_invoice(shop, 100)
    await shop.wallet.pay(small)
    reason = await refused_receipt(shop, buyer, "g-1", small)
    assert reason == "the invoice is for 100 sat, the order costs 209 sat"


async def test_an_invoice_that_paid_one_order_cannot_pay_a_second(
    shop: Shop, buyer: GammaBuyer
) -> None:
    await plebeian_order(shop, buyer, "g-1")
    await plebeian_order(shop, buyer, "g-2")
    bolt11 = await address_invoice(shop, TWO_P1)
    await shop.wallet.pay(bolt11)
    pk = shop.merchant.public_key
    receipt = buyer.wrapped(pk, 17, buyer.plebeian_receipt(pk, "g-1", bolt11, TWO_P1))
    assert (await send(shop, receipt)).verdict == "processed"
    reason = await refused_receipt(shop, buyer, "g-2", bolt11)
    assert reason == "the invoice was already used for an order"
    own = (await shop.order("g-1")).bolt11 or ""  # g-1's own invoice, named for g-2
    assert await refused_receipt(shop, buyer, "g-2", own) == "the invoice is for another order"
    assert (await refused_receipt(shop, buyer, "g-2", "lnbc1garbage")).startswith(
        "the payment is not a BOLT11 invoice"
    )


async def test_a_receipt_from_someone_else_for_your_order_is_refused(
    shop: Shop, buyer: GammaBuyer
) -> None:
    await plebeian_order(shop, buyer, "g-1")
    bolt11 = await address_invoice(shop, TWO_P1)
    await shop.wallet.pay(bolt11)
    thief, pk = GammaBuyer(), shop.merchant.public_key
    event = thief.wrapped(pk, 17, thief.plebeian_receipt(pk, "g-1", bolt11, TWO_P1))
    assert (await send(shop, event)).reason == "there is no order g-1 of yours here"
    assert (await shop.order("g-1")).status == "awaiting_payment"


async def test_a_receipt_without_a_lightning_payment_is_answered_with_the_reason(
    shop: Shop, buyer: GammaBuyer
) -> None:
    await plebeian_order(shop, buyer, "g-1")
    pk = shop.merchant.public_key
    tags = [["p", pk], ["subject", "order-receipt"], ["order", "g-1"],
            ["payment", "fiat", "bank-ref", "scan.png"], ["amount", "209"]]  # fmt: skip
    verdict = await send(shop, buyer.wrapped(pk, 17, tags))
    assert verdict.verdict == "rejected" and "payment media given: fiat" in (verdict.reason or "")
    note = (await buyer.inbox(shop))[-1]
    assert note["kind"] == 14 and "could not be read as a Gamma market message" in note["content"]
    assert (await shop.order("g-1")).status == "awaiting_payment"
