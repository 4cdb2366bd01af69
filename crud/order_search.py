"""SQL for the orders table that scales: search, a date range, sorting, a total, and pages
read one after another (the CSV export).

`crud/order_list.py` serves the plain filters from an index chosen per filter;
this module serves everything beyond them, in plain SQL any engine runs: the
search text is matched, case-insensitively and as a literal (`%` and `_` are
escaped), against the order id, the customer's public key, the name on the
order and the customer's profile name, and the names of the products in the
order. Sorting is by a whitelisted column, ties by id, so pages never overlap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ..storage.database import Database

# The single-order read's SELECT and row reader: a page has the same columns as one order.
from .orders import _SELECT as SELECT_ORDERS
from .orders import OrderRow
from .orders import _order_row as order_row

SORTS = {
    "created_at": "o.created_at",
    "updated_at": "o.updated_at",
    "total": "o.total_msat",
    "status": "o.status",
}


@dataclass(frozen=True)
class OrderQuery:
    """Every filter of the orders table; None means "any"."""

    status: str | None = None
    paid: bool | None = None
    shipped: bool | None = None
    public_key: str | None = None
    stall_id: str | None = None
    search: str | None = None
    search_key: str | None = None  # the search text read as a public key (hex), if it is one
    since: int | None = None  # created at or after
    until: int | None = None  # created before
    refused: bool | None = None  # True: only refused (rejected) orders; False: all others

    def where(self, merchant_id: str) -> tuple[str, list[Any]]:
        """The WHERE clause over `orders AS o`, and its parameters."""
        clauses: list[str] = ["o.merchant_id = ?"]
        params: list[Any] = [merchant_id]
        equal: dict[str, Any] = {"o.status": self.status, "o.public_key": self.public_key,
                 "o.stall_id": self.stall_id}  # fmt: skip
        equal.update({"o.paid": _flag(self.paid), "o.shipped": _flag(self.shipped)})
        for column, value in equal.items():
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.refused is not None:
            clauses.append("o.status = 'rejected'" if self.refused else "o.status <> 'rejected'")
        if self.since is not None:
            clauses.append("o.created_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("o.created_at < ?")
            params.append(self.until)
        if self.search:
            clause, found = _search(self.search, self.search_key)
            clauses.append(clause)
            params += found
        return " AND ".join(clauses), params


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _search(text: str, as_key: str | None) -> tuple[str, list[Any]]:
    pattern = _like(text)
    clause = (
        "(LOWER(o.id) LIKE ? ESCAPE '\\' OR LOWER(COALESCE(o.name, '')) LIKE ? ESCAPE '\\'"
        " OR o.public_key LIKE ? ESCAPE '\\'"
        " OR EXISTS (SELECT 1 FROM customers AS c WHERE c.merchant_id = o.merchant_id"
        "  AND c.public_key = o.public_key AND LOWER(COALESCE(c.name, '')) LIKE ? ESCAPE '\\')"
        " OR EXISTS (SELECT 1 FROM products AS p WHERE p.merchant_id = o.merchant_id"
        "  AND LOWER(p.name) LIKE ? ESCAPE '\\' AND o.items LIKE '%' || p.id || '%')"
    )
    params: list[Any] = [pattern] * 5
    if as_key is not None:
        clause += " OR o.public_key = ?"
        params.append(as_key)
    return clause + ")", params


async def count_orders(db: Database, merchant_id: str, query: OrderQuery) -> int:
    where, params = query.where(merchant_id)
    row = await db.fetchone(f"SELECT COUNT(*) AS n FROM orders AS o WHERE {where}", params)  # noqa: S608
    return 0 if row is None else int(row["n"])


async def search_orders(
    db: Database,
    merchant_id: str,
    query: OrderQuery,
    *,
    sort: str = "created_at",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> list[OrderRow]:
    """A page of the orders matching `query`, sorted by `sort` (a key of `SORTS`)."""
    where, params = query.where(merchant_id)
    direction = "DESC" if descending else "ASC"
    order = f"{SORTS[sort]} {direction}, o.id {direction}"
    rows = await db.fetchall(
        f"{SELECT_ORDERS} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [order_row(row) for row in rows]


async def each_order_chunk(
    db: Database, merchant_id: str, query: OrderQuery, chunk: int = 500
) -> AsyncIterator[list[OrderRow]]:
    """Every matching order, newest first (ties by id), `chunk` rows per query: each query
    starts after the last row of the one before, so memory holds one chunk."""
    where, params = query.where(merchant_id)
    after: tuple[int, str] | None = None
    while True:
        extra, more = "", []
        if after is not None:
            # `created_at <= ?` first: the index seeks there instead of reading from the top
            extra = " AND o.created_at <= ? AND (o.created_at < ? OR o.id > ?)"
            more = [after[0], after[0], after[1]]
        rows = await db.fetchall(
            f"{SELECT_ORDERS} WHERE {where}{extra} ORDER BY o.created_at DESC, o.id LIMIT ?",
            [*params, *more, chunk],
        )
        found = [order_row(row) for row in rows]
        if found:
            yield found
        if len(found) < chunk:
            return
        after = (found[-1].created_at, found[-1].id)
