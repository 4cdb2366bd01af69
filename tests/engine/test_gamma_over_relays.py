"""Gamma market spec orders through the running process and real relays on 127.0.0.1
(nostr-sdk's LocalRelay), a buyer on nostr-sdk (`support/gamma_buyer.py` names the file
each message is modelled on), and the real FakeWallet: order, payment request, payment,
confirmed, shipped; and a restore from the relays' history equal to the live state."""

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
from support.gamma_buyer import GammaBuyer, kinds_and_types, value
from support.orders_fixtures import create_catalogue, order_state, settings_for
from support.pg import DatabaseAt

MERCHANT = PrivateKey.generate()
PK = MERCHANT.public_key
TWO_P1 = 209  # sat: 2 x 100 + 2 x 2 shipping + 5 for the zone


class RelayBuyer(GammaBuyer):
    """A Gamma buyer with a nostr-sdk client on the relays."""

    def __init__(self, urls: list[str]) -> None:
        super().__init__()
        self.urls, self.client = urls, sdk.Client()

    async def connect(self) -> None:
        for url in self.urls:
            await self.client.add_relay(sdk.RelayUrl.parse(url))
        await self.client.connect(timedelta(seconds=5))

    async def send(self, event: dict[str, Any]) -> None:
        await self.client.send_event(sdk.Event.from_json(json.dumps(event)))

    async def answers(self) -> list[dict[str, Any]]:
        """Every rumor the merchant sent this buyer, oldest first."""
        wraps = sdk.Filter().kinds([sdk.Kind(1059)]).pubkey(self.keys.public_key())
        events = await self.client.fetch_events(sdk.ReqTarget.auto([wraps]), timedelta(seconds=2))
        opened = [self.read(json.loads(event.as_json())) for event in events]
        return sorted((r for r in opened if r), key=lambda r: r["created_at"])

    async def wait_for(self, ready: Callable[[list[dict[str, Any]]], bool]) -> list[Any]:
        """Poll the relays until `ready(answers)` (bounded: about ten seconds)."""
        answers: list[dict[str, Any]] = []
        for _ in range(100):
            answers = await self.answers()
            if ready(answers):
                return answers
            await asyncio.sleep(0.1)
        raise AssertionError(f"the merchant's answers never arrived: {answers}")


