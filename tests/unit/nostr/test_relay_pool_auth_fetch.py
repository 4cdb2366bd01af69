"""Relay pool with in-memory sockets: NIP-42 AUTH, and fetching with forged copies and
relays that go away."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nostrbazaar.nostr.event import Event, sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay_pool import RelayPool, key_authenticator
from support.fake_relay_sockets import (
    A,
    B,
    Connector,
    Inbox,
    Respond,
    connected,
    eventually,
    feed,
)


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
