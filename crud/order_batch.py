"""SQL for a run of new orders placed together (services/order_batch.py): a few reads
that stand for what each order would read on its own, and the inbox claim of the run.

Every read names all the run's customers or products at once; the run then carries
the answers from one order to the next in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..orders.holds import ProductHolds
from ..storage.database import Connection, Database
from .inbox import InboxEntry, insert_params

# 11 columns a row: 90 rows keep a statement under SQLite's oldest limit of 999 variables.
_CLAIM_ROWS = 90
_INBOX_COLUMNS = (
    "id, merchant_id, raw, kind, pubkey, created_at, verdict, reason, order_id, received_at, relay"
)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


async def known_inbox_ids(db: Database, event_ids: Sequence[str]) -> set[str]:
    """Which of `event_ids` the inbox holds already (duplicates stop before any work)."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):
        chunk = list(event_ids[start : start + 500])
        rows = await db.fetchall_inline(
            f"SELECT id FROM inbox WHERE id IN ({_marks(chunk)})",  # noqa: S608
            tuple(chunk),
        )
        found.update(str(row[0]) for row in rows)
    return found


async def order_ids_in_use(db: Database, merchant_id: str, order_ids: Sequence[str]) -> set[str]:
    """The order ids that exist already, or that the merchant's own messages wait for
    (parked): such an order is not new, and is placed on its own."""
    if not order_ids:
        return set()
    ids = list(dict.fromkeys(order_ids))
    marks = _marks(ids)
    rows = await db.fetchall_inline(
        f"SELECT id FROM orders WHERE merchant_id = ? AND id IN ({marks})"  # noqa: S608
        " UNION SELECT order_id FROM inbox WHERE merchant_id = ? AND verdict = 'parked'"
        f" AND order_id IN ({marks})",
        (merchant_id, *ids, merchant_id, *ids),
    )
    return {str(row[0]) for row in rows}


async def existing_order_ids(
    conn: Connection, merchant_id: str, order_ids: Sequence[str]
) -> set[str]:
    """Which of `order_ids` the merchant has as orders."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return set()
    rows = await conn.fetchall(
        f"SELECT id FROM orders WHERE merchant_id = ? AND id IN ({_marks(ids)})",  # noqa: S608
        (merchant_id, *ids),
    )
    return {str(row[0]) for row in rows}


async def returning_customers(
    db: Database | Connection, merchant_id: str, customers: Sequence[str]
) -> set[str]:
    """The customers with a paid order at this merchant."""
    ids = list(dict.fromkeys(customers))
    sql = (
        "SELECT DISTINCT public_key FROM orders WHERE merchant_id = ? AND paid = 1"  # noqa: S608
        f" AND public_key IN ({_marks(ids)})"
    )
    return {str(row[0]) for row in await db.fetchall(sql, (merchant_id, *ids))}


async def last_stamps(
    db: Database | Connection, merchant_id: str, customers: Sequence[str]
) -> dict[str, int]:
    """The newest message sent to each customer (replies are stamped after it)."""
    ids = list(dict.fromkeys(customers))
    rows = await db.fetchall(
        "SELECT public_key, MAX(created_at) FROM direct_messages WHERE merchant_id = ?"  # noqa: S608
        f" AND direction = 'out' AND public_key IN ({_marks(ids)}) GROUP BY public_key",
        (merchant_id, *ids),
    )
    return {str(row[0]): int(row[1]) for row in rows if row[1] is not None}


@dataclass
class RunRead:
    """What the run's orders read, once for all of them, inside its transaction."""

    claimed: set[str]
    products: dict[str, ProductHolds]
    returning: set[str]
    open_orders: dict[str, int]
    last_stamps: dict[str, int]


async def read_run(
    conn: Connection,
    merchant_id: str,
    entries: Sequence[InboxEntry],
    customers: Sequence[str],
    product_ids: Sequence[str],
    parked: bool = False,
) -> RunRead:
    """Claim the run's inbox rows (inserted, or, when `parked`, taken back from a
    restore's first pass; those another delivery took are left out of `claimed`), lock
    and read its products, and read its customers."""
    if parked:
        claimed = await claim_parked(conn, [entry.id for entry in entries])
    else:
        claimed = await claim_entries(conn, entries)
    return RunRead(
        claimed,
        await locked_products(conn, merchant_id, product_ids),
        await returning_customers(conn, merchant_id, customers),
        await _open_orders(conn, merchant_id, customers),
        await last_stamps(conn, merchant_id, customers),
    )


async def claim_entries(conn: Connection, entries: Sequence[InboxEntry]) -> set[str]:
    """Insert the inbox rows; the ids this transaction inserted (UNIQUE decides a race)."""
    claimed: set[str] = set()
    for start in range(0, len(entries), _CLAIM_ROWS):
        chunk = entries[start : start + _CLAIM_ROWS]
        values = ",".join(f"({_marks(range(11))})" for _ in chunk)
        params = tuple(value for entry in chunk for value in insert_params(entry))
        rows = await conn.fetchall(
            f"INSERT INTO inbox ({_INBOX_COLUMNS}) VALUES {values}"  # noqa: S608
            " ON CONFLICT(id) DO NOTHING RETURNING id",
            params,
        )
        claimed.update(str(row[0]) for row in rows)
    return claimed


async def claim_parked(conn: Connection, event_ids: Sequence[str]) -> set[str]:
    """Take the rows a restore parked (or left received) for processing; the ids taken."""
    claimed: set[str] = set()
    for start in range(0, len(event_ids), 500):
        chunk = list(event_ids[start : start + 500])
        rows = await conn.fetchall(
            "UPDATE inbox SET verdict = 'processed', reason = NULL"  # noqa: S608
            f" WHERE id IN ({_marks(chunk)}) AND verdict IN ('received', 'parked') RETURNING id",
            tuple(chunk),
        )
        claimed.update(str(row[0]) for row in rows)
    return claimed


async def locked_products(
    conn: Connection, merchant_id: str, product_ids: Sequence[str]
) -> dict[str, ProductHolds]:
    """The products' free and held units, locked until the run ends where locks are per
    row (PostgreSQL: another instance's order for them waits)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    rows = await conn.fetchall(
        "SELECT id, name, quantity, held FROM products"  # noqa: S608
        f" WHERE merchant_id = ? AND id IN ({_marks(ids)}) ORDER BY id" + conn.dialect.for_update,
        (merchant_id, *ids),
    )
    return {
        str(pid): ProductHolds(str(pid), str(name), int(n), int(held))
        for pid, name, n, held in rows
    }


async def _open_orders(
    conn: Connection, merchant_id: str, customers: Sequence[str]
) -> dict[str, int]:
    ids = list(dict.fromkeys(customers))
    rows = await conn.fetchall(
        "SELECT public_key, COUNT(*) FROM orders WHERE merchant_id = ?"  # noqa: S608
        f" AND status = 'awaiting_payment' AND public_key IN ({_marks(ids)}) GROUP BY public_key",
        (merchant_id, *ids),
    )
    return {str(row[0]): int(row[1]) for row in rows}
