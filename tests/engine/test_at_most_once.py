"""Invariant 2: the same event delivered twice, from two relays, or concurrently, and the
same payment reported twice, change state once."""

from __future__ import annotations

import asyncio

import pytest
from nostrbazaar.engine.ingest import ingest_event, process
from nostrbazaar.nostr.event import parse_event
from nostrbazaar.services.payments import receive_payment, recheck_unsettled
from nostrbazaar.storage.engines import IntegrityError
from support.orders_fixtures import Customer, Shop, current_bolt11, order_content


async def counts(shop: Shop) -> tuple[int, int, int, int]:
    rows = [
        await shop.db.fetchone(sql)
        for sql in (
            "SELECT COUNT(*) FROM orders",
            "SELECT COUNT(*) FROM order_events",
            "SELECT COUNT(*) FROM outbox",
            "SELECT COUNT(*) FROM invoices",
        )
    ]
    return tuple(int(row[0]) for row in rows if row is not None)  # type: ignore[return-value]


async def test_the_same_event_from_two_relays_places_one_order(
    shop: Shop, customer: Customer
) -> None:
    event = customer.nip04(shop.merchant.public_key, order_content("o-1"))
    first = await ingest_event(shop.deps, shop.merchant, event, "ws://relay-a")
    second = await ingest_event(shop.deps, shop.merchant, event, "ws://relay-b")
    assert (first.verdict, second.verdict, second.reason) == ("processed", "ignored", "duplicate")
    assert await counts(shop) == (1, 3, 1, 1)
    assert await shop.stock() == 4


async def test_the_same_event_delivered_concurrently_changes_state_once(
    shop: Shop, customer: Customer
) -> None:
    event = customer.nip17(shop.merchant.public_key, order_content("o-1"))
    verdicts = await asyncio.gather(
        *(ingest_event(shop.deps, shop.merchant, event, f"ws://r{n}") for n in range(5))
    )
    assert sorted(v.verdict for v in verdicts) == ["ignored"] * 4 + ["processed"]
    assert await counts(shop) == (1, 3, 2, 1)  # NIP-17: the reply and the copy to self
    assert await shop.stock() == 4


async def test_the_same_order_sent_again_as_a_new_event_is_ignored(
    shop: Shop, customer: Customer
) -> None:
    content = order_content("o-1")
    await ingest_event(shop.deps, shop.merchant, customer.nip04(shop.merchant.public_key, content))
    again = customer.nip04(shop.merchant.public_key, content)
    verdict = await ingest_event(shop.deps, shop.merchant, again)
    assert (verdict.verdict, verdict.reason) == ("ignored", "order o-1 was already received")
    assert await counts(shop) == (1, 3, 1, 1)


async def test_a_payment_reported_by_the_stream_and_by_a_look_up_counts_once(
    shop: Shop, customer: Customer
) -> None:
    event = customer.nip04(shop.merchant.public_key, order_content("o-1"))
    await ingest_event(shop.deps, shop.merchant, event)
    settlement = await shop.wallet.pay(await current_bolt11(shop, "o-1"))
    results = await asyncio.gather(
        receive_payment(shop.deps, settlement), receive_payment(shop.deps, settlement)
    )
    assert sum(result is not None for result in results) == 1
    assert await recheck_unsettled(shop.deps) == 0
    payments = await shop.db.fetchall("SELECT amount_msat FROM payments")
    assert [row[0] for row in payments] == [(await shop.order("o-1")).total_msat]
    assert (await shop.order("o-1")).status == "paid"
    assert [m["type"] for m in await customer.inbox(shop, "o-1")] == [1, 2]


async def test_an_event_already_applied_is_not_applied_again_when_processed_twice(
    shop: Shop, customer: Customer
) -> None:
    raw = customer.nip04(shop.merchant.public_key, order_content("o-1"))
    await ingest_event(shop.deps, shop.merchant, raw)
    before = await counts(shop)
    event = parse_event(raw)
    # a retry racing with the worker that already applied it: the inbox claim refuses
    again = await asyncio.gather(*(process(shop.deps, shop.merchant, event) for _ in range(3)))
    assert {v.reason for v in again} == {"already handled by another delivery"}
    assert await counts(shop) == before


async def test_the_database_refuses_to_record_the_same_payment_twice(
    shop: Shop, customer: Customer
) -> None:
    await ingest_event(shop.deps, shop.merchant, customer.nip04(shop.merchant.public_key,
                                                                order_content("o-1")))  # fmt: skip
    await receive_payment(shop.deps, await shop.wallet.pay(await current_bolt11(shop, "o-1")))
    with pytest.raises(IntegrityError, match=r"(?i)unique"):
        async with shop.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO payments (payment_hash, amount_msat, source, outcome, created_at)"
                " SELECT payment_hash, amount_msat, source, outcome, created_at FROM payments"
            )
