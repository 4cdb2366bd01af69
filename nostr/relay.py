"""One connection to one relay: reconnect, route frames, answer AUTH, wait for OK.

`Relay` owns the socket and the NIP-01 / NIP-42 framing for a single URL. It
knows nothing of dedupe or verification: events go to the pool through
`RelayCallbacks`, which is also where subscriptions are (re)sent after a connect.
Nothing the relay sends can raise out of here; it is logged and dropped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from loguru import logger
from websockets.exceptions import ConnectionClosed, WebSocketException

from .event import Event, sign_event
from .keys import PrivateKey
from .quick_ack import QuickAckConnection
from .relay_util import backoff_delay, decode_frame, describe, shorten

AUTH_KIND = 22242
AUTH_TIMEOUT = 10.0
# websockets' own limits: a bigger frame closes the connection (code 1009) and we
# reconnect; at most `max_queue` frames wait in its buffer while we are not reading.
# Each read is acknowledged at once (see `quick_ack.py`: up to 40 ms per frame otherwise).
CONNECT_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {
        "open_timeout": 10,
        "close_timeout": 2,
        "max_size": 2**20,
        "max_queue": 16,
        "create_connection": QuickAckConnection,
    }
)

# Minimum number of arguments after the message type, for each type we act on.
_ARITY = {"EVENT": 2, "OK": 2, "EOSE": 1, "CLOSED": 1, "AUTH": 1, "NOTICE": 1}

Authenticator = Callable[[str, str], Awaitable[Event | None]]
Filters = list[dict[str, Any]]
Sleep = Callable[[float], Awaitable[None]]
# The longest wait between two connection attempts: however long a relay was away, we
# are back on it within this many seconds of its return.
BACKOFF_MAX = 30.0


class WebSocket(Protocol):
    """The part of a websockets client connection the relay uses."""

    async def send(self, message: str) -> None: ...
    async def close(self) -> None: ...
    def __aiter__(self) -> AsyncIterator[str | bytes]: ...


SocketFactory = Callable[..., Awaitable[WebSocket]]


@dataclass(frozen=True)
class PublishResult:
    """What one relay said about one published event (or why it said nothing)."""

    relay: str
    ok: bool
    message: str


@dataclass(frozen=True)
class RelayCallbacks:
    """How a `Relay` reports to its pool; `event` may block to apply backpressure."""

    connected: Callable[[Relay], Awaitable[None]]
    event: Callable[[Relay, str, object], Awaitable[None]]
    eose: Callable[[Relay, str], None]
    closed: Callable[[Relay, str, str], None]
    disconnected: Callable[[Relay], None]


class NotConnected(Exception):
    """Raised by `Relay.send` when there is no open socket."""


def auth_event(key: PrivateKey, relay_url: str, challenge: str) -> Event:
    """A signed NIP-42 kind-22242 event answering `challenge` from `relay_url`."""
    return sign_event(key, AUTH_KIND, "", [["relay", relay_url], ["challenge", challenge]])


def key_authenticator(key: PrivateKey) -> Authenticator:
    """An `authenticator` for `RelayPool` that signs every challenge with `key`."""

    async def authenticate(relay_url: str, challenge: str) -> Event | None:
        return auth_event(key, relay_url, challenge)

    return authenticate


class Relay:
    """A self-healing connection to `url`: exponential backoff with full jitter."""

    def __init__(
        self,
        url: str,
        callbacks: RelayCallbacks,
        *,
        connect: SocketFactory,
        authenticator: Authenticator | None = None,
        backoff_base: float = 0.5,
        backoff_max: float = BACKOFF_MAX,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.url = url
        self.status = "disconnected"
        self._callbacks = callbacks
        self._connect = connect
        self._authenticator = authenticator
        self._backoff = (backoff_base, backoff_max)
        self._sleep = sleep  # the wait between attempts (a test's clock may stand in)
        self._down: tuple[float, int] | None = None  # since when, and attempts, while down
        self._ws: WebSocket | None = None
        self._attempt: asyncio.Future[bool] | None = None  # resolves when a connect ends
        self._pending: dict[str, list[asyncio.Future[tuple[bool, str]]]] = {}
        self._reqs: dict[str, Filters] = {}
        self._auth_retried: set[str] = set()
        self._challenge: str | None = None
        self._authed_challenge: str | None = None
        self._auth_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin connecting in the background (idempotent)."""
        if self._runner is None:
            self._new_attempt()
            self._runner = asyncio.create_task(self._run(), name=f"relay {self.url}")

    async def close(self) -> None:
        """Stop reconnecting, cancel helper tasks and close the socket."""
        runner, self._runner = self._runner, None
        tasks = [*self._tasks, *([runner] if runner else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._resolve_attempt(False)
        self.status = "disconnected"

    async def wait_connected(self, timeout: float) -> bool:
        """True once connected; waits only for the connection attempt under way, if any."""
        attempt = self._attempt
        if self._ws is not None or attempt is None or self.status != "connecting":
            return self._ws is not None
        done, _ = await asyncio.wait({attempt}, timeout=timeout)
        return bool(done) and self._ws is not None

    async def send(self, message: list[Any]) -> None:
        """Send one JSON message; `NotConnected` when the socket is gone."""
        ws = self._ws
        if ws is None:
            raise NotConnected(self.status)
        try:
            await ws.send(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        except ConnectionClosed as error:
            raise NotConnected(describe(error)) from error

    async def req(self, sub_id: str, filters: Filters) -> bool:
        """Open (or replace) subscription `sub_id`; False when not connected."""
        if self._ws is None:
            return False
        self._reqs[sub_id] = filters
        self._auth_retried.discard(sub_id)
        try:
            await self.send(["REQ", sub_id, *filters])
        except NotConnected:
            return False
        return True

    async def close_subscription(self, sub_id: str) -> None:
        """Send CLOSE for `sub_id` if it is open here."""
        if self._reqs.pop(sub_id, None) is not None:
            try:
                await self.send(["CLOSE", sub_id])
            except NotConnected:
                pass  # the subscription died with the connection

    async def publish(self, event: Event, timeout: float) -> PublishResult:
        """Send EVENT and wait for its OK; authenticate and retry once on auth-required."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if not await self.wait_connected(timeout):
            return PublishResult(self.url, False, f"not connected: {self.status}")
        message = ["EVENT", event.to_dict()]
        ok, reason = await self._send_and_wait(message, event.id, deadline - loop.time())
        if not ok and reason.startswith("auth-required:"):
            if await self.authenticate(max(deadline - loop.time(), 0.0)):
                ok, reason = await self._send_and_wait(message, event.id, deadline - loop.time())
            else:
                self._mark_auth_required()
        if not ok:  # not connected: said once, when the relay went down
            level = "DEBUG" if reason.startswith("not connected") else "WARNING"
            logger.log(level, "relay {} did not accept event {}: {}", self.url, event.id, reason)
        return PublishResult(self.url, ok, reason)

    async def authenticate(self, timeout: float = AUTH_TIMEOUT) -> bool:
        """Answer the relay's latest challenge once per challenge; True when it said OK."""
        async with self._auth_lock:
            challenge = self._challenge
            if challenge is None or self._authenticator is None:
                return False
            if self._authed_challenge == challenge:
                return True
            try:
                event = await self._authenticator(self.url, challenge)
            except Exception:
                logger.exception("authenticator failed for relay {}", self.url)
                return False
            if event is None:
                return False
            ok, reason = await self._send_and_wait(["AUTH", event.to_dict()], event.id, timeout)
            if not ok:
                logger.warning("relay {} refused our AUTH: {}", self.url, reason)
                return False
            self._authed_challenge = challenge
            if self.status == "auth-required":
                self.status = "connected"
            return True

    async def _send_and_wait(
        self, message: list[Any], event_id: str, timeout: float
    ) -> tuple[bool, str]:
        """Send `message` and wait for the OK naming `event_id`, or say why not."""
        future: asyncio.Future[tuple[bool, str]] = asyncio.get_running_loop().create_future()
        waiting = self._pending.setdefault(event_id, [])
        waiting.append(future)
        try:
            await self.send(message)
            done, _ = await asyncio.wait({future}, timeout=max(timeout, 0.0))
            return future.result() if done else (False, f"timeout: no OK within {timeout:.3g}s")
        except NotConnected as error:
            return False, f"not connected: {error}"
        finally:
            waiting.remove(future)
            if not waiting:
                self._pending.pop(event_id, None)

    async def _run(self) -> None:
        """Connect, read until the socket ends, wait a jittered backoff, repeat."""
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            self._new_attempt()
            started = loop.time()
            reason = await self._session()
            if loop.time() - started >= self._backoff[1]:
                attempt = 0  # it was healthy for a while: start the backoff over
            delay = backoff_delay(attempt, *self._backoff)
            attempt += 1
            self.status = f"error: {reason}" if reason else "disconnected"
            self._log_down(delay)
            await self._sleep(delay)

    def _log_down(self, delay: float) -> None:
        """Going down is said once, at warning, with the reason; each later failed attempt
        at debug. With `_log_up`, an outage of any length is two lines: down, back."""
        if self._down is None:
            self._down = (asyncio.get_running_loop().time(), 1)
            logger.warning("relay {} down ({}); next try in {:.1f} s", self.url, self.status, delay)
            return
        since, attempts = self._down
        self._down = (since, attempts + 1)
        logger.debug("relay {} still down ({}); next try in {:.1f} s", self.url, self.status, delay)

    def _log_up(self) -> None:
        """Connected: the first time, or back after an outage (how long, how many tries)."""
        if self._down is None:
            logger.info("relay {} connected", self.url)
            return
        since, attempts = self._down
        self._down = None
        down_for = asyncio.get_running_loop().time() - since
        logger.info("relay {} back after {:.0f} s down ({} attempts)", self.url, down_for, attempts)

    def _new_attempt(self) -> None:
        self.status = "connecting"
        if self._attempt is None or self._attempt.done():
            self._attempt = asyncio.get_running_loop().create_future()

    def _resolve_attempt(self, connected: bool) -> None:
        if self._attempt is not None and not self._attempt.done():
            self._attempt.set_result(connected)

    async def _session(self) -> str | None:
        """One connection's life; returns why it ended (None for a clean close)."""
        try:
            ws = await self._connect(self.url, **CONNECT_OPTIONS)
        except (OSError, TimeoutError, WebSocketException) as error:
            self._resolve_attempt(False)
            return describe(error)
        self._ws = ws
        try:
            self.status = "connected"
            self._log_up()
            self._resolve_attempt(True)
            await self._callbacks.connected(self)
            async for frame in ws:
                await self._on_frame(frame)
            return None
        except (OSError, TimeoutError, WebSocketException) as error:
            return describe(error)
        except Exception as error:  # a bug, not the network: keep the pool alive, say so
            logger.exception("relay {} connection failed unexpectedly", self.url)
            return describe(error)
        finally:
            self._end_session()
            await ws.close()

    def _end_session(self) -> None:
        """Forget everything that only lives as long as one connection."""
        self._ws = None
        for waiting in self._pending.values():
            for future in waiting:
                if not future.done():
                    future.set_result((False, "disconnected before OK"))
        self._reqs.clear()
        self._auth_retried.clear()
        self._challenge = self._authed_challenge = None
        self._callbacks.disconnected(self)

    async def _on_frame(self, frame: str | bytes) -> None:
        """Route one frame; anything malformed is logged and dropped."""
        message = decode_frame(frame)
        if isinstance(message, str):
            logger.warning("relay {} sent a bad frame ({}): {}", self.url, message, shorten(frame))
            return
        kind, args = message[0], message[1:]
        if kind not in _ARITY:
            logger.debug("relay {} sent a message we do not use: {}", self.url, shorten(frame))
        elif len(args) < _ARITY[kind] or (args and not isinstance(args[0], str)):
            logger.warning("relay {} sent a malformed {}: {}", self.url, kind, shorten(frame))
        elif kind == "EVENT":
            await self._callbacks.event(self, args[0], args[1])
        elif kind == "OK":
            self._on_ok(args[0], args[1] is True, str(args[2]) if len(args) > 2 else "")
        elif kind == "EOSE":
            self._callbacks.eose(self, args[0])
        elif kind == "CLOSED":
            self._on_closed(args[0], str(args[1]) if len(args) > 1 else "")
        elif kind == "AUTH":
            self._on_challenge(args[0])
        else:
            logger.warning("relay {} NOTICE: {}", self.url, shorten(args[0]))

    def _on_ok(self, event_id: str, ok: bool, reason: str) -> None:
        for future in self._pending.get(event_id, []):
            if not future.done():
                future.set_result((ok, reason))

    def _on_closed(self, sub_id: str, reason: str) -> None:
        """Retry once after AUTH on auth-required; otherwise tell the pool."""
        retry = reason.startswith("auth-required:") and sub_id not in self._auth_retried
        if retry and sub_id in self._reqs:
            self._auth_retried.add(sub_id)
            self._spawn(self._authenticate_and_resubscribe(sub_id, reason))
            return
        self._reqs.pop(sub_id, None)
        self._callbacks.closed(self, sub_id, reason)

    def _on_challenge(self, challenge: str) -> None:
        """Remember the challenge and answer it at once if we can."""
        self._challenge = challenge
        if self._authenticator is not None:
            # Not awaited here: AUTH waits for an OK that only this reader can deliver.
            self._spawn(self.authenticate())

    async def _authenticate_and_resubscribe(self, sub_id: str, reason: str) -> None:
        if await self.authenticate():
            filters = self._reqs.get(sub_id)
            if filters is not None:
                await self.req(sub_id, filters)
                self._auth_retried.add(sub_id)
            return
        self._mark_auth_required()
        self._reqs.pop(sub_id, None)
        self._callbacks.closed(self, sub_id, reason)

    def _mark_auth_required(self) -> None:
        if self._ws is not None:
            self.status = "auth-required"
            logger.warning("relay {} requires AUTH and we could not authenticate", self.url)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run a helper (AUTH, re-REQ) beside the reader; `close` cancels it."""
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._helper_done)

    def _helper_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.opt(exception=task.exception()).error("relay {} helper failed", self.url)
