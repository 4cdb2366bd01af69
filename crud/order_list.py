"""SQL for the API's order list: one page of a merchant's orders, newest first, filtered.

One statement in two steps. The inner query finds the page's rows in the index
chosen for the filters (`INDEXED BY`, so a change of plan is an error, never a
silent scan of the table). The indexes are in the list's order and hold the
filter columns after it, so the inner query reads an index alone and an OFFSET
skips index entries, not table rows. A filter on only one of paid/shipped reads
the flags index twice, once for each value of the other flag, and SQLite merges
the two ordered runs. The outer query then reads only the page's rows (by primary
key) and their invoices. Ties in `created_at` are broken by the order id, so pages
never overlap or skip a row. PostgreSQL plans for itself: `INDEXED BY` is dropped there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from ..storage.database import Database
from .orders import OrderRow, order_row_from

# The indexes are made by migration m003_order_list_indexes.
INDEX_NEWEST = "orders_list_newest"  # stall_id after the order: the stall's orders
INDEX_BY_CUSTOMER = "orders_list_by_customer"  # every filter column after the order
INDEX_BY_STATUS = "orders_list_by_status"  # paid, shipped after the order
INDEX_BY_FLAGS = "orders_list_by_flags"  # paid, shipped before the order

FLAGS = ("paid", "shipped")

_ORDER_COLUMNS = (
    "id", "merchant_id", "status", "public_key", "stall_id", "zone_id", "address", "name",
    "contact", "items", "message", "subtotal_msat", "shipping_msat", "total_msat", "currency",
    "fiat_amount", "fiat_rate", "payment_hash", "paid", "shipped", "transport", "reason",
    "merchant_message", "refund_msat", "event_id", "dialect", "created_at", "updated_at",
    "version",
)  # fmt: skip
_ROW_FIELDS = (*_ORDER_COLUMNS, "bolt11")

_SELECT_PAGE = (
    "SELECT "  # noqa: S608 - column names are constants
    + ", ".join(f"o.{column}" for column in _ORDER_COLUMNS)
    + ", i.bolt11 FROM ({page}) AS page"
    " JOIN orders AS o ON o.merchant_id = :merchant_id AND o.id = page.id"
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
    """The index for these filters: a customer's orders before a stall's, a stall's before
    a status, a status before the yes/no flags."""
    if "public_key" in conditions:
        return INDEX_BY_CUSTOMER
    if "stall_id" not in conditions and "status" in conditions:
        return INDEX_BY_STATUS
    if "stall_id" not in conditions and any(flag in conditions for flag in FLAGS):
        return INDEX_BY_FLAGS
    return INDEX_NEWEST


def _arms(conditions: dict[str, Any], index: str) -> list[str]:
    """The WHERE clause of each ordered run to merge: one, or one per value of a flag that
    the flags index holds before the order but that was not asked for."""
    asked = ["merchant_id", *conditions]
    where = " AND ".join(f"{column} = :{column}" for column in asked)
    if index != INDEX_BY_FLAGS:
        return [where]
    free = [flag for flag in FLAGS if flag not in conditions]
    runs = itertools.product((0, 1), repeat=len(free))
    return [
        " AND ".join([where, *(f"{flag} = {value}" for flag, value in zip(free, run, strict=True))])
        for run in runs
    ]


def page_keys_query(filters: OrderFilter) -> str:
    """The inner query: the page's row ids. Named parameters: merchant_id, each set
    filter's column, limit and offset (`page_parameters`)."""
    conditions = filters.conditions()
    index = index_for(conditions)
    runs = [
        f"SELECT created_at, id FROM orders INDEXED BY {index} WHERE {where}"  # noqa: S608
        for where in _arms(conditions, index)
    ]
    return " UNION ALL ".join(runs) + " ORDER BY created_at DESC, id LIMIT :limit OFFSET :offset"


def page_parameters(
    merchant_id: str, filters: OrderFilter, limit: int, offset: int
) -> dict[str, Any]:
    """The named parameters of `page_keys_query` and `page_query`."""
    return {"merchant_id": merchant_id, **filters.conditions(), "limit": limit, "offset": offset}


def page_query(filters: OrderFilter) -> str:
    """The whole page: the orders with their invoices, in the list's order."""
    return _SELECT_PAGE.format(page=page_keys_query(filters))


async def list_orders(
    db: Database, merchant_id: str, filters: OrderFilter, *, limit: int = 50, offset: int = 0
) -> list[OrderRow]:
    """A page of the merchant's orders, newest first (ties by id), filtered as asked."""
    parameters = page_parameters(merchant_id, filters, limit, offset)
    found = await db.fetchall(page_query(filters), parameters)
    return [_order_row(row) for row in found]


def _order_row(row: Any) -> OrderRow:
    return order_row_from(dict(zip(_ROW_FIELDS, row, strict=True)))
