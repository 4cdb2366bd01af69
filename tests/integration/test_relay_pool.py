"""The relay pool against a real relay (nostr-sdk LocalRelay) and against misbehaving ones.

Every server here listens on 127.0.0.1 and is stopped by the test (or fixture)
that started it. Waits are bounded loops; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import suppress
from typing import Any

import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay, free_port
from nostrbazaar.nostr.event import Event, sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay_pool import PublishResult, RelayPool, key_authenticator
from support.fake_relay import FakeRelay, Session
from websockets.asyncio.client import connect as websockets_connect
from websockets.exceptions import ConnectionClosed

FAST = {"backoff_base": 0.02, "backoff_max": 0.1}

PoolFactory = Callable[..., Awaitable[RelayPool]]
FakeFactory = Callable[..., Awaitable[FakeRelay]]


async def eventually(check: Callable[[], bool], what: str, attempts: int = 500) -> None:
    """Wait (at most `attempts` short sleeps) until `check()` holds."""
    for _ in range(attempts):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {what}")


class Inbox:
    """A subscription handler that remembers what it was given."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[Event, str]] = []

    async def __call__(self, event: Event, relay: str) -> None:
        self.deliveries.append((event, relay))

    @property
    def contents(self) -> list[str]:
        return [event.content for event, _ in self.deliveries]


