"""Invariant 9's other half: the outbox publisher delivers what was committed, records
each relay's answer, retries with backoff, and gives up visibly only after the bounded
number of attempts — an hour with every relay down loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from typing import Any

import pytest
from nostrbazaar.crud.outbox import OutboxRow, due_events
from nostrbazaar.engine import publisher as publisher_module
from nostrbazaar.engine.publisher import Publisher
from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.relay import PublishResult
from nostrbazaar.services.bus import Bus
from nostrbazaar.storage.database import Database
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

    async def read_then_commit(
        db: Database, now: int, limit: int = 200, exclude: Collection[int] = ()
    ) -> list[OutboxRow]:
        rows = await read(db, now, limit, exclude)
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


class HeldRelay(Relays):
    """A relay that holds its OK for the first event (with `hold_first`) until the test
    releases it; every other OK comes after a short, varying pause (attempts end out
    of order)."""

    def __init__(self, hold_first: bool = False) -> None:
        super().__init__({"ws://a": True})
        self.hold_first = hold_first
        self.release = asyncio.Event()

    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]:
        results = await super().publish(event, relays, timeout)
        if self.hold_first and event.id == self.calls[0]:
            await self.release.wait()
        else:
            await asyncio.sleep((len(self.calls) % 4) / 1000)
        return results


async def statuses(shop: Shop) -> list[str]:
    return [
        row["status"] for row in await shop.db.fetchall("SELECT status FROM outbox ORDER BY id")
    ]


async def until_sent(shop: Shop, count: int) -> None:
    while (await statuses(shop)).count("sent") < count:
        await asyncio.sleep(0.01)


@pytest.fixture
async def running(shop: Shop) -> Any:
    """Start `publisher.run()` (poked by every commit) and cancel it after the test."""
    started: list[asyncio.Task[None]] = []

    def start(publisher: Publisher) -> None:
        shop.db.add_commit_listener(publisher.poke)
        started.append(asyncio.create_task(publisher.run()))

    yield start
    for task in started:
        task.cancel()
    await asyncio.gather(*started, return_exceptions=True)


async def test_a_reply_is_published_while_an_earlier_one_still_waits_for_its_ok(
    shop: Shop, running: Any
) -> None:
    relay = HeldRelay(hold_first=True)
    running(Publisher(shop.db, relay, Bus(), 20))
    await place(shop, Customer(), "o-1")
    await asyncio.wait_for(until_published(relay), 10)
    await place(shop, Customer(), "o-2")
    await asyncio.wait_for(until_published(relay, 2), 10)  # bounded, not a speed check
    assert (await statuses(shop))[0] == "pending"  # o-1 still waits for its OK
    relay.release.set()
    await asyncio.wait_for(until_sent(shop, 2), 10)


async def test_every_reply_is_published_once_however_the_attempts_interleave(
    shop: Shop, running: Any
) -> None:
    relay = HeldRelay()
    running(Publisher(shop.db, relay, Bus(), 20))
    for n in range(24):
        await place(shop, Customer(), f"o-{n}")
        await asyncio.sleep((n % 3) / 1000)
    await asyncio.wait_for(until_sent(shop, 24), 20)
    assert len(relay.calls) == len(set(relay.calls)) == 24
    rows = await shop.db.fetchall("SELECT attempts, acks FROM outbox")
    assert {row["attempts"] for row in rows} == {1}
    assert all('"ws://a": {"ok": true' in row["acks"] for row in rows)


async def test_a_reply_recorded_while_a_pass_reads_the_outbox_is_not_published_again(
    shop: Shop, running: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    relay = HeldRelay(hold_first=True)
    read = publisher_module.due_events

    async def stale_read(
        db: Database, now: int, limit: int = 200, exclude: Collection[int] = ()
    ) -> list[OutboxRow]:
        rows = await read(db, now, limit, exclude)
        if relay.calls and not relay.release.is_set():  # o-1 is in flight: this read saw it
            relay.release.set()  # pending, and it is recorded before the read returns
            await until_sent(shop, 1)
        return rows

    monkeypatch.setattr(publisher_module, "due_events", stale_read)
    running(Publisher(shop.db, relay, Bus(), 20))
    await place(shop, Customer(), "o-1")
    await asyncio.wait_for(until_published(relay), 10)
    await place(shop, Customer(), "o-2")  # its commit starts a pass while o-1 is in flight
    await asyncio.wait_for(until_sent(shop, 2), 10)
    assert len(relay.calls) == len(set(relay.calls)) == 2


async def test_due_rows_leave_out_the_ones_in_flight(shop: Shop) -> None:
    for n in range(3):
        await place(shop, Customer(), f"o-{n}")
    now = int(shop.deps.now())
    every = [row.id for row in await due_events(shop.db, now)]
    assert len(every) == 3
    rest = await due_events(shop.db, now, 200, exclude=every[:2])
    assert [row.id for row in rest] == every[2:]
    assert [row.id for row in await due_events(shop.db, now, 1, exclude=every[:1])] == every[1:2]
