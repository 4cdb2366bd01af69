"""The whole process against real relays on 127.0.0.1 (nostr-sdk LocalRelay), with
nostr-sdk as the customer and the real FakeWallet: order -> payment request -> payment ->
paid -> shipped over NIP-04 and NIP-17; two relays; a crash between commit and publish;
a restore from the relays' history into an empty database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import nostr_sdk as sdk
import pytest
from nostrbazaar.engine import publisher as publisher_module
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.engine.restore import restore_order, restore_orders
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.services.order_admin import ship_order
from support.orders_fixtures import create_catalogue, order_content, order_state, settings_for
from support.pg import DatabaseAt
from support.relay_customer import RelayCustomer, of_type
from support.relay_process import RelayProcess

MERCHANT = PrivateKey.generate()
PK = MERCHANT.public_key
RuntimeFactory = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def relays() -> AsyncIterator[list[EmbeddedRelay]]:
    started = [EmbeddedRelay(), EmbeddedRelay()]
    for relay in started:
        await relay.start()
    yield started
    for relay in started:
        await relay.stop()


@pytest.fixture
async def runtime_at(
    relays: list[EmbeddedRelay], database_at: DatabaseAt
) -> AsyncIterator[RuntimeFactory]:
    """Start runtimes on a data dir (the merchant and catalogue created once); stop them all."""
    running: list[Runtime] = []

    async def start(
        data_dir: Path, urls: list[str] | None = None, background: bool = True
    ) -> Runtime:
        url = await database_at(data_dir)
        settings = settings_for(data_dir, relays=tuple(urls or [relays[0].url]), database_url=url)
        runtime = Runtime(settings, background=background)
        await runtime.start()
        running.append(runtime)
        if await runtime.db.fetchone("SELECT 1 FROM merchants") is None:
            await create_catalogue(runtime.db, runtime.keystore, MERCHANT)
        if background:
            await runtime.engine.refresh()
        return runtime

    yield start
    for runtime in running:
        if runtime.started:
            await runtime.stop()


@pytest.fixture
async def customer(relays: list[EmbeddedRelay]) -> AsyncIterator[RelayCustomer]:
    client = RelayCustomer([relay.url for relay in relays])
    await client.connect()
    yield client
    await client.close()


async def settle_outbox(runtime: Runtime, attempts: int = 100) -> None:
    """Wait (bounded) until the publisher has sent everything queued."""
    for _ in range(attempts):
        row = await runtime.db.fetchone("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        if row is not None and row[0] == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the outbox never emptied")


def has(type_: int, count: int = 1, **fields: Any) -> Callable[[list[Any]], bool]:
    def ready(replies: list[Any]) -> bool:
        found = [
            r for r in of_type(replies, type_) if all(r.get(k) == v for k, v in fields.items())
        ]
        return len(found) >= count

    return ready


@pytest.mark.parametrize("transport", ["nip04", "nip17"])
async def test_an_order_over_a_relay_is_answered_paid_and_shipped(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer, transport: str
) -> None:
    runtime = await runtime_at(tmp_path / "shop")
    make = customer.me.nip04 if transport == "nip04" else customer.me.nip17
    await customer.send(make(PK, order_content("o-1", [("p1", 2)])))
    replies = await customer.wait_for(PK, has(1))
    bolt11 = of_type(replies, 1)[0]["payment_options"][0]["link"]
    await runtime.wallet.pay(bolt11)
    await customer.wait_for(PK, has(2, paid=True, shipped=False))
    await ship_order(runtime.deps, "merchant-1", "o-1", "posted today")
    replies = await customer.wait_for(PK, has(2, shipped=True))
    assert [r["type"] for r in replies if isinstance(r, dict)] == [1, 2, 2]
    order = await runtime.deps.db.fetchone("SELECT status, transport FROM orders")
    assert order is not None and tuple(order) == ("shipped", transport)
    await settle_outbox(runtime)
    acks = await runtime.db.fetchall("SELECT status, acks FROM outbox WHERE purpose LIKE 'order:%'")
    assert all(row[0] == "sent" and '"ok": true' in row[1] for row in acks)


async def test_the_same_order_on_two_relays_becomes_one_order_with_one_answer(
    tmp_path: Path, runtime_at: RuntimeFactory, relays: list[EmbeddedRelay],
    customer: RelayCustomer,
) -> None:  # fmt: skip
    runtime = await runtime_at(tmp_path / "shop", [r.url for r in relays])
    await customer.send(customer.me.nip04(PK, order_content("o-1")))  # to both relays
    replies = await customer.wait_for(PK, has(1))
    await settle_outbox(runtime)
    assert len(of_type(replies, 1)) == 1
    counts = await runtime.db.fetchone(
        "SELECT (SELECT COUNT(*) FROM orders), (SELECT quantity FROM products WHERE id = 'p1')"
    )
    assert counts is not None and tuple(counts) == (1, 4)
    verdicts = await runtime.db.fetchall("SELECT verdict, COUNT(*) FROM inbox GROUP BY verdict")
    # the order once; our own reply, echoed back by the relays, recognised as ours
    assert {row[0]: row[1] for row in verdicts} == {"processed": 1, "outgoing": 1}


async def test_a_reply_committed_before_a_crash_is_published_after_the_restart(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer
) -> None:
    first = await runtime_at(tmp_path / "shop", background=False)  # no publisher runs
    merchant = await first.deps.merchants.get("merchant-1")
    verdict = await ingest_event(first.deps, merchant, customer.me.nip04(PK, order_content("o-1")))
    assert verdict.verdict == "processed"
    await first.stop()  # "killed" after the commit, before anything was published
    assert of_type(await customer.replies(PK), 1) == []
    second = await runtime_at(tmp_path / "shop")
    replies = await customer.wait_for(PK, has(1))
    assert len(of_type(replies, 1)) == 1
    await settle_outbox(second)


async def test_a_reply_that_failed_while_the_relay_was_down_goes_when_it_is_back(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The merchant's relay runs in a process of its own, killed for the outage: the port
    refuses at once (nostr-sdk's LocalRelay, stopped in process, can go on accepting
    the connections its clients reopen)."""
    monkeypatch.setattr(publisher_module, "backoff", lambda *_: 600.0)  # only a reconnect helps
    relay = RelayProcess()
    await asyncio.to_thread(relay.start)
    try:
        runtime = await runtime_at(tmp_path / "shop", [relay.url])
        merchant = await runtime.deps.merchants.get("merchant-1")
        relay.stop()
        await ingest_event(runtime.deps, merchant, customer.me.nip04(PK, order_content("o-1")))
        for _ in range(200):  # bounded: the first attempt fails while the relay is down
            row = await runtime.db.fetchone("SELECT attempts, status FROM outbox")
            if row is not None and row["attempts"] >= 1:
                break
            await asyncio.sleep(0.02)
        assert row is not None and tuple(row) == (1, "pending")
        await asyncio.to_thread(relay.start)  # back, on the same address
        await settle_outbox(runtime, attempts=400)  # long before the 600 s backoff
        sent = await runtime.db.fetchone("SELECT attempts, status FROM outbox")
        assert sent is not None and tuple(sent) == (2, "sent")
    finally:
        relay.stop()


