"""An in-memory relay for pager tests: NIP-01 REQ answers from a list, per filter, newest
first, at most `cap` events per filter whatever `limit` asks (as public relays do).

It records every query, and can be told to cut the next answers short (as a relay that
disconnects or times out does: `FetchIncomplete`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.filters import matches
from nostrbazaar.nostr.relay_pool import FetchIncomplete

URL = "memory"


def fake_event(author: str, recipient: str, created_at: int, n: int, kind: int = 4) -> Event:
    """An event with a unique id (not signed: the pager does not verify, the pool does)."""
    event_id = hashlib.sha256(f"{author}{recipient}{created_at}{n}{kind}".encode()).hexdigest()
    return Event(event_id, author, created_at, kind, [["p", recipient]], "x?iv=y", "0" * 128)


class MemoryRelay:
    """A `Fetcher` (the pool's `fetch` and `status`) over one list of events."""

    def __init__(self, events: Sequence[Event], cap: int = 500, url: str = URL) -> None:
        self.events = sorted(events, key=lambda e: (-e.created_at, e.id))
        self.cap, self.url = cap, url
        self.queries: list[list[dict[str, Any]]] = []
        self.fail_next = 0  # how many of the next fetches are cut short

    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]:
        if relays is not None and self.url not in relays:
            return []
        if self.fail_next:
            self.fail_next -= 1
            raise FetchIncomplete({self.url: "disconnected before EOSE"})
        self.queries.append([dict(one) for one in filters])
        found: dict[str, Event] = {}
        for one in filters:
            limit = min(one.get("limit", self.cap), self.cap)
            condition = {k: v for k, v in one.items() if k != "limit"}
            hits = [event for event in self.events if matches(condition, event)][:limit]
            found.update((event.id, event) for event in hits)
        return list(found.values())

    def status(self) -> dict[str, str]:
        return {self.url: "connected"}
