"""Fan-out of settlements to every `settlements()` reader of one backend."""

from __future__ import annotations

import asyncio

from .base import Settlement


class _Closed:
    """The end-of-stream marker put on every queue by `SettlementHub.close()`."""


_CLOSED = _Closed()


class Subscription:
    """One reader's stream. Registered when created, so nothing published after
    `settlements()` returns is missed, even before the first `await`."""

    def __init__(self, hub: SettlementHub) -> None:
        self._hub = hub
        self._queue: asyncio.Queue[Settlement | _Closed] = asyncio.Queue()
        self._done = hub.closed
        if not self._done:
            hub._queues.append(self._queue)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Settlement:
        if self._done:
            raise StopAsyncIteration
        item = await self._queue.get()
        if isinstance(item, _Closed):
            self.close()
            raise StopAsyncIteration
        return item

    def close(self) -> None:
        """Stop receiving; the reader's next `__anext__` ends the iteration."""
        self._done = True
        if self._queue in self._hub._queues:
            self._hub._queues.remove(self._queue)

    async def aclose(self) -> None:
        self.close()


class SettlementHub:
    """Each reader gets its own queue; `close()` ends every reader's iteration.

    A settlement published while nobody reads is not kept: callers re-check
    unsettled invoices with `get_invoice_status` at start-up instead.
    """

    def __init__(self) -> None:
        self._queues: list[asyncio.Queue[Settlement | _Closed]] = []
        self.closed = False

    def subscribe(self) -> Subscription:
        """A stream of settlements published from now on, until `close()`."""
        return Subscription(self)

    def publish(self, settlement: Settlement) -> None:
        """Hand `settlement` to every current reader without waiting."""
        for queue in self._queues:
            queue.put_nowait(settlement)

    def close(self) -> None:
        """End every reader's iteration; readers subscribing later end at once."""
        self.closed = True
        for queue in self._queues:
            queue.put_nowait(_CLOSED)
        self._queues.clear()

    def reopen(self) -> None:
        """Allow reading again after a `close()` (a backend started a second time)."""
        self.closed = False
