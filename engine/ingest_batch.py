"""Events for one merchant taken as a batch: runs of new orders placed together
(`services.intake_batch`), everything else one at a time (`ingest.ingest_event`),
all in arrival order.

Each event is verified (the relay pool did) and, when it is not in the inbox yet,
opened here. A customer's order whose id is new to the merchant, with nothing
parked for it, joins the current run; any other event first lets the run be
written, then goes through `ingest_event` on its own, so every event sees what
the ones before it did, as it would one at a time. A run that cannot be written
as a whole is placed order by order instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..crud.order_batch import known_inbox_ids, order_ids_in_use
from ..market.nip15 import OrderMessage
from ..nostr.event import Event
from ..services.conversation import Verdict
from ..services.deps import Deps, Merchant
from ..services.intake_batch import NewOrder, place_new_orders
from .ingest import Unreadable, envelope_problem, inbox_entry, ingest_event, read

DUPLICATE = Verdict("ignored", "duplicate")


@dataclass(frozen=True)
class Arrival:
    """One event of the batch, with the new order it carries, if it carries one."""

    event: Event | object  # what the relay pool could not verify is passed on as it came
    relay: str | None
    order: NewOrder | None

    @property
    def event_id(self) -> str | None:
        return self.event.id if isinstance(self.event, Event) else None


async def ingest_batch(
    deps: Deps, merchant: Merchant, events: Sequence[tuple[Event | object, str | None]]
) -> list[Verdict]:
    """The verdict of each event, in order (what `ingest_event` would give each)."""
    ids = [event.id for event, _ in events if isinstance(event, Event)]
    known = await known_inbox_ids(deps.db, ids)
    arrivals = [Arrival(e, r, _new_order(deps, merchant, e, r)) for e, r in events]
    in_use = await order_ids_in_use(
        deps.db, merchant.id, [a.order.message.id for a in arrivals if a.order]
    )
    return await _in_arrival_order(deps, merchant, arrivals, known, in_use)


def _new_order(
    deps: Deps, merchant: Merchant, event: Event | object, relay: str | None
) -> NewOrder | None:
    """The customer's order this event carries, when it can join a run; None for
    anything else (unverified, refused, unreadable, a reply, chat, a dialect's own)."""
    now = deps.now()
    if not isinstance(event, Event) or envelope_problem(event, merchant, now) is not None:
        return None
    try:
        opened = read(merchant, event, now)
    except Unreadable:
        return None
    message = opened.message
    if opened.error is not None or opened.incoming.outgoing or type(message) is not OrderMessage:
        return None
    entry = inbox_entry(event, merchant, now, relay, None)
    return NewOrder(entry, opened.incoming, message)


async def _in_arrival_order(
    deps: Deps,
    merchant: Merchant,
    arrivals: Sequence[Arrival],
    known: set[str],
    in_use: set[str],
) -> list[Verdict]:
    verdicts: dict[int, Verdict] = {}
    run: list[tuple[int, Arrival]] = []
    seen_events, seen_orders = set(known), set(in_use)
    for index, arrival in enumerate(arrivals):
        event_id, order = arrival.event_id, arrival.order
        if event_id in seen_events:
            verdicts[index] = DUPLICATE
            continue
        if event_id is not None:
            seen_events.add(event_id)
        if order is not None and order.message.id not in seen_orders:
            seen_orders.add(order.message.id)
            run.append((index, arrival))
            continue
        verdicts.update(await _write(deps, merchant, run))
        run = []
        verdicts[index] = await ingest_event(deps, merchant, arrival.event, arrival.relay)
    verdicts.update(await _write(deps, merchant, run))
    return [verdicts[index] for index in range(len(arrivals))]


async def _write(
    deps: Deps, merchant: Merchant, run: Sequence[tuple[int, Arrival]]
) -> dict[int, Verdict]:
    """Place the run together, or, if it cannot be written as a whole, one at a time."""
    if not run:
        return {}
    orders = [arrival.order for _, arrival in run if arrival.order is not None]
    placed = await place_new_orders(deps, merchant, orders)
    if placed is not None:
        return {index: verdict for (index, _), verdict in zip(run, placed, strict=True)}
    return {
        index: await ingest_event(deps, merchant, arrival.event, arrival.relay)
        for index, arrival in run
    }
