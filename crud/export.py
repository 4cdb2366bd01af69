"""SQL for the CSV exports: what a chunk of orders needs beside its rows, and products a chunk
at a time. Every query is keyed by the chunk's ids, so an export of any size reads
a bounded amount per step (the orders themselves come from `order_search`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from ..storage.database import Database


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


async def names_of(
    db: Database, table: str, merchant_id: str, ids: Sequence[str]
) -> dict[str, str]:
    """id -> name of the merchant's zones or products (`table` is one of those two)."""
    if table not in ("zones", "products", "stalls"):
        raise ValueError(f"no names in {table}")
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await db.fetchall(
        f"SELECT id, name FROM {table} WHERE merchant_id = ? AND id IN ({_marks(wanted)})",  # noqa: S608
        (merchant_id, *wanted),
    )
    return {row["id"]: row["name"] for row in rows}


async def paid_and_shipped_at(
    db: Database, merchant_id: str, order_ids: Sequence[str]
) -> dict[str, dict[str, int]]:
    """order id -> {"paid": time, "shipped": time}, from the order log (first of each)."""
    if not order_ids:
        return {}
    rows = await db.fetchall(
        "SELECT order_id, type, MIN(created_at) AS at FROM order_events"  # noqa: S608
        f" WHERE merchant_id = ? AND order_id IN ({_marks(order_ids)})"
        " AND type IN ('OrderPaid', 'OrderShipped') GROUP BY order_id, type",
        (merchant_id, *order_ids),
    )
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        key = "paid" if row["type"] == "OrderPaid" else "shipped"
        found.setdefault(row["order_id"], {})[key] = int(row["at"])
    return found


@dataclass(frozen=True)
class ProductLine:
    id: str
    stall_id: str
    name: str
    price: str
    currency: str | None
    quantity: int
    active: bool
    pending: bool
    categories: list[str]
    event_id: str | None
    created_at: int
    updated_at: int


async def each_product_chunk(
    db: Database, merchant_id: str, chunk: int = 500
) -> AsyncIterator[list[ProductLine]]:
    """The merchant's products by id, `chunk` at a time (each query after the last id)."""
    after = ""
    while True:
        rows = await db.fetchall(
            "SELECT p.id, p.stall_id, p.name, p.price, COALESCE(p.currency, s.currency)"
            " AS currency, p.quantity, p.active, p.pending, p.categories, p.event_id,"
            " p.created_at, p.updated_at FROM products AS p JOIN stalls AS s ON s.id = p.stall_id"
            " WHERE p.merchant_id = ? AND p.id > ? ORDER BY p.id LIMIT ?",
            (merchant_id, after, chunk),
        )
        found = [_product(row) for row in rows]
        if found:
            yield found
        if len(found) < chunk:
            return
        after = found[-1].id


def _product(row: Any) -> ProductLine:
    data = dict(row)
    data.update(
        active=bool(data["active"]),
        pending=bool(data["pending"]),
        categories=json.loads(data["categories"] or "[]"),
    )
    return ProductLine(**data)
