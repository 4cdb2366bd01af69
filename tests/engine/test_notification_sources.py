"""Each source of a notification raises it, stored and pushed live, once: a message no relay
took, the wallet unreachable, a relay down for minutes, an order in refund_needed, a
payment that matches no invoice; with the merchant's setting, an urgent one also comes as a
NIP-17 DM to its own npub, which our own ingest then leaves out of the chat."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from nostrbazaar.crud.notifications import list_notifications, set_dm_urgent
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.engine.publisher import Publisher
from nostrbazaar.engine.watch import HealthWatch
from nostrbazaar.nostr.event import Event, parse_event
from nostrbazaar.nostr.nip17 import receive
from nostrbazaar.nostr.relay import PublishResult
from nostrbazaar.nostr.relay_pool import RelayPool
from nostrbazaar.services.bus import Notification
from nostrbazaar.services.notifications import Notifier
from nostrbazaar.services.order_admin import cancel_order
from nostrbazaar.services.payments import receive_payment
from nostrbazaar.wallets.base import Settlement
from support.orders_fixtures import Customer, Shop, place


class DownRelays:
    """Every relay refuses (not connected)."""

    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]:
        return {"ws://a": PublishResult("ws://a", False, "not connected: disconnected")}


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def drained(queue: asyncio.Queue[Notification]) -> list[dict[str, Any]]:
    found = []
    while not queue.empty():
        note = queue.get_nowait()
        if note.kind == "notification":
            found.append(note.data)
    return found


async def notes_of(shop: Shop) -> list[tuple[str, str, str | None, str | None]]:
    rows = await list_notifications(shop.db, shop.merchant_id, None, 50, 0)
    return [(row.type, row.priority, row.object_type, row.object_id) for row in rows]


async def test_a_message_that_failed_for_good_is_a_high_notification_pushed_live(
    shop: Shop, customer: Customer
) -> None:
    await place(shop, customer, "o-1")
    notifier = Notifier.from_deps(shop.deps)
    publisher = Publisher(shop.db, DownRelays(), shop.deps.bus, 1, notifier=notifier)
    async with shop.deps.bus.subscribe(shop.merchant_id) as queue:
        assert await publisher.publish_due() == 1
        live = drained(queue)
    assert await notes_of(shop) == [("outbox_failed", "high", "order", "o-1")]
    assert [data["notification"]["type"] for data in live] == ["outbox_failed"]
    assert "not connected" in live[0]["notification"]["body"]
    assert await publisher.publish_due() == 0  # failed rows are not tried, nor noted, again
    assert len(await notes_of(shop)) == 1


async def test_an_order_in_refund_needed_is_a_notification(shop: Shop, customer: Customer) -> None:
    await place(shop, customer, "o-1")
    await cancel_order(shop.deps, shop.merchant_id, "o-1")  # the fake wallet cancels the invoice
    order = await shop.order("o-1")
    assert order.payment_hash is not None  # paid anyway, as a wallet that cannot cancel reports
    await receive_payment(shop.deps, Settlement(order.payment_hash, order.total_msat, 1))
    assert await notes_of(shop) == [("refund_needed", "high", "order", "o-1")]


async def test_a_payment_that_matches_no_invoice_is_a_notification_once(shop: Shop) -> None:
    settlement = Settlement("ab" * 32, 21_000, 1, {"merchant_id": shop.merchant_id})
    await receive_payment(shop.deps, settlement)
    await receive_payment(shop.deps, settlement)  # reported twice: one record, one notice
    assert await notes_of(shop) == [("payment_unmatched", "high", "payment", "ab" * 32)]


async def test_an_unreachable_wallet_is_one_critical_notification_per_outage(shop: Shop) -> None:
    clock = Clock(1_000_000.0)
    watch = HealthWatch(shop.deps, RelayPool([]), wallet_down_after=30, clock=clock)
    await watch.check_wallet()
    await shop.wallet.stop()
    await watch.check_wallet()  # down, but not for long yet
    assert await notes_of(shop) == []
    clock.now += 31
    await watch.check_wallet()
    clock.now += 60
    await watch.check_wallet()  # the same outage: told once
    assert await notes_of(shop) == [("wallet_unreachable", "critical", "wallet", "fake")]
    await shop.wallet.start()
    await watch.check_wallet()  # back: the next outage is news again
    await shop.wallet.stop()
    await watch.check_wallet()
    clock.now += 31
    await watch.check_wallet()
    assert len(await notes_of(shop)) == 2
    await shop.wallet.start()


async def test_a_relay_down_for_minutes_is_a_notification_and_a_short_drop_is_not(
    shop: Shop,
) -> None:
    relay = EmbeddedRelay()
    await relay.start()
    pool = RelayPool([relay.url])
    await pool.start()
    try:
        for _ in range(200):  # bounded: until the pool is connected
            if pool.status()[relay.url] == "connected":
                break
            await asyncio.sleep(0.02)
        clock = Clock(1_000_000.0)
        watch = HealthWatch(shop.deps, pool, relay_down_after=180, clock=clock)
        await watch.check_relays()
        await relay.stop()
        for _ in range(200):  # bounded: until the pool sees it gone
            if pool.status()[relay.url] != "connected":
                break
            await asyncio.sleep(0.02)
        await watch.check_relays()
        clock.now += 60
        await watch.check_relays()  # a minute: relays drop and come back all the time
        assert await notes_of(shop) == []
        clock.now += 121
        await watch.check_relays()
        await watch.check_relays()
        assert await notes_of(shop) == [("relay_down", "critical", "relay", relay.url)]
    finally:
        await pool.close()


async def test_with_the_setting_an_urgent_notification_is_also_a_dm_to_the_merchant_itself(
    shop: Shop, customer: Customer
) -> None:
    async with shop.db.transaction() as conn:
        await set_dm_urgent(conn, shop.merchant_id, True, 1)
    settlement = Settlement("cd" * 32, 5_000, 1, {"merchant_id": shop.merchant_id})
    await receive_payment(shop.deps, settlement)
    rows = await shop.db.fetchall(
        "SELECT event, purpose FROM outbox WHERE purpose = 'notification'"
    )
    assert len(rows) == 1
    wrap = parse_event(rows[0]["event"])
    assert wrap.kind == 1059 and wrap.tag_values("p") == [shop.merchant.public_key]
    opened = receive(shop.merchant.key, wrap)
    assert opened.sender_pubkey == shop.merchant.public_key
    assert "A payment of 5 sats matches no order" in opened.rumor.content
    verdict = await ingest_event(shop.deps, shop.merchant, wrap)  # it comes back from a relay
    assert (verdict.verdict, verdict.reason) == ("ignored", "a note to self")
    customers = await shop.db.fetchall("SELECT public_key FROM customers")
    assert [row[0] for row in customers] == []


async def test_without_the_setting_no_dm_is_sent(shop: Shop) -> None:
    await receive_payment(shop.deps, Settlement("ef" * 32, 5_000, 1, {}))
    assert len(await notes_of(shop)) == 1
    assert await shop.db.fetchall("SELECT 1 FROM outbox WHERE purpose = 'notification'") == []
