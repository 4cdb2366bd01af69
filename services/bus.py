"""An in-process notification bus: services announce committed changes per merchant.

The dashboard websocket subscribes per merchant, so one merchant's stream can
never carry another's data. Publishing never blocks: a slow subscriber whose
queue is full loses its oldest notification, not the service's time.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Notification:
    """`kind` is one of: order, payment, status, message, relay, outbox, catalogue, job (a
    job's state and progress, `services/jobs.py`), notification (`services/notifications.py`:
    `{"action": "new", "notification"}` or `{"action": "read", "ids", "unread"}`)."""

    merchant_id: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


class Bus:
    """Fan-out of notifications to the subscribers of one merchant."""

    def __init__(self, queue_size: int = 256) -> None:
        self._queue_size = queue_size
        self._subscribers: dict[str, set[asyncio.Queue[Notification]]] = defaultdict(set)
        # Also hands each notification published here to the other processes on the same
        # database (`engine/bus_bridge.py`, PostgreSQL's LISTEN/NOTIFY); None: this one only.
        self.forward: Callable[[Notification], None] | None = None

    def publish(self, merchant_id: str, kind: str, data: dict[str, Any] | None = None) -> None:
        note = Notification(merchant_id, kind, data or {})
        self.deliver(note)
        if self.forward is not None:
            self.forward(note)

    def deliver(self, note: Notification) -> None:
        """Hand `note` to this process's subscribers of its merchant (never forwarded)."""
        for queue in self._subscribers.get(note.merchant_id, ()):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(note)

    @asynccontextmanager
    async def subscribe(self, merchant_id: str) -> AsyncIterator[asyncio.Queue[Notification]]:
        queue: asyncio.Queue[Notification] = asyncio.Queue(self._queue_size)
        self._subscribers[merchant_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[merchant_id].discard(queue)
            if not self._subscribers[merchant_id]:
                del self._subscribers[merchant_id]
