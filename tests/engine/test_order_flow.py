"""The order path end to end in-process: order -> payment request -> payment -> paid ->
shipped, over NIP-04 and NIP-17, with the real FakeWallet and a real SQLite file."""

from __future__ import annotations

from typing import Any

import pytest
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.services.order_admin import ship_order
from nostrbazaar.services.payments import receive_payment
from support.orders_fixtures import Customer, Shop, order_content


async def pay(shop: Shop, bolt11: str) -> None:
    settlement = await shop.wallet.pay(bolt11)
    await receive_payment(shop.deps, settlement)


def payment_link(message: Any) -> str:
    assert message["type"] == 1, message
    return str(message["payment_options"][0]["link"])


@pytest.mark.parametrize("transport", ["nip04", "nip17"])
async def test_an_order_is_answered_paid_and_shipped_on_the_customers_transport(
    shop: Shop, customer: Customer, transport: str
) -> None:
    content = order_content("o-1", [("p1", 2)])
    make = customer.nip04 if transport == "nip04" else customer.nip17
    verdict = await ingest_event(shop.deps, shop.merchant, make(shop.merchant.public_key, content))
    assert verdict.verdict == "processed", verdict
    order = await shop.order("o-1")
    # 2 x 100 sat + 2 x 2 sat product shipping + 5 sat zone = 209 sat
    assert (order.status, order.total_msat, order.transport) == (
        "awaiting_payment",
        209_000,
        transport,
    )
    assert await shop.stock() == 3
    [request] = await customer.inbox(shop, "o-1")
    await pay(shop, payment_link(request))
    assert (await shop.order("o-1")).status == "paid"
    await ship_order(shop.deps, shop.merchant_id, "o-1", "sent by post")
    messages = await customer.inbox(shop, "o-1")
    assert [m["type"] for m in messages] == [1, 2, 2]
    assert (messages[1]["paid"], messages[1]["shipped"]) == (True, False)
    assert (messages[2]["shipped"], messages[2]["message"]) == (True, "sent by post")
    assert (await shop.order("o-1")).status == "shipped"
    assert await shop.stock() == 3
    rows = await shop.outbox("o-1")
    assert len(rows) == (3 if transport == "nip04" else 6)  # NIP-17: a copy to self each