def about(order_id: str, count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda answers: sum(value(a, "order") == order_id for a in answers) >= count


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    started = EmbeddedRelay()
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def buyer(relay: EmbeddedRelay) -> AsyncIterator[RelayBuyer]:
    client = RelayBuyer([relay.url])
    await client.connect()
    yield client
    await client.client.shutdown()


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


async def test_a_gamma_order_over_a_relay_is_asked_for_payment_confirmed_and_shipped(
    tmp_path: Path, runtimes: Callable[..., Any], buyer: RelayBuyer
) -> None:
    runtime = await runtimes(tmp_path / "shop")
    order = buyer.spec_order(PK, "g-1", [("p1", 2)], TWO_P1)
    await buyer.send(buyer.wrapped(PK, 16, order, "for my sister"))
    (request,) = await buyer.wait_for(about("g-1", 1))
    assert [value(request, n) for n in ("type", "amount")] == ["2", str(TWO_P1)]
    bolt11 = next(t[2] for t in request["tags"] if t[0] == "payment")
    await runtime.wallet.pay(bolt11)  # the settlement stream confirms it
    await buyer.wait_for(about("g-1", 2))
    await ship_order(runtime.deps, "merchant-1", "g-1", "posted", "RR1PT", "CTT")
    answers = await buyer.wait_for(about("g-1", 3))
    assert kinds_and_types(answers) == [(16, "2", None), (16, "3", "confirmed"),
                                        (16, "4", "shipped")]  # fmt: skip
    assert value(answers[2], "tracking") == "RR1PT"
    row = await runtime.db.fetchone("SELECT status, dialect, transport FROM orders")
    assert row is not None and tuple(row) == ("shipped", "gamma", "nip17")


async def test_restore_of_gamma_orders_from_the_relays_equals_the_live_state(
    tmp_path: Path, runtimes: Callable[..., Any], buyer: RelayBuyer
) -> None:
    live = await runtimes(tmp_path / "live")
    await _shipped_order(live, buyer, "g-shipped")
    await _paid_through_the_lightning_address(live, buyer, "g-address")
    await buyer.send(buyer.wrapped(PK, 16, buyer.spec_order(PK, "g-refused", [("p1", 2)], 1)))
    await buyer.send(buyer.wrapped(PK, 16, buyer.spec_order(PK, "g-cancel", [("p1", 1)], 107)))
    await buyer.wait_for(about("g-cancel", 1))
    await buyer.send(buyer.wrapped(PK, 16, buyer.plebeian_cancel(PK, "g-cancel"), "too slow"))
    await buyer.send(buyer.wrapped(PK, 16, buyer.spec_order(PK, "g-waiting", [("p1", 1)], 107)))
    await buyer.wait_for(lambda a: about("g-cancel", 2)(a) and about("g-waiting", 1)(a))
    await _outbox_sent(live)
    expected = await order_state(live.db)
    dialects = await live.db.fetchall("SELECT id, dialect, reason FROM orders ORDER BY id")
    fresh = await runtimes(tmp_path / "restored", background=False)
    summary = await restore_orders(fresh.deps, fresh.pool, "merchant-1")
    assert await order_state(fresh.db) == expected
    restored = await fresh.db.fetchall("SELECT id, dialect, reason FROM orders ORDER BY id")
    assert [tuple(r) for r in restored] == [tuple(r) for r in dialects]
    statuses = {row[0]: row[1] for row in expected["orders"]}
    assert statuses == {"g-address": "paid", "g-cancel": "cancelled", "g-refused": "rejected",
                        "g-shipped": "shipped", "g-waiting": "awaiting_payment"}  # fmt: skip
    assert (summary.orders_restored, summary.errors) == (5, 0)
    queued = await fresh.db.fetchone("SELECT COUNT(*) FROM outbox")
    assert queued is not None and queued[0] == 0  # nothing said twice


async def _shipped_order(runtime: Runtime, buyer: RelayBuyer, order_id: str) -> None:
    await buyer.send(buyer.wrapped(PK, 16, buyer.spec_order(PK, order_id, [("p1", 1)], 107)))
    (request,) = await buyer.wait_for(about(order_id, 1))
    await runtime.wallet.pay(next(t[2] for t in request["tags"] if t[0] == "payment"))
    await buyer.wait_for(about(order_id, 2))
    await ship_order(runtime.deps, "merchant-1", order_id, "sent", "T1", "CTT")
    await buyer.wait_for(about(order_id, 3))


async def test_a_plebeian_receipt_published_in_the_open_confirms_the_order(
    tmp_path: Path, runtimes: Callable[..., Any], buyer: RelayBuyer
) -> None:
    """Plebeian's `publishPaymentReceipt` (src/publish/payment.tsx) signs the kind 17 and
    publishes it as is: we subscribe to buyers' public kind 16/17 to the merchant."""
    runtime = await runtimes(tmp_path / "shop")
    await _paid_through_the_lightning_address(runtime, buyer, "g-open", public=True)
    row = await runtime.db.fetchone("SELECT status FROM orders WHERE id = 'g-open'")
    assert row is not None and row[0] == "paid"
    kinds = await runtime.db.fetchall("SELECT kind, verdict FROM inbox ORDER BY kind")
    assert (16, "ignored") in [tuple(k) for k in kinds]  # the public marker, kept as one


async def _paid_through_the_lightning_address(
    runtime: Runtime, buyer: RelayBuyer, order_id: str, public: bool = False
) -> None:
    """Plebeian's way: details wrapped, a public marker, the lightning address paid, a
    wrapped receipt (`createPaymentReceiptRumor`), or a `public` one."""
    await buyer.send(buyer.wrapped(PK, 16, buyer.plebeian_order(PK, order_id, [("p1", 1)], 107)))
    await buyer.send(buyer.plebeian_marker(PK, order_id, [("p1", 1)], 107))
    await buyer.wait_for(about(order_id, 1))  # our payment request, which they ignore
    answer = await lnurl.address_invoice(runtime.deps, npub_encode(PK), "107000")
    await runtime.wallet.pay(answer["pr"])
    receipt = buyer.plebeian_receipt(PK, order_id, answer["pr"], 107)
    content = "Payment confirmation"
    event = (
        buyer.public(17, receipt, content) if public else buyer.wrapped(PK, 17, receipt, content)
    )
    await buyer.send(event)
    answers = await buyer.wait_for(about(order_id, 2))
    assert value(answers[-1], "status") == "confirmed"


async def _outbox_sent(runtime: Runtime) -> None:
    for _ in range(100):
        row = await runtime.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        if row is not None and row[0] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox never emptied")
