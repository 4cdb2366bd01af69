"""Shopstr and Conduit orders through the running process and a real relay on 127.0.0.1
(nostr-sdk's LocalRelay, as the embedded relay), buyers on nostr-sdk whose messages are
built as their clients build them (`support/market_buyers.py`: Shopstr's
`utils/nostr/gift-wrap.ts` and `components/product-invoice-card.tsx`; Conduit's
`apps/market/src/routes/checkout.tsx` and `docs/specs/protocol.md`), and the real
FakeWallet: order, payment, status, shipping; duplicates; a restore from the relay's
history that equals the live state and sends nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import nostr_sdk as sdk
import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.engine.restore import restore_orders
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.nip19 import npub_encode
from nostrbazaar.services import lnurl
from nostrbazaar.services.order_admin import ship_order
from support.gamma_buyer import GammaBuyer, value
from support.market_buyers import ConduitBuyer, ShopstrBuyer, json_content
from support.orders_fixtures import ORDER_FIELDS, create_catalogue, settings_for
from support.pg import DatabaseAt

MERCHANT = PrivateKey.generate()
PK = MERCHANT.public_key
MELTED = 99  # Shopstr melts floor((107 - 3) * 0.98 - 2) sat of a 107 sat checkout


class OnRelay:
    """A buyer's nostr-sdk client on the relay: sends, and reads what it was sent."""

    def __init__(self, buyer: GammaBuyer, url: str) -> None:
        self.buyer, self.url, self.client = buyer, url, sdk.Client()

    async def connect(self) -> None:
        await self.client.add_relay(sdk.RelayUrl.parse(self.url))
        await self.client.connect(timedelta(seconds=5))

    async def send(self, kind: int, built: tuple[list[list[str]], str]) -> dict[str, Any]:
        event = self.buyer.wrapped(PK, kind, *built)
        await self.client.send_event(sdk.Event.from_json(json.dumps(event)))
        return event

    async def answers(self) -> list[dict[str, Any]]:
        wraps = sdk.Filter().kinds([sdk.Kind(1059)]).pubkey(self.buyer.keys.public_key())
        events = await self.client.fetch_events(sdk.ReqTarget.auto([wraps]), timedelta(seconds=2))
        opened = [self.buyer.read(json.loads(event.as_json())) for event in events]
        return sorted((r for r in opened if r), key=lambda r: r["created_at"])

    async def wait_for(self, order_id: str, count: int) -> list[dict[str, Any]]:
        """The answers about `order_id` once there are `count` (bounded: about ten seconds)."""
        for _ in range(100):
            about = [a for a in await self.answers() if value(a, "order") == order_id]
            if len(about) >= count:
                return about
            await asyncio.sleep(0.1)
        raise AssertionError(f"the merchant's answers about {order_id} never arrived")


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    started = EmbeddedRelay()
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def buyers(relay: EmbeddedRelay) -> AsyncIterator[tuple[OnRelay, OnRelay]]:
    shopstr, conduit = OnRelay(ShopstrBuyer(), relay.url), OnRelay(ConduitBuyer(), relay.url)
    for buyer in (shopstr, conduit):
        await buyer.connect()
    yield shopstr, conduit
    for buyer in (shopstr, conduit):
        await buyer.client.shutdown()


@pytest.fixture
async def runtimes(
    relay: EmbeddedRelay, database_at: DatabaseAt
) -> AsyncIterator[Callable[..., Any]]:
    running: list[Runtime] = []

    async def start(data_dir: Path, background: bool = True) -> Runtime:
        url = await database_at(data_dir)
        settings = settings_for(data_dir, relays=(relay.url,), database_url=url)
        runtime = Runtime(settings, background=background)
        await runtime.start()
        running.append(runtime)
        await create_catalogue(runtime.db, runtime.keystore, MERCHANT)
        if background:
            await runtime.engine.refresh()
        return runtime

    yield start
    for runtime in running:
        await runtime.stop()


async def shopstr_checkout(runtime: Runtime, shopstr: OnRelay, order_id: str) -> None:
    """Shopstr's `sendTokens` with the lightning preference: melt to the address, then
    `order-payment` naming the address, then `order-info` with the address to ship to."""
    buyer = shopstr.buyer
    assert isinstance(buyer, ShopstrBuyer)
    answer = await lnurl.address_invoice(runtime.deps, npub_encode(PK), str(MELTED * 1000))
    await runtime.wallet.pay(answer["pr"])
    await shopstr.send(14, buyer.payment(PK, order_id, "p1", MELTED, "lightning", "a@b", 3))
    (confirmed,) = await shopstr.wait_for(order_id, 1)
    assert (value(confirmed, "subject"), value(confirmed, "status")) == ("order-info", "confirmed")
    await shopstr.send(14, buyer.order_info(PK, order_id, "p1", 107))


