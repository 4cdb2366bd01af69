"""Plain-text messages: stored per customer with unread counts, the merchant's replies on
the customer's transport; the expiry sweeper driven by the clock."""

from __future__ import annotations

from nostrbazaar.crud.messages import list_customers, list_messages
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.services.chat import read_conversation, send_message
from nostrbazaar.services.payments import expire_due
from support.orders_fixtures import Customer, Shop, place


async def test_a_customers_messages_are_kept_with_an_unread_count(
    shop: Shop, customer: Customer
) -> None:
    for text in ("hello", "is p1 still available?"):
        event = customer.nip17(shop.merchant.public_key, text)
        assert (await ingest_event(shop.deps, shop.merchant, event)).verdict == "processed"
    [row] = await list_customers(shop.db, shop.merchant_id)
    assert (row.public_key, row.unread) == (customer.pubkey, 2)
    messages = await list_messages(shop.db, shop.merchant_id, customer.pubkey)
    assert [(m.direction, m.message, m.transport) for m in messages] == [
        ("in", "hello", "nip17"), ("in", "is p1 still available?", "nip17")]  # fmt: skip
    await read_conversation(shop.deps, shop.merchant_id, customer.pubkey)
    assert (await list_customers(shop.db, shop.merchant_id))[0].unread == 0


async def test_the_merchant_answers_on_the_transport_the_customer_used(shop: Shop) -> None:
    nip04, nip17 = Customer(), Customer()
    await ingest_event(shop.deps, shop.merchant, nip04.nip04(shop.merchant.public_key, "hi"))
    await ingest_event(shop.deps, shop.merchant, nip17.nip17(shop.merchant.public_key, "hi"))
    for who in (nip04, nip17):
        sent = await send_message(shop.deps, shop.merchant_id, who.pubkey, "hello back")
        assert (sent.direction, sent.message) == ("out", "hello back")
        assert await who.inbox(shop) == ["hello back"]
    kinds = [row["event"]["kind"] for row in await shop.outbox()]
    assert kinds == [4, 1059, 1059]  # NIP-17: the customer's wrap and the merchant's copy


async def test_the_sweeper_expires_invoices_whose_time_has_come(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    assert await expire_due(shop.deps) == 0
    later = shop.deps.now() + shop.deps.settings.invoice_expiry_seconds + 1
    shop.deps.clock = lambda: later
    assert await expire_due(shop.deps) == 1
    assert (await shop.order("o-1")).status == "expired"
    assert await shop.stock() == 5
    assert await expire_due(shop.deps) == 0
