"""SQL for a recovery from the key alone: is there a catalogue, when was each recovered
product's quantity published, and stock lent to a restored order and taken back.

Lending and taking back change `products.quantity` and write the stock-ledger row that
says why in the same statement pair (`stock_seq` moves, so the catalogue's own trigger
does not write a second row): stock stays the sum of its ledger (invariant 3).
"""

from __future__ import annotations

from ..storage.database import Connection
from .catalogue import Source, many, one

_MOVE = (
    "UPDATE products SET quantity = quantity + ?, stock_seq = stock_seq + 1"
    " WHERE id = ? AND merchant_id = ?"
)
_LEDGER = (
    "INSERT INTO stock_ledger (merchant_id, product_id, delta, cause, order_id, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


async def has_catalogue(src: Source, merchant_id: str) -> bool:
    """Whether the merchant has any stall or product (pending ones count)."""
    row = await one(
        src,
        "SELECT EXISTS (SELECT 1 FROM stalls WHERE merchant_id = ?)"
        " OR EXISTS (SELECT 1 FROM products WHERE merchant_id = ?)",
        (merchant_id, merchant_id),
    )
    return bool(row and row[0])


async def zone_count(src: Source, merchant_id: str) -> int:
    row = await one(src, "SELECT COUNT(*) FROM zones WHERE merchant_id = ?", (merchant_id,))
    return int(row[0]) if row else 0


async def published_at(src: Source, merchant_id: str) -> dict[str, int]:
    """Product id -> `created_at` of the event its row was made from (or last published)."""
    rows = await many(
        src,
        "SELECT id, event_created_at FROM products"
        " WHERE merchant_id = ? AND event_created_at IS NOT NULL",
        (merchant_id,),
    )
    return {row["id"]: int(row["event_created_at"]) for row in rows}


async def order_exists(src: Source, merchant_id: str, order_id: str) -> bool:
    sql = "SELECT 1 FROM orders WHERE merchant_id = ? AND id = ?"
    return await one(src, sql, (merchant_id, order_id)) is not None


async def reservation_states(src: Source, merchant_id: str, order_id: str) -> dict[str, str]:
    """Product id -> the order's reservation state there (held, sold, released)."""
    rows = await many(
        src,
        "SELECT product_id, state FROM reservations WHERE merchant_id = ? AND order_id = ?",
        (merchant_id, order_id),
    )
    return {row["product_id"]: row["state"] for row in rows}


async def lend(
    conn: Connection, merchant_id: str, order_id: str, units: dict[str, int], now: int
) -> None:
    """Add `units` (product id -> count) to stock for `order_id`, each with its ledger row."""
    for product_id, count in units.items():
        await conn.execute(_MOVE, (count, product_id, merchant_id))
        await conn.execute(
            _LEDGER,
            (merchant_id, product_id, count, f"restore: lent to order {order_id}", order_id, now),
        )


async def take_back(
    conn: Connection, merchant_id: str, order_id: str, units: dict[str, int], now: int
) -> dict[str, int]:
    """Remove `units` from stock for `order_id`, never below zero; what could not be taken."""
    short: dict[str, int] = {}
    for product_id, count in units.items():
        row = await one(
            conn,
            "SELECT quantity FROM products WHERE id = ? AND merchant_id = ?",
            (product_id, merchant_id),
        )
        taken = min(count, int(row[0]) if row else 0)
        if taken < count:
            short[product_id] = count - taken
        if taken > 0:
            await conn.execute(_MOVE, (-taken, product_id, merchant_id))
            cause = f"restore: taken back from order {order_id}"
            await conn.execute(_LEDGER, (merchant_id, product_id, -taken, cause, order_id, now))
    return short
