"""Invariant 9's other half: the outbox publisher delivers what was committed, records
each relay's answer, retries with backoff, and gives up visibly only after the bounded
number of attempts — an hour with every relay down loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from nostrbazaar import publisher as publisher_module
from nostrbazaar.bus import Bus
from nostrbazaar.crud.outbox import OutboxRow
from nostrbazaar.db import Database
from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.relay import PublishResult
from nostrbazaar.publisher import Publisher
from support.orders_fixtures import Customer, Shop, place


class Relays:
    """Stands in for the pool: each relay is up or down, and every call is remembered."""

    def __init__(self, up: dict[str, bool]) -> None:
        self.up = up
        self.calls: list[str] = []

    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]:
        self.calls.append(event.id)
        return {
            url: PublishResult(url, ok, "" if ok else "not connected: disconnected")
            for url, ok in self.up.items()
        }


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def outbox_row(shop: Shop) -> dict[str, object]:
    row = await shop.db.fetchone("SELECT status, attempts, acks, last_error FROM outbox")
    assert row is not None
    return dict(row)


async def test_a_message_is_sent_once_one_relay_acknowledges_it_and_each_answer_is_kept(
    shop: Shop,
) -> None:
    await place(shop, Customer(), "o-1")
    relays = Relays({"ws://a": False, "ws://b": True})
    publisher = Publisher(shop.db, relays, Bus(), 20)
    assert await publisher.publish_due() == 1
    row = await outbox_row(shop)
    assert row["status"] == "sent"
    assert '"ws://a": {"ok": false' in str(row["acks"]) and '"ws://b": {"ok": true' in str(
        row["acks"]
    )
    assert await publisher.publish_due() == 0  # nothing is sent twice


async def test_an_hour_with_every_relay_down_loses_nothing(shop: Shop) -> None:
    await place(shop, Customer(), "o-1")
    clock = Clock(shop.deps.now())
    relays = Relays({"ws://a": False, "ws://b": False})
    publisher = Publisher(shop.db, relays, Bus(), shop.deps.settings.outbox_max_attempts,
                          clock=clock)  # fmt: skip
    start = clock.now
    while clock.now < start + 3600:
        await publisher.publish_due()
        clock.now += 30
    row = await outbox_row(shop)
    assert row["status"] == "pending" and "not connected" in str(row["last_error"])
    tries = len(relays.calls)
    assert 5 <= tries < 20  # backing off, not hammering every 30 s
    relays.up = {"ws://a": True, "ws://b": False}
    clock.now += 3600
    await publisher.publish_due()
    assert (await outbox_row(shop))["status"] == "sent"


async def test_after_the_last_attempt_a_message_is_marked_failed_and_the_merchant_told(
    shop: Shop,
) -> None:
    await place(shop, Customer(), "o-1")
    clock = Clock(shop.deps.now())
    bus = Bus()
    publisher = Publisher(shop.db, Relays({"ws://a": False}), bus, 3, clock=clock)
    async with bus.subscribe(shop.merchant_id) as queue:
        for _ in range(10):
            await publisher.publish_due()
            clock.now += 10_000
        notes = [queue.get_nowait() for _ in range(queue.qsize())]
    row = await outbox_row(shop)
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert [(n.kind, n.data["status"], n.data["order_id"]) for n in notes] == [
        ("outbox", "failed", "o-1")]  # fmt: skip


async def until_published(relays: Relays, count: int = 1) -> None:
    while len(relays.calls) < count:
        await asyncio.sleep(0.01)


async def test_a_reply_committed_while_a_pass_reads_the_outbox_leaves_without_waiting_for_the_poll(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    relays = Relays({"ws://a": True})
    publisher = Publisher(shop.db, relays, Bus(), 20, idle=3600)  # only a poke can wake it
    shop.db.add_commit_listener(publisher.poke)
    read = publisher_module.due_events
    committed: list[str] = []

    async def read_then_commit(db: Database, now: int, limit: int = 200) -> list[OutboxRow]:
        rows = await read(db, now, limit)
        if not committed:  # the commit lands after this read took its snapshot
            committed.append("o-1")
            await place(shop, Customer(), "o-1")
        return rows

    monkeypatch.setattr(publisher_module, "due_events", read_then_commit)
    running = asyncio.create_task(publisher.run())
    try:
        await asyncio.wait_for(until_published(relays), 10)  # bounded, not a speed check
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert committed == ["o-1"]
