"""SQL for the inbox: every Nostr event we ingested, with its verdict and reason.

The event id is the primary key, so a duplicate (a second relay, a restore)
stops at the insert and is reported as a value. The verdict moves from
`received` (or `parked`) to its final value with a conditional UPDATE inside the
service's transaction, so two deliveries racing can never both apply.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..storage.database import Connection, Database

VERDICTS = ("received", "processed", "rejected", "ignored", "outgoing", "parked")


@dataclass(frozen=True)
class InboxEntry:
    id: str
    merchant_id: str
    raw: str
    kind: int | None
    pubkey: str | None
    created_at: int | None
    verdict: str
    reason: str | None = None
    order_id: str | None = None
    received_at: int = 0
    relay: str | None = None


def insert_params(entry: InboxEntry) -> tuple[Any, ...]:
    return (
        entry.id, entry.merchant_id, entry.raw, entry.kind, entry.pubkey, entry.created_at,
        entry.verdict, entry.reason, entry.order_id, entry.received_at, entry.relay,
    )  # fmt: skip


_INSERT = (
    "INSERT INTO inbox (id, merchant_id, raw, kind, pubkey, created_at, verdict, reason,"
    " order_id, received_at, relay) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(id) DO NOTHING"
)


async def insert_entry(conn: Connection, entry: InboxEntry) -> bool:
    """Record an ingested event; False when its id was seen before (a duplicate)."""
    cursor = await conn.execute(_INSERT, insert_params(entry))
    return cursor.rowcount == 1


async def set_verdict(
    conn: Connection,
    event_id: str,
    verdict: str,
    reason: str | None = None,
    order_id: str | None = None,
    expected: Iterable[str] = ("received", "parked"),
) -> bool:
    """Move an entry to its verdict if it still has one of `expected`; False otherwise."""
    allowed = tuple(expected)
    marks = ",".join("?" * len(allowed))
    cursor = await conn.execute(
        f"UPDATE inbox SET verdict = ?, reason = ?, order_id = COALESCE(?, order_id)"  # noqa: S608
        f" WHERE id = ? AND verdict IN ({marks})",
        (verdict, reason, order_id, event_id, *allowed),
    )
    return cursor.rowcount == 1


def _entry(row: Any) -> InboxEntry:
    return InboxEntry(**dict(row))


async def record_verdict(
    conn: Connection,
    event_id: str,
    verdict: str,
    reason: str | None,
    order_id: str | None,
    expected: Iterable[str],
) -> None:
    """Like `set_verdict` when nobody needs to know whether it applied (one buffered write)."""
    allowed = tuple(expected)
    marks = ",".join("?" * len(allowed))
    await conn.executemany(
        f"UPDATE inbox SET verdict = ?, reason = ?, order_id = COALESCE(?, order_id)"  # noqa: S608
        f" WHERE id = ? AND verdict IN ({marks})",
        [(verdict, reason, order_id, event_id, *allowed)],
    )


async def parked_for(db: Database, merchant_id: str, order_id: str) -> list[InboxEntry]:
    """Messages about `order_id` that arrived before the order, oldest first."""
    rows = await db.fetchall(
        "SELECT * FROM inbox WHERE merchant_id = ? AND order_id = ? AND verdict = 'parked'"
        " ORDER BY created_at, id",
        (merchant_id, order_id),
    )
    return [_entry(row) for row in rows]


async def entries_with_verdict(
    db: Database, merchant_id: str, verdict: str, limit: int = 1000
) -> list[InboxEntry]:
    rows = await db.fetchall(
        "SELECT * FROM inbox WHERE merchant_id = ? AND verdict = ? ORDER BY created_at, id LIMIT ?",
        (merchant_id, verdict, limit),
    )
    return [_entry(row) for row in rows]


async def get_entry(db: Database, event_id: str) -> InboxEntry | None:
    row = await db.fetchone("SELECT * FROM inbox WHERE id = ?", (event_id,))
    return None if row is None else _entry(row)


async def newest_received(db: Database, merchant_id: str) -> int | None:
    """When the newest event for the merchant arrived (to resume subscriptions)."""
    row = await db.fetchone(
        "SELECT MAX(received_at) AS t FROM inbox WHERE merchant_id = ?", (merchant_id,)
    )
    return None if row is None or row["t"] is None else int(row["t"])


async def known_event_ids(db: Database, event_ids: Sequence[str]) -> set[str]:
    """Which of `event_ids` are in the inbox already, or were queued by us (the outbox):
    a relay's history can be read again without opening what we have or wrote."""
    found: set[str] = set()
    for start in range(0, len(event_ids), 500):
        chunk = list(event_ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        rows = await db.fetchall(
            f"SELECT id FROM inbox WHERE id IN ({marks})"  # noqa: S608 - only "?"
            f" UNION ALL SELECT event_id FROM outbox WHERE event_id IN ({marks})",
            (*chunk, *chunk),
        )
        found.update(row[0] for row in rows)
    return found
