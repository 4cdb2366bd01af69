"""Paging a DM history out of the relays, newest first, one page at a time.

Each filter pages backwards on its own `until`, on each relay apart (NIP-01's
`limit` holds per filter and per relay, so one filter's busy hour, or one relay's
fuller history, must not make another skip its events).
`until` is inclusive: the boundary second comes again on the next page, and what
was already handed out there is left out.

A relay cannot page past a second that holds more events than it returns in one
answer (merchants answer hundreds of orders a second, all stamped alike). Such a
crowded second is asked for again, narrowed to a few counterparties at a time
(the customers seen in the history, and those the caller knows); this is done
last, when every filter has been paged and the counterparties are known.

Nothing is kept but the ids at each filter's boundary second and the set of
counterparties: the history streams through, a page at a time.

Restore pages the whole history of every relay; catch-up (`engine/catchup.py`) pages one
relay back to a `since` given in the filters, after a restart or a reconnect.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from loguru import logger

from ...nostr.event import Event
from ...nostr.filters import matches

PAGE = 500
MAX_PAGES = 10_000
CHUNK = 256  # counterparties per query when narrowing a crowded second


class Fetcher(Protocol):
    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]: ...

    def status(self) -> dict[str, str]: ...


@dataclass(frozen=True)
class _Crowded:
    """A second with more events than one answer holds."""

    second: int
    seen: set[str]  # handed out already
    full: int  # how many events a full answer held


@dataclass
class _Cursor:
    """Where one filter's paging stands on one relay."""

    relay: str
    filter: dict[str, Any]
    until: int | None = None
    boundary: set[str] = field(default_factory=set)  # ids handed out at `until`
    cap: int = PAGE  # the most one answer holds (a relay may return fewer than asked)
    last_size: int = 0
    done: bool = False
    crowded: list[_Crowded] = field(default_factory=list)  # to narrow at the end

    def request(self) -> dict[str, Any]:
        return {
            **self.filter,
            "limit": PAGE,
            **({} if self.until is None else {"until": self.until}),
        }

    def advance(self, events: list[Event]) -> list[Event]:
        """Take one answer: what is new, and where the next page starts."""
        new = [event for event in events if event.id not in self.boundary]
        previous, self.last_size = self.last_size, len(events)
        if new and 0 < previous < self.cap:
            self.cap = previous  # that short answer was not the end: the relay's cap
        if not new:
            self._stuck(events, previous)
            return []
        oldest = min(event.created_at for event in events)
        self.boundary = {e.id for e in events if e.created_at == oldest} | (
            self.boundary if oldest == self.until else set()
        )
        self.until = oldest
        return new

    def _stuck(self, events: list[Event], previous: int) -> None:
        """Nothing new: the end, or a second too crowded to page through (the answer, all
        of it from that second, is as long as a full page, or as the answer before)."""
        if self.until is not None and events and len(events) in (self.cap, previous):
            self.crowded.append(_Crowded(self.until, self.boundary, len(events)))
            self.until, self.boundary, self.last_size = self.until - 1, set(), 0
        else:
            self.done = True


async def history_pages(
    pool: Fetcher,
    filters: list[dict[str, Any]],
    known: Iterable[str] = (),
    timeout: float = 10.0,
    relays: Sequence[str] | None = None,
) -> AsyncIterator[list[Event]]:
    """Every event matching `filters`, a page at a time, newest first per filter.

    `known` are counterparties (public keys) to narrow crowded seconds with, beyond
    those met in the history; `relays` limits the paging to those (default: all the
    pool's). An event matching two filters may come twice."""
    urls = list(pool.status()) if relays is None else list(dict.fromkeys(relays))
    cursors = [_Cursor(relay, dict(f)) for relay in urls for f in filters]
    counterparties = set(known)
    for _ in range(MAX_PAGES):
        active = [cursor for cursor in cursors if not cursor.done]
        if not active:
            break
        relays = sorted({cursor.relay for cursor in active})
        answers = await asyncio.gather(
            *(
                _next_page(pool, [c for c in active if c.relay == relay], timeout)
                for relay in relays
            )
        )
        page = list({event.id: event for answer in answers for event in answer}.values())
        counterparties.update(_parties(page))
        if page:
            yield page
    for cursor in cursors:
        for crowded in cursor.crowded:
            page = await _narrowed(pool, cursor, crowded, sorted(counterparties), timeout)
            if page:
                yield page


async def _next_page(pool: Fetcher, cursors: list[_Cursor], timeout: float) -> list[Event]:
    """One relay's answer for its cursors (each relay pages on its own: what one relay
    holds says nothing of where another's page ends)."""
    requests = [cursor.request() for cursor in cursors]
    answer = await pool.fetch(requests, timeout, relays=[cursors[0].relay])
    page: dict[str, Event] = {}
    for cursor in cursors:
        mine = [event for event in answer if matches(cursor.filter, event)]
        page.update((event.id, event) for event in cursor.advance(mine))
    return list(page.values())


def _parties(events: Iterable[Event]) -> set[str]:
    found: set[str] = set()
    for event in events:
        found.add(event.pubkey)
        found.update(tag[1] for tag in event.tags if len(tag) > 1 and tag[0] == "p")
    return found


async def _narrowed(
    pool: Fetcher, cursor: _Cursor, crowded: _Crowded, parties: list[str], timeout: float
) -> list[Event]:
    """The events of a crowded second not handed out yet, asked for a few counterparties
    at a time (fewer when an answer comes back full)."""
    base, relays = cursor.filter, [cursor.relay]
    key = "authors" if "authors" not in base else "#p"
    second, found = crowded.second, dict[str, Event]()
    pending = [parties[i : i + CHUNK] for i in range(0, len(parties), CHUNK)]
    while pending:
        chunk = pending.pop()
        query = {**base, key: chunk, "since": second, "until": second, "limit": PAGE}
        answer = [e for e in await pool.fetch([query], timeout, relays) if matches(base, e)]
        if len(answer) >= crowded.full and len(chunk) > 1:
            pending += [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
            continue
        if len(answer) >= crowded.full:
            logger.warning("history: more than {} events of {} at {}", crowded.full, chunk, second)
        found.update((event.id, event) for event in answer)
    if not crowded.seen <= found.keys():  # some senders are unknown: more may be missing
        logger.warning("history: events of {} at {} may be missed (page full)", base, second)
    return [event for event in found.values() if event.id not in crowded.seen]
