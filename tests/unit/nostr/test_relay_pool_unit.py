"""Relay pool logic with in-memory sockets: no network, no relay process.

The fake socket lets a test push frames exactly as a relay would, and see every
message the pool sends, so ordering cases (a forged copy first, a reconnect in
the middle of a fetch, a full queue) are deterministic.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from nostrbazaar.nostr.event import Event, sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay import auth_event
from nostrbazaar.nostr.relay_pool import RelayPool, key_authenticator
from nostrbazaar.nostr.relay_util import (
    RESUME_LOOKBACK,
    SeenIds,
    backoff_delay,
    decode_frame,
    resume_filters,
)

A, B = "ws://a.invalid", "ws://b.invalid"
FAST = {"backoff_base": 0.001, "backoff_max": 0.005}
Respond = Callable[[list[Any]], list[Any]]


class FakeSocket:
    """An in-memory websocket: the test pushes frames in; what the pool sends is kept."""

    def __init__(self, respond: Respond | None) -> None:
        self.frames: asyncio.Queue[Any] = asyncio.Queue()
        self.sent: list[list[Any]] = []
        self.consumed = 0
        self.closed = False
        self._respond = respond

    async def send(self, message: str) -> None:
        parsed = json.loads(message)
        self.sent.append(parsed)
        for reply in self._respond(parsed) if self._respond else []:
            self.push(reply)

    async def close(self) -> None:
        self.closed = True

    def push(self, frame: Any) -> None:
        """Queue a frame for the pool to read (a list is JSON-encoded)."""
        self.frames.put_nowait(json.dumps(frame) if isinstance(frame, list) else frame)

    def drop(self) -> None:
        """End the connection as a network failure would."""
        self.frames.put_nowait(ConnectionResetError("reset by the test"))

    def sent_of(self, kind: str) -> list[list[Any]]:
        return [message for message in self.sent if message[0] == kind]

    def __aiter__(self) -> FakeSocket:
        return self

    async def __anext__(self) -> str | bytes:
        item = await self.frames.get()
        if isinstance(item, BaseException):
            raise item
        self.consumed += 1
        return item  # type: ignore[no-any-return]


class Connector:
    """A socket factory handing out `FakeSocket`s; URLs in `refuse` are refused."""

    def __init__(self, respond: Respond | None = None) -> None:
        self.sockets: dict[str, list[FakeSocket]] = defaultdict(list)
        self.refuse: set[str] = set()
        self.respond = respond

    async def __call__(self, url: str, **options: Any) -> FakeSocket:
        if url in self.refuse:
            raise ConnectionRefusedError("refused by the test")
        socket = FakeSocket(self.respond)
        self.sockets[url].append(socket)
        return socket

    def latest(self, url: str) -> FakeSocket:
        return self.sockets[url][-1]


async def eventually(check: Callable[[], bool], what: str, attempts: int = 500) -> None:
    """Wait (at most `attempts` short sleeps) until `check()` holds."""
    for _ in range(attempts):
        if check():
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"gave up waiting for {what}")


class Inbox:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def __call__(self, event: Event, relay: str) -> None:
        self.events.append(event)

    @property
    def contents(self) -> list[str]:
        return [event.content for event in self.events]


@pytest.fixture
def key() -> PrivateKey:
    return PrivateKey.generate()


@pytest.fixture
def connector() -> Connector:
    return Connector()


@pytest.fixture
async def pools(connector: Connector) -> AsyncIterator[Callable[..., RelayPool]]:
    """Build pools on the fake connector (started by the test); all closed afterwards."""
    made: list[RelayPool] = []

    def make(urls: list[str], **options: Any) -> RelayPool:
        pool = RelayPool(urls, connect=connector, **{**FAST, **options})
        made.append(pool)
        return pool

    yield make
    for pool in made:
        await pool.close()


async def connected(pool: RelayPool, connector: Connector, url: str) -> FakeSocket:
    await eventually(lambda: pool.status().get(url) == "connected", f"{url} to connect")
    return connector.latest(url)


def feed(key: PrivateKey) -> list[dict[str, Any]]:
    return [{"kinds": [1], "authors": [key.public_key]}]


def test_backoff_is_full_jitter_under_an_exponential_ceiling_that_is_capped() -> None:
    assert backoff_delay(0, 0.5, 60, rand=1.0) == 0.5
    assert backoff_delay(3, 0.5, 60, rand=1.0) == 4.0
    assert backoff_delay(10_000, 0.5, 60, rand=1.0) == 60
    assert backoff_delay(3, 0.5, 60, rand=0.0) == 0.0
    assert all(0 <= backoff_delay(4, 0.5, 60) <= 8 for _ in range(200))


def test_resume_keeps_the_filters_as_they_were_when_nothing_was_seen() -> None:
    filters = [{"kinds": [1059]}, {"kinds": [4], "since": 100}]
    assert resume_filters(filters, None) == filters


def test_resume_asks_from_two_days_before_the_newest_event_seen() -> None:
    newest = 1_800_000_000
    resumed = resume_filters([{"kinds": [1059]}], newest)
    assert resumed == [{"kinds": [1059], "since": newest - 2 * 24 * 3600}]


def test_resume_never_moves_a_filters_own_since_backwards() -> None:
    newest = 1_800_000_000
    assert resume_filters([{"since": newest}], newest) == [{"since": newest}]


def test_seen_ids_stay_bounded_and_forget_the_least_recently_seen() -> None:
    seen = SeenIds(2)
    seen.add("a", "s")
    seen.add("b", "s")
    assert seen.seen("a", "s")  # touching "a" makes "b" the oldest
    seen.add("c", "s")
    assert len(seen) == 2
    assert not seen.seen("b", "s")
    assert seen.seen("a", "s") and seen.seen("c", "s")
    assert not seen.seen("a", "another subscription")


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"bytes", "binary frame"),
        ("{not json", "not JSON"),
        ("[" * 50_000, "not JSON"),
        ('{"a": 1}', "not a JSON array starting with a message type"),
        ("[]", "not a JSON array starting with a message type"),
        ("[1, 2]", "not a JSON array starting with a message type"),
    ],
)
def test_decode_frame_says_what_is_wrong_with_a_bad_frame(frame: str | bytes, reason: str) -> None:
    assert decode_frame(frame) == reason


def test_auth_event_carries_the_relay_and_the_challenge(key: PrivateKey) -> None:
    event = auth_event(key, A, "challenge-1")
    assert (event.kind, event.first_tag("relay"), event.first_tag("challenge")) == (
        22242,
        A,
        "challenge-1",
    )


def test_pool_refuses_a_url_that_is_not_a_websocket() -> None:
    with pytest.raises(ValueError, match="ws:// or wss://"):
        RelayPool(["https://relay.example.com"])


def test_pool_refuses_an_unbounded_queue() -> None:
    with pytest.raises(ValueError, match="queue_size"):
        RelayPool([A], queue_size=0)


def test_subscription_ids_must_be_one_to_sixty_four_characters(key: PrivateKey) -> None:
    pool = RelayPool([A])
    with pytest.raises(ValueError, match="1 to 64"):
        pool.subscribe("x" * 65, feed(key), Inbox())


async def test_a_forged_copy_sent_first_is_rejected_and_the_real_event_still_delivered(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    rejects: list[str] = []
    pool, inbox = pools([A], on_reject=lambda url, raw, why: rejects.append(why)), Inbox()
    pool.subscribe("dm", feed(key), inbox)
    await pool.start()
    socket = await connected(pool, connector, A)
    real = sign_event(key, 1, "real")
    socket.push(["EVENT", "dm", {**real.to_dict(), "content": "forged"}])
    socket.push(["EVENT", "dm", real.to_dict()])
    socket.push(["EVENT", "dm", real.to_dict()])
    await eventually(lambda: inbox.contents == ["real"], "the real event")
    await eventually(lambda: socket.frames.empty(), "the relay's frames to be read")
    assert rejects == ["id does not match the event's content"]
    assert inbox.contents == ["real"]


async def test_resubscription_after_a_reconnect_asks_from_two_days_before_the_newest_event(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    pool, inbox = pools([A]), Inbox()
    pool.subscribe("dm", feed(key), inbox)
    await pool.start()
    first = await connected(pool, connector, A)
    stamp = int(time.time()) - 3600
    first.push(["EVENT", "dm", sign_event(key, 1, "seen", created_at=stamp).to_dict()])
    await eventually(lambda: inbox.contents == ["seen"], "the event")
    first.drop()
    await eventually(lambda: len(connector.sockets[A]) == 2, "a reconnect")
    second = await connected(pool, connector, A)
    await eventually(lambda: bool(second.sent_of("REQ")), "the new REQ")
    assert first.sent_of("REQ") == [["REQ", "dm", *feed(key)]]
    assert second.sent_of("REQ") == [
        ["REQ", "dm", {**feed(key)[0], "since": stamp - RESUME_LOOKBACK}]
    ]


async def test_an_event_dated_in_the_future_does_not_push_the_resumed_since_past_now(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    pool, inbox = pools([A]), Inbox()
    pool.subscribe("dm", feed(key), inbox)
    await pool.start()
    first = await connected(pool, connector, A)
    future = sign_event(key, 1, "from 2100", created_at=4_102_444_800)
    first.push(["EVENT", "dm", future.to_dict()])
    await eventually(lambda: inbox.contents == ["from 2100"], "the event")
    first.drop()
    await eventually(lambda: len(connector.sockets[A]) == 2, "a reconnect")
    second = await connected(pool, connector, A)
    await eventually(lambda: bool(second.sent_of("REQ")), "the new REQ")
    assert second.sent_of("REQ")[0][2]["since"] <= int(time.time()) - RESUME_LOOKBACK


async def test_a_failing_handler_does_not_stop_delivery_and_a_later_copy_is_tried_again(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    calls: list[str] = []

    async def flaky(event: Event, relay: str) -> None:
        calls.append(event.content)
        if len(calls) == 1:
            raise RuntimeError("database is locked")

    pool = pools([A, B])
    pool.subscribe("dm", feed(key), flaky)
    await pool.start()
    first, second = await connected(pool, connector, A), await connected(pool, connector, B)
    event = sign_event(key, 1, "order")
    first.push(["EVENT", "dm", event.to_dict()])
    await eventually(lambda: calls == ["order"], "the first attempt")
    second.push(["EVENT", "dm", event.to_dict()])
    second.push(["EVENT", "dm", sign_event(key, 1, "next").to_dict()])
    await eventually(lambda: calls == ["order", "order", "next"], "the retry and the next event")


async def test_a_slow_handler_pauses_reading_instead_of_dropping_or_growing_memory(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    release, inbox = asyncio.Event(), Inbox()

    async def slow(event: Event, relay: str) -> None:
        await release.wait()
        await inbox(event, relay)

    pool = pools([A], queue_size=2)
    pool.subscribe("dm", feed(key), slow)
    await pool.start()
    socket = await connected(pool, connector, A)
    sent = [sign_event(key, 1, f"order {n}") for n in range(20)]
    for event in sent:
        socket.push(["EVENT", "dm", event.to_dict()])
    await eventually(lambda: socket.consumed >= 4, "the reader to fill the queue")
    for _ in range(50):
        await asyncio.sleep(0)
    # One event in the handler, two in the queue, one waiting on the full queue.
    assert socket.consumed == 4
    release.set()
    await eventually(lambda: len(inbox.events) == 20, "every event")
    assert inbox.contents == [event.content for event in sent]


async def test_publish_to_a_relay_that_refuses_connections_fails_at_once_with_the_reason(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    connector.refuse.add(A)
    pool = pools([A])
    await pool.start()
    await eventually(lambda: pool.status()[A].startswith("error:"), "the refusal")
    result = (await pool.publish(sign_event(key, 1, "x"), timeout=60))[A]
    assert not result.ok
    assert result.message.startswith("not connected:")
    assert "connection refused" in result.message


async def test_publish_to_a_relay_not_in_the_pool_says_so(
    pools: Callable[..., RelayPool], key: PrivateKey
) -> None:
    pool = pools([A])
    await pool.start()
    result = (await pool.publish(sign_event(key, 1, "x"), relays=[B], timeout=1))[B]
    assert (result.ok, result.message) == (False, "error: relay is not in the pool")


def auth_relay(always_required: bool = False) -> Respond:
    """A relay that wants AUTH before EVENT (always, if `always_required`)."""
    state = {"authed": False}

    def respond(message: list[Any]) -> list[Any]:
        if message[0] == "AUTH":
            state["authed"] = True
            return [["OK", message[1]["id"], True, ""]]
        if message[0] == "EVENT":
            ok = state["authed"] and not always_required
            return [["OK", message[1]["id"], ok, "" if ok else "auth-required: who are you?"]]
        if message[0] == "REQ" and not state["authed"]:
            return [["CLOSED", message[1], "auth-required: who are you?"]]
        return []

    return respond


async def test_publish_authenticates_and_retries_once_when_the_relay_says_auth_required(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    connector.respond = auth_relay()
    pool = pools([A], authenticator=key_authenticator(key))
    await pool.start()
    socket = await connected(pool, connector, A)
    socket.push(["AUTH", "challenge-1"])
    await eventually(lambda: bool(socket.sent_of("AUTH")), "the AUTH answer")
    result = (await pool.publish(sign_event(key, 1, "x"), timeout=5))[A]
    assert result.ok
    auth = socket.sent_of("AUTH")[0][1]
    assert ["challenge", "challenge-1"] in auth["tags"] and ["relay", A] in auth["tags"]


async def test_publish_gives_up_after_one_retry_when_auth_does_not_help(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    connector.respond = auth_relay(always_required=True)
    pool = pools([A], authenticator=key_authenticator(key))
    await pool.start()
    socket = await connected(pool, connector, A)
    socket.push(["AUTH", "challenge-1"])
    result = (await pool.publish(sign_event(key, 1, "x"), timeout=5))[A]
    assert not result.ok
    assert result.message.startswith("auth-required:")
    assert len(socket.sent_of("EVENT")) == 2
    assert len(socket.sent_of("AUTH")) == 1


async def test_a_subscription_closed_for_auth_is_authenticated_and_requested_again(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    connector.respond = auth_relay()
    pool, inbox = pools([A], authenticator=key_authenticator(key)), Inbox()
    await pool.start()
    socket = await connected(pool, connector, A)
    socket.push(["AUTH", "challenge-1"])
    await eventually(lambda: bool(socket.sent_of("AUTH")), "the AUTH answer")
    pool.subscribe("dm", feed(key), inbox)
    await eventually(lambda: len(socket.sent_of("REQ")) == 1, "the REQ")
    # Now make it refuse once more, as a relay would after a new challenge.
    socket.push(["AUTH", "challenge-2"])
    socket.push(["CLOSED", "dm", "auth-required: again"])
    await eventually(lambda: len(socket.sent_of("REQ")) == 2, "the REQ sent again")
    assert len(socket.sent_of("AUTH")) == 2
    socket.push(["EVENT", "dm", sign_event(key, 1, "after auth").to_dict()])
    await eventually(lambda: inbox.contents == ["after auth"], "delivery after AUTH")


async def test_a_raising_reject_callback_does_not_break_the_pool(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    def explode(relay: str, raw: object, reason: str) -> None:
        raise RuntimeError("reject store is down")

    pool, inbox = pools([A], on_reject=explode), Inbox()
    pool.subscribe("dm", feed(key), inbox)
    await pool.start()
    socket = await connected(pool, connector, A)
    socket.push(["EVENT", "dm", {"id": "nonsense"}])
    socket.push(["EVENT", "dm", sign_event(key, 1, "fine").to_dict()])
    await eventually(lambda: inbox.contents == ["fine"], "the valid event")


async def test_unsubscribe_sends_close_and_late_events_are_ignored(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    pool, inbox = pools([A]), Inbox()
    pool.subscribe("dm", feed(key), inbox)
    await pool.start()
    socket = await connected(pool, connector, A)
    await eventually(lambda: bool(socket.sent_of("REQ")), "the REQ")
    await pool.unsubscribe("dm")
    assert socket.sent_of("CLOSE") == [["CLOSE", "dm"]]
    socket.push(["EVENT", "dm", sign_event(key, 1, "late").to_dict()])
    socket.push(["NOTICE", "marker"])
    await eventually(lambda: socket.frames.empty(), "the late frames to be read")
    assert inbox.events == []


def fetch_relay(key: PrivateKey, events: list[Event], end: str) -> Respond:
    """A relay that answers a fetch REQ with `events`, then EOSE, CLOSED or nothing."""

    def respond(message: list[Any]) -> list[Any]:
        if message[0] != "REQ":
            return []
        replies: list[Any] = [["EVENT", message[1], event.to_dict()] for event in events]
        if end == "EOSE":
            replies.append(["EOSE", message[1]])
        elif end == "CLOSED":
            replies.append(["CLOSED", message[1], "error: shutting down"])
        return replies

    return respond


async def test_fetch_returns_what_it_got_when_a_relay_closes_the_query_or_goes_away(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    kept = [sign_event(key, 1, "kept", created_at=1_700_000_000 + n) for n in range(3)]
    connector.respond = fetch_relay(key, kept, "CLOSED")
    pool = pools([A, B])
    await pool.start()
    await connected(pool, connector, A)
    await connected(pool, connector, B)
    task = asyncio.create_task(pool.fetch(feed(key), timeout=60))
    await eventually(lambda: bool(connector.latest(B).sent_of("REQ")), "B's REQ")
    connector.latest(B).drop()
    events = await task
    assert [event.created_at for event in events] == [e.created_at for e in reversed(kept)]


async def test_fetch_rejects_a_forged_copy_and_still_returns_the_real_event_once(
    pools: Callable[..., RelayPool], connector: Connector, key: PrivateKey
) -> None:
    real = sign_event(key, 1, "real")
    forged = {**real.to_dict(), "content": "forged"}

    def respond(message: list[Any]) -> list[Any]:
        if message[0] != "REQ":
            return []
        sub_id = message[1]
        frames = [forged, real.to_dict(), forged, real.to_dict()]
        return [*(["EVENT", sub_id, frame] for frame in frames), ["EOSE", sub_id]]

    connector.respond = respond
    rejects: list[str] = []
    pool = pools([A], on_reject=lambda url, raw, why: rejects.append(why))
    await pool.start()
    await connected(pool, connector, A)
    events = await pool.fetch(feed(key), timeout=60)
    assert events == [real]
    # The second forged copy comes after the real event verified: skipped, not verified.
    assert rejects == ["id does not match the event's content"]


async def test_closing_the_pool_cancels_its_tasks_and_closes_its_sockets(
    connector: Connector, key: PrivateKey
) -> None:
    before = asyncio.all_tasks()
    pool = RelayPool([A, B], connect=connector, **FAST)
    pool.subscribe("dm", feed(key), Inbox())
    await pool.start()
    socket = await connected(pool, connector, A)
    await pool.close()
    assert asyncio.all_tasks() <= before
    assert socket.closed
    assert pool.status() == {A: "disconnected", B: "disconnected"}
