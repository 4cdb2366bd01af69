"""SQL about who holds stock: open reservations, and whether a customer is new.

A customer is "new" at a merchant while none of their orders there is paid;
that is read from `orders.paid` each time (never stored), so it is a plain
function of the projections and a rebuild from the log gives the same answer.
A reservation is open while its state is `held` (its order awaits payment).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..orders.holds import ProductHolds
from ..storage.database import Connection, Database

_NEW = (
    "NOT EXISTS (SELECT 1 FROM orders q WHERE q.merchant_id = o.merchant_id"
    " AND q.public_key = o.public_key AND q.paid = 1)"
)
_RETURNING = (
    "SELECT EXISTS (SELECT 1 FROM orders WHERE merchant_id = ? AND public_key = ? AND paid = 1)"
)
_BY_NEW = (
    "SELECT r.product_id, SUM(r.quantity) AS held_by_new, MIN(i.expires_at) AS next_release"  # noqa: S608
    " FROM reservations r JOIN orders o ON o.merchant_id = r.merchant_id AND o.id = r.order_id"
    " LEFT JOIN invoices i ON i.payment_hash = o.payment_hash"
    f" WHERE r.merchant_id = ? AND r.state = 'held' AND r.product_id IN ({{marks}}) AND {_NEW}"
    " GROUP BY r.product_id"
)
# The products and whether the customer is returning, in one round trip.
_PRODUCTS = (
    "SELECT id, name, quantity, held, EXISTS (SELECT 1 FROM orders WHERE merchant_id = ?"
    " AND public_key = ? AND paid = 1) AS paid_before"
    " FROM products WHERE merchant_id = ? AND id IN ({marks}) ORDER BY id"
)


async def is_returning(db: Database, merchant_id: str, customer: str) -> bool:
    """Whether the customer has paid for at least one order at this merchant."""
    row = await db.fetchone_inline(_RETURNING, (merchant_id, customer))
    return bool(row and row[0])


async def product_holds(
    conn: Connection, merchant_id: str, customer: str, product_ids: list[str]
) -> tuple[bool, dict[str, ProductHolds]]:
    """Inside the order's transaction: whether the customer is returning, and (for a new
    one) each product's free units and the units its unpaid orders hold (`products.held`,
    kept by triggers: no sum over the reservations).

    The product rows are held until the unit ends, where locking is per
    row (PostgreSQL): two new customers' orders for one product then check the share one
    after the other, each seeing what the other reserved (SQLite's one writer does that)."""

    ids = sorted(set(product_ids))  # always locked in the same order: no deadlock between two
    sql = _PRODUCTS.format(marks=_marks(ids)) + conn.dialect.for_update
    rows = await conn.fetchall(sql, (merchant_id, customer, merchant_id, *ids))
    if rows:
        returning = bool(rows[0]["paid_before"])
    else:  # none of the products exists: the order is refused later, but say who it is
        found = await conn.fetchone(_RETURNING, (merchant_id, customer))
        returning = found is not None and bool(found[0])
    if returning:
        return True, {}
    return False, {row[0]: ProductHolds(row[0], row[1], row[2], row[3]) for row in rows}


async def count_new_customer_holds(
    conn: Connection, merchant_id: str, holds: dict[str, ProductHolds], product_ids: list[str]
) -> dict[str, ProductHolds]:
    """`holds` with the units held by new customers' unpaid orders counted for
    `product_ids` (a pass over those products' open reservations), inside the transaction."""

    sql = _BY_NEW.format(marks=_marks(product_ids))
    found = await conn.fetchall(sql, (merchant_id, *product_ids))
    counted = {pid: (n, release) for pid, n, release in found}
    out = dict(holds)
    for pid in product_ids:
        n, release = counted.get(pid, (0, None))
        out[pid] = replace(holds[pid], held_by_new=int(n), next_release=release)
    return out


def _marks(ids: list[str]) -> str:
    return ",".join("?" * len(ids))


@dataclass(frozen=True)
class Reservation:
    """An open reservation of one product, for the dashboard."""

    order_id: str
    public_key: str
    quantity: int
    reserved_at: int
    expires_at: int | None
    new_customer: bool


_OPEN = (
    "SELECT r.order_id, o.public_key, r.quantity, r.updated_at AS reserved_at,"  # noqa: S608
    f" i.expires_at, {_NEW} AS new_customer"
    " FROM reservations r JOIN orders o ON o.merchant_id = r.merchant_id AND o.id = r.order_id"
    " LEFT JOIN invoices i ON i.payment_hash = o.payment_hash"
    " WHERE r.merchant_id = ? AND r.product_id = ? AND r.state = 'held'"
    " ORDER BY i.expires_at, r.order_id"
)


async def open_reservations(db: Database, merchant_id: str, product_id: str) -> list[Reservation]:
    """Who holds the product unpaid right now, soonest expiry first."""
    rows = await db.fetchall(_OPEN, (merchant_id, product_id))
    return [
        Reservation(
            row["order_id"],
            row["public_key"],
            int(row["quantity"]),
            int(row["reserved_at"]),
            row["expires_at"],
            bool(row["new_customer"]),
        )
        for row in rows
    ]
