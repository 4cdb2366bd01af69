"""A real relay (nostr-sdk's LocalRelay on 127.0.0.1) that answers at most `cap` stored
events per filter, newest first, whatever `limit` asks, as public relays do (often 500).

No rate limit: a test's burst of orders and the merchant's replies must all be stored.
"""

from __future__ import annotations

import nostr_sdk as sdk
from nostrbazaar.engine.embedded_relay import free_port


class CappedRelay:
    """Start with `await start()`, stop with `await stop()` (same port: a restart)."""

    def __init__(self, cap: int, port: int | None = None) -> None:
        self.cap = cap
        self.port = port or free_port()
        self._relay: sdk.LocalRelay | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> str:
        unlimited = sdk.RateLimit(max_reqs=100_000, notes_per_minute=100_000_000)
        builder = sdk.LocalRelayBuilder().addr("127.0.0.1").port(self.port)
        builder = builder.max_filter_limit(self.cap).default_filter_limit(self.cap)
        self._relay = builder.rate_limit(unlimited).max_connections(1000).build()
        await self._relay.run()
        return self.url

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.shutdown()
            self._relay = None
