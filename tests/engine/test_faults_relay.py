"""A relay gone for an hour and back: a real LocalRelay stopped, and started again on the same
port. The hour is lived through quickly: the pool's waits between connection attempts go
through a stand-in that records each one and lets it pass at once, until an hour of them
has been waited. Then the relay is back, holding an order sent while we were away; the
pool reconnects at its next attempt (never more than the 30 s cap after the relay's
return), resubscribes, places that order, publishes the reply that waited in the outbox,
and the whole outage is two log lines: down (with the reason), back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from loguru import logger
from nostrbazaar.config import Settings
from nostrbazaar.engine import publisher as publisher_module
from nostrbazaar.engine.background import OrderEngine
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.nostr.relay import BACKOFF_MAX
from nostrbazaar.nostr.relay_pool import RelayPool
from support.orders_fixtures import Shop, current_bolt11, make_shop, order_content, pay
from support.relay_customer import RelayCustomer, of_type

HOUR = 3600.0


class Outage:
    """The pool's `sleep`: each wait is recorded and passes at once, until `length` seconds
    have been waited in total; that last wait lasts until `relay_is_back()`."""

    def __init__(self, length: float) -> None:
        self.length = length
        self.waits: list[float] = []
        self.over = asyncio.Event()
        self._back = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        if sum(self.waits) < self.length:
            await asyncio.sleep(0.002)
            return
        self.over.set()
        await self._back.wait()

    def relay_is_back(self) -> None:
        self._back.set()


def has(type_: int, **fields: Any) -> Callable[[list[Any]], bool]:
    def ready(replies: list[Any]) -> bool:
        return any(all(r.get(k) == v for k, v in fields.items()) for r in of_type(replies, type_))

    return ready


async def _until(ready: Callable[[], Any], attempts: int = 200) -> None:
    for _ in range(attempts):  # bounded: about ten seconds
        if await ready():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


@pytest.fixture
async def shop(tmp_path: Path, database_url: str | None) -> AsyncIterator[Shop]:
    opened = await make_shop(
        tmp_path / "shop", max_open_orders_per_customer=10, database_url=database_url
    )
    yield opened
    await opened.close()


async def _customer(url: str, like: RelayCustomer | None = None) -> RelayCustomer:
    """A customer's client on the relay (`like`'s keys: the same customer, a new client)."""
    client = RelayCustomer([url])
    if like is not None:
        client.me = like.me
    await client.connect()
    return client


async def test_a_relay_gone_for_an_hour_is_back_within_the_cap_and_nothing_waiting_is_lost(
    shop: Shop,
) -> None:
    relay = EmbeddedRelay()
    url = await relay.start()
    outage = Outage(HOUR)
    pool = RelayPool([url], sleep=outage.sleep)
    engine = OrderEngine(shop.deps, pool)
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="INFO", format="{message}")
    pk, clients = shop.merchant.public_key, []
    try:
        await pool.start()
        await engine.start()
        ann = await _customer(url)
        clients.append(ann)
        await ann.send(ann.me.nip04(pk, order_content("o-ann")))
        await ann.wait_for(pk, has(1))  # the live path works before the outage

        await relay.stop()
        await asyncio.wait_for(outage.over.wait(), 60)  # an hour of failed attempts
        await pay(shop, await current_bolt11(shop, "o-ann"))  # its "paid" reply must wait

        async def paid_reply_tried() -> bool:
            rows = await shop.outbox("o-ann")
            return any(r["attempts"] >= 1 and r["status"] == "pending" for r in rows)

        await _until(paid_reply_tried)
        relay = EmbeddedRelay(port=relay.port)  # back, on the same address, empty
        await relay.start()
        bob = await _customer(url)
        clients.append(bob)
        await bob.send(bob.me.nip04(pk, order_content("o-bob")))  # stored while we are away
        outage.relay_is_back()  # the wait under way ends: the pool tries again

        await bob.wait_for(pk, has(1))  # placed: resubscribed, and the relay's copy read
        reader = await _customer(url, like=ann)
        clients.append(reader)
        await reader.wait_for(pk, has(2, paid=True))  # the reply that waited went out
        cat = await _customer(url)
        clients.append(cat)
        await cat.send(cat.me.nip04(pk, order_content("o-cat")))  # live again
        await cat.wait_for(pk, has(1))
    finally:
        for client in clients:
            await client.close()
        await engine.stop()
        await pool.close()
        await relay.stop()
        logger.remove(sink)

    assert len(outage.waits) >= 100 and sum(outage.waits) >= HOUR
    assert max(outage.waits) <= BACKOFF_MAX == 30.0  # so back within 30 s of the relay's return
    statuses = {oid: (await shop.order(oid)).status for oid in ("o-ann", "o-bob", "o-cat")}
    assert statuses == {"o-ann": "paid", "o-bob": "awaiting_payment", "o-cat": "awaiting_payment"}
    outbox = await shop.outbox()
    assert {r["status"] for r in outbox} == {"sent"}
    replies = [(r["order_id"], r["purpose"]) for r in outbox if r["order_id"]]
    assert replies == [("o-ann", "order:type1"), ("o-ann", "order:type2"),
                       ("o-bob", "order:type1"), ("o-cat", "order:type1")]  # fmt: skip
    assert [r["attempts"] > 1 for r in outbox if r["order_id"]] == [False, True, False, False]
    assert sum(f"relay {url} down (" in line for line in lines) == 1  # one line going down...
    assert sum(f"relay {url} back after" in line for line in lines) == 1  # ...one coming back
    assert not any(f"relay {url} did not accept" in line for line in lines)


def test_an_hour_of_outage_does_not_use_up_the_outbox_attempts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The outbox's own retries (20 by default, 2 s doubling to 10 min) span more than an
    hour even with the shortest jitter, so a reply queued as the relays went away is still
    pending when they come back (and then goes at once: `Publisher.relay_connected`)."""
    monkeypatch.setattr(publisher_module.random, "uniform", lambda low, _high: low)
    attempts = Settings().outbox_max_attempts
    assert attempts == 20
    assert sum(publisher_module.backoff(n) for n in range(1, attempts)) > HOUR
