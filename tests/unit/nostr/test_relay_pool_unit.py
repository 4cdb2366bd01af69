"""Relay pool logic with in-memory sockets: no network, no relay process.

The fake socket lets a test push frames exactly as a relay would, and see every
message the pool sends, so ordering cases (a forged copy first, a reconnect in
the middle of a fetch, a full queue) are deterministic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from nostrbazaar.nostr.event import Event, sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay import auth_event
from nostrbazaar.nostr.relay_pool import RelayPool
from nostrbazaar.nostr.relay_util import (
    RESUME_LOOKBACK,
    SeenIds,
    backoff_delay,
    decode_frame,
    resume_filters,
)
from support.fake_relay_sockets import (
    FAST,
    A,
    B,
    Connector,
    Inbox,
    connected,
    eventually,
    feed,
)


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