async def conduit_order(runtime: Runtime, conduit: OnRelay, order_id: str) -> None:
    """checkout.tsx `placeOrder` (pay later): our payment_request is paid, `paid` comes back."""
    buyer = conduit.buyer
    assert isinstance(buyer, ConduitBuyer)
    await conduit.send(16, buyer.order(PK, order_id, [("p1", 1)], 107))
    (request,) = await conduit.wait_for(order_id, 1)
    await runtime.wallet.pay(json_content(request)["invoice"])
    answers = await conduit.wait_for(order_id, 2)
    assert (value(answers[1], "type"), value(answers[1], "status")) == ("status_update", "paid")


async def test_shopstr_and_conduit_orders_over_a_relay_are_paid_and_shipped(
    tmp_path: Path, runtimes: Callable[..., Any], buyers: tuple[OnRelay, OnRelay]
) -> None:
    shopstr, conduit = buyers
    runtime = await runtimes(tmp_path / "shop")
    await shopstr_checkout(runtime, shopstr, "s-1")
    await conduit_order(runtime, conduit, "c-1")
    for order_id in ("s-1", "c-1"):
        await ship_order(runtime.deps, "merchant-1", order_id, "posted", "RR1PT", "CTT")
    shipped = (await shopstr.wait_for("s-1", 2))[-1]
    assert (value(shipped, "subject"), value(shipped, "tracking")) == ("shipping-info", "RR1PT")
    words = [(value(a, "type"), value(a, "status")) for a in await conduit.wait_for("c-1", 4)]
    assert words[2:] == [("shipping_update", None), ("status_update", "shipped")]
    rows = await runtime.db.fetchall("SELECT id, status, dialect, public_key FROM orders")
    assert sorted(tuple(r) for r in rows) == [
        ("c-1", "shipped", "conduit", conduit.buyer.pubkey),
        ("s-1", "shipped", "shopstr", shopstr.buyer.pubkey),
    ]


async def test_a_checkout_sent_twice_is_one_order_with_one_answer(
    tmp_path: Path, runtimes: Callable[..., Any], buyers: tuple[OnRelay, OnRelay]
) -> None:
    shopstr, conduit = buyers
    runtime = await runtimes(tmp_path / "shop")
    await shopstr_checkout(runtime, shopstr, "s-1")
    buyer = conduit.buyer
    assert isinstance(buyer, ConduitBuyer)
    built = buyer.order(PK, "c-1", [("p1", 1)], 107)
    await conduit.send(16, built)
    await conduit.send(16, built)  # Conduit retries a publish: a new wrap, the same order
    await conduit.wait_for("c-1", 1)
    await _outbox_sent(runtime)
    assert len(await conduit.wait_for("c-1", 1)) == 1
    stock = await runtime.db.fetchone("SELECT quantity FROM products WHERE id = 'p1'")
    assert stock is not None and stock[0] == 3  # one unit each, not three


async def test_restore_of_shopstr_and_conduit_orders_equals_the_live_state(
    tmp_path: Path, runtimes: Callable[..., Any], buyers: tuple[OnRelay, OnRelay]
) -> None:
    shopstr, conduit = buyers
    live = await runtimes(tmp_path / "live")
    await shopstr_checkout(live, shopstr, "s-1")
    await conduit_order(live, conduit, "c-1")
    await ship_order(live.deps, "merchant-1", "c-1", "posted", "RR1PT", "CTT")
    buyer = conduit.buyer
    assert isinstance(buyer, ConduitBuyer)
    await conduit.send(16, buyer.order(PK, "c-2", [("p1", 1)], 107))
    await conduit.wait_for("c-2", 1)
    await conduit.send(16, buyer.cancel(PK, "c-2"))
    await conduit.wait_for("c-2", 2)
    await _outbox_sent(live)
    fields = ORDER_FIELDS.replace(" payment_hash,", "") + ", dialect"
    expected = await live.db.fetchall(f"SELECT {fields} FROM orders ORDER BY id")
    fresh = await runtimes(tmp_path / "restored", background=False)
    summary = await restore_orders(fresh.deps, fresh.pool, "merchant-1")
    restored = await fresh.db.fetchall(f"SELECT {fields} FROM orders ORDER BY id")
    assert [tuple(r) for r in restored] == [tuple(r) for r in expected]
    statuses = {row["id"]: row["status"] for row in restored}
    assert statuses == {"c-1": "shipped", "c-2": "cancelled", "s-1": "paid"}
    same_invoice = await fresh.db.fetchone("SELECT payment_hash FROM orders WHERE id = 'c-1'")
    live_invoice = await live.db.fetchone("SELECT payment_hash FROM orders WHERE id = 'c-1'")
    assert same_invoice is not None and live_invoice is not None
    assert same_invoice[0] == live_invoice[0]  # Conduit's invoice adopted from our request
    stock = [await db.fetchone("SELECT quantity FROM products") for db in (live.db, fresh.db)]
    assert stock[0] is not None and stock[1] is not None and stock[0][0] == stock[1][0] == 3
    assert summary.errors == 0
    queued = await fresh.db.fetchone("SELECT COUNT(*) FROM outbox")
    assert queued is not None and queued[0] == 0  # nothing said twice


async def _outbox_sent(runtime: Runtime) -> None:
    for _ in range(100):
        row = await runtime.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        if row is not None and row[0] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox never emptied")
