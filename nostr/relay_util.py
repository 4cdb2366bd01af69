"""Small pieces of the relay pool: backoff, frame decoding, resume filters, dedupe, and
the bookkeeping of one fetch (what came, and why a relay's answer may be short).

Kept apart from the sockets so each can be unit-tested without I/O.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

# NIP-17 (NIP-59) randomises seal and gift-wrap timestamps up to two days into the
# past, so a resumed subscription must look back at least that far.
RESUME_LOOKBACK = 2 * 24 * 60 * 60
_MAX_DOUBLINGS = 30


def backoff_delay(attempt: int, base: float, cap: float, rand: float | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(cap, base * 2 ** min(attempt, _MAX_DOUBLINGS))
    jitter = random.random() if rand is None else rand  # noqa: S311 - jitter, not a secret
    return jitter * ceiling


def decode_frame(frame: str | bytes) -> list[Any] | str:
    """The JSON array in a relay frame, or the reason it is not a usable one."""
    if not isinstance(frame, str):
        return "binary frame"
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):
        return "not JSON"
    if not isinstance(message, list) or not message or not isinstance(message[0], str):
        return "not a JSON array starting with a message type"
    return message


def resume_filters(
    filters: list[dict[str, Any]], newest: int | None, lookback: int = RESUME_LOOKBACK
) -> list[dict[str, Any]]:
    """Filters for a resubscription: `since` moved up to `newest - lookback`, never back.

    The relay answers these with at most its own cap of stored events (newest first):
    a gap longer than that is not covered here but paged by the subscriber's connect
    listener, with `until` and `fetch(..., complete=True)`."""
    if newest is None:
        return [dict(item) for item in filters]
    floor = max(newest - lookback, 0)
    return [{**item, "since": max(int(item.get("since", 0)), floor)} for item in filters]


def describe(error: BaseException) -> str:
    """A one-line reason for a status string or a log line."""
    text = str(error) or type(error).__name__
    if isinstance(error, ConnectionRefusedError):
        return f"connection refused ({text})"
    return shorten(f"{type(error).__name__}: {text}")


def shorten(value: object, limit: int = 200) -> str:
    """`value` as text, cut to `limit` characters so a hostile relay cannot flood the log."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class SeenIds:
    """Bounded LRU of verified event ids, each with the subscriptions it was delivered to.

    Only ids whose event verified are added, so a forged event that borrows a real
    id cannot make the pool skip the real one.
    """

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("dedupe size must be at least 1")
        self._size = size
        self._items: OrderedDict[str, set[str]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def seen(self, event_id: str, sub_id: str) -> bool:
        """True when this event was already delivered to this subscription."""
        subs = self._items.get(event_id)
        if subs is None:
            return False
        self._items.move_to_end(event_id)
        return sub_id in subs

    def add(self, event_id: str, sub_id: str) -> None:
        """Record a delivery, evicting the least recently seen ids beyond the bound."""
        self._items.setdefault(event_id, set()).add(sub_id)
        self._items.move_to_end(event_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def discard(self, event_id: str, sub_id: str) -> None:
        """Forget a delivery (its handler failed), so a later copy is delivered again."""
        subs = self._items.get(event_id)
        if subs is not None:
            subs.discard(sub_id)
            if not subs:
                del self._items[event_id]


class FetchIncomplete(Exception):
    """A `fetch(..., complete=True)` that did not hear every relay it asked to the end."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{url}: {why}" for url, why in sorted(problems.items())))
        self.problems = problems


@dataclass
class FetchJob:
    """Raw events collected for one `fetch`, bounded by `cap`; why a relay's answer is short."""

    cap: int
    events: list[tuple[str, object]] = field(default_factory=list)
    done: dict[str, asyncio.Event] = field(default_factory=dict)
    truncated: bool = False
    problems: dict[str, str] = field(default_factory=dict)

    def answering(self, relay: str) -> bool:
        """True until the relay's EOSE (or its failure): what it sends after that is live,
        not stored, and may be dated anywhere (a NIP-17 gift wrap up to two days back), so
        taking it into the answer would make a pager skip the stored events in between."""
        done = self.done.get(relay)
        return done is not None and not done.is_set()

    def finish(self, relay: str, problem: str | None = None) -> None:
        if relay in self.done and not self.done[relay].is_set():
            if problem is not None:
                self.problems[relay] = problem
            self.done[relay].set()
