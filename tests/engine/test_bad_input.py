"""Every bad input gets a recorded verdict with its reason, an order gets a reason DM
(invariant 10), a bad signature changes nothing (invariant 1), and the loop goes on."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from nostrbazaar.engine.ingest import event_id_for_invalid, ingest_event
from support.orders_fixtures import Customer, Shop, order_content, place

Builder = Callable[[Shop, Customer], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Case:
    build: Builder
    reason: str
    answer: str | None  # "refusal" (type 1, no payment options), "text", or None


def nip04(content: str, **kw: Any) -> Builder:
    async def build(shop: Shop, customer: Customer) -> dict[str, Any]:
        return customer.nip04(shop.merchant.public_key, content, **kw)

    return build


def item(quantity: object) -> str:
    return json.dumps({"id": "o-1", "type": 0, "shipping_id": "zone-1", "address": "x",
                       "items": [{"product_id": "p1", "quantity": quantity}]})  # fmt: skip


async def second_stall(shop: Shop) -> None:
    now = int(time.time())
    async with shop.db.transaction() as conn:
        await conn.execute(
            "INSERT INTO stalls (id, merchant_id, name, currency, created_at, updated_at)"
            " VALUES ('stall-2', 'merchant-1', 'Other', 'sat', ?, ?)", (now, now))  # fmt: skip
        await conn.execute(
            "INSERT INTO zones (id, merchant_id, name, currency, cost, created_at, updated_at)"
            " VALUES ('zone-2', 'merchant-1', 'Far', 'sat', '1', ?, ?)", (now, now))  # fmt: skip
        await conn.execute("INSERT INTO stall_zones VALUES ('stall-2', 'zone-2')")
    await shop.product("other", "10", 5, stall="stall-2", zone_cost=None)


def needs_second_stall(content: str) -> Builder:
    async def build(shop: Shop, customer: Customer) -> dict[str, Any]:
        await second_stall(shop)
        return customer.nip04(shop.merchant.public_key, content)

    return build


def inactive() -> Builder:
    async def build(shop: Shop, customer: Customer) -> dict[str, Any]:
        await shop.product("off", "10", 5, active=False)
        return customer.nip04(shop.merchant.public_key, order_content("o-1", [("off", 1)]))

    return build


def undecryptable() -> Builder:
    async def build(shop: Shop, customer: Customer) -> dict[str, Any]:
        other = Customer()  # encrypted for someone else: the merchant's key cannot open it
        wrong = other.nip04(customer.pubkey, order_content("o-1"))["content"]
        return customer.signed_kind4(shop.merchant.public_key, wrong)

    return build


CASES: dict[str, Case] = {
    "malformed JSON": Case(nip04('{"id": "o-1", "type": 0,'), "not valid JSON", "text"),
    "unknown type": Case(nip04('{"id": "o-1", "type": 9}'), "unknown message type 9", "text"),
    "missing items": Case(nip04('{"id": "o-1", "type": 0, "shipping_id": "zone-1"}'),
                          "missing field 'items'", "refusal"),
    "zero quantity": Case(nip04(item(0)), "at least 1", "refusal"),
    "negative quantity": Case(nip04(item(-2)), "at least 1", "refusal"),
    "fractional quantity": Case(nip04(item(1.5)), "whole number", "refusal"),
    "huge quantity": Case(nip04(item(10**12)), "more than", "refusal"),
    "non-numeric quantity": Case(nip04(item("two")), "must be a number", "refusal"),
    "unknown product": Case(nip04(order_content("o-1", [("ghost", 1)])), "unknown product ghost",
                            "refusal"),
    "inactive product": Case(inactive(), "is not for sale", "refusal"),
    "products from two stalls": Case(
        needs_second_stall(order_content("o-1", [("p1", 1), ("other", 1)])),
        "more than one stall", "refusal"),
    "a zone of another stall": Case(needs_second_stall(order_content("o-1", zone="zone-2")),
                                    "not offered by this stall", "refusal"),
    "missing address for physical goods": Case(nip04(order_content("o-1", address=None)),
                                               "an address is required", "refusal"),
    "content over 64 KiB": Case(nip04("x" * 70_000), "larger than 64 KiB", "text"),
    "undecryptable content": Case(undecryptable(), "cannot decrypt", "text"),
    "created_at far in the future": Case(nip04(order_content("o-1"), created_at=2 * 10**9),
                                         "in the future", "refusal"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CASES))
async def test_each_bad_input_gets_a_verdict_with_its_reason_and_an_order_gets_an_answer(
    shop: Shop, customer: Customer, warnings: list[str], name: str
) -> None:
    case = CASES[name]
    event = await case.build(shop, customer)
    verdict = await ingest_event(shop.deps, shop.merchant, event)
    assert verdict.verdict == "rejected"
    stored = (await shop.verdicts())[event["id"]]
    assert stored[0] == "rejected" and case.reason in (stored[1] or ""), stored
    answers = await customer.inbox(shop)
    if case.answer is None:
        assert answers == []
    elif case.answer == "text":
        assert len(answers) == 1 and isinstance(answers[0], str)
        assert case.reason in answers[0]
    else:
        [refusal] = answers
        assert (refusal["type"], refusal["payment_options"]) == (1, [])
        assert case.reason in refusal["message"]
    assert await shop.stock() == 5
    assert any(case.reason in message for message in warnings) or case.answer is not None
    follow_up = await place(shop, Customer(), "next")  # the pipeline carries on
    assert follow_up.verdict == "processed"


@pytest.mark.parametrize("name", ["content over 64 KiB", "undecryptable content"])
async def test_a_restore_tells_nobody_about_old_unreadable_messages(
    shop: Shop, customer: Customer, name: str
) -> None:
    event = await CASES[name].build(shop, customer)
    verdict = await ingest_event(shop.deps, shop.merchant, event, restore=True)
    assert verdict.verdict == "rejected"
    assert await customer.inbox(shop) == []  # they were told when it first arrived


async def test_an_unreadable_message_to_someone_else_gets_no_answer(
    shop: Shop, customer: Customer
) -> None:
    other = Customer()
    event = customer.signed_kind4(other.pubkey, "x" * 70_000)  # not addressed to the shop
    await ingest_event(shop.deps, shop.merchant, event)
    assert await customer.inbox(shop) == []


async def test_a_bad_signature_is_kept_as_rejected_and_nothing_else_happens(
    shop: Shop, customer: Customer
) -> None:
    event = customer.nip04(shop.merchant.public_key, order_content("o-1"))
    forged = event | {"sig": "00" * 64}
    verdict = await ingest_event(shop.deps, shop.merchant, forged)
    assert (verdict.verdict, verdict.reason) == ("rejected", "bad signature")
    stored = await shop.verdicts()
    assert stored == {event_id_for_invalid(forged): ("rejected", "bad signature")}
    assert await shop.db.fetchall("SELECT * FROM orders") == []
    assert await shop.outbox() == []
    # the real event, arriving later, is not blocked by the forgery that claimed its id
    real = await ingest_event(shop.deps, shop.merchant, event)
    assert real.verdict == "processed"


async def test_a_tampered_event_whose_id_does_not_match_is_rejected(
    shop: Shop, customer: Customer
) -> None:
    event = customer.nip04(shop.merchant.public_key, order_content("o-1"))
    verdict = await ingest_event(shop.deps, shop.merchant, event | {"created_at": 1})
    assert (verdict.verdict, verdict.reason) == (
        "rejected",
        "id does not match the event's content",
    )
    assert await shop.db.fetchall("SELECT * FROM orders") == []


async def test_an_order_id_reused_with_different_items_is_refused_and_changes_nothing(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1", [("p1", 1)])
    other = Customer()
    verdict = await place(shop, other, "o-1", [("p1", 3)])
    assert (verdict.verdict, verdict.reason) == (
        "rejected", "order id o-1 is already used for a different order")  # fmt: skip
    [refusal] = await other.inbox(shop)
    assert refusal["payment_options"] == [] and "already used" in refusal["message"]
    order = await shop.order("o-1")
    assert (order.public_key, order.items) == (
        customer.pubkey,
        [{"product_id": "p1", "quantity": 1}],
    )
    assert await shop.stock() == 4


async def test_a_flood_of_unpaid_orders_from_one_key_is_refused_past_the_limit(
    shop: Shop, customer: Customer
) -> None:
    limit = shop.deps.settings.max_open_orders_per_customer
    for n in range(limit):
        assert (await place(shop, customer, f"o-{n}")).verdict == "processed"
    verdict = await place(shop, customer, "one-too-many")
    assert verdict.verdict == "rejected" and "unpaid orders" in (verdict.reason or "")
    assert (await shop.order("one-too-many")).status == "rejected"
    assert "unpaid orders" in (await customer.inbox(shop, "one-too-many"))[0]["message"]
    assert await shop.stock() == 5 - limit
