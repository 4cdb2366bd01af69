"""The outbox: signed events waiting to be published, written in the caller's transaction.

A service enqueues every outgoing event in the same transaction as the state
change that caused it, so nothing is published fire-and-forget and nothing is
lost in a crash; the publisher (`publisher.py`) delivers and retries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..nostr.event import Event
from ..storage.database import Connection, Database, fetchall

_INSERT = (
    "INSERT INTO outbox (merchant_id, event_id, event, relays, purpose, order_id,"
    " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(event_id) DO NOTHING"
)


@dataclass(frozen=True)
class Outgoing:
    """One signed event to publish; empty `relays` means the merchant's usual relays."""

    merchant_id: str
    event: Event
    purpose: str
    order_id: str | None = None
    relays: Sequence[str] = ()


@dataclass(frozen=True)
class OutboxRow:
    id: int
    merchant_id: str
    event_id: str
    event: dict[str, Any]
    relays: list[str]
    purpose: str
    order_id: str | None
    status: str
    attempts: int
    acks: dict[str, Any]


def _params(item: Outgoing, now: int) -> tuple[Any, ...]:
    return (
        item.merchant_id,
        item.event.id,
        item.event.to_json(),
        json.dumps(list(item.relays)),
        item.purpose,
        item.order_id,
        now,
        now,
    )


async def enqueue_event(
    conn: Connection,
    merchant_id: str,
    event: Event,
    purpose: str,
    order_id: str | None = None,
    relays: Sequence[str] = (),
) -> None:
    """Queue one signed event for publishing, inside the caller's transaction.

    The same event queued twice is kept once (the event id is unique).
    """
    await enqueue_events(conn, [Outgoing(merchant_id, event, purpose, order_id, relays)])


async def enqueue_events(conn: Connection, items: Iterable[Outgoing]) -> None:
    """Queue many signed events in one round trip (executemany)."""
    now = int(time.time())
    await conn.executemany(_INSERT, [_params(item, now) for item in items])


def _row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        merchant_id=row["merchant_id"],
        event_id=row["event_id"],
        event=json.loads(row["event"]),
        relays=json.loads(row["relays"]),
        purpose=row["purpose"],
        order_id=row["order_id"],
        status=row["status"],
        attempts=row["attempts"],
        acks=json.loads(row["acks"]),
    )


async def due_events(
    db: Database, now: int, limit: int = 200, exclude: Collection[int] = ()
) -> list[OutboxRow]:
    """Pending events whose next attempt is due, oldest first, leaving out the rows
    with an id in `exclude` (the publisher's rows in flight: not read again each pass)."""
    skip = f" AND id NOT IN ({','.join('?' * len(exclude))})" if exclude else ""
    rows = await db.fetchall(
        "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"  # noqa: S608 - only "?"
        f" AND lease_until <= ?{skip} ORDER BY next_attempt_at, id LIMIT ?",
        (now, now, *exclude, limit),
    )
    return [_row(row) for row in rows]


async def claim(conn: Connection, ids: Sequence[int], owner: str, now: int, until: int) -> set[int]:
    """Lease the given due rows to `owner` until `until`; the ids it got. A row another
    process holds (its lease still running, or locked by its claim right now) is left
    out, so each row is published by one process; a lease that runs out frees the row
    for another (its holder died mid-way)."""
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    rows = await conn.fetchall(
        "UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id IN (SELECT id FROM outbox"  # noqa: S608 - only "?"
        f" WHERE id IN ({marks}) AND status = 'pending' AND lease_until <= ?"
        f"{conn.dialect.skip_locked}) RETURNING id",
        (owner, until, *ids, now),
    )
    return {int(row[0]) for row in rows}


@dataclass(frozen=True)
class Attempt:
    """The outcome of one publishing attempt of one outbox row."""

    id: int
    status: str  # pending | sent | failed
    acks: dict[str, Any]
    next_attempt_at: int
    last_error: str | None
    sent_at: int | None


async def record_attempts(conn: Connection, attempts: Iterable[Attempt]) -> None:
    """Store each attempt's acknowledgements and the row's new status (one executemany)."""
    await conn.executemany(
        "UPDATE outbox SET status = ?, acks = ?, attempts = attempts + 1, next_attempt_at = ?,"
        " last_error = ?, sent_at = COALESCE(?, sent_at), lease_owner = NULL, lease_until = 0"
        " WHERE id = ? AND status = 'pending'",
        [
            (a.status, json.dumps(a.acks), a.next_attempt_at, a.last_error, a.sent_at, a.id)
            for a in attempts
        ],
    )


async def list_outbox(
    db: Database, merchant_id: str, status: str | None = None, limit: int = 100
) -> list[OutboxRow]:
    """A merchant's outbox rows, newest first, optionally of one status (e.g. failed)."""
    sql = "SELECT * FROM outbox WHERE merchant_id = ?"
    params: list[Any] = [merchant_id]
    if status is not None:
        sql += " AND status = ?"
        params.append(status)
    rows = await db.fetchall(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
    return [_row(row) for row in rows]


async def outbox_event_ids(conn: Connection, event_ids: Sequence[str]) -> set[str]:
    """Which of `event_ids` this process queued itself (to recognise our own echoes)."""
    if not event_ids:
        return set()
    marks = ",".join("?" * len(event_ids))
    sql = f"SELECT event_id FROM outbox WHERE event_id IN ({marks})"  # noqa: S608 - only "?"
    rows = await fetchall(conn, sql, event_ids)
    return {row["event_id"] for row in rows}


async def retry_waiting_now(conn: Connection, now: int) -> int:
    """Every pending row waiting out a backoff becomes due now (a relay came back)."""
    cursor = await conn.execute(
        "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?",
        (now, now),
    )
    return cursor.rowcount
