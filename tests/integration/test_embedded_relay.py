"""The embedded relay takes the shop's own bursts: many events on one connection, at once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

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
