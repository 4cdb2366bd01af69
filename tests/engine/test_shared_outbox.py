"""Several processes on one database share the outbox: a row is published by the one
holding its lease, and a row whose holder died is published by another once the lease
has run out (invariant 9 with more than one instance)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from nostrbazaar.engine.publisher import Publisher
from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.relay import PublishResult
from nostrbazaar.services.bus import Bus
from support.orders_fixtures import Customer, Shop, place

LEASE = 30


class Relay:
    """Stands in for the pool; `hang` makes every publish wait forever (a stuck process)."""

    def __init__(self, hang: bool = False) -> None:
        self.hang = hang
        self.calls: list[str] = []

    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]:
        self.calls.append(event.id)
        if self.hang:
            await asyncio.Event().wait()
        return {"ws://r": PublishResult("ws://r", True, "")}


def publisher(shop: Shop, relay: Relay, owner: str, at: float) -> Publisher:
    return Publisher(shop.db, relay, Bus(), 20, clock=lambda: at, lease=(owner, LEASE))


async def _orders(shop: Shop, count: int) -> int:
    for n in range(count):
        await place(shop, Customer(), f"o-{n}")
    rows = await shop.db.fetchall("SELECT id FROM outbox WHERE status = 'pending'")
    return len(rows)


async def test_two_publishers_on_one_database_publish_each_row_once(shop: Shop) -> None:
    queued = await _orders(shop, 4)
    now = shop.deps.now()
    first, second = Relay(), Relay()
    counts = await asyncio.gather(
        publisher(shop, first, "a", now).publish_due(),
        publisher(shop, second, "b", now).publish_due(),
    )
    published = first.calls + second.calls
    assert sum(counts) == queued == len(published) == len(set(published))
    left = await shop.db.fetchall("SELECT id FROM outbox WHERE status <> 'sent'")
    assert left == []


async def test_rows_held_by_a_publisher_that_died_are_published_once_its_lease_runs_out(
    shop: Shop,
) -> None:
    queued = await _orders(shop, 3)
    now = shop.deps.now()
    stuck = asyncio.create_task(publisher(shop, Relay(hang=True), "dead", now).publish_due())
    for _ in range(500):  # until the stuck one holds every row
        held = await shop.db.fetchall("SELECT id FROM outbox WHERE lease_owner = 'dead'")
        if len(held) == queued:
            break
        await asyncio.sleep(0.01)
    assert len(held) == queued
    stuck.cancel()  # it dies holding the rows: nothing recorded
    await asyncio.gather(stuck, return_exceptions=True)
    survivor = Relay()
    assert await publisher(shop, survivor, "alive", now + LEASE - 1).publish_due() == 0
    assert await publisher(shop, survivor, "alive", now + LEASE + 1).publish_due() == queued
    assert len(set(survivor.calls)) == queued
    sent = await shop.db.fetchall("SELECT lease_owner FROM outbox WHERE status = 'sent'")
    assert len(sent) == queued and all(row[0] is None for row in sent)
