"""A page of a restored history into the inbox at once, then each new event processed.

The same steps as `ingest.ingest_event` for each event (verified, envelope checked,
recorded in the inbox once, then opened and routed in restore mode), but the
page's inbox rows are written in one transaction instead of one each, what only
waits for its order is parked in one more (`parking.py`), and the other events
are then processed side by side: restore parks whatever depends on order,
so any interleaving gives the same state, and units of work ready together share
a commit. An event left `received` by a crash in between is processed by the
next restore (`restore._reprocess_local`) or by `ingest.retry_waiting`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ...crud import inbox as inbox_crud
from ...crud.order_batch import claim_entries
from ...nostr.event import Event, InvalidEvent, parse_event
from ...services.conversation import Verdict
from ...services.deps import Deps, Merchant
from ..ingest import envelope_problem, ingest_event, process
from .parking import park_page

IN_FLIGHT = 32  # events of a page processed at once
DUPLICATE = Verdict("ignored", "duplicate")

Count = Callable[[str, str | None], None]


async def ingest_page(
    deps: Deps, merchant: Merchant, page: Sequence[Event | dict[str, Any]], count: Count
) -> None:
    """Ingest a page in restore mode; `count(verdict, reason)` is called once per event."""
    ready, one_by_one = _sort_out(deps, merchant, page)
    new = await _record(deps, merchant, ready)
    for _ in range(len(ready) - len(new)):
        count(DUPLICATE.verdict, DUPLICATE.reason)
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(work: Awaitable[Verdict]) -> None:
        async with gate:
            verdict = await work
        count(verdict.verdict, verdict.reason)

    parked, rest = await park_page(deps, merchant, new)
    for verdict in parked:
        count(verdict.verdict, verdict.reason)
    processing = [process(deps, merchant, event, restore=True) for event in rest]
    refusing = [ingest_event(deps, merchant, raw, None, restore=True) for raw in one_by_one]
    await asyncio.gather(*(one(work) for work in processing + refusing))


def _sort_out(
    deps: Deps, merchant: Merchant, page: Sequence[Event | dict[str, Any]]
) -> tuple[list[Event], list[Event | dict[str, Any]]]:
    """Verified events with a sound envelope, and the rest (invalid, or refused by their
    envelope), which go through `ingest_event` to be recorded with their reason."""
    ready: list[Event] = []
    one_by_one: list[Event | dict[str, Any]] = []
    now = deps.now()
    for raw in page:
        try:
            event = raw if isinstance(raw, Event) else parse_event(raw)
        except InvalidEvent:
            one_by_one.append(raw)
            continue
        if envelope_problem(event, merchant, now) is None:
            ready.append(event)
        else:
            one_by_one.append(event)
    return ready, one_by_one


async def _record(deps: Deps, merchant: Merchant, events: list[Event]) -> list[Event]:
    """Insert the page's inbox rows in one transaction; the events seen for the first time."""
    now = deps.now()
    unique = list({event.id: event for event in events}.values())
    async with deps.db.transaction() as conn:
        new = await claim_entries(conn, [_received(event, merchant, now) for event in unique])
    return [event for event in unique if event.id in new]


def _received(event: Event, merchant: Merchant, now: int) -> inbox_crud.InboxEntry:
    return inbox_crud.InboxEntry(
        event.id, merchant.id, event.to_json(), event.kind, event.pubkey, event.created_at,
        "received", None, None, now, None,
    )  # fmt: skip
