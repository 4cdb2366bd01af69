"""An inactive merchant refuses new orders at once, with the reason, and queues nothing;
its open orders go on. Its messages are still read (over a real relay too)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.order_drafts import NOT_TAKING_ORDERS
from support.orders_fixtures import (
    Customer,
    Shop,
    create_catalogue,
    current_bolt11,
    order_content,
    pay,
    place,
    settings_for,
)
from support.relay_customer import RelayCustomer, of_type


async def set_active(shop: Shop, active: bool) -> Shop:
    async with shop.db.transaction() as conn:
        await conn.execute(
            "UPDATE merchants SET active = ? WHERE id = ?", (int(active), "merchant-1")
        )
    shop.deps.merchants.forget(shop.merchant_id)
    return replace(shop, merchant=await shop.deps.merchants.get(shop.merchant_id))


async def test_an_order_to_an_inactive_merchant_is_refused_at_once_with_the_reason(
    shop: Shop, customer: Customer
) -> None:
    closed = await set_active(shop, False)
    verdict = await place(closed, customer, "o-1")
    assert (verdict.verdict, verdict.reason) == ("rejected", NOT_TAKING_ORDERS)
    assert (await shop.order("o-1")).status == "rejected"
    told = (await customer.inbox(shop, "o-1"))[0]
    assert told["payment_options"] == [] and NOT_TAKING_ORDERS in told["message"]
    invoices = await shop.db.fetchone("SELECT COUNT(*) FROM invoices")
    assert invoices is not None and invoices[0] == 0  # no invoice was minted
    assert await shop.stock() == 5


async def test_switching_back_on_invoices_nothing_that_was_refused(
    shop: Shop, customer: Customer
) -> None:
    closed = await set_active(shop, False)
    await place(closed, customer, "o-1")
    reopened = await set_active(shop, True)
    assert (await place(reopened, customer, "o-2")).verdict == "processed"
    statuses = await shop.db.fetchall("SELECT id, status FROM orders ORDER BY id")
    assert [tuple(row) for row in statuses] == [("o-1", "rejected"), ("o-2", "awaiting_payment")]


async def test_an_open_order_of_a_merchant_switched_off_is_still_paid(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    await set_active(shop, False)
    await pay(shop, await current_bolt11(shop, "o-1"))
    assert (await shop.order("o-1")).status == "paid"


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    started = EmbeddedRelay()
    await started.start()
    yield started
    await started.stop()


async def test_an_inactive_merchant_is_still_watched_and_refuses_over_the_relay(
    tmp_path: Path, relay: EmbeddedRelay, database_url: str | None
) -> None:
    key = PrivateKey.generate()
    settings = settings_for(tmp_path / "shop", relays=(relay.url,), database_url=database_url)
    runtime = Runtime(settings)
    await runtime.start()
    customer = RelayCustomer([relay.url])
    try:
        await create_catalogue(runtime.db, runtime.keystore, key)
        await runtime.merchant_changed("merchant-1")  # watched while it takes orders ...
        async with runtime.db.transaction() as conn:  # ... then switched off
            await conn.execute("UPDATE merchants SET active = 0")
        await runtime.merchant_changed("merchant-1")
        await customer.connect()
        await customer.send(customer.me.nip04(key.public_key, order_content("o-1")))
        replies = await customer.wait_for(key.public_key, lambda r: bool(of_type(r, 1)))
        assert NOT_TAKING_ORDERS in of_type(replies, 1)[0]["message"]
        assert of_type(replies, 1)[0]["payment_options"] == []
    finally:
        await customer.close()
        await runtime.stop()
