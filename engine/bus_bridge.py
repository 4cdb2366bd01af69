"""The dashboard's live stream across instances: the bus of each process on a shared
database hears what the others publish (PostgreSQL's LISTEN/NOTIFY).

Every notification published on this process's bus is also sent on one channel,
tagged with this instance; each instance delivers what the others sent to its
own subscribers of that merchant only (the bus keys subscribers by merchant), so
a dashboard connected to any instance sees what every instance did, and never
another merchant's data. A notification is a hint to refresh, never a record:
one that cannot be sent (the database is away) is logged and dropped.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from loguru import logger

from ..services.bus import Bus, Notification
from ..storage.database import Database

CHANNEL = "nostrbazaar_bus"
MAX_PAYLOAD = 7900  # PostgreSQL refuses a NOTIFY payload of 8000 bytes or more


class BusBridge:
    """Forwards this process's bus to the others on the database, and theirs to it."""

    def __init__(self, db: Database, bus: Bus, instance: str) -> None:
        self._db, self._bus, self._instance = db, bus, instance
        self._outgoing: list[str] = []
        self._wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._db.listen(CHANNEL, self._received)
        self._sender = asyncio.create_task(self._send_loop(), name="bus bridge")
        self._bus.forward = self._forward

    async def stop(self) -> None:
        self._bus.forward = None
        if self._sender is not None:
            self._sender.cancel()
            await asyncio.gather(self._sender, return_exceptions=True)
            self._sender = None

    def _forward(self, note: Notification) -> None:
        self._outgoing.append(encode(note, self._instance))
        self._wake.set()

    async def _send_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outgoing = self._outgoing, []
            try:
                await self._db.notify(CHANNEL, batch)
            except Exception as error:  # a hint lost: dashboards refresh on the next one
                logger.warning("{} live notifications not sent to other instances: {}",
                               len(batch), error)  # fmt: skip

    def _received(self, payload: str) -> None:
        note = decode(payload, self._instance)
        if note is not None:
            self._bus.deliver(note)


def encode(note: Notification, instance: str) -> str:
    """The note as a NOTIFY payload; its data is left out when it would not fit."""
    body: dict[str, Any] = {"i": instance, "m": note.merchant_id, "k": note.kind, "d": note.data}
    text = json.dumps(body, separators=(",", ":"), default=str)
    if len(text.encode()) > MAX_PAYLOAD:
        body["d"] = {"truncated": True}
        text = json.dumps(body, separators=(",", ":"))
    return text


def decode(payload: str, instance: str) -> Notification | None:
    """Another instance's note, or None (our own echo, or a payload we cannot read)."""
    try:
        body = json.loads(payload)
        if body["i"] == instance:
            return None
        return Notification(str(body["m"]), str(body["k"]), dict(body["d"]))
    except (ValueError, KeyError, TypeError):
        logger.warning("ignored a live notification that does not read: {!r}", payload[:80])
        return None
