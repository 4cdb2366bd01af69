"""In-memory websockets for relay-pool tests: no network, no relay process.

The fake socket lets a test push frames exactly as a relay would, and see every
message the pool sends, so ordering cases (a forged copy first, a reconnect in
the middle of a fetch, a full queue) are deterministic.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.nostr.relay_pool import RelayPool

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


async def connected(pool: RelayPool, connector: Connector, url: str) -> FakeSocket:
    await eventually(lambda: pool.status().get(url) == "connected", f"{url} to connect")
    return connector.latest(url)


def feed(key: PrivateKey) -> list[dict[str, Any]]:
    return [{"kinds": [1], "authors": [key.public_key]}]
