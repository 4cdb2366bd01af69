"""An in-process relay on 127.0.0.1 (nostr-sdk's LocalRelay) for `make run` and tests.

Used when `NOSTRBAZAAR_RELAYS` is empty, so a newcomer's first run works with
nothing else running. The runtime gives it a fixed port
(`NOSTRBAZAAR_EMBEDDED_RELAY_PORT`, 7447) and a store in the data directory
(`relay_store.RelayStore`), so a restart changes nothing a customer sees: the same
URL, the same catalogue and direct messages. The relay itself runs in memory; a
recorder (one websocket with a live-only subscription, `{"limit": 0}`) keeps each
event the relay broadcasts, and `start` sends the kept events back before it
returns, so before our own pool connects (a customer's client reconnecting within
that moment sees only what was sent back so far). The recorder subscribes first, so
nothing published meanwhile is missed. Without a store (tests) it keeps events in
memory only.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import nostr_sdk
from loguru import logger
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from .relay_store import RelayStore

# nostr-sdk's default (60 notes a minute per connection, 500 open subscriptions) is for a
# public relay; this one serves this machine only, and the shop's own burst of replies
# (an order rush, a restore) must never be refused by it.
RATE_LIMIT = nostr_sdk.RateLimit(max_reqs=10_000, notes_per_minute=1_000_000)
REPLY_TIMEOUT = 10.0  # seconds for the relay's next answer while events are sent back
_LIVE_ONLY = json.dumps(["REQ", "record", {"limit": 0}])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


BIND_PATIENCE = 2.0  # seconds a port in use is tried again (our own relay, just stopped)


class RelayPortInUse(OSError):
    """Another process listens on the embedded relay's port."""


class EmbeddedRelay:
    """Start and stop a LocalRelay bound to 127.0.0.1, its events kept in `store` if given."""

    def __init__(self, port: int | None = None, store: Path | None = None) -> None:
        self.port = port or free_port()
        self.store_path = store
        self._relay: nostr_sdk.LocalRelay | None = None
        self._recorder: _Recorder | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _listen(self) -> None:
        """Bind the port. A relay stopped a moment ago (a restart) lets go of it in the
        background, so a port in use is tried again for `BIND_PATIENCE` seconds before
        it is another process's."""
        deadline = time.monotonic() + BIND_PATIENCE
        while True:
            builder = nostr_sdk.LocalRelayBuilder().addr("127.0.0.1").port(self.port)
            self._relay = builder.rate_limit(RATE_LIMIT).build()
            try:
                await self._relay.run()
                return
            except nostr_sdk.NostrSdkError as error:
                self._relay = None
                if "in use" not in str(error):
                    raise
                if time.monotonic() >= deadline:
                    raise RelayPortInUse(f"127.0.0.1:{self.port} is in use") from error
            await asyncio.sleep(0.05)

    async def start(self) -> str:
        """Listen, then (with a store) record what is published and send back what was kept."""
        await self._listen()
        if self.store_path is not None:
            self._recorder = _Recorder(self.url, RelayStore(self.store_path))
            try:
                await self._recorder.start()
            except BaseException:
                await self.stop()
                raise
        return self.url

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.shutdown()
            self._relay = None
        if self._recorder is not None:
            await self._recorder.stop()
            self._recorder = None


class _Recorder:
    """Keeps what the relay broadcasts in the store, and sends the store back at start."""

    def __init__(self, url: str, store: RelayStore) -> None:
        self.url = url
        self.store = store
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="relay-store")
        self._socket: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: list[dict[str, Any]] = []
        self._writes: list[asyncio.Future[int]] = []

    async def start(self) -> None:
        await self._run(self.store.open)
        self._socket = await connect(self.url, max_size=None)
        await self._socket.send(_LIVE_ONLY)
        await _until_eose(self._socket)
        self._task = asyncio.create_task(self._record(self._socket), name="relay-recorder")
        kept = await self._run(self.store.events)
        if kept:
            await self._send_back(kept)

    async def stop(self) -> None:
        if self._socket is not None:
            await self._socket.close()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._flush()
        await asyncio.gather(*self._writes, return_exceptions=True)
        await self._run(self.store.close)
        self._thread.shutdown(wait=True)

    async def _record(self, ws: ClientConnection) -> None:
        """Each EVENT on the live subscription goes to the store: one batch per loop turn."""
        try:
            async for frame in ws:
                message = json.loads(frame)
                if message[0] == "EVENT" and len(message) > 2:
                    self._keep(message[2])
        except ConnectionClosed as closed:
            logger.debug("embedded relay recorder: connection closed ({})", closed)

    def _keep(self, event: dict[str, Any]) -> None:
        self._pending.append(event)
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        """Hand what arrived in this loop turn to the store's thread (one transaction)."""
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        future = asyncio.wrap_future(self._thread.submit(self.store.add, batch))
        self._writes = [w for w in self._writes if not w.done()] + [future]
        future.add_done_callback(_report_failure)

    async def _send_back(self, events: list[dict[str, Any]]) -> None:
        """Publish the kept events to the fresh relay, pipelined, and count its answers."""
        async with connect(self.url, max_size=None) as ws:
            sending = asyncio.create_task(_send_all(ws, events))
            refused = await _count_refusals(ws, len(events))
            await sending
        logger.info("embedded relay: {} kept events sent back ({} refused)", len(events), refused)

    async def _run(self, work: Any, *args: Any) -> Any:
        return await asyncio.wrap_future(self._thread.submit(work, *args))


async def _until_eose(ws: ClientConnection) -> None:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
        if message[0] == "EOSE":
            return


async def _send_all(ws: ClientConnection, events: list[dict[str, Any]]) -> None:
    for event in events:
        await ws.send(json.dumps(["EVENT", event], separators=(",", ":")))


async def _count_refusals(ws: ClientConnection, expected: int) -> int:
    """Read OKs until every event is answered; an answer slower than REPLY_TIMEOUT ends it."""
    answered = refused = 0
    while answered < expected:
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), REPLY_TIMEOUT))
        except TimeoutError:
            logger.warning("embedded relay: {} kept events were not answered", expected - answered)
            break
        if message[0] == "OK":
            answered += 1
            refused += 0 if message[2] else 1
    return refused


def _report_failure(done: asyncio.Future[int]) -> None:
    if not done.cancelled() and done.exception() is not None:
        logger.error("embedded relay: events could not be kept: {}", done.exception())
