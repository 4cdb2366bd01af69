"""SQL for the order log (`order_events`) and its projection (`orders`). No rules here.

The log is append-only (the database refuses UPDATE and DELETE); its primary
key `(merchant_id, order_id, version)` makes a concurrent second writer of the
same version fail instead of both succeeding. The projection is written from
the folded state, one UPDATE per status the order passes through, so the
transition trigger sees every step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from typing import Any

from ..orders.events import EVENT_TYPES, OrderEvent
from ..orders.machine import fold
from ..orders.state import Invoice, LinePrice, OrderDetails, OrderItem, OrderState, Quote, Status
from ..storage.database import Connection, Database
from .uow import rows

# -- event codec -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """What orjson makes of a dataclass (its fields, in order) and an enum (its value)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _dumps_json(value: Any) -> str:
    """The stdlib's JSON, written as orjson writes it (compact, UTF-8 unescaped)."""
    return json.dumps(value, default=_plain, separators=(",", ":"), ensure_ascii=False)


try:  # orjson is faster; LNbits does not ship it, and the text is the same either way
    import orjson

    def dumps(value: Any) -> str:
        """Compact JSON of events, tuples, dataclasses and enums (orjson when installed)."""
        return orjson.dumps(value).decode()

except ImportError:  # pragma: no cover - exercised in LNbits' venv
    dumps = _dumps_json


def encode_event(event: OrderEvent) -> tuple[str, str]:
    """(type name, JSON data) for the log: dataclasses, tuples and enums as orjson writes them."""
    return type(event).__name__, dumps(event)


def decode_event(type_name: str, data: str | dict[str, Any]) -> OrderEvent:
    """Rebuild an event from the log; unknown extra keys are ignored, missing ones default."""
    cls = EVENT_TYPES[type_name]
    raw = json.loads(data) if isinstance(data, str) else data
    names = {f.name for f in fields(cls)}
    event: OrderEvent = cls(**{k: _decode_field(k, v) for k, v in raw.items() if k in names})
    return event


def _items(raw: list[dict[str, Any]]) -> tuple[OrderItem, ...]:
    return tuple(OrderItem(item["product_id"], int(item["quantity"])) for item in raw)


def _decode_field(name: str, value: Any) -> Any:
    if name == "items":
        return _items(value)
    if name == "details":
        return OrderDetails(**{**value, "items": _items(value["items"])})
    if name == "invoice":
        return Invoice(**value)
    if name == "quote":
        lines = tuple(LinePrice(**line) for line in value.get("lines", ()))
        return Quote(**{**value, "lines": lines})
    return value


# -- the log ---------------------------------------------------------------------------------


async def load_state(conn: Connection, merchant_id: str, order_id: str) -> OrderState:
    """Fold the order's events, read inside the caller's transaction and held by it: a
    second unit of work on the same order (another process, on PostgreSQL) waits here
    until this one ends, then reads what it wrote."""
    await hold_order(conn, merchant_id, order_id)
    found = await rows(conn, _LOG, (merchant_id, order_id))
    return fold(order_id, [decode_event(row["type"], row["data"]) for row in found])


async def hold_order(conn: Connection, merchant_id: str, order_id: str) -> None:
    """Hold the order's id until the unit of work ends, where locking is not the whole
    database (PostgreSQL: a lock on the id's name, which exists before the order's row).

    The log is read after this, by a statement of its own, so it includes whatever the
    unit that held the id before committed: the second of two concurrent payments finds
    the first, and the second of two instances placing one new order id finds the order
    (a duplicate or a taken id, as on one instance), instead of failing on the version's
    key and leaving the event rejected with an internal error."""
    if conn.dialect.lock_name:
        await conn.fetchone(conn.dialect.lock_name, (f"order:{merchant_id}:{order_id}",))


