"""Drop a merchant's projections and build them again from the order log and stock ledger.

The proof of invariant 3: the log (`order_events`) and the ledger (`stock_ledger`)
are the truth; `orders`, `invoices`, `payments`, `reservations` and
`products.quantity` follow from them. The rows written here are the rows the
live path wrote, because both use the same fold and the same writers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..crud import invoices as invoices_crud
from ..crud import orders as orders_crud
from ..crud import stock as stock_crud
from ..orders.events import (
    InvoiceIssued,
    OrderEvent,
    PaymentReceived,
    RefundNeeded,
    StockReleased,
    StockReserved,
    StockSold,
)
from ..orders.machine import fold_onto
from ..orders.state import OrderState
from ..orders.trace import status_path
from ..storage.database import Connection, Database, fetchall
from .order_store import invoice_changes

_WIPE = (
    "DELETE FROM orders WHERE merchant_id = ?",
    "DELETE FROM invoices WHERE merchant_id = ?",
    "DELETE FROM reservations WHERE merchant_id = ?",
    "DELETE FROM payments WHERE merchant_id = ? AND order_id IS NOT NULL",
)
_STOCK_STATE = {StockReserved: "held", StockReleased: "released", StockSold: "sold"}


async def rebuild_projections(db: Database, merchant_id: str) -> int:
    """Wipe and rebuild every projection of one merchant; how many orders were rebuilt."""
    async with db.transaction() as conn:
        for statement in _WIPE:
            await conn.execute(statement, (merchant_id,))
        logs = await _logs(conn, merchant_id)
        for order_id, entries in logs.items():
            await _rebuild_order(conn, merchant_id, order_id, entries)
        await stock_crud.rebuild_quantities(conn, merchant_id)
    return len(logs)


async def _logs(conn: Connection, merchant_id: str) -> dict[str, list[tuple[OrderEvent, int]]]:
    rows = await fetchall(
        conn,
        "SELECT order_id, type, data, created_at FROM order_events WHERE merchant_id = ?"
        " ORDER BY order_id, version",
        (merchant_id,),
    )
    logs: dict[str, list[tuple[OrderEvent, int]]] = defaultdict(list)
    for row in rows:
        event = orders_crud.decode_event(row["type"], row["data"])
        logs[row["order_id"]].append((event, int(row["created_at"])))
    return logs


async def _rebuild_order(
    conn: Connection, merchant_id: str, order_id: str, entries: list[tuple[OrderEvent, int]]
) -> None:
    events = [event for event, _ in entries]
    empty = OrderState(order_id)
    after = fold_onto(empty, events)
    last = entries[-1][1]
    path = status_path(empty, events)
    await orders_crud.write_projection(conn, merchant_id, empty, after, path, last)
    await _invoices(conn, merchant_id, order_id, entries)
    await _payments(conn, merchant_id, order_id, entries)
    await _reservations(conn, merchant_id, order_id, entries)


async def _invoices(
    conn: Connection, merchant_id: str, order_id: str, entries: list[tuple[OrderEvent, int]]
) -> None:
    final = invoice_changes(OrderState(order_id), [event for event, _ in entries])
    for event, at in entries:
        if isinstance(event, InvoiceIssued):
            await invoices_crud.insert_invoice(conn, merchant_id, order_id, event.invoice, at)
            state = final.get(event.invoice.payment_hash)
            if state is not None:
                await invoices_crud.set_invoice_state(conn, event.invoice.payment_hash, state)


async def _payments(
    conn: Connection, merchant_id: str, order_id: str, entries: list[tuple[OrderEvent, int]]
) -> None:
    refunded = {e.payment_hash for e, _ in entries if isinstance(e, RefundNeeded)}
    for event, at in entries:
        if isinstance(event, PaymentReceived):
            outcome = "refund_needed" if event.payment_hash in refunded else "paid"
            record = invoices_crud.PaymentRecord(
                event.payment_hash, merchant_id, order_id, event.amount_msat, event.source,
                outcome, at,
            )  # fmt: skip
            await invoices_crud.insert_payments(conn, [record], at)


async def _reservations(
    conn: Connection, merchant_id: str, order_id: str, entries: list[tuple[OrderEvent, int]]
) -> None:
    final: dict[str, tuple[int, str, int]] = {}
    for event, at in entries:
        state = _STOCK_STATE.get(type(event))
        if state is not None:
            for item in getattr(event, "items", ()):
                final[item.product_id] = (item.quantity, state, at)
    rows: list[Any] = [
        (merchant_id, order_id, pid, qty, state, at) for pid, (qty, state, at) in final.items()
    ]
    await conn.executemany(
        "INSERT INTO reservations (merchant_id, order_id, product_id, quantity, state, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
