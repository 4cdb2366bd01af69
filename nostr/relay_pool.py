"""A pool of relays: publish with per-relay OK, live subscriptions, one-shot fetches.

Each relay is a self-healing `Relay` (see `relay.py`). The pool adds what spans
relays: subscriptions that survive reconnects (resumed with `since` two days
before the newest event seen), delivery of each verified event once per
subscription however many relays carry it, and a reject path for invalid events.

Backpressure, not dropping: live events go through one bounded queue to a single
dispatcher. When a slow handler lets it fill up, the relay readers wait on
`queue.put` and so stop reading their sockets. Memory stays bounded (the queue
plus websockets' small frame buffer) and no order message is thrown away: it
waits in TCP buffers or, if the relay gives up on us, is stored on the relay.
A resumed subscription gets back only as many stored events as the relay returns
at once (its cap, often 500), so an owner that must see every one pages the gap
from a connect listener with `fetch(..., complete=True)`, which raises
`FetchIncomplete` rather than return part of an answer. The cost is that OK and EOSE from a
blocked relay wait too, so a publish may report a timeout meanwhile (the outbox
retries; the relay then answers "duplicate:"). Handlers therefore must not
await `publish`/`fetch` on this same pool: they should store and return.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from loguru import logger
from websockets.asyncio.client import connect as websockets_connect

from .event import Event, InvalidEvent, parse_event
from .filters import matches_any
from .relay import (
    BACKOFF_MAX,
    Authenticator,
    Filters,
    PublishResult,
    Relay,
    RelayCallbacks,
    Sleep,
    SocketFactory,
    auth_event,
    key_authenticator,
)
from .relay_util import FetchIncomplete, FetchJob, SeenIds, resume_filters, shorten

__all__ = [
    "FetchIncomplete",
    "Handler",
    "PublishResult",
    "RejectCallback",
    "RelayPool",
    "auth_event",
    "key_authenticator",
]

Handler = Callable[[Event, str], Awaitable[None]]
ConnectListener = Callable[[str], Coroutine[Any, Any, None]]
RejectCallback = Callable[[str, object, str], None]
_YIELD_EVERY = 256


@dataclass
class _Subscription:
    filters: Filters
    handler: Handler
    newest: int | None = None  # newest created_at delivered, clamped to now
    sent_to: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Incoming:
    sub_id: str
    relay: str
    raw: object


class RelayPool:
    """Several relays behind one API; see the module docstring for the queueing choice."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        on_reject: RejectCallback | None = None,
        connect: SocketFactory = websockets_connect,
        authenticator: Authenticator | None = None,
        queue_size: int = 10_000,
        backoff_base: float = 0.5,
        backoff_max: float = BACKOFF_MAX,
        dedupe_size: int = 100_000,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """`connect` opens a websocket (swap it in tests); `authenticator(url, challenge)`
        signs NIP-42 answers; `queue_size` bounds events waiting for handlers and
        `dedupe_size` the ids remembered; backoff is in seconds, and `sleep` waits it out
        between connection attempts (swap it in tests to live through a long outage fast).
        """
        if queue_size < 1:  # asyncio.Queue(maxsize=0) would be unbounded
            raise ValueError("queue_size must be at least 1")
        self._on_reject = on_reject
        self._connect = connect
        self._authenticator = authenticator
        self._backoff = (backoff_base, backoff_max)
        self._sleep = sleep
        self._queue_size = queue_size
        self._queue: asyncio.Queue[_Incoming] = asyncio.Queue(maxsize=queue_size)
        self._seen = SeenIds(dedupe_size)
        self._subs: dict[str, _Subscription] = {}
        self._fetches: dict[str, FetchJob] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._backpressure_logged = False
        self._callbacks = RelayCallbacks(
            connected=self._relay_connected,
            event=self._relay_event,
            eose=self._relay_eose,
            closed=self._relay_closed,
            disconnected=self._relay_disconnected,
        )
        self._connect_listeners: list[ConnectListener] = []
        self._relays: dict[str, Relay] = {}
        for url in urls:
            self._relays.setdefault(url, self._new_relay(url))

    async def start(self) -> None:
        """Connect to every relay in the background and start delivering events."""
        if self._dispatcher is None:
            self._dispatcher = asyncio.create_task(self._dispatch(), name="relay pool dispatch")
            for relay in self._relays.values():
                relay.start()

    async def close(self) -> None:
        """Close every connection and cancel every task the pool started."""
        dispatcher, self._dispatcher = self._dispatcher, None
        await asyncio.gather(*(relay.close() for relay in self._relays.values()))
        tasks = [*self._tasks, *([dispatcher] if dispatcher else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._queue.qsize():
            logger.warning("relay pool closed with {} undelivered events", self._queue.qsize())

    def status(self) -> dict[str, str]:
        """url -> connected | connecting | disconnected | auth-required | error: <reason>."""
        return {url: relay.status for url, relay in self._relays.items()}

    async def add_relay(self, url: str) -> None:
        """Add a relay; it gets every live subscription once connected."""
        if url not in self._relays:
            relay = self._relays[url] = self._new_relay(url)
            if self._dispatcher is not None:
                relay.start()

    async def remove_relay(self, url: str) -> None:
        """Disconnect from a relay and forget it."""
        relay = self._relays.pop(url, None)
        if relay is not None:
            await relay.close()
            for sub in self._subs.values():
                sub.sent_to.discard(url)

    async def publish(
        self, event: Event, relays: Sequence[str] | None = None, timeout: float = 10.0
    ) -> dict[str, PublishResult]:
        """Send `event` to each relay and wait for each OK (or a timeout, or a reason)."""
        targets = list(dict.fromkeys(self._relays if relays is None else relays))
        results = await asyncio.gather(*(self._publish_one(url, event, timeout) for url in targets))
        return {result.relay: result for result in results}

    def subscribe(self, sub_id: str, filters: list[dict[str, Any]], handler: Handler) -> None:
        """Live subscription on every relay, now and after reconnects; replaces `sub_id`."""
        if not isinstance(sub_id, str) or not 0 < len(sub_id) <= 64:
            raise ValueError("subscription id must be a string of 1 to 64 characters")
        if not filters:
            raise ValueError("a subscription needs at least one filter")
        self._subs[sub_id] = _Subscription([dict(item) for item in filters], handler)
        if self._dispatcher is not None:
            self._spawn(self._request_everywhere(sub_id))

    async def unsubscribe(self, sub_id: str) -> None:
        """CLOSE the subscription on every relay; late events for it are ignored."""
        self._subs.pop(sub_id, None)
        await asyncio.gather(*(r.close_subscription(sub_id) for r in self._relays.values()))

    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
        *,
        complete: bool = False,
    ) -> list[Event]:
        """One-shot query until EOSE on each relay; verified, deduped, newest first.

        `complete`: raise `FetchIncomplete` when a relay asked could not be asked, timed
        out, closed the query or disconnected before EOSE, or sent more than we keep."""
        wanted = self._relays if relays is None else relays
        targets = [self._relays[url] for url in wanted if url in self._relays]
        sub_id = f"fetch-{uuid.uuid4().hex}"
        job = self._fetches[sub_id] = FetchJob(cap=self._queue_size)
        try:
            await asyncio.gather(
                *(self._fetch_one(r, sub_id, filters, job, timeout) for r in targets)
            )
        finally:
            del self._fetches[sub_id]
        if complete and (job.problems or job.truncated):
            raise FetchIncomplete(job.problems or {"*": f"more than {job.cap} events"})
        events = await self._verify_batch(job.events, filters)
        return sorted(events, key=lambda event: event.created_at, reverse=True)

    def _new_relay(self, url: str) -> Relay:
        if not url.startswith(("ws://", "wss://")):
            raise ValueError(f"relay URL must start with ws:// or wss://: {url!r}")
        return Relay(
            url,
            self._callbacks,
            connect=self._connect,
            authenticator=self._authenticator,
            backoff_base=self._backoff[0],
            backoff_max=self._backoff[1],
            sleep=self._sleep,
        )

    async def _publish_one(self, url: str, event: Event, timeout: float) -> PublishResult:
        relay = self._relays.get(url)
        if relay is None:
            return PublishResult(url, False, "error: relay is not in the pool")
        return await relay.publish(event, timeout)

    async def _request_everywhere(self, sub_id: str) -> None:
        await asyncio.gather(*(self._request(r, sub_id) for r in list(self._relays.values())))

    async def _request(self, relay: Relay, sub_id: str) -> None:
        """REQ on one relay: the filters as given the first time, resumed after that."""
        sub = self._subs.get(sub_id)
        if sub is None:
            return
        resumed = relay.url in sub.sent_to
        filters = resume_filters(sub.filters, sub.newest) if resumed else sub.filters
        if await relay.req(sub_id, filters):
            sub.sent_to.add(relay.url)

    async def _fetch_one(
        self, relay: Relay, sub_id: str, filters: Filters, job: FetchJob, timeout: float
    ) -> None:
        """REQ on one relay, wait for EOSE / CLOSED / disconnect / timeout, then CLOSE."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if not await relay.wait_connected(timeout):
            logger.warning("fetch skipped relay {}: {}", relay.url, relay.status)
            job.problems[relay.url] = f"not connected: {relay.status}"
            return
        done = job.done[relay.url] = asyncio.Event()
        if not await relay.req(sub_id, filters):
            job.problems[relay.url] = "not connected"
            return
        try:
            await asyncio.wait_for(done.wait(), max(deadline - loop.time(), 0.0))
        except TimeoutError:
            logger.warning("fetch on relay {} timed out before EOSE", relay.url)
            job.problems[relay.url] = "timed out before EOSE"
        finally:
            await relay.close_subscription(sub_id)

    def add_connect_listener(self, listener: ConnectListener) -> None:
        """Call `listener(url)` each time a relay (re)connects (after resubscribing)."""
        self._connect_listeners.append(listener)

    async def _relay_connected(self, relay: Relay) -> None:
        for sub_id in list(self._subs):
            await self._request(relay, sub_id)
        for listener in self._connect_listeners:
            self._spawn(_told(listener, relay.url))

    async def _relay_event(self, relay: Relay, sub_id: str, raw: object) -> None:
        """Collect for a fetch, or queue for the dispatcher (blocking when full)."""
        job = self._fetches.get(sub_id)
        if job is not None:
            if not job.answering(relay.url):
                return  # after EOSE: a new event, not part of the stored answer
            if len(job.events) < job.cap:
                job.events.append((relay.url, raw))
            elif not job.truncated:
                job.truncated = True
                logger.warning("fetch got more than {} events; page with until", job.cap)
        elif sub_id in self._subs:
            if self._queue.full() and not self._backpressure_logged:
                self._backpressure_logged = True
                logger.warning("event queue full (slow handler): pausing reads from relays")
            await self._queue.put(_Incoming(sub_id, relay.url, raw))

    def _relay_eose(self, relay: Relay, sub_id: str) -> None:
        job = self._fetches.get(sub_id)
        if job is not None:
            job.finish(relay.url)

    def _relay_closed(self, relay: Relay, sub_id: str, reason: str) -> None:
        job = self._fetches.get(sub_id)
        if job is not None:
            job.finish(relay.url, f"closed: {reason}")
        if job is not None or sub_id in self._subs:
            logger.warning("relay {} closed subscription {}: {}", relay.url, sub_id, reason)

    def _relay_disconnected(self, relay: Relay) -> None:
        for job in self._fetches.values():
            job.finish(relay.url, "disconnected before EOSE")

    async def _dispatch(self) -> None:
        """The single consumer of the queue: dedupe, verify, deliver, in arrival order."""
        while True:
            item = await self._queue.get()
            if self._queue.empty():
                self._backpressure_logged = False
            try:
                await self._deliver(item)
            except Exception:  # a bug must not stop delivery of everything after it
                logger.exception("delivering an event from {} failed", item.relay)

    async def _deliver(self, item: _Incoming) -> None:
        sub = self._subs.get(item.sub_id)
        if sub is None:
            return
        claimed_id = item.raw.get("id") if isinstance(item.raw, dict) else None
        if isinstance(claimed_id, str) and self._seen.seen(claimed_id, item.sub_id):
            return  # only verified ids are in `_seen`, so skipping here is safe
        event = self._verify(item.relay, item.raw)
        if event is None or not self._wanted(item.relay, event, sub.filters):
            return
        self._seen.add(event.id, item.sub_id)
        try:
            await sub.handler(event, item.relay)
        except Exception:
            logger.exception("handler for {} failed on event {}", item.sub_id, event.id)
            self._seen.discard(event.id, item.sub_id)  # let another copy try again
            return
        # Clamped to now: anyone can sign an event dated in the future, and it must
        # not push the resumed `since` past events we have not seen yet.
        stamp = min(event.created_at, int(time.time()))
        sub.newest = stamp if sub.newest is None else max(sub.newest, stamp)

    def _verify(self, relay: str, raw: object) -> Event | None:
        """The parsed event, or None after handing it to the reject path with a reason."""
        if not isinstance(raw, dict):  # parse_event would also decode a JSON string
            self._reject(relay, raw, "event is not a JSON object")
            return None
        try:
            return parse_event(raw)
        except InvalidEvent as error:
            self._reject(relay, raw, error.reason)
            return None

    async def _verify_batch(self, items: list[tuple[str, object]], filters: Filters) -> list[Event]:
        """Verify fetched events once per id; a forged copy does not hide the real one."""
        found: dict[str, Event] = {}
        for count, (relay, raw) in enumerate(items, start=1):
            claimed_id = raw.get("id") if isinstance(raw, dict) else None
            if isinstance(claimed_id, str) and claimed_id in found:
                continue
            event = self._verify(relay, raw)
            if event is not None and self._wanted(relay, event, filters):
                found[event.id] = event
            if count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a big page should not stall the event loop
        return list(found.values())

    def _wanted(self, relay: str, event: Event, filters: Filters) -> bool:
        """False (and a warning) for a valid event the relay sent without our asking.

        Not a reject: the event itself is fine and may legitimately arrive for
        another subscription, so it must not be recorded as rejected by its id.
        """
        if matches_any(filters, event):
            return True
        logger.warning("relay {} sent event {} that matches no filter", relay, event.id)
        return False

    def _reject(self, relay: str, raw: object, reason: str) -> None:
        logger.warning("relay {} sent an invalid event ({}): {}", relay, reason, shorten(raw))
        if self._on_reject is None:
            return
        try:
            self._on_reject(relay, raw, reason)
        except Exception:
            logger.exception("on_reject callback failed for an event from {}", relay)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _told(listener: ConnectListener, url: str) -> None:
    try:
        await listener(url)
    except Exception as error:  # a listener's failure must not touch the pool
        logger.opt(exception=error).warning("connect listener for {} failed", url)
