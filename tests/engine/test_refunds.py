"""Cancelling an order cancels its invoice; money that still arrives for a closed order is
`refund_needed`, and the merchant records the refund with a note (a `RefundRecorded`
event in the log, a message to the customer in the order's dialect)."""

from __future__ import annotations

import json
import time

import pytest
from nostrbazaar.crud.uow import unit_of_work
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.orders.commands import ReceiveAddressPayment
from nostrbazaar.orders.errors import IllegalTransition
from nostrbazaar.services.order_admin import (
    cancel_order,
    record_refund,
    reissue_invoice,
    ship_order,
)
from nostrbazaar.services.order_store import execute
from nostrbazaar.services.payments import receive_payment
from nostrbazaar.services.rebuild import rebuild_projections
from nostrbazaar.wallets.base import InvoiceState, Settlement
from nostrbazaar.wallets.fake import InvoiceNotPayable
from support.gamma_buyer import GammaBuyer
from support.orders_fixtures import (
    Customer,
    Shop,
    current_bolt11,
    pay,
    place,
    snapshot,
)


async def arrives_anyway(shop: Shop, order_id: str) -> None:
    """Money for the order's invoice, as a wallet that cannot cancel (LNbits, NWC) reports."""
    order = await shop.order(order_id)
    assert order.payment_hash is not None
    settled = Settlement(order.payment_hash, order.total_msat, int(time.time()))
    await receive_payment(shop.deps, settled)


async def refund_due(shop: Shop, customer: Customer) -> None:
    """Order o-1, cancelled, then paid anyway: it owes the customer its total."""
    await place(shop, customer, "o-1")
    await cancel_order(shop.deps, shop.merchant_id, "o-1", "out of season")
    await arrives_anyway(shop, "o-1")


async def test_cancelling_an_order_cancels_its_invoice_so_the_fake_wallet_refuses_it(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    bolt11 = await current_bolt11(shop, "o-1")
    await cancel_order(shop.deps, shop.merchant_id, "o-1")
    order = await shop.order("o-1")
    assert order.payment_hash is not None
    status = await shop.wallet.get_invoice_status(order.payment_hash)
    assert status.state is InvoiceState.CANCELLED
    with pytest.raises(InvoiceNotPayable, match="cancelled"):
        await pay(shop, bolt11)
    assert (await shop.order("o-1")).status == "cancelled"


async def test_a_buyer_cancelling_a_gamma_order_cancels_its_invoice_too(shop: Shop) -> None:
    buyer, pk = GammaBuyer(), shop.merchant.public_key
    tags = buyer.spec_order(pk, "g-1", [("p1", 2)], 209)
    await ingest_event(shop.deps, shop.merchant, buyer.wrapped(pk, 16, tags, ""))
    cancel = buyer.wrapped(pk, 16, buyer.plebeian_cancel(pk, "g-1"))
    await ingest_event(shop.deps, shop.merchant, cancel)
    order = await shop.order("g-1")
    assert order.status == "cancelled" and order.payment_hash is not None
    status = await shop.wallet.get_invoice_status(order.payment_hash)
    assert status.state is InvoiceState.CANCELLED


async def test_money_that_still_arrives_for_a_cancelled_order_needs_a_refund(
    shop: Shop, customer: Customer
) -> None:
    await refund_due(shop, customer)
    order = await shop.order("o-1")
    assert (order.status, order.refund_msat) == ("refund_needed", order.total_msat)


async def test_recording_the_refund_closes_the_order_with_the_note_and_tells_the_customer(
    shop: Shop, customer: Customer
) -> None:
    await refund_due(shop, customer)
    owed = (await shop.order("o-1")).total_msat
    row = await record_refund(shop.deps, shop.merchant_id, "o-1", "sent to your address")
    assert (row.status, row.refund_msat) == ("refunded", 0)
    log = await shop.db.fetchall(
        "SELECT type, data FROM order_events WHERE order_id = 'o-1' ORDER BY version"
    )
    assert (log[-1][0], json.loads(log[-1][1])) == (
        "RefundRecorded",
        {"amount_msat": owed, "note": "sent to your address", "by": "api"},
    )
    told = (await customer.inbox(shop, "o-1"))[-1]
    sats = owed // 1000
    assert (
        told["message"] == f"The merchant refunded {sats} sat for order o-1. sent to your address"
    )
    assert (told["type"], told["paid"], told["status"]) == (2, False, "refunded")


async def test_refunding_the_extra_payment_of_a_paid_order_leaves_it_paid_and_shippable(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    first = await current_bolt11(shop, "o-1")
    await reissue_invoice(shop.deps, shop.merchant_id, "o-1")
    await pay(shop, await current_bolt11(shop, "o-1"))
    await pay(shop, first)  # the superseded invoice paid as well
    assert (await shop.order("o-1")).status == "refund_needed"
    row = await record_refund(shop.deps, shop.merchant_id, "o-1")
    assert (row.status, row.paid, row.refund_msat) == ("paid", True, 0)
    shipped = await ship_order(shop.deps, shop.merchant_id, "o-1", "posted")
    assert shipped.status == "shipped"


@pytest.mark.parametrize("cancelled", [False, True])
async def test_an_order_that_owes_nothing_cannot_be_marked_refunded(
    shop: Shop, customer: Customer, cancelled: bool
) -> None:
    await place(shop, customer, "o-1")
    if cancelled:
        await cancel_order(shop.deps, shop.merchant_id, "o-1")
    with pytest.raises(IllegalTransition, match="nothing to refund"):
        await record_refund(shop.deps, shop.merchant_id, "o-1", "?")


async def test_money_arriving_after_the_refund_needs_a_refund_again(
    shop: Shop, customer: Customer
) -> None:
    await refund_due(shop, customer)
    await record_refund(shop.deps, shop.merchant_id, "o-1")
    claimed = ReceiveAddressPayment("a" * 64, 5_000)  # e.g. a receipt for the lightning address
    async with unit_of_work(shop.db) as conn:
        await execute(conn, shop.merchant_id, "o-1", claimed, "test", int(time.time()))
    again = await shop.order("o-1")
    assert (again.status, again.refund_msat) == ("refund_needed", 5_000)


async def test_a_refunded_order_rebuilds_from_its_log_to_the_same_row(
    shop: Shop, customer: Customer
) -> None:
    await refund_due(shop, customer)
    await record_refund(shop.deps, shop.merchant_id, "o-1", "done")
    live = await snapshot(shop.db)
    await rebuild_projections(shop.db, shop.merchant_id)
    assert await snapshot(shop.db) == live
