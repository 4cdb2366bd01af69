"""Run one command against one order inside the caller's transaction.

Load the order's events, `decide`, append the new events, and bring every
projection along (orders, invoices, payments, reservations, stock) — all in
the same transaction, so a crash leaves either everything or nothing. Stock is
reserved first: when it runs out, nothing else was written, and the command is
decided again knowing the stock is gone (`out_of_stock`), never check-then-act.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from ..crud import invoices as invoices_crud
from ..crud import orders as orders_crud
from ..crud import stock as stock_crud
from ..orders.commands import OrderCommand
from ..orders.errors import StockUnavailable
from ..orders.events import (
    InvoiceExpired,
    InvoiceIssued,
    InvoiceSuperseded,
    OrderCancelled,
    OrderEvent,
    OrderPaid,
    PaymentReceived,
    RefundNeeded,
    StockReleased,
    StockReserved,
    StockSold,
)
from ..orders.machine import decide
from ..orders.state import OrderItem, OrderState
from ..orders.trace import path_of, trace
from ..storage.database import Connection

# Takes an order's items out of stock inside the transaction, or raises `StockUnavailable`
# having written nothing: `stock.reserve` by default (a conditional UPDATE per product);
# a batch passes the run's own book (services/order_batch.py).
Reserver = Callable[[Connection, str, str, tuple[OrderItem, ...], int], Awaitable[None]]


@dataclass(frozen=True)
class Applied:
    """What one command did: the state before and after, and the events in between."""

    merchant_id: str
    before: OrderState
    after: OrderState
    events: list[OrderEvent]

    @property
    def status_changed(self) -> bool:
        return self.before.status != self.after.status


async def execute(
    conn: Connection, merchant_id: str, order_id: str, command: OrderCommand, cause: str, now: int
) -> Applied:
    """Load the order and apply `command` to it; an `OrderError` rolls nothing back by itself."""
    state = await orders_crud.load_state(conn, merchant_id, order_id)
    return await apply_command(conn, merchant_id, state, command, cause, now)


async def apply_command(
    conn: Connection,
    merchant_id: str,
    state: OrderState,
    command: OrderCommand,
    cause: str,
    now: int,
    reserve: Reserver = stock_crud.reserve,
) -> Applied:
    """Decide and commit; if stock ran out, decide again with that knowledge."""
    events = decide(state, command)
    try:
        after = await commit_events(conn, merchant_id, state, events, cause, now, reserve)
    except StockUnavailable as shortage:
        if getattr(command, "out_of_stock", "set") is not None:
            raise
        events = decide(state, replace(command, out_of_stock=str(shortage)))  # type: ignore[arg-type]
        after = await commit_events(conn, merchant_id, state, events, cause, now, reserve)
    return Applied(merchant_id, state, after, events)


async def commit_events(
    conn: Connection,
    merchant_id: str,
    before: OrderState,
    events: list[OrderEvent],
    cause: str,
    now: int,
    reserve: Reserver = stock_crud.reserve,
) -> OrderState:
    """Write `events` and every projection they touch; returns the new state."""
    if not events:
        return before
    states = trace(before, events)
    after = states[-1]
    for event in events:
        if isinstance(event, StockReserved):
            await reserve(conn, merchant_id, before.order_id, event.items, now)
    await orders_crud.append_events(conn, merchant_id, before, events, cause, now)
    path = path_of(before, states)
    await orders_crud.write_projection(conn, merchant_id, before, after, path, now)
    await _project(conn, merchant_id, before, events, states, now)
    return after


async def _project(
    conn: Connection,
    merchant_id: str,
    before: OrderState,
    events: list[OrderEvent],
    states: list[OrderState],
    now: int,
) -> None:
    """Invoices, payments and stock as the events say (reservations were taken already)."""
    order_id = before.order_id
    refunded = {e.payment_hash for e in events if isinstance(e, RefundNeeded)}
    for event in events:
        if isinstance(event, InvoiceIssued):
            await invoices_crud.insert_invoice(conn, merchant_id, order_id, event.invoice, now)
        elif isinstance(event, StockReleased):
            await stock_crud.release(conn, merchant_id, order_id, event.items, now)
        elif isinstance(event, StockSold):
            await stock_crud.sell(conn, merchant_id, order_id, event.items, now)
        elif isinstance(event, PaymentReceived):
            await _record_payment(conn, merchant_id, order_id, event, refunded, now)
    for payment_hash, state in invoice_changes(before, events, states).items():
        await invoices_crud.set_invoice_state(conn, payment_hash, state)


def invoice_changes(
    before: OrderState, events: list[OrderEvent], states: list[OrderState] | None = None
) -> dict[str, str]:
    """The state each invoice ends in after `events` (the same rule live and in a rebuild)."""
    changes: dict[str, str] = {}
    afters = trace(before, events) if states is None else states
    for state, event in zip([before, *afters], events, strict=False):
        current = state.invoice.payment_hash if state.invoice else None
        unpaid_current = current is not None and current not in state.payments
        if isinstance(event, InvoiceSuperseded | InvoiceExpired) and event.payment_hash:
            changes[event.payment_hash] = (
                "expired" if isinstance(event, InvoiceExpired) else "superseded"
            )
        elif isinstance(event, PaymentReceived):
            changes[event.payment_hash] = "settled"
        elif isinstance(event, OrderCancelled) and unpaid_current and current:
            changes[current] = "expired"  # a cancelled order's invoice is void
        elif isinstance(event, OrderPaid) and unpaid_current and current != event.payment_hash:
            changes[current or ""] = "superseded"  # paid through an older invoice
    return changes


async def _record_payment(
    conn: Connection,
    merchant_id: str,
    order_id: str,
    event: PaymentReceived,
    refunded: set[str | None],
    now: int,
) -> None:
    outcome = "refund_needed" if event.payment_hash in refunded else "paid"
    record = invoices_crud.PaymentRecord(
        event.payment_hash, merchant_id, order_id, event.amount_msat, event.source, outcome, now
    )
    await invoices_crud.insert_payments(conn, [record], now)
