"""An in-process relay on 127.0.0.1 (nostr-sdk's LocalRelay) for `make run` and tests.

Used when `NOSTRBAZAAR_RELAYS` is empty, so a newcomer's first run works with
nothing else running. It keeps events in memory only.
"""

from __future__ import annotations

import socket

import nostr_sdk

# nostr-sdk's default (60 notes a minute per connection, 500 open subscriptions) is for a
# public relay; this one serves this machine only, and the shop's own burst of replies
# (an order rush, a restore) must never be refused by it.
RATE_LIMIT = nostr_sdk.RateLimit(max_reqs=10_000, notes_per_minute=1_000_000)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedRelay:
    """Start and stop a LocalRelay bound to 127.0.0.1."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._relay: nostr_sdk.LocalRelay | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> str:
        builder = nostr_sdk.LocalRelayBuilder().addr("127.0.0.1").port(self.port)
        self._relay = builder.rate_limit(RATE_LIMIT).build()
        await self._relay.run()
        return self.url

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.shutdown()
            self._relay = None