async def test_restore_from_the_relays_into_an_empty_database_equals_the_live_state(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer
) -> None:
    live = await runtime_at(tmp_path / "live")
    await customer.send(customer.me.nip04(PK, order_content("paid", [("p1", 2)])))
    await customer.send(customer.me.nip17(PK, order_content("waiting", [("p1", 1)])))
    await customer.send(customer.me.nip04(PK, order_content("refused", [("ghost", 1)])))
    replies = await customer.wait_for(PK, has(1, count=3))
    paid = next(r for r in of_type(replies, 1) if r["id"] == "paid")
    await live.wallet.pay(paid["payment_options"][0]["link"])
    await customer.wait_for(PK, has(2, paid=True))
    await ship_order(live.deps, "merchant-1", "paid", "posted")
    await customer.wait_for(PK, has(2, shipped=True))
    await settle_outbox(live)
    expected = await order_state(live.db)
    fresh = await runtime_at(tmp_path / "restored", background=False)
    summary = await restore_orders(fresh.deps, fresh.pool, "merchant-1")
    assert await order_state(fresh.db) == expected
    assert (summary.orders_restored, summary.errors) == (3, 0)
    queued = await fresh.db.fetchone("SELECT COUNT(*) FROM outbox")
    assert queued is not None and queued[0] == 0  # no second payment request, no new message


async def test_one_order_is_restored_from_one_event_id(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer
) -> None:
    live = await runtime_at(tmp_path / "live")
    order_event = customer.me.nip04(PK, order_content("one", [("p1", 1)]))
    await customer.send(order_event)
    await customer.send(customer.me.nip04(PK, order_content("other", [("p1", 1)])))
    await customer.wait_for(PK, has(1, count=2))
    await settle_outbox(live)
    fresh = await runtime_at(tmp_path / "restored", background=False)
    await restore_order(fresh.deps, fresh.pool, "merchant-1", order_event["id"])
    rows = await fresh.db.fetchall("SELECT id, status, payment_hash FROM orders")
    live_row = await live.db.fetchone(
        "SELECT id, status, payment_hash FROM orders WHERE id = 'one'"
    )
    assert live_row is not None
    assert [tuple(row) for row in rows] == [tuple(live_row)]


async def test_customers_are_described_by_their_kind_0(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer
) -> None:
    runtime = await runtime_at(tmp_path / "shop")
    profile = sdk.EventBuilder(sdk.Kind(0), json.dumps({"name": "Ann", "about": "buys books"}))
    await customer.client.send_event(profile.finalize(customer.me.keys))
    await customer.send(customer.me.nip04(PK, "hello"))
    for _ in range(100):
        if await runtime.db.fetchone("SELECT 1 FROM customers"):
            break
        await asyncio.sleep(0.05)
    await runtime.engine.fetch_profiles()
    row = await runtime.db.fetchone("SELECT name, about, unread FROM customers")
    assert row is not None and tuple(row) == ("Ann", "buys books", 1)


async def test_an_invalid_event_from_a_relay_is_kept_as_rejected(
    tmp_path: Path, runtime_at: RuntimeFactory, customer: RelayCustomer
) -> None:
    runtime = await runtime_at(tmp_path / "shop")
    forged = customer.me.nip04(PK, order_content("o-1")) | {"sig": "11" * 64}
    runtime.engine.on_reject("ws://somewhere", forged, "bad signature")
    for _ in range(100):
        row = await runtime.db.fetchone("SELECT merchant_id, verdict, reason, relay FROM inbox")
        if row is not None:
            break
        await asyncio.sleep(0.02)
    assert row is not None
    assert tuple(row) == ("merchant-1", "rejected", "bad signature", "ws://somewhere")
    assert await runtime.db.fetchone("SELECT 1 FROM orders") is None
