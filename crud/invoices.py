"""SQL for invoices (one per payment hash) and payments (money received, at most once).

`payments.payment_hash` is the primary key: a settlement reported twice, by the
stream and by a look-up, or by two processes, inserts once and fails the second
transaction instead of counting the money twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..orders.state import Invoice
from ..storage.database import Connection, Database
from .uow import rows


async def insert_invoice(
    conn: Connection, merchant_id: str, order_id: str, invoice: Invoice, now: int
) -> None:
    await conn.executemany(
        "INSERT INTO invoices (payment_hash, merchant_id, order_id, bolt11, amount_msat,"
        " expires_at, state, created_at) VALUES (?, ?, ?, ?, ?, ?, 'current', ?)",
        [(invoice.payment_hash, merchant_id, order_id, invoice.bolt11, invoice.amount_msat,
          invoice.expires_at, now)],
    )  # fmt: skip


async def set_invoice_state(conn: Connection, payment_hash: str, state: str) -> None:
    await conn.executemany(
        "UPDATE invoices SET state = ? WHERE payment_hash = ?", [(state, payment_hash)]
    )


@dataclass(frozen=True)
class InvoiceRef:
    payment_hash: str
    merchant_id: str
    order_id: str
    amount_msat: int
    expires_at: int
    state: str


def _ref(row: object) -> InvoiceRef:
    r = dict(row)  # type: ignore[call-overload]
    return InvoiceRef(
        r["payment_hash"], r["merchant_id"], r["order_id"], r["amount_msat"], r["expires_at"],
        r["state"],
    )  # fmt: skip


_REF = "SELECT payment_hash, merchant_id, order_id, amount_msat, expires_at, state FROM invoices"


async def find_invoice(db: Database, payment_hash: str) -> InvoiceRef | None:
    """Which merchant and order an invoice belongs to."""
    row = await db.fetchone(_REF + " WHERE payment_hash = ?", (payment_hash,))
    return None if row is None else _ref(row)


async def due_invoices(db: Database, now: int, limit: int = 500) -> list[InvoiceRef]:
    """Current invoices whose expiry has passed (the sweeper expires their orders)."""
    rows = await db.fetchall(
        "SELECT i.payment_hash, i.merchant_id, i.order_id, i.amount_msat, i.expires_at, i.state"
        " FROM invoices i JOIN orders o ON o.merchant_id = i.merchant_id AND o.id = i.order_id"
        " AND o.payment_hash = i.payment_hash AND o.status = 'awaiting_payment'"
        " WHERE i.state = 'current' AND i.expires_at <= ? ORDER BY i.expires_at LIMIT ?",
        (now, limit),
    )
    return [_ref(row) for row in rows]


async def unsettled_invoices(db: Database) -> list[InvoiceRef]:
    """Every invoice that could still be paid or was paid while we were away."""
    rows = await db.fetchall(
        "SELECT payment_hash, merchant_id, order_id, amount_msat, expires_at, state FROM invoices"
        " WHERE state IN ('current', 'superseded', 'expired')"
        " AND payment_hash NOT IN (SELECT payment_hash FROM payments)"
    )
    return [_ref(row) for row in rows]


@dataclass(frozen=True)
class PaymentRecord:
    payment_hash: str
    merchant_id: str | None
    order_id: str | None
    amount_msat: int
    source: str
    outcome: str
    settled_at: int | None


async def insert_payments(conn: Connection, payments: Iterable[PaymentRecord], now: int) -> None:
    """Record money received; a hash seen before raises IntegrityError (never counted twice)."""
    await conn.executemany(
        "INSERT INTO payments (payment_hash, merchant_id, order_id, amount_msat, source, outcome,"
        " settled_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(p.payment_hash, p.merchant_id, p.order_id, p.amount_msat, p.source, p.outcome,
          p.settled_at, now) for p in payments],
    )  # fmt: skip


async def payment_recorded(conn: Connection, payment_hash: str) -> bool:
    found = await rows(conn, "SELECT 1 FROM payments WHERE payment_hash = ?", (payment_hash,))
    return bool(found)


PAYMENT_METHODS = {
    "wallet": "lightning invoice",
    "lightning_address": "lightning address",
    "cashu": "cashu ecash",
    "merchant": "the merchant's own message",
}


async def payment_method(db: Database, merchant_id: str, order_id: str) -> str | None:
    """How the order's accepted payment came (the payments row's source), in words."""
    row = await db.fetchone(
        "SELECT source FROM payments WHERE merchant_id = ? AND order_id = ? AND outcome = 'paid'"
        " ORDER BY created_at LIMIT 1",
        (merchant_id, order_id),
    )
    return None if row is None else PAYMENT_METHODS.get(row["source"], row["source"])


async def payment_methods(db: Database, merchant_id: str, order_ids: list[str]) -> dict[str, str]:
    """`payment_method` for a page of orders in one query: order id -> how it was paid."""
    if not order_ids:
        return {}
    marks = ", ".join("?" * len(order_ids))
    sql = (
        "SELECT order_id, source FROM payments"  # noqa: S608 - only placeholders are joined in
        f" WHERE merchant_id = ? AND outcome = 'paid' AND order_id IN ({marks})"
        " ORDER BY created_at DESC"
    )
    rows = await db.fetchall(sql, (merchant_id, *order_ids))
    found = {row["order_id"]: row["source"] for row in rows}  # the earliest wins (last written)
    return {order_id: PAYMENT_METHODS.get(source, source) for order_id, source in found.items()}
