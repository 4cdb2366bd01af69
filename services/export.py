"""The merchant's orders and products as CSV, produced a chunk at a time.

Each generator yields the header line, then one string per chunk of rows
(`crud.order_search.each_order_chunk`: each query resumes after the last row),
so an export of 100,000 orders holds a few hundred rows at once and the HTTP
response streams as it is written. Amounts are in sats (exact: "12.345" when
millisatoshis do not make a whole sat); times are ISO 8601 in UTC. Text that
customers chose (names) is prefixed with `'` when a spreadsheet would read it
as a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ..crud import export as crud
from ..crud.order_search import OrderQuery, each_order_chunk
from ..crud.orders import OrderRow
from ..nostr.nip19 import npub_encode
from ..storage.database import Database

ORDER_COLUMNS = (
    "id", "created", "status", "customer_npub", "customer_name", "items", "subtotal_sat",
    "shipping_sat", "total_sat", "currency", "fiat_amount", "shipping_zone", "paid_at",
    "shipped_at", "dialect",
)  # fmt: skip
PRODUCT_COLUMNS = (
    "id", "stall_id", "stall", "name", "price", "currency", "quantity", "active", "pending",
    "categories", "event_id", "created", "updated",
)  # fmt: skip
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _lines(rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def safe(text: str | None) -> str:
    """Free text as a cell no spreadsheet runs as a formula."""
    value = text or ""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def sats(msat: int) -> str:
    return str(Decimal(msat) / 1000)


def when(seconds: int | None) -> str:
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def order_csv(db: Database, merchant_id: str, query: OrderQuery) -> AsyncIterator[str]:
    """The header, then the matching orders newest first, a chunk of lines at a time."""
    yield _lines([ORDER_COLUMNS])
    async for chunk in each_order_chunk(db, merchant_id, query):
        zones = await crud.names_of(
            db, "zones", merchant_id, [r.zone_id for r in chunk if r.zone_id]
        )
        product_ids = [item["product_id"] for row in chunk for item in row.items]
        products = await crud.names_of(db, "products", merchant_id, product_ids)
        times = await crud.paid_and_shipped_at(db, merchant_id, [row.id for row in chunk])
        yield _lines(_order_cells(row, zones, products, times.get(row.id, {})) for row in chunk)


def _order_cells(
    row: OrderRow, zones: dict[str, str], products: dict[str, str], times: dict[str, int]
) -> list[str]:
    items = "; ".join(
        f"{products.get(item['product_id'], item['product_id'])} x{item['quantity']}"
        for item in row.items
    )
    return [
        row.id, when(row.created_at), row.status, npub_encode(row.public_key), safe(row.name),
        safe(items), sats(row.subtotal_msat), sats(row.shipping_msat), sats(row.total_msat),
        row.currency, row.fiat_amount or "", safe(zones.get(row.zone_id or "", row.zone_id)),
        when(times.get("paid")), when(times.get("shipped")),
        getattr(row, "dialect", None) or "nip15",
    ]  # fmt: skip


async def product_csv(db: Database, merchant_id: str) -> AsyncIterator[str]:
    """The header, then every product of the merchant (by id), a chunk of lines at a time."""
    yield _lines([PRODUCT_COLUMNS])
    async for chunk in crud.each_product_chunk(db, merchant_id):
        stalls = await crud.names_of(db, "stalls", merchant_id, [p.stall_id for p in chunk])
        yield _lines(_product_cells(p, stalls) for p in chunk)


def _product_cells(p: crud.ProductLine, stalls: dict[str, str]) -> list[object]:
    return [
        p.id, p.stall_id, safe(stalls.get(p.stall_id)), safe(p.name), p.price, p.currency or "",
        p.quantity, str(p.active).lower(), str(p.pending).lower(), safe(", ".join(p.categories)),
        p.event_id or "", when(p.created_at), when(p.updated_at),
    ]  # fmt: skip