class Rejects:
    """An `on_reject` callback that remembers (relay, raw, reason)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object, str]] = []

    def __call__(self, relay: str, raw: object, reason: str) -> None:
        self.calls.append((relay, raw, reason))

    @property
    def reasons(self) -> list[str]:
        return [reason for _, _, reason in self.calls]


class Gate:
    """A socket factory the test can shut, to control exactly when a pool reconnects."""

    def __init__(self) -> None:
        self.open = True

    async def connect(self, url: str, **options: Any) -> Any:
        if not self.open:
            raise ConnectionRefusedError(f"the test keeps {url} shut")
        return await websockets_connect(url, **options)


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    embedded = EmbeddedRelay()
    await embedded.start()
    yield embedded
    await embedded.stop()


@pytest.fixture
async def pools() -> AsyncIterator[PoolFactory]:
    """Make started pools with fast backoff; all are closed after the test."""
    made: list[RelayPool] = []

    async def make(urls: Sequence[str], **options: Any) -> RelayPool:
        pool = RelayPool(urls, **{**FAST, **options})
        made.append(pool)
        await pool.start()
        return pool

    yield make
    for pool in made:
        await pool.close()


@pytest.fixture
async def fake_relays() -> AsyncIterator[FakeFactory]:
    """Make started fake relays; all are stopped after the test."""
    made: list[FakeRelay] = []

    async def make(**options: Any) -> FakeRelay:
        fake = FakeRelay(**options)
        made.append(fake)
        await fake.start()
        return fake

    yield make
    for fake in made:
        await fake.stop()


async def publish_until_ok(pool: RelayPool, event: Event, url: str) -> None:
    """Publish, retrying while the pool is still (re)connecting to `url`."""
    for _ in range(100):
        if (await pool.publish(event, [url], timeout=5))[url].ok:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{url} never accepted {event.content!r}")


def feed(key: PrivateKey) -> list[dict[str, Any]]:
    return [{"kinds": [1], "authors": [key.public_key]}]


async def test_publish_gets_ok_from_a_real_relay(
    relay: EmbeddedRelay, pools: PoolFactory, key: PrivateKey
) -> None:
    pool = await pools([relay.url])
    results = await pool.publish(sign_event(key, 1, "hello"), timeout=5)
    assert results == {relay.url: PublishResult(relay.url, True, "")}
    assert pool.status() == {relay.url: "connected"}


async def test_subscription_gets_stored_events_then_live_ones(
    relay: EmbeddedRelay, pools: PoolFactory, key: PrivateKey
) -> None:
    publisher = await pools([relay.url])
    await publish_until_ok(publisher, sign_event(key, 1, "stored"), relay.url)
    pool, inbox = await pools([relay.url]), Inbox()
    pool.subscribe("feed", feed(key), inbox)
    await eventually(lambda: inbox.contents == ["stored"], "the stored event")
    await publish_until_ok(publisher, sign_event(key, 1, "live"), relay.url)
    await eventually(lambda: inbox.contents == ["stored", "live"], "the live event")


async def test_two_relays_carrying_the_same_event_deliver_it_once(
    pools: PoolFactory, key: PrivateKey
) -> None:
    first, second = EmbeddedRelay(), EmbeddedRelay()
    await first.start()
    await second.start()
    try:
        publisher = await pools([first.url, second.url])
        shared = sign_event(key, 1, "shared")
        await publish_until_ok(publisher, shared, first.url)
        await publish_until_ok(publisher, shared, second.url)
        pool, inbox = await pools([first.url, second.url]), Inbox()
        pool.subscribe("feed", feed(key), inbox)
        # Each relay sends `shared` before its own marker, and one queue feeds the
        # handler in order, so once both markers are in, both copies were handled.
        await publish_until_ok(publisher, sign_event(key, 1, "marker one"), first.url)
        await publish_until_ok(publisher, sign_event(key, 1, "marker two"), second.url)
        await eventually(lambda: len(inbox.contents) == 3, "both markers")
        assert sorted(inbox.contents) == ["marker one", "marker two", "shared"]
    finally:
        await first.stop()
        await second.stop()


async def test_pool_reconnects_to_a_relay_restarted_on_the_same_port_and_gets_what_it_missed_once(
    pools: PoolFactory, key: PrivateKey
) -> None:
    relay, gate = EmbeddedRelay(), Gate()
    await relay.start()
    try:
        publisher = await pools([relay.url])
        pool, inbox = await pools([relay.url], connect=gate.connect), Inbox()
        pool.subscribe("feed", feed(key), inbox)
        before = sign_event(key, 1, "before")
        await publish_until_ok(publisher, before, relay.url)
        await eventually(lambda: inbox.contents == ["before"], "the first event")

        gate.open = False
        await relay.stop()
        await eventually(lambda: pool.status()[relay.url].startswith("error:"), "the outage")
        relay = EmbeddedRelay(relay.port)  # same port, empty memory
        await relay.start()
        await publish_until_ok(publisher, before, relay.url)  # a copy it already has
        await publish_until_ok(publisher, sign_event(key, 1, "missed"), relay.url)
        gate.open = True

        await eventually(lambda: "missed" in inbox.contents, "the missed event")
        await publish_until_ok(publisher, sign_event(key, 1, "after"), relay.url)
        await eventually(lambda: "after" in inbox.contents, "a live event after reconnecting")
        assert inbox.contents == ["before", "missed", "after"]
    finally:
        await relay.stop()


async def test_fetch_returns_stored_events_and_stops_at_eose(
    relay: EmbeddedRelay, pools: PoolFactory, key: PrivateKey, log_messages: list[str]
) -> None:
    publisher = await pools([relay.url])
    for content in ("one", "two", "three"):
        await publish_until_ok(publisher, sign_event(key, 1, content), relay.url)
    pool = await pools([relay.url])
    events = await pool.fetch(feed(key), timeout=30)
    assert sorted(event.content for event in events) == ["one", "three", "two"]
    assert not [line for line in log_messages if "timed out" in line]


async def test_fetch_pages_backwards_with_until(
    relay: EmbeddedRelay, pools: PoolFactory, key: PrivateKey
) -> None:
    publisher = await pools([relay.url])
    base = 1_700_000_000
    for age in range(5):
        event = sign_event(key, 1, f"age {age}", created_at=base - age * 10)
        await publish_until_ok(publisher, event, relay.url)
    pool, pages = await pools([relay.url]), []
    until = base
    for _ in range(10):  # bounded: five events in pages of two need three
        page = await pool.fetch([{**feed(key)[0], "limit": 2, "until": until}], timeout=5)
        if not page:
            break
        pages.append([event.content for event in page])
        until = min(event.created_at for event in page) - 1
    assert pages == [["age 0", "age 1"], ["age 2", "age 3"], ["age 4"]]


async def test_fetch_closes_its_subscription_after_eose(
    fake_relays: FakeFactory, pools: PoolFactory, key: PrivateKey
) -> None:
    fake = await fake_relays()
    fake.stored.append(sign_event(key, 1, "kept").to_dict())
    pool = await pools([fake.url])
    events = await pool.fetch(feed(key), timeout=30)
    assert [event.content for event in events] == ["kept"]
    await eventually(lambda: len(fake.messages("CLOSE")) == 1, "the CLOSE")
    assert fake.messages("CLOSE")[0][1] == fake.messages("REQ")[0][1]


def misbehaviour(key: PrivateKey) -> tuple[list[Any], dict[str, str]]:
    """Frames a hostile relay sends, and the reject reason expected for each bad event."""
    good = sign_event(key, 1, "good")
    other = sign_event(key, 1, "other")
    forged = {**good.to_dict(), "content": "forged"}  # borrows the good event's id
    bad_sig = {**sign_event(key, 1, "bad sig").to_dict(), "sig": other.sig}
    wrong_id = {**sign_event(key, 1, "wrong id").to_dict(), "id": other.id}
    reasons = {
        "forged": "id does not match the event's content",
        "bad sig": "bad signature",
        "wrong id": "id does not match the event's content",
        "not an object": "event is not a JSON object",
        "missing": "missing field 'pubkey'",
    }
    garbage: list[Any] = [
        "this is not json {",
        b"\x00\x01binary",
        '{"an": "object, not an array"}',
        "[]",
        "[" * 100_000,
        '["SOMETHING_NEW", 1, 2]',
        '["EVENT"]',
        '["OK", 42]',
        '["NOTICE", "you are being tested"]',
        ["EVENT", "feed", sign_event(key, 7, "a kind we did not ask for").to_dict()],
    ]
    events = [forged, bad_sig, wrong_id, "not an object", {"id": "00" * 32}]
    return [*(["EVENT", "feed", raw] for raw in events), *garbage, good.to_dict()], reasons


async def test_a_misbehaving_relay_cannot_break_the_pool_and_its_bad_events_are_rejected(
    fake_relays: FakeFactory, pools: PoolFactory, key: PrivateKey
) -> None:
    frames, reasons = misbehaviour(key)
    *hostile, good = frames

    async def script(session: Session, sub_id: str, filters: list[dict[str, Any]]) -> None:
        for frame in hostile:
            await session.send(frame)
        await session.send(["EVENT", sub_id, good])
        await session.send(["EOSE", sub_id])
        if session.number == 1:  # bigger than the pool's 1 MiB limit: it must reconnect
            with suppress(ConnectionClosed):
                await session.send(["NOTICE", "x" * (2**20 + 1)])

    fake, rejects, inbox = await fake_relays(on_req=script), Rejects(), Inbox()
    pool = await pools([fake.url], on_reject=rejects)
    pool.subscribe("feed", feed(key), inbox)
    await eventually(lambda: len(fake.sessions) == 2 and fake.sessions[1].subs, "a reconnect")
    await fake.broadcast(["EVENT", "feed", sign_event(key, 1, "live").to_dict()])
    await eventually(lambda: "live" in inbox.contents, "a live event after the garbage")

    assert inbox.contents == ["good", "live"]
    # The second time round the forged copy borrows an id already delivered (and
    # verified), so it is dropped as a duplicate without being verified again.
    second_time = [reason for name, reason in reasons.items() if name != "forged"]
    assert sorted(rejects.reasons) == sorted([*reasons.values(), *second_time])
    assert {relay for relay, _, _ in rejects.calls} == {fake.url}
    assert pool.status() == {fake.url: "connected"}


async def test_pool_authenticates_when_the_relay_requires_it_then_publishes_and_subscribes(
    fake_relays: FakeFactory, pools: PoolFactory, key: PrivateKey
) -> None:
    fake = await fake_relays(require_auth=True)
    pool, inbox = await pools([fake.url], authenticator=key_authenticator(key)), Inbox()
    pool.subscribe("feed", feed(key), inbox)
    event = sign_event(key, 1, "after auth")
    results = await pool.publish(event, timeout=5)
    assert results[fake.url] == PublishResult(fake.url, True, "")
    assert fake.stored == [event.to_dict()]
    await eventually(lambda: inbox.contents == ["after auth"], "the event via the subscription")
    assert fake.sessions[0].authed
    assert pool.status() == {fake.url: "connected"}


async def test_relay_requiring_auth_without_an_authenticator_shows_auth_required(
    fake_relays: FakeFactory, pools: PoolFactory, key: PrivateKey
) -> None:
    fake = await fake_relays(require_auth=True)
    pool = await pools([fake.url])
    result = (await pool.publish(sign_event(key, 1, "refused"), timeout=5))[fake.url]
    assert not result.ok
    assert result.message.startswith("auth-required:")
    assert pool.status() == {fake.url: "auth-required"}


async def test_publish_to_a_relay_that_never_answers_ok_returns_a_timeout(
    fake_relays: FakeFactory, pools: PoolFactory, key: PrivateKey
) -> None:
    fake = await fake_relays(answer_ok=False)
    pool = await pools([fake.url])
    result = (await pool.publish(sign_event(key, 1, "unanswered"), timeout=0.3))[fake.url]
    assert not result.ok
    assert result.message.startswith("timeout:")
    assert len(fake.messages("EVENT")) == 1


async def test_a_relay_that_refuses_connections_shows_in_status_and_others_keep_working(
    relay: EmbeddedRelay, pools: PoolFactory, key: PrivateKey
) -> None:
    refused = f"ws://127.0.0.1:{free_port()}"
    pool, inbox = await pools([refused, relay.url]), Inbox()
    pool.subscribe("feed", feed(key), inbox)
    results = await pool.publish(sign_event(key, 1, "through one"), timeout=5)
    assert results[relay.url].ok
    assert not results[refused].ok
    await eventually(lambda: inbox.contents == ["through one"], "delivery from the good relay")
    await eventually(lambda: pool.status()[refused].startswith("error:"), "the refusal")
    assert "connection refused" in pool.status()[refused]
    assert pool.status()[relay.url] == "connected"


async def test_a_relay_added_later_gets_the_existing_subscriptions_and_removal_forgets_it(
    relay: EmbeddedRelay, pools: PoolFactory, key: PrivateKey
) -> None:
    publisher = await pools([relay.url])
    await publish_until_ok(publisher, sign_event(key, 1, "on the new relay"), relay.url)
    pool, inbox = await pools([]), Inbox()
    pool.subscribe("feed", feed(key), inbox)
    await pool.add_relay(relay.url)
    await eventually(lambda: inbox.contents == ["on the new relay"], "the added relay's event")
    await pool.remove_relay(relay.url)
    assert pool.status() == {}


async def test_closing_the_pool_leaves_no_task_behind(
    relay: EmbeddedRelay, key: PrivateKey
) -> None:
    before = asyncio.all_tasks()
    pool = RelayPool([relay.url, f"ws://127.0.0.1:{free_port()}"], **FAST)
    await pool.start()
    pool.subscribe("feed", feed(key), Inbox())
    assert (await pool.publish(sign_event(key, 1, "bye"), timeout=5))[relay.url].ok
    await pool.close()
    assert asyncio.all_tasks() <= before
    assert set(pool.status().values()) == {"disconnected"}
