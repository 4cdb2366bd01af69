"""Invariant 6: only the merchant's own signed messages (and settled payments) move an order
to paid or shipped; nothing a customer sends can, however it is dressed up."""

from __future__ import annotations

import json
from typing import Any

import nostr_sdk as sdk
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.nostr import nip44, nip59
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.keys import PrivateKey
from support.orders_fixtures import Customer, Shop, current_bolt11, place


def status(order_id: str, paid: bool = True, shipped: bool = False) -> str:
    return json.dumps({"id": order_id, "type": 2, "paid": paid, "shipped": shipped,
                       "message": "trust me"})  # fmt: skip


def second_device(shop: Shop) -> sdk.Keys:
    """The merchant's key in another client (nostr-sdk), as a second device would hold it."""
    return sdk.Keys.parse(shop.merchant.key.hex)


def merchant_kind4(shop: Shop, customer: Customer, content: str) -> dict[str, Any]:
    keys, to = second_device(shop), sdk.PublicKey.parse(customer.pubkey)
    encrypted = sdk.nip04_encrypt(keys.secret_key(), to, content)
    event = sdk.EventBuilder(sdk.Kind(4), encrypted).tags([sdk.Tag.public_key(to)]).finalize(keys)
    return dict(json.loads(event.as_json()))


async def test_a_customers_forged_paid_and_shipped_message_changes_nothing(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    forged = customer.nip04(shop.merchant.public_key, status("o-1", True, True))
    verdict = await ingest_event(shop.deps, shop.merchant, forged)
    assert verdict.verdict == "rejected" and "only the merchant" in (verdict.reason or "")
    order = await shop.order("o-1")
    assert (order.status, order.paid, order.shipped) == ("awaiting_payment", False, False)
    assert await shop.db.fetchall("SELECT * FROM payments") == []


async def test_a_customers_status_message_about_someone_elses_order_changes_nothing(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    intruder = Customer()
    forged = intruder.nip17(shop.merchant.public_key, status("o-1"))
    verdict = await ingest_event(shop.deps, shop.merchant, forged)
    assert verdict.verdict == "rejected"
    assert (await shop.order("o-1")).status == "awaiting_payment"


async def test_a_customers_payment_request_does_not_replace_the_invoice(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    before = await current_bolt11(shop, "o-1")
    fake = json.dumps({"id": "o-1", "type": 1,
                       "payment_options": [{"type": "ln", "link": "lnbc1fake"}]})  # fmt: skip
    verdict = await ingest_event(
        shop.deps, shop.merchant, customer.nip04(shop.merchant.public_key, fake)
    )
    assert verdict.verdict == "rejected"
    assert await current_bolt11(shop, "o-1") == before


async def test_a_gift_wrap_impersonating_the_merchant_is_refused(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    impostor = PrivateKey.generate()
    rumor = nip59.make_rumor(shop.merchant.public_key, 14, status("o-1", True, True),
                             [["p", customer.pubkey]])  # fmt: skip
    key = nip44.conversation_key(impostor, shop.merchant.public_key)
    sealed = sign_event(impostor, 13, nip44.encrypt(rumor.to_json(), key))  # the wrong signer
    wrap = nip59.gift_wrap(sealed, shop.merchant.public_key)
    verdict = await ingest_event(shop.deps, shop.merchant, wrap.to_dict())
    assert verdict.verdict == "rejected" and "unwrap" in (verdict.reason or "")
    assert (await shop.order("o-1")).status == "awaiting_payment"


async def test_the_merchants_own_signed_status_message_moves_the_order(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    paid = merchant_kind4(shop, customer, status("o-1", paid=True))
    assert (await ingest_event(shop.deps, shop.merchant, paid)).verdict == "outgoing"
    order = await shop.order("o-1")
    assert (order.status, order.paid) == ("paid", True)
    payments = await shop.db.fetchall("SELECT source, outcome FROM payments")
    assert [tuple(row) for row in payments] == [("merchant", "paid")]
    shipped = merchant_kind4(shop, customer, status("o-1", paid=True, shipped=True))
    await ingest_event(shop.deps, shop.merchant, shipped)
    assert (await shop.order("o-1")).status == "shipped"
    # the merchant already told the customer; no second message is queued
    assert [m["type"] for m in await customer.inbox(shop, "o-1")] == [1]


async def test_the_merchants_own_message_echoed_back_by_a_relay_changes_nothing(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    [row] = await shop.outbox("o-1")
    verdict = await ingest_event(shop.deps, shop.merchant, row["event"])
    assert verdict.verdict == "outgoing"
    versions = await shop.db.fetchone("SELECT MAX(version) FROM order_events")
    assert versions is not None and versions[0] == 3
    messages = await shop.db.fetchall("SELECT direction FROM direct_messages ORDER BY id")
    assert [row[0] for row in messages] == ["out", "in"]


def texts(messages: list[Any]) -> list[str]:
    return [message for message in messages if isinstance(message, str)]


async def test_a_customer_whose_status_update_is_refused_is_told_why_over_nip04(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    forged = customer.nip04(shop.merchant.public_key, status("o-1", True, True))
    await ingest_event(shop.deps, shop.merchant, forged)
    [answer] = texts(await customer.inbox(shop))
    assert "type 2" in answer and "only the merchant" in answer and "o-1" in answer
    [row] = [r for r in await shop.outbox() if r["order_id"] is None]
    assert row["event"]["kind"] == 4  # the transport the customer used
    assert (await shop.order("o-1")).status == "awaiting_payment"


async def test_a_customer_whose_payment_request_is_refused_is_told_why_over_nip17(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    fake = json.dumps({"id": "o-1", "type": 1,
                       "payment_options": [{"type": "ln", "link": "lnbc1fake"}]})  # fmt: skip
    await ingest_event(shop.deps, shop.merchant, customer.nip17(shop.merchant.public_key, fake))
    [answer] = texts(await customer.inbox(shop))
    assert "type 1" in answer and "only the merchant" in answer
    kinds = {r["event"]["kind"] for r in await shop.outbox() if r["order_id"] is None}
    assert kinds == {1059}


async def test_an_intruder_is_told_why_without_being_shown_the_order(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    intruder = Customer()
    await ingest_event(shop.deps, shop.merchant,
                       intruder.nip04(shop.merchant.public_key, status("o-1")))  # fmt: skip
    [answer] = await intruder.inbox(shop)
    assert isinstance(answer, str) and "only the merchant" in answer
    assert "awaiting" not in answer and "sat" not in answer
    assert [m["type"] for m in await customer.inbox(shop, "o-1")] == [1]  # nothing new for them


async def test_a_restore_does_not_answer_an_old_refused_status_update_again(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    forged = customer.nip04(shop.merchant.public_key, status("o-1", True, True))
    verdict = await ingest_event(shop.deps, shop.merchant, forged, restore=True)
    assert verdict.verdict == "rejected"
    assert texts(await customer.inbox(shop)) == []
