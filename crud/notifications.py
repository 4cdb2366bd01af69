"""SQL for the merchant's notifications and their one setting. No rules here.

A notification is stored once per `dedupe_key` and merchant (a UNIQUE pair):
the same failure seen twice, by two paths or two processes, is one row, written
in the same statement that would duplicate it (`ON CONFLICT DO NOTHING`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..storage.database import Connection, Database
from .catalogue import Source, one

PRIORITIES = ("low", "normal", "high", "critical")

_COLUMNS = (
    "id, merchant_id, type, priority, title, body, object_type, object_id, dedupe_key,"
    " created_at, read_at"
)


@dataclass(frozen=True)
class NotificationRow:
    id: str
    merchant_id: str
    type: str
    priority: str
    title: str
    body: str
    object_type: str | None
    object_id: str | None
    dedupe_key: str
    created_at: int
    read_at: int | None


async def insert_notification(conn: Connection, note: NotificationRow) -> bool:
    """Store a notification; False when one with its dedupe key exists already."""
    cursor = await conn.execute(
        f"INSERT INTO notifications ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"  # noqa: S608
        " ON CONFLICT DO NOTHING",
        (
            note.id, note.merchant_id, note.type, note.priority, note.title, note.body,
            note.object_type, note.object_id, note.dedupe_key, note.created_at, note.read_at,
        ),
    )  # fmt: skip
    return cursor.rowcount == 1


async def get_notification(
    db: Database, merchant_id: str, notification_id: str
) -> NotificationRow | None:
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM notifications WHERE merchant_id = ? AND id = ?",  # noqa: S608
        (merchant_id, notification_id),
    )
    return None if row is None else NotificationRow(**dict(row))


async def list_notifications(
    db: Database, merchant_id: str, unread: bool | None, limit: int, offset: int
) -> list[NotificationRow]:
    """The merchant's notifications, newest first; `unread` True/False filters."""
    read_filter = {None: "", True: " AND read_at IS NULL", False: " AND read_at IS NOT NULL"}
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM notifications WHERE merchant_id = ?"  # noqa: S608
        f"{read_filter[unread]} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
        (merchant_id, limit, offset),
    )
    return [NotificationRow(**dict(row)) for row in rows]


async def count_unread(src: Source, merchant_id: str) -> int:
    row = await one(
        src,
        "SELECT COUNT(*) AS n FROM notifications WHERE merchant_id = ? AND read_at IS NULL",
        (merchant_id,),
    )
    return 0 if row is None else int(row["n"])


async def mark_read(conn: Connection, merchant_id: str, notification_id: str, now: int) -> bool:
    """Mark one notification read (a read one keeps its first read time); False if absent."""
    cursor = await conn.execute(
        "UPDATE notifications SET read_at = COALESCE(read_at, ?) WHERE merchant_id = ? AND id = ?",
        (now, merchant_id, notification_id),
    )
    return cursor.rowcount == 1


async def mark_all_read(conn: Connection, merchant_id: str, now: int) -> int:
    """Mark every unread notification read; how many were unread."""
    cursor = await conn.execute(
        "UPDATE notifications SET read_at = ? WHERE merchant_id = ? AND read_at IS NULL",
        (now, merchant_id),
    )
    return cursor.rowcount


async def dm_urgent(src: Source, merchant_id: str) -> bool:
    """Whether the merchant wants high and critical notifications as a DM to itself."""
    row = await one(
        src, "SELECT dm_urgent FROM notification_settings WHERE merchant_id = ?", (merchant_id,)
    )
    return bool(row and row["dm_urgent"])


async def set_dm_urgent(conn: Connection, merchant_id: str, enabled: bool, now: int) -> None:
    await conn.execute(
        "INSERT INTO notification_settings (merchant_id, dm_urgent, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (merchant_id) DO UPDATE SET dm_urgent = excluded.dm_urgent,"
        " updated_at = excluded.updated_at",
        (merchant_id, int(enabled), now),
    )
