"""SQL for stock: reservations per order and product, and the append-only stock ledger.

`products.quantity` is the projection of the ledger: every change to it is a
ledger row (ours written here with its cause; catalogue edits by a trigger),
and its CHECK (quantity >= 0) means a reservation that would oversell fails.
A reservation is one conditional UPDATE per product, never read-then-write, so
two customers racing for the last unit cannot both get it.
"""

from __future__ import annotations

from ..orders.errors import StockUnavailable
from ..orders.state import OrderItem
from ..storage.database import Connection, Database, fetchone

_TAKE = (
    "UPDATE products SET quantity = quantity - ?, stock_seq = stock_seq + 1"
    " WHERE id = ? AND merchant_id = ? AND quantity >= ?"
)
_GIVE = "UPDATE products SET quantity = quantity + ?, stock_seq = stock_seq + 1 WHERE id = ?"
_LEDGER = (
    "INSERT INTO stock_ledger (merchant_id, product_id, delta, cause, order_id, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


async def reserve(
    conn: Connection, merchant_id: str, order_id: str, items: tuple[OrderItem, ...], now: int
) -> None:
    """Take the items out of stock for this order, all or none; `StockUnavailable` if short.

    Products are taken in id order: two orders for the same products lock their rows
    in the same order, so they wait for each other instead of deadlocking (PostgreSQL).
    When one is short, the units already taken go back in the same unit of work (no
    savepoint: on PostgreSQL that would be two more round trips on every order)."""
    taken: list[OrderItem] = []
    for item in sorted(items, key=lambda i: i.product_id):
        cursor = await conn.execute(
            _TAKE, (item.quantity, item.product_id, merchant_id, item.quantity)
        )
        if cursor.rowcount != 1:
            await conn.executemany(_GIVE, [(i.quantity, i.product_id) for i in taken])
            raise StockUnavailable(await _shortage(conn, merchant_id, item))
        taken.append(item)
    await _write(conn, merchant_id, order_id, items, -1, "reserved", "held", now)


async def _shortage(conn: Connection, merchant_id: str, item: OrderItem) -> str:
    """The refusal a customer reads: the product by name and how many units are left."""
    row = await fetchone(
        conn,
        "SELECT name, quantity FROM products WHERE id = ? AND merchant_id = ?",
        (item.product_id, merchant_id),
    )
    return shortage(item, None if row is None else (str(row[0]), int(row[1])))


def shortage(item: OrderItem, product: tuple[str, int] | None) -> str:
    """What a customer reads when `item` does not fit: the product (name, units left) by
    name and how many units are left, or that it is no longer sold (None)."""
    if product is None:
        return f"not enough stock of product {item.product_id}: it is no longer sold"
    name, left = product
    if left <= 0:
        return f"not enough stock of {name}: it is sold out"
    unit = "unit is" if left == 1 else "units are"
    return f"not enough stock of {name}: {left} {unit} left, {item.quantity} asked for"


async def take(
    conn: Connection, merchant_id: str, order_id: str, items: tuple[OrderItem, ...], now: int
) -> None:
    """Take items the caller has checked against the rows it holds (a batch's book):
    buffered, unconditional writes, whose CHECK (quantity >= 0) still fails the
    transaction if the book was wrong."""
    await conn.executemany(
        "UPDATE products SET quantity = quantity - ?, stock_seq = stock_seq + 1"
        " WHERE id = ? AND merchant_id = ?",
        [(i.quantity, i.product_id, merchant_id) for i in sorted(items, key=_by_product)],
    )
    await _write(conn, merchant_id, order_id, items, -1, "reserved", "held", now)


def _by_product(item: OrderItem) -> str:
    return item.product_id


async def release(
    conn: Connection, merchant_id: str, order_id: str, items: tuple[OrderItem, ...], now: int
) -> None:
    """Put a held reservation back into stock (expiry, cancellation)."""
    await conn.executemany(_GIVE, [(item.quantity, item.product_id) for item in items])
    await _write(conn, merchant_id, order_id, items, +1, "released", "released", now)


async def sell(
    conn: Connection, merchant_id: str, order_id: str, items: tuple[OrderItem, ...], now: int
) -> None:
    """A held reservation becomes a sale: stock stays out, the reservation is marked sold."""
    await conn.executemany(
        "UPDATE reservations SET state = 'sold', updated_at = ?"
        " WHERE merchant_id = ? AND order_id = ? AND product_id = ?",
        [(now, merchant_id, order_id, item.product_id) for item in items],
    )


async def _write(
    conn: Connection,
    merchant_id: str,
    order_id: str,
    items: tuple[OrderItem, ...],
    sign: int,
    cause: str,
    state: str,
    now: int,
) -> None:
    await conn.executemany(
        _LEDGER,
        [(merchant_id, i.product_id, sign * i.quantity, f"order {order_id}: {cause}", order_id, now)
         for i in items],
    )  # fmt: skip
    await conn.executemany(
        "INSERT INTO reservations (merchant_id, order_id, product_id, quantity, state, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (merchant_id, order_id, product_id)"
        " DO UPDATE SET quantity = excluded.quantity, state = excluded.state,"
        " updated_at = excluded.updated_at",
        [(merchant_id, order_id, pid, n, state, now) for pid, n in per_product(items).items()],
    )


def per_product(items: tuple[OrderItem, ...]) -> dict[str, int]:
    """Units per product: a reservation is one row per product (the parsers add up lines
    naming the same product already; this keeps the row right whoever builds the items)."""
    units: dict[str, int] = {}
    for item in items:
        units[item.product_id] = units.get(item.product_id, 0) + item.quantity
    return units


async def ledger_balances(db: Database, merchant_id: str) -> dict[str, int]:
    """Each product's quantity as the ledger says it should be (to rebuild or audit)."""
    rows = await db.fetchall(
        "SELECT product_id, SUM(delta) AS n FROM stock_ledger WHERE merchant_id = ?"
        " GROUP BY product_id",
        (merchant_id,),
    )
    return {row["product_id"]: int(row["n"]) for row in rows}


async def rebuild_quantities(conn: Connection, merchant_id: str) -> None:
    """Set every product's quantity to its ledger balance (without writing new ledger rows)."""
    await conn.execute(
        "UPDATE products SET stock_seq = stock_seq + 1, quantity = COALESCE((SELECT SUM(delta)"
        " FROM stock_ledger l WHERE l.product_id = products.id), 0) WHERE merchant_id = ?",
        (merchant_id,),
    )
