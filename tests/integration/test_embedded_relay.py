"""The embedded relay takes the shop's own bursts: many events on one connection, at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nostrbazaar.engine.embedded_relay import EmbeddedRelay
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.keys import PrivateKey
from websockets.asyncio.client import connect

BURST = 150  # nostr-sdk's default limit is 60 notes a minute per connection


@pytest.fixture
async def relay() -> AsyncIterator[EmbeddedRelay]:
    embedded = EmbeddedRelay()
    await embedded.start()
    yield embedded
    await embedded.stop()


async def test_the_embedded_relay_accepts_a_burst_of_events_on_one_connection(
    relay: EmbeddedRelay,
) -> None:
    key, customer = PrivateKey.generate(), PrivateKey.generate().public_key
    events = [sign_event(key, 4, f"reply {n}", [["p", customer]]) for n in range(BURST)]
    async with connect(relay.url) as socket:
        for event in events:
            await socket.send(json.dumps(["EVENT", event.to_dict()]))
        answers: dict[str, tuple[bool, str]] = {}
        while len(answers) < BURST:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            if message[0] == "OK":
                answers[message[1]] = (message[2], message[3])
    refused = [reason for ok, reason in answers.values() if not ok]
    assert refused == []
    assert set(answers) == {event.id for event in events}


async def _publish(url: str, events: list[dict[str, object]]) -> list[bool]:
    async with connect(url) as socket:
        for event in events:
            await socket.send(json.dumps(["EVENT", event]))
        answers: dict[str, bool] = {}
        while len(answers) < len(events):
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            if message[0] == "OK":
                answers[message[1]] = message[2]
    return [answers[str(event["id"])] for event in events]


async def _stored(url: str, filter_: dict[str, object]) -> list[dict[str, object]]:
    async with connect(url) as socket:
        await socket.send(json.dumps(["REQ", "q", filter_]))
        events = []
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            if message[0] == "EOSE":
                return events
            events.append(message[2])


async def test_events_kept_in_the_data_dir_are_served_again_after_a_restart_on_the_same_port(
    tmp_path: Path,
) -> None:
    key = PrivateKey.generate()
    note = sign_event(key, 4, "an order", [["p", key.public_key]], created_at=1_000)
    first = EmbeddedRelay(store=tmp_path / "relay.sqlite3")
    await first.start()
    await _publish(first.url, [note.to_dict()])
    await first.stop()

    again = EmbeddedRelay(port=first.port, store=tmp_path / "relay.sqlite3")
    await again.start()
    try:
        assert [e["id"] for e in await _stored(again.url, {"kinds": [4]})] == [note.id]
    finally:
        await again.stop()


async def test_a_restart_keeps_the_newest_listing_and_honours_deletions(tmp_path: Path) -> None:
    key = PrivateKey.generate()
    old = sign_event(key, 30018, "v1", [["d", "tea"]], created_at=1_000)
    new = sign_event(key, 30018, "v2", [["d", "tea"]], created_at=2_000)
    gone = sign_event(key, 30018, "soap", [["d", "soap"]], created_at=1_000)
    deletion = sign_event(key, 5, "", [["e", gone.id]], created_at=3_000)
    passing = sign_event(key, 20_001, "typing", [])
    first = EmbeddedRelay(store=tmp_path / "relay.sqlite3")
    await first.start()
    await _publish(first.url, [e.to_dict() for e in (old, new, gone, deletion, passing)])
    await first.stop()

    again = EmbeddedRelay(port=first.port, store=tmp_path / "relay.sqlite3")
    await again.start()
    try:
        listings = await _stored(again.url, {"kinds": [30018]})
        assert [e["content"] for e in listings] == ["v2"]
        kinds = sorted(e["kind"] for e in await _stored(again.url, {"authors": [key.public_key]}))
        assert kinds == [5, 30018]  # the deletion stays; the ephemeral event never was kept
    finally:
        await again.stop()


async def test_without_a_store_the_relay_forgets_on_restart(relay: EmbeddedRelay) -> None:
    key = PrivateKey.generate()
    await _publish(relay.url, [sign_event(key, 1, "hello").to_dict()])
    await relay.stop()
    fresh = EmbeddedRelay(port=relay.port)
    await fresh.start()
    try:
        assert await _stored(fresh.url, {"kinds": [1]}) == []
    finally:
        await fresh.stop()