async def append_events(
    conn: Connection,
    merchant_id: str,
    before: OrderState,
    events: list[OrderEvent],
    cause: str,
    now: int,
) -> None:
    """Append `events` after `before.version`; a version already taken fails the transaction."""
    rows = []
    for offset, event in enumerate(events, start=1):
        type_name, data = encode_event(event)
        rows.append(
            (merchant_id, before.order_id, before.version + offset, type_name, data, cause, now)
        )
    await conn.executemany(
        "INSERT INTO order_events (merchant_id, order_id, version, type, data, cause, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


@dataclass(frozen=True)
class Placement:
    """What placing an order needs to know, read in one round trip."""

    claimed: bool
    state: OrderState
    open_orders: int
    last_stamp: int


async def placement(
    conn: Connection, merchant_id: str, order_id: str, customer: str, inbox_id: str | None
) -> Placement:
    """Claim the inbox row, fold the order, count the customer's unpaid orders, and find
    the newest message sent to the customer: four statements."""
    claimed = inbox_id is None or (await conn.execute(_CLAIM, (inbox_id,))).rowcount == 1
    await hold_order(conn, merchant_id, order_id)
    events = await conn.fetchall(_LOG, (merchant_id, order_id))
    counts = await conn.fetchone(_OPEN_AND_STAMP, (merchant_id, customer, merchant_id, customer))
    count, stamp = (0, 0) if counts is None else (counts[0], counts[1])
    state = fold(order_id, [decode_event(row[0], row[1]) for row in events])
    return Placement(claimed, state, int(count), int(stamp or 0))


_CLAIM = (
    "UPDATE inbox SET verdict = 'processed', reason = NULL"
    " WHERE id = ? AND verdict IN ('received', 'parked')"
)
_LOG = "SELECT type, data FROM order_events WHERE merchant_id = ? AND order_id = ? ORDER BY version"
_OPEN_AND_STAMP = (
    "SELECT (SELECT COUNT(*) FROM orders WHERE merchant_id = ? AND public_key = ?"
    " AND status = 'awaiting_payment'),"
    " (SELECT MAX(created_at) FROM direct_messages WHERE merchant_id = ? AND public_key = ?"
    " AND direction = 'out')"
)


@dataclass(frozen=True)
class LoggedEvent:
    version: int
    type: str
    data: dict[str, Any]
    cause: str
    created_at: int


async def get_order_events(db: Database, merchant_id: str, order_id: str) -> list[LoggedEvent]:
    """The order's log, oldest first (for the API and for audits)."""
    rows = await db.fetchall(
        "SELECT version, type, data, cause, created_at FROM order_events"
        " WHERE merchant_id = ? AND order_id = ? ORDER BY version",
        (merchant_id, order_id),
    )
    return [
        LoggedEvent(r["version"], r["type"], json.loads(r["data"]), r["cause"], r["created_at"])
        for r in rows
    ]


# -- the projection --------------------------------------------------------------------------

_COLUMNS = (
    "status", "public_key", "stall_id", "zone_id", "address", "name", "contact", "items",
    "message", "subtotal_msat", "shipping_msat", "total_msat", "currency", "fiat_amount",
    "fiat_rate", "payment_hash", "paid", "shipped", "transport", "reason", "merchant_message",
    "refund_msat", "event_id", "dialect", "version",
)  # fmt: skip


def projection_values(state: OrderState) -> tuple[Any, ...]:
    """The `orders` columns (in `_COLUMNS` order) for a folded state."""
    details = state.details or OrderDetails(customer="", items=())
    quote = state.quote or Quote(details.zone_id, 0, 0, 0)
    items = [{"product_id": item.product_id, "quantity": item.quantity} for item in details.items]
    contact, items_json = dumps(details.contact), dumps(items)
    return (
        str(state.status), details.customer, details.stall_id, quote.zone_id or details.zone_id,
        details.address, details.name, contact, items_json,
        details.message, quote.subtotal_msat, quote.shipping_msat, quote.total_msat,
        quote.currency, quote.fiat_amount, quote.fiat_rate,
        state.invoice.payment_hash if state.invoice else None, int(state.paid),
        int(state.shipped), details.transport, state.reason, state.message, state.refund_msat,
        details.event_id, details.dialect, state.version,
    )  # fmt: skip


async def write_projection(
    conn: Connection, merchant_id: str, before: OrderState, after: OrderState,
    path: list[Status], now: int,
) -> None:  # fmt: skip
    """Insert or update the order's row, stepping through each status in `path`."""
    if before.status is None:
        created_at = after.details.created_at if after.details else now
        if len(path) == 1:
            await _insert(conn, merchant_id, after, created_at)
            return
        first = OrderState(after.order_id, status=path[0], details=after.details)
        await _insert(conn, merchant_id, first, created_at)
        path = path[1:]
    for status in path[:-1]:
        await conn.executemany(
            "UPDATE orders SET status = ? WHERE merchant_id = ? AND id = ?",
            [(str(status), merchant_id, after.order_id)],
        )
    await _update(conn, merchant_id, after, now)


async def _insert(conn: Connection, merchant_id: str, state: OrderState, created_at: int) -> None:
    names = ", ".join(_COLUMNS)
    marks = ", ".join("?" * (len(_COLUMNS) + 4))
    await conn.executemany(
        f"INSERT INTO orders (merchant_id, id, {names}, created_at, updated_at)"  # noqa: S608
        f" VALUES ({marks})",
        [(merchant_id, state.order_id, *projection_values(state), created_at, created_at)],
    )


async def _update(conn: Connection, merchant_id: str, state: OrderState, now: int) -> None:
    assignments = ", ".join(f"{name} = ?" for name in _COLUMNS)
    await conn.executemany(
        f"UPDATE orders SET {assignments}, updated_at = ? WHERE merchant_id = ? AND id = ?",  # noqa: S608
        [(*projection_values(state), now, merchant_id, state.order_id)],
    )


async def count_open_orders(conn: Connection, merchant_id: str, customer: str) -> int:
    """How many unpaid orders awaiting payment the customer has (the flood limit)."""
    found = await rows(
        conn,
        "SELECT COUNT(*) AS n FROM orders WHERE merchant_id = ? AND public_key = ?"
        " AND status = 'awaiting_payment'",
        (merchant_id, customer),
    )
    return int(found[0]["n"])


# -- reads for the API -----------------------------------------------------------------------


@dataclass(frozen=True)
class OrderRow:
    """An order as the API shows it; amounts in millisatoshis."""

    id: str
    merchant_id: str
    status: str
    public_key: str
    stall_id: str | None
    zone_id: str | None
    address: str | None
    name: str | None
    contact: dict[str, str]
    items: list[dict[str, Any]]
    message: str | None
    subtotal_msat: int
    shipping_msat: int
    total_msat: int
    currency: str
    fiat_amount: str | None
    fiat_rate: str | None
    payment_hash: str | None
    bolt11: str | None
    paid: bool
    shipped: bool
    transport: str
    reason: str | None
    merchant_message: str | None
    refund_msat: int
    event_id: str | None
    dialect: str
    created_at: int
    updated_at: int
    version: int


def _order_row(row: Any) -> OrderRow:
    return order_row_from(dict(row))


def order_row_from(data: dict[str, Any]) -> OrderRow:
    """An `orders` row (column -> stored value) as an `OrderRow`, JSON columns decoded."""
    data.update(
        contact=json.loads(data["contact"]),
        items=json.loads(data["items"]),
        paid=bool(data["paid"]),
        shipped=bool(data["shipped"]),
    )
    return OrderRow(**data)


_SELECT = (
    "SELECT o.id, o.merchant_id, "  # noqa: S608 - column names are constants
    + ", ".join(f"o.{c}" for c in _COLUMNS if c != "version")
    + ", i.bolt11, o.created_at, o.updated_at, o.version FROM orders o"
    " LEFT JOIN invoices i ON i.payment_hash = o.payment_hash"
)  # fmt: skip


async def get_order(db: Database, merchant_id: str, order_id: str) -> OrderRow | None:
    row = await db.fetchone(
        _SELECT + " WHERE o.merchant_id = ? AND o.id = ?", (merchant_id, order_id)
    )
    return None if row is None else _order_row(row)


async def order_product_ids(db: Database, merchant_id: str, order_id: str) -> list[str]:
    """The products of an order, in the order the customer listed them."""
    row = await db.fetchone(
        "SELECT items FROM orders WHERE merchant_id = ? AND id = ?", (merchant_id, order_id)
    )
    return [] if row is None else [item["product_id"] for item in json.loads(row["items"])]
