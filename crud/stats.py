"""SQL for the sales figures and the first-run checklist. No rules, no arithmetic beyond SQL's.

Days are buckets of 86,400 seconds after shifting by the caller's UTC offset,
computed with integer division (the same in every SQL engine). An order is
placed when it is created (its `created_at`, the customer's timestamp), paid
when its payment was recorded, refused when it was rejected, expired when it
stands expired (the time of that change). The paid orders' items and times
are read a chunk at a time, keyed by payment hash, so a long window never sits
in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ..storage.database import Database

DAY = 86_400
CHUNK = 2000


@dataclass(frozen=True)
class DayCount:
    day: int  # days since 1970-01-01 in the caller's time zone
    count: int
    amount_msat: int = 0


async def placed_by_day(
    db: Database, merchant_id: str, since: int, offset: int
) -> tuple[list[DayCount], list[DayCount]]:
    """Orders created per day since `since`: (placed, refused)."""
    rows = await db.fetchall(
        "SELECT (created_at + ?) / 86400 AS day,"
        " CASE WHEN status = 'rejected' THEN 1 ELSE 0 END AS refused, COUNT(*) AS n"
        " FROM orders WHERE merchant_id = ? AND created_at >= ?"
        " GROUP BY (created_at + ?) / 86400, CASE WHEN status = 'rejected' THEN 1 ELSE 0 END",
        (offset, merchant_id, since, offset),
    )
    placed = [DayCount(int(r["day"]), int(r["n"])) for r in rows if not r["refused"]]
    refused = [DayCount(int(r["day"]), int(r["n"])) for r in rows if r["refused"]]
    return placed, refused


async def expired_by_day(db: Database, merchant_id: str, since: int, offset: int) -> list[DayCount]:
    """Orders that stand expired, per day they expired."""
    rows = await db.fetchall(
        "SELECT (updated_at + ?) / 86400 AS day, COUNT(*) AS n FROM orders"
        " WHERE merchant_id = ? AND status = 'expired' AND updated_at >= ?"
        " GROUP BY (updated_at + ?) / 86400",
        (offset, merchant_id, since, offset),
    )
    return [DayCount(int(r["day"]), int(r["n"])) for r in rows]


async def paid_by_day(db: Database, merchant_id: str, since: int, offset: int) -> list[DayCount]:
    """Payments accepted for orders per day, with the sum received."""
    rows = await db.fetchall(
        "SELECT (created_at + ?) / 86400 AS day, COUNT(*) AS n, SUM(amount_msat) AS msat"
        " FROM payments WHERE merchant_id = ? AND outcome = 'paid' AND created_at >= ?"
        " GROUP BY (created_at + ?) / 86400",
        (offset, merchant_id, since, offset),
    )
    return [DayCount(int(r["day"]), int(r["n"]), int(r["msat"] or 0)) for r in rows]


async def placed_and_paid(db: Database, merchant_id: str, since: int) -> tuple[int, int]:
    """Of the orders placed (not refused) since `since`: how many, and how many are paid."""
    row = await db.fetchone(
        "SELECT COUNT(*) AS n, SUM(CASE WHEN paid = 1 THEN 1 ELSE 0 END) AS paid FROM orders"
        " WHERE merchant_id = ? AND created_at >= ? AND status <> 'rejected'",
        (merchant_id, since),
    )
    if row is None:
        return 0, 0
    return int(row["n"]), int(row["paid"] or 0)


@dataclass(frozen=True)
class PaidOrder:
    items: list[dict[str, Any]]
    seconds_to_pay: int


async def paid_orders(db: Database, merchant_id: str, since: int) -> AsyncIterator[list[PaidOrder]]:
    """The orders paid since `since` (their items, and the time from order to payment),
    a chunk at a time."""
    after = ""
    while True:
        rows = await db.fetchall(
            "SELECT p.payment_hash, o.items, p.created_at - o.created_at AS waited"
            " FROM payments AS p JOIN orders AS o ON o.merchant_id = p.merchant_id"
            " AND o.id = p.order_id WHERE p.merchant_id = ? AND p.outcome = 'paid'"
            " AND p.created_at >= ? AND p.payment_hash > ? ORDER BY p.payment_hash LIMIT ?",
            (merchant_id, since, after, CHUNK),
        )
        if not rows:
            return
        yield [PaidOrder(json.loads(r["items"]), max(0, int(r["waited"]))) for r in rows]
        if len(rows) < CHUNK:
            return
        after = rows[-1]["payment_hash"]


async def product_names(db: Database, merchant_id: str, product_ids: list[str]) -> dict[str, str]:
    if not product_ids:
        return {}
    marks = ",".join("?" * len(product_ids))
    rows = await db.fetchall(
        f"SELECT id, name FROM products WHERE merchant_id = ? AND id IN ({marks})",  # noqa: S608
        (merchant_id, *product_ids),
    )
    return {row["id"]: row["name"] for row in rows}


async def count_adopted_since(db: Database, merchant_id: str, since: int) -> int:
    """Invoices adopted from the merchant's own earlier payment requests since `since`."""
    rows = await db.fetchall(
        "SELECT data FROM order_events WHERE merchant_id = ? AND type = 'InvoiceIssued'"
        " AND created_at >= ?",
        (merchant_id, since),
    )
    return sum(1 for row in rows if json.loads(row["data"]).get("adopted"))


@dataclass(frozen=True)
class SetupCounts:
    zones: int
    stalls: int
    products: int
    published_products: int  # a relay acknowledged the product's latest event


async def setup_counts(db: Database, merchant_id: str) -> SetupCounts:
    """What the merchant has set up so far (pending objects found on relays do not count)."""
    row = await db.fetchone(
        "SELECT (SELECT COUNT(*) FROM zones WHERE merchant_id = ?) AS zones,"
        " (SELECT COUNT(*) FROM stalls WHERE merchant_id = ? AND pending = 0) AS stalls,"
        " (SELECT COUNT(*) FROM products WHERE merchant_id = ? AND pending = 0) AS products,"
        " (SELECT COUNT(*) FROM products AS p JOIN outbox AS o ON o.event_id = p.event_id"
        "  WHERE p.merchant_id = ? AND p.pending = 0 AND o.status = 'sent') AS published",
        (merchant_id,) * 4,
    )
    assert row is not None
    return SetupCounts(
        int(row["zones"]), int(row["stalls"]), int(row["products"]), int(row["published"])
    )
