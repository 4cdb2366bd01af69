"""Catch-up (engine/catchup.py): a relay that answers at most a few events per filter is
paged back to `since` with the restore's pager, every event in the window is fed once,
what the inbox or the outbox already holds is not fed at all, a pass cut short is run
again, and only a complete pass moves the next `since`. Then the whole engine over a
real capped relay: orders sent while our connection was cut all arrive after it is back.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nostrbazaar.crud.inbox import InboxEntry, insert_entry
from nostrbazaar.crud.outbox import enqueue_event
from nostrbazaar.engine import catchup as catchup_module
from nostrbazaar.engine.background import OrderEngine
from nostrbazaar.engine.catchup import LOOKBACK, CatchUp, catch_up
from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.nip59 import TWO_DAYS
from nostrbazaar.nostr.relay_pool import RelayPool
from nostrbazaar.services.deps import Merchant
from support.capped_relay import CappedRelay
from support.memory_relay import URL, MemoryRelay, fake_event
from support.orders_fixtures import Customer, Shop, order_content
from support.relay_customer import RelayCustomer
from websockets.asyncio.client import connect as websockets_connect

NOW = 1_800_000_000
SINCE = NOW - LOOKBACK


def customer(n: int) -> str:
    return f"{n:064x}"


class Fed:
    """The catch-up's feed: what it handed to ingest, in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, merchant: Merchant, event: Event, relay: str) -> None:
        self.events.append(event)

    @property
    def ids(self) -> Counter[str]:
        return Counter(event.id for event in self.events)


def window(merchant: str) -> list[Event]:
    """Orders (kind 4), gift wraps dated anywhere in the last two days, replies."""
    dated = random.Random(7)
    orders = [fake_event(customer(n), merchant, NOW - 10 * n, n) for n in range(150)]
    wraps = [
        fake_event(customer(1000 + n), merchant, NOW - dated.randrange(TWO_DAYS), n, kind=1059)
        for n in range(150)
    ]
    replies = [fake_event(merchant, customer(n), NOW - 10 * n + 1, n) for n in range(40)]
    return orders + wraps + replies


async def test_a_capped_relay_is_paged_back_to_since_and_every_event_is_fed_once(
    shop: Shop,
) -> None:
    merchant = shop.merchant.public_key
    inside = window(merchant)
    older = [fake_event(customer(n), merchant, SINCE - 1 - n, n) for n in range(20)]
    relay, fed = MemoryRelay(inside + older, cap=50), Fed()
    read, new = await catch_up(shop.db, relay, shop.merchant, URL, SINCE, fed)
    assert fed.ids == Counter(event.id for event in inside)  # each once, none older
    assert (read, new) == (len(inside), len(inside))
    assert all(query[0]["since"] == SINCE for query in relay.queries)


