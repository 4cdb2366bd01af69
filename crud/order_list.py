"""SQL for the API's order list: one page of a merchant's orders, newest first, filtered.

One statement in two steps. The inner query finds the page's rows in one index
chosen for the filters (`INDEXED BY`, so a change of plan is an error, never a
silent scan of the whole table); each such index holds the filter columns after
its sort key, so the inner query reads the index alone and an OFFSET skips
index entries, not table rows. The outer query then reads only the page's rows
and their invoices. Ties in `created_at` are broken by the order id, so pages
never overlap or skip a row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..db import Database
from .orders import OrderRow

# The indexes are made by migration m003_order_list_indexes.
INDEX_NEWEST = "orders_newest"
INDEX_BY_CUSTOMER = "orders_list_by_customer"
INDEX_BY_STALL = "orders_list_by_stall"
INDEX_BY_STATUS = "orders_list_by_status"
INDEX_BY_PAID = "orders_list_by_paid"
INDEX_BY_SHIPPED = "orders_list_by_shipped"

# Filter column -> the index that serves it, most selective first: a customer's or a
# stall's orders before a status, a status before the yes/no flags.
_INDEX_FOR = (
    ("public_key", INDEX_BY_CUSTOMER),
    ("stall_id", INDEX_BY_STALL),
    ("status", INDEX_BY_STATUS),
    ("paid", INDEX_BY_PAID),
    ("shipped", INDEX_BY_SHIPPED),
)

_ORDER_COLUMNS = (
    "id", "merchant_id", "status", "public_key", "stall_id", "zone_id", "address", "name",
    "contact", "items", "message", "subtotal_msat", "shipping_msat", "total_msat", "currency",
    "fiat_amount", "fiat_rate", "payment_hash", "paid", "shipped", "transport", "reason",
    "merchant_message", "refund_msat", "event_id", "created_at", "updated_at", "version",
)  # fmt: skip
_ROW_FIELDS = (*_ORDER_COLUMNS, "bolt11")

_SELECT_PAGE = (
    "SELECT "  # noqa: S608 - column names are constants
    + ", ".join(f"o.{column}" for column in _ORDER_COLUMNS)
    + ", i.bolt11 FROM ({page}) AS page"
    " JOIN orders AS o ON o.rowid = page.rowid"
    " LEFT JOIN invoices AS i ON i.payment_hash = o.payment_hash"
    " ORDER BY page.created_at DESC, page.id"
)


@dataclass(frozen=True)
class OrderFilter:
    """What the merchant asked to see; None means "any"."""

    status: str | None = None
    paid: bool | None = None
    shipped: bool | None = None
    public_key: str | None = None
    stall_id: str | None = None

    def conditions(self) -> dict[str, str | int]:
        """Column -> value for every filter that is set (booleans as 0 and 1)."""
        given = {
            "public_key": self.public_key,
            "stall_id": self.stall_id,
            "status": self.status,
            "paid": self.paid,
            "shipped": self.shipped,
        }
        return {
            column: int(value) if isinstance(value, bool) else value
            for column, value in given.items()
            if value is not None
        }


def index_for(conditions: dict[str, Any]) -> str:
    """The index that serves these filters in the list's order."""
    return next((index for column, index in _INDEX_FOR if column in conditions), INDEX_NEWEST)


def page_keys_query(filters: OrderFilter) -> tuple[str, list[Any]]:
    """The inner query (the page's row ids, from one index) and its parameters, less the
    merchant id first and the limit and offset last."""
    conditions = filters.conditions()
    where = "".join(f" AND {column} = ?" for column in conditions)
    sql = (
        f"SELECT rowid, created_at, id FROM orders INDEXED BY {index_for(conditions)}"  # noqa: S608
        f" WHERE merchant_id = ?{where} ORDER BY created_at DESC, id LIMIT ? OFFSET ?"
    )
    return sql, list(conditions.values())


def page_query(filters: OrderFilter) -> tuple[str, list[Any]]:
    """The whole page's SQL (orders with their invoices) and its parameters, as above."""
    keys, values = page_keys_query(filters)
    return _SELECT_PAGE.format(page=keys), values


async def list_orders(
    db: Database, merchant_id: str, filters: OrderFilter, *, limit: int = 50, offset: int = 0
) -> list[OrderRow]:
    """A page of the merchant's orders, newest first (ties by id), filtered as asked."""
    sql, values = page_query(filters)
    found = await db.fetchall(sql, (merchant_id, *values, limit, offset))
    return [_order_row(row) for row in found]


def _order_row(row: Any) -> OrderRow:
    data = dict(zip(_ROW_FIELDS, row, strict=True))
    data.update(
        contact=json.loads(data["contact"]),
        items=json.loads(data["items"]),
        paid=bool(data["paid"]),
        shipped=bool(data["shipped"]),
    )
    return OrderRow(**data)
