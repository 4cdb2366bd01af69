"""SQL for direct messages (per merchant and customer) and customers with unread counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..storage.database import Connection, Database


@dataclass(frozen=True)
class DirectMessage:
    merchant_id: str
    public_key: str  # the customer
    event_id: str  # the kind 4 event, or the NIP-17 rumor
    direction: str  # in | out
    message: str
    transport: str  # nip04 | nip17
    created_at: int
    type: int = -1  # -1 plain text, else the NIP-15 type
    order_id: str | None = None


async def insert_messages(conn: Connection, messages: Iterable[DirectMessage]) -> None:
    """Store messages; one already stored (same event id) is kept once."""
    await conn.executemany(
        "INSERT INTO direct_messages (merchant_id, public_key, event_id, direction, type,"
        " order_id, message, transport, read, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (merchant_id, event_id) DO NOTHING",
        [(m.merchant_id, m.public_key, m.event_id, m.direction, m.type, m.order_id, m.message,
          m.transport, int(m.direction == "out"), m.created_at) for m in messages],
    )  # fmt: skip


@dataclass(frozen=True)
class MessageRow:
    id: int
    event_id: str
    public_key: str
    direction: str
    type: int
    order_id: str | None
    message: str
    transport: str
    read: bool
    created_at: int


async def list_messages(
    db: Database, merchant_id: str, pubkey: str, limit: int = 500
) -> list[MessageRow]:
    """The conversation with one customer, oldest first."""
    rows = await db.fetchall(
        "SELECT id, event_id, public_key, direction, type, order_id, message, transport, read,"
        " created_at FROM direct_messages WHERE merchant_id = ? AND public_key = ?"
        " ORDER BY created_at, id LIMIT ?",
        (merchant_id, pubkey, limit),
    )
    return [MessageRow(**{**dict(row), "read": bool(row["read"])}) for row in rows]


async def mark_read(conn: Connection, merchant_id: str, pubkey: str) -> None:
    """The merchant read the conversation: no unread messages are left."""
    await conn.execute(
        "UPDATE direct_messages SET read = 1 WHERE merchant_id = ? AND public_key = ? AND read = 0",
        (merchant_id, pubkey),
    )
    await conn.execute(
        "UPDATE customers SET unread = 0 WHERE merchant_id = ? AND public_key = ?",
        (merchant_id, pubkey),
    )


async def touch_customers(
    conn: Connection, merchant_id: str, seen: Iterable[tuple[str, int, int]]
) -> None:
    """Create customers on their first message; add (pubkey, unread, at) to their counts."""
    await conn.executemany(
        "INSERT INTO customers (merchant_id, public_key, unread, last_message_at, created_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (merchant_id, public_key) DO UPDATE SET"
        " unread = customers.unread + excluded.unread,"
        " last_message_at = CASE"
        " WHEN excluded.last_message_at > COALESCE(customers.last_message_at, 0)"
        " THEN excluded.last_message_at ELSE customers.last_message_at END",
        [(merchant_id, pubkey, unread, at, at) for pubkey, unread, at in seen],
    )


async def set_profile(
    conn: Connection, merchant_id: str, pubkey: str, profile: dict[str, Any], created_at: int
) -> None:
    """Name, about and picture from the customer's kind 0, if newer than what we have."""
    await conn.execute(
        "UPDATE customers SET name = ?, about = ?, picture = ?, profile_at = ?"
        " WHERE merchant_id = ? AND public_key = ? AND profile_at < ?",
        (_text(profile.get("name") or profile.get("display_name")), _text(profile.get("about")),
         _text(profile.get("picture")), created_at, merchant_id, pubkey, created_at),
    )  # fmt: skip


def _text(value: object) -> str | None:
    return value[:1000] if isinstance(value, str) else None


@dataclass(frozen=True)
class CustomerRow:
    public_key: str
    name: str | None
    about: str | None
    picture: str | None
    unread: int
    last_message_at: int | None
    created_at: int
    order_name: str | None = None  # the name given in their latest order that has one


async def list_customers(db: Database, merchant_id: str) -> list[CustomerRow]:
    """The merchant's customers, most recently active first, each with the name given in
    their latest named order (read by the customer index of `orders`)."""
    rows = await db.fetchall(
        "SELECT c.public_key, c.name, c.about, c.picture, c.unread, c.last_message_at,"
        " c.created_at, (SELECT o.name FROM orders AS o WHERE o.merchant_id = c.merchant_id"
        "  AND o.public_key = c.public_key AND COALESCE(o.name, '') <> ''"
        "  ORDER BY o.created_at DESC LIMIT 1) AS order_name"
        " FROM customers AS c WHERE c.merchant_id = ?"
        " ORDER BY c.last_message_at DESC, c.public_key",
        (merchant_id,),
    )
    return [CustomerRow(**dict(row)) for row in rows]


async def customers_without_profile(db: Database, limit: int = 100) -> list[tuple[str, str]]:
    """(merchant id, pubkey) of customers whose kind 0 we have not seen yet."""
    rows = await db.fetchall(
        "SELECT merchant_id, public_key FROM customers WHERE profile_at = 0 LIMIT ?", (limit,)
    )
    return [(row["merchant_id"], row["public_key"]) for row in rows]