async def test_paging_stops_at_the_first_answer_that_brings_nothing_new(shop: Shop) -> None:
    merchant = shop.merchant.public_key
    # two orders a second: each page ends inside a second, which the next page repeats
    orders = [fake_event(customer(n), merchant, NOW - n // 2, n) for n in range(120)]
    relay, fed = MemoryRelay(orders, cap=50), Fed()
    await catch_up(shop.db, relay, shop.merchant, URL, SINCE, fed)
    assert fed.ids == Counter(event.id for event in orders)
    queries = list(relay.queries)
    assert [query[0].get("until") for query in queries] == [None, NOW - 24, NOW - 48, NOW - 59]
    sizes = [len(await relay.fetch(query)) for query in queries]
    assert sizes == [50, 50, 24, 2]  # the last, short, answer only repeats its boundary


async def test_a_second_more_crowded_than_a_page_is_read_by_counterparty(shop: Shop) -> None:
    merchant = shop.merchant.public_key
    orders = [fake_event(customer(n), merchant, NOW - 100 - n, n) for n in range(120)]
    replies = [fake_event(merchant, customer(n), NOW, n) for n in range(120)]  # one second
    fed = Fed()
    await catch_up(shop.db, MemoryRelay(orders + replies, cap=50), shop.merchant, URL, SINCE, fed)
    assert fed.ids == Counter(event.id for event in orders + replies)


async def test_what_the_inbox_holds_or_we_sent_ourselves_is_not_fed_again(shop: Shop) -> None:
    merchant = shop.merchant.public_key
    events = window(merchant)
    ingested, ours = events[:30], events[300:310]  # orders we have; copies of our replies
    async with shop.db.transaction() as conn:
        for event in ingested:
            entry = InboxEntry(
                event.id, shop.merchant_id, event.to_json(), event.kind, event.pubkey,
                event.created_at, "processed", received_at=NOW,
            )  # fmt: skip
            await insert_entry(conn, entry)
        for event in ours:
            await enqueue_event(conn, shop.merchant_id, event, "order:type1")
    fed = Fed()
    read, new = await catch_up(shop.db, MemoryRelay(events, cap=50), shop.merchant, URL, SINCE, fed)
    assert set(fed.ids) == {event.id for event in events} - {e.id for e in ingested + ours}
    assert (read, new) == (len(events), len(events) - 40)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


async def test_a_pass_cut_short_runs_again_and_only_a_complete_pass_moves_since(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catchup_module, "RETRY_FIRST", 0.01)
    orders = [fake_event(customer(n), shop.merchant.public_key, NOW - n, n) for n in range(80)]
    relay, fed, clock = MemoryRelay(orders, cap=50), Fed(), Clock(NOW)
    relay.fail_next = 2  # the relay drops us twice, mid-pass
    catchup = CatchUp(shop.db, relay, fed, clock)
    catchup.watch(shop.merchant, SINCE, [URL])
    await catchup.wait()
    assert fed.ids == Counter(event.id for event in orders)
    assert {query[0]["since"] for query in relay.queries} == {SINCE}  # not moved by failures
    clock.now = NOW + 600
    relay.queries.clear()
    catchup.relay_connected(URL)  # back after a disconnect: from the last complete pass
    await catchup.wait()
    assert {query[0]["since"] for query in relay.queries} == {NOW - LOOKBACK}
    await catchup.stop()


async def test_a_merchant_no_longer_watched_is_not_tried_again(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catchup_module, "RETRY_FIRST", 0.01)
    relay = MemoryRelay([], cap=50)
    relay.fail_next = 10**6  # never answers in full
    catchup = CatchUp(shop.db, relay, Fed(), Clock(NOW))
    catchup.watch(shop.merchant, SINCE, [URL])
    await asyncio.sleep(0.05)
    catchup.unwatch(shop.merchant.id)
    await asyncio.wait_for(catchup.wait(), 5)  # the retry loop ends by itself
    tries = relay.fail_next
    await asyncio.sleep(0.05)
    assert relay.fail_next == tries


class Cuttable:
    """A socket factory whose connections the test can cut and keep shut (a network
    outage for our side only: the relay keeps running and storing)."""

    def __init__(self) -> None:
        self.open = True
        self.sockets: list[Any] = []

    async def connect(self, url: str, **options: Any) -> Any:
        if not self.open:
            raise ConnectionRefusedError(f"the test keeps {url} shut")
        socket = await websockets_connect(url, **options)
        self.sockets.append(socket)
        return socket

    async def cut(self) -> None:
        self.open = False
        for socket in self.sockets:
            await socket.close()


@pytest.fixture
async def capped() -> AsyncIterator[CappedRelay]:
    relay = CappedRelay(20)
    await relay.start()
    yield relay
    await relay.stop()


async def order_count(shop: Shop) -> int:
    row = await shop.db.fetchone("SELECT COUNT(*) FROM orders")
    return 0 if row is None else int(row[0])


async def test_orders_sent_while_the_connection_was_cut_all_arrive_after_the_reconnect(
    shop: Shop, capped: CappedRelay
) -> None:
    async with shop.db.transaction() as conn:
        await conn.execute("UPDATE products SET quantity = 1000")
    network = Cuttable()
    pool = RelayPool([capped.url], connect=network.connect, backoff_base=0.02, backoff_max=0.1)
    engine = OrderEngine(shop.deps, pool)
    sender = RelayCustomer([capped.url])
    await sender.connect()
    try:
        await pool.start()
        for _ in range(500):  # bounded: until the pool is connected
            if pool.status()[capped.url] == "connected":
                break
            await asyncio.sleep(0.01)
        await engine.start()
        await engine.catchup.wait()  # caught up: nothing is left to retry
        await network.cut()
        pk, wraps, start = shop.merchant.public_key, Counter[str](), int(time.time())
        for n, buyer in enumerate(Customer() for _ in range(12)):
            for k in range(5):  # 60 orders: three times what the relay answers at once
                content, sent = order_content(f"b{n}-o{k}"), start - 60 + 5 * n + k
                nip04 = (n + k) % 2 == 1  # kind 4 a second apart; gift wraps dated at random
                event = buyer.nip04(pk, content, sent) if nip04 else buyer.nip17(pk, content)
                await sender.send(event)
                wraps[f"b{n}-o{k}"] = 1 if nip04 else 2  # NIP-17: the buyer's, and our copy
        network.open = True
        for _ in range(500):  # bounded: until every order arrived
            if await order_count(shop) == len(wraps):
                break
            await asyncio.sleep(0.02)
        await engine.catchup.wait()
        await engine.drain()
        rows = await shop.db.fetchall("SELECT order_id FROM outbox WHERE purpose = 'order:type1'")
        assert Counter(row[0] for row in rows) == wraps  # one payment request each
    finally:
        await engine.stop()
        await pool.close()
        await sender.close()
