"""Paging a history out of relays: every event comes out, whatever the relay's page size,
however the filters' histories differ in density, and through seconds more crowded
than one page."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from typing import Any

from nostrbazaar.engine.restore.history import PAGE, history_pages
from nostrbazaar.nostr.event import Event
from nostrbazaar.nostr.filters import matches

MERCHANT = "a" * 64
NOW = 1_700_000_000


def customer(n: int) -> str:
    return hashlib.sha256(f"customer {n}".encode()).hexdigest()


def dm(author: str, recipient: str, created_at: int, n: int) -> Event:
    event_id = hashlib.sha256(f"{author}{recipient}{created_at}{n}".encode()).hexdigest()
    return Event(event_id, author, created_at, 4, [["p", recipient]], "x?iv=y", "0" * 128)


class MemoryRelay:
    """NIP-01 REQ answers from a list: per filter, newest first, at most `cap` events."""

    def __init__(self, events: list[Event], cap: int = PAGE) -> None:
        self.events = sorted(events, key=lambda e: (-e.created_at, e.id))
        self.cap = cap
        self.queries = 0

    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]:
        if relays is not None and relays != ["memory"]:
            return []
        self.queries += 1
        found: dict[str, Event] = {}
        for one in filters:
            limit = min(one.get("limit", self.cap), self.cap)
            condition = {k: v for k, v in one.items() if k != "limit"}
            hits = [event for event in self.events if matches(condition, event)][:limit]
            found.update((event.id, event) for event in hits)
        return list(found.values())

    def status(self) -> dict[str, str]:
        return {"memory": "connected"}


class TwoRelays:
    """A pool of two relays holding different parts of a history."""

    def __init__(self, a: MemoryRelay, b: MemoryRelay) -> None:
        self.relays = {"a": a, "b": b}

    async def fetch(
        self,
        filters: list[dict[str, Any]],
        timeout: float = 10.0,
        relays: Sequence[str] | None = None,
    ) -> list[Event]:
        found: dict[str, Event] = {}
        for url in relays or list(self.relays):
            answer = await self.relays[url].fetch(filters, timeout)
            found.update((event.id, event) for event in answer)
        return list(found.values())

    def status(self) -> dict[str, str]:
        return dict.fromkeys(self.relays, "connected")


FILTERS = [
    {"kinds": [4], "#p": [MERCHANT]},
    {"kinds": [4], "authors": [MERCHANT]},
]


async def fetched(relay: MemoryRelay | TwoRelays, known: Sequence[str] = ()) -> Counter[str]:
    seen: Counter[str] = Counter()
    async for page in history_pages(relay, FILTERS, known):
        seen.update(event.id for event in page)
    return seen


async def test_a_sparse_filter_is_not_skipped_by_a_dense_one() -> None:
    orders = [dm(customer(n), MERCHANT, NOW - 10 * n, n) for n in range(1200)]
    replies = [dm(MERCHANT, customer(n), NOW - 10 * n + 5, n) for n in range(0, 1200, 40)]
    seen = await fetched(MemoryRelay(orders + replies))
    assert set(seen) == {event.id for event in orders + replies}
    assert max(seen.values()) == 1


async def test_a_relay_that_returns_fewer_than_asked_is_paged_to_the_end() -> None:
    orders = [dm(customer(n), MERCHANT, NOW - n // 3, n) for n in range(700)]
    seen = await fetched(MemoryRelay(orders, cap=50))
    assert set(seen) == {event.id for event in orders}
    assert max(seen.values()) == 1


async def test_a_second_more_crowded_than_a_page_is_read_by_counterparty() -> None:
    orders = [dm(customer(n), MERCHANT, NOW - 100 - n, n) for n in range(900)]
    replies = [dm(MERCHANT, customer(n), NOW, n) for n in range(900)]  # one busy second
    relay = MemoryRelay(orders + replies, cap=200)
    seen = await fetched(relay)
    assert set(seen) == {event.id for event in orders + replies}
    assert max(seen.values()) == 1


async def test_counterparties_the_caller_knows_reach_a_crowded_second() -> None:
    replies = [dm(MERCHANT, customer(n), NOW, n) for n in range(300)]  # no orders seen
    seen = await fetched(MemoryRelay(replies, cap=100), [customer(n) for n in range(300)])
    assert set(seen) == {event.id for event in replies}


async def test_a_relay_with_a_denser_history_does_not_hide_another_relays_events() -> None:
    dense = [dm(customer(n), MERCHANT, NOW - n, n) for n in range(1000)]
    sparse = [dm(customer(n), MERCHANT, NOW - 2 * n - 1, n + 5000) for n in range(600)]
    seen = await fetched(TwoRelays(MemoryRelay(dense), MemoryRelay(sparse)))
    assert set(seen) == {event.id for event in dense + sparse}
