"""Paging a DM history out of the relays, newest first, one page at a time.

Each filter pages backwards on its own `until` (NIP-01's `limit` holds per
filter, so one filter's busy hour must not make another skip its events).
`until` is inclusive: the boundary second comes again on the next page, and what
was already handed out there is left out.

A relay cannot page past a second that holds more events than it returns in one
answer (merchants answer hundreds of orders a second, all stamped alike). Such a
crowded second is asked for again, narrowed to a few counterparties at a time
(the customers seen in the history, and those the caller knows); this is done
last, when every filter has been paged and the counterparties are known.

Nothing is kept but the ids at each filter's boundary second and the set of
counterparties: the history streams through, a page at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from loguru import logger

from .nostr.event import Event
from .nostr.filters import matches

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


@dataclass
class _Cursor:
    """Where one filter's paging stands."""

    filter: dict[str, Any]
    until: int | None = None
    boundary: set[str] = field(default_factory=set)  # ids handed out at `until`
    cap: int = PAGE  # the most one answer holds (a relay may return fewer than asked)
    last_size: int = 0
    done: bool = False
    crowded: list[tuple[int, set[str]]] = field(default_factory=list)  # to narrow at the end

    def request(self) -> dict[str, Any]:
        return {
            **self.filter,
            "limit": PAGE,
            **({} if self.until is None else {"until": self.until}),
        }

    def advance(self, events: list[Event]) -> list[Event]:
        """Take one answer: what is new, and where the next page starts."""
        new = [event for event in events if event.id not in self.boundary]
        if new and 0 < self.last_size < self.cap:
            self.cap = self.last_size  # that short answer was not the end: the relay's cap
        self.last_size = len(events)
        if not new:
            self._stuck(events)
            return []
        oldest = min(event.created_at for event in events)
        self.boundary = {e.id for e in events if e.created_at == oldest} | (
            self.boundary if oldest == self.until else set()
        )
        self.until = oldest
        return new

    def _stuck(self, events: list[Event]) -> None:
        """Nothing new: the end, or a second too crowded to page through."""
        if self.until is not None and len(events) >= self.cap:
            self.crowded.append((self.until, self.boundary))
            self.until, self.boundary, self.last_size = self.until - 1, set(), 0
        else:
            self.done = True


async def history_pages(
    pool: Fetcher,
    filters: list[dict[str, Any]],
    known: Iterable[str] = (),
    timeout: float = 10.0,
) -> AsyncIterator[list[Event]]:
    """Every event matching `filters`, a page at a time, newest first per filter.

    `known` are counterparties (public keys) to narrow crowded seconds with, beyond
    those met in the history. An event matching two filters may come twice."""
    cursors = [_Cursor(dict(f)) for f in filters]
    counterparties = set(known)
    for _ in range(MAX_PAGES):
        active = [cursor for cursor in cursors if not cursor.done]
        if not active:
            break
        answer = await pool.fetch([cursor.request() for cursor in active], timeout)
        page = _new_events(active, answer)
        counterparties.update(_parties(page))
        if page:
            yield page
    for cursor in cursors:
        for second, seen in cursor.crowded:
            page = await _narrowed(pool, cursor, second, sorted(counterparties), timeout)
            page = [event for event in page if event.id not in seen]
            if page:
                yield page


def _new_events(cursors: list[_Cursor], answer: list[Event]) -> list[Event]:
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
    pool: Fetcher, cursor: _Cursor, second: int, parties: list[str], timeout: float
) -> list[Event]:
    """One crowded second of a filter, asked for a few counterparties at a time."""
    base = cursor.filter
    key = "authors" if "authors" not in base else "#p"
    found: dict[str, Event] = {}
    pending = [parties[i : i + CHUNK] for i in range(0, len(parties), CHUNK)]
    while pending:
        chunk = pending.pop()
        query = {**base, key: chunk, "since": second, "until": second, "limit": PAGE}
        answer = [e for e in await pool.fetch([query], timeout) if matches(base, e)]
        if len(answer) >= cursor.cap and len(chunk) > 1:
            pending += [chunk[: len(chunk) // 2], chunk[len(chunk) // 2 :]]
            continue
        if len(answer) >= cursor.cap:
            logger.warning("restore: more than {} events of {} at {}", cursor.cap, chunk, second)
        found.update((event.id, event) for event in answer)
    if len(found) < cursor.cap:  # the second held more than a page: some senders are unknown
        logger.warning("restore: events of {} at {} may be missed (page full)", base, second)
    return list(found.values())
