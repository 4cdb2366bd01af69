"""Money rules: integer millisatoshis, exact fiat with its rate (invariant 8), expiry,
reissue, late and double payments (refund_needed, never dropped), the start-up re-check."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from nostrbazaar.orders.errors import StockUnavailable
from nostrbazaar.services.bus import Notification
from nostrbazaar.services.order_admin import cancel_order, reissue_invoice
from nostrbazaar.services.payments import receive_payment, recheck_unsettled
from nostrbazaar.wallets.base import Settlement
from nostrbazaar.wallets.fake import InvoiceNotPayable
from support.orders_fixtures import (
    Customer,
    Shop,
    current_bolt11,
    expire,
    make_shop,
    pay,
    place,
)


def drain(queue: asyncio.Queue[Notification]) -> list[Notification]:
    notes = []
    while not queue.empty():
        notes.append(queue.get_nowait())
    return notes


async def test_a_late_payment_on_an_expired_order_is_honoured_while_stock_lasts(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1", [("p1", 2)])
    bolt11 = await current_bolt11(shop, "o-1")
    await expire(shop, "o-1")
    assert await shop.stock() == 5
    await pay(shop, bolt11)
    assert (await shop.order("o-1")).status == "paid"
    assert await shop.stock() == 3


async def test_a_late_payment_when_the_stock_is_gone_needs_a_refund_and_the_merchant_is_told(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1", [("p1", 5)])
    bolt11 = await current_bolt11(shop, "o-1")
    await expire(shop, "o-1")
    await place(shop, Customer(), "o-2", [("p1", 5)])  # someone else takes it all
    async with shop.deps.bus.subscribe(shop.merchant_id) as queue:
        await pay(shop, bolt11)
        notes = drain(queue)
    order = await shop.order("o-1")
    assert (order.status, order.paid, order.refund_msat) == (
        "refund_needed",
        False,
        order.total_msat,
    )
    [note] = [n.data for n in notes if n.data.get("refund_needed")]
    assert (note["amount_msat"], note["payment_hash"]) == (order.total_msat, order.payment_hash)
    payment = await shop.db.fetchone("SELECT outcome, amount_msat FROM payments")
    assert payment is not None and tuple(payment) == ("refund_needed", order.total_msat)
    told = (await customer.inbox(shop, "o-1"))[-1]
    assert "refund" in told["message"]
    assert await shop.stock() == 0


async def test_a_cancelled_orders_invoice_can_no_longer_be_paid(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    bolt11 = await current_bolt11(shop, "o-1")
    await cancel_order(shop.deps, shop.merchant_id, "o-1")
    invoice = await shop.db.fetchone("SELECT state FROM invoices")
    assert invoice is not None and invoice[0] == "expired"
    with pytest.raises(InvoiceNotPayable):  # cancelled at the wallet with the order
        await pay(shop, bolt11)
    assert (await shop.order("o-1")).status == "cancelled"
    assert await shop.stock() == 5
    # money that still arrives (a wallet that cannot cancel): tests/engine/test_refunds.py


async def test_paying_a_superseded_invoice_after_the_current_one_needs_a_refund(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    old = await current_bolt11(shop, "o-1")
    await reissue_invoice(shop.deps, shop.merchant_id, "o-1")
    await pay(shop, await current_bolt11(shop, "o-1"))
    await pay(shop, old)
    order = await shop.order("o-1")
    assert (order.status, order.paid, order.refund_msat) == (
        "refund_needed",
        True,
        order.total_msat,
    )
    rows = await shop.db.fetchall("SELECT outcome FROM payments ORDER BY created_at, outcome")
    assert sorted(row[0] for row in rows) == ["paid", "refund_needed"]


async def test_reissue_prices_afresh_supersedes_the_old_invoice_and_sends_a_new_request(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    old = await shop.order("o-1")
    async with shop.db.transaction() as conn:
        await conn.execute("UPDATE products SET price = '150' WHERE id = 'p1'")
    await reissue_invoice(shop.deps, shop.merchant_id, "o-1")
    new = await shop.order("o-1")
    assert new.total_msat == old.total_msat + 50_000
    assert new.payment_hash != old.payment_hash
    states = await shop.db.fetchall("SELECT payment_hash, state FROM invoices")
    expected = {old.payment_hash: "superseded", new.payment_hash: "current"}
    assert {r[0]: r[1] for r in states} == expected
    requests = [m for m in await customer.inbox(shop, "o-1") if m["type"] == 1]
    assert [r["payment_options"][0]["link"] for r in requests] == [old.bolt11, new.bolt11]


async def test_reissuing_an_expired_order_reserves_again_or_refuses_clearly(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1", [("p1", 3)])
    await expire(shop, "o-1")
    await reissue_invoice(shop.deps, shop.merchant_id, "o-1")
    assert ((await shop.order("o-1")).status, await shop.stock()) == ("awaiting_payment", 2)
    await expire(shop, "o-1")
    await place(shop, Customer(), "o-2", [("p1", 4)])
    before = await shop.order("o-1")
    with pytest.raises(StockUnavailable, match="not enough stock"):
        await reissue_invoice(shop.deps, shop.merchant_id, "o-1")
    assert await shop.order("o-1") == before


async def test_a_payment_made_while_the_processor_was_down_is_applied_once_at_start_up(
    tmp_path: Path, database_url: str | None
) -> None:
    shop = await make_shop(tmp_path / "shop", database_url=database_url)
    customer = Customer()
    await place(shop, customer, "o-1")
    await shop.wallet.pay(await current_bolt11(shop, "o-1"))  # nobody listening
    await shop.close()
    restarted = await make_shop(tmp_path / "shop", database_url=database_url)
    try:
        assert await recheck_unsettled(restarted.deps) == 1
        assert await recheck_unsettled(restarted.deps) == 0
        assert (await restarted.order("o-1")).status == "paid"
        payments = await restarted.db.fetchone("SELECT COUNT(*) FROM payments")
        assert payments is not None and payments[0] == 1
    finally:
        await restarted.close()


async def test_fiat_prices_become_integer_millisatoshis_with_the_rate_recorded(
    tmp_path: Path, database_url: str | None
) -> None:
    shop = await make_shop(
        tmp_path / "shop", fiat_rates={"EUR": Decimal("1234.5678")}, database_url=database_url
    )
    try:
        await shop.product("eur", "1.99", 5, currency="EUR", zone_cost=None)
        await place(shop, Customer(), "o-1", [("eur", 3)])
        order = await shop.order("o-1")
        # 5.97 EUR = 7370.369766 sat -> 7_370_370 msat (rounded up), plus 5 sat zone cost
        assert (order.subtotal_msat, order.shipping_msat) == (7_370_370, 5_000)
        assert isinstance(order.total_msat, int) and order.total_msat == 7_375_370
        assert (order.currency, order.fiat_rate, order.fiat_amount) == ("EUR", "1234.5678", None)
    finally:
        await shop.close()


async def test_a_currency_without_a_rate_is_refused_clearly(shop: Shop, customer: Customer) -> None:
    await shop.product("yen", "100", 5, currency="JPY")
    verdict = await place(shop, customer, "o-1", [("yen", 1)])
    assert verdict.verdict == "rejected" and "no exchange rate for JPY" in (verdict.reason or "")


async def test_payment_sends_the_paid_message_then_autoreplies_and_republishes_the_product(
    shop: Shop, customer: Customer
) -> None:
    await shop.product("book", "20", 4, autoreply="Your download link: https://example.com/dl")
    await place(shop, customer, "o-1", [("book", 1)])
    await pay(shop, await current_bolt11(shop, "o-1"))
    messages = await customer.inbox(shop, "o-1")
    assert [m if isinstance(m, str) else m["type"] for m in messages] == [
        1, 2, "Your download link: https://example.com/dl"]  # fmt: skip
    products = [r for r in await shop.outbox() if r["event"]["kind"] == 30018]
    assert len(products) == 1 and '"quantity":3' in products[0]["event"]["content"]


async def test_money_for_an_unknown_invoice_is_recorded_not_dropped(
    shop: Shop, warnings: list[str]
) -> None:
    assert await receive_payment(shop.deps, Settlement("ab" * 32, 21_000, 1)) is None
    row = await shop.db.fetchone("SELECT outcome, amount_msat FROM payments")
    assert row is not None and tuple(row) == ("unmatched", 21_000)
    assert any("matches no invoice" in w for w in warnings)
