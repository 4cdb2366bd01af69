"""Shared SQL helpers for the catalogue: reading through the reader or a transaction,
ids, timestamps, and the publication state of an event kept in the outbox."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ..models import Publication
from ..storage.database import Connection, Database, Params, Row, fetchall, fetchone

Source = Database | Connection


def new_id() -> str:
    """A random, non-sequential object id (NIP-15 discourages sequential ones)."""
    return secrets.token_hex(16)


def now() -> int:
    return int(time.time())


async def one(src: Source, sql: str, params: Params = ()) -> Row | None:
    """One row, through the reader (a `Database`) or inside a transaction (a connection)."""
    if isinstance(src, Database):
        return await src.fetchone(sql, params)
    return await fetchone(src, sql, params)


async def many(src: Source, sql: str, params: Params = ()) -> list[Row]:
    """All rows, through the reader (a `Database`) or inside a transaction (a connection)."""
    if isinstance(src, Database):
        return await src.fetchall(sql, params)
    return await fetchall(src, sql, params)


def placeholders(values: Iterable[Any]) -> str:
    return ",".join("?" for _ in values)


async def get_publications(src: Source, event_ids: list[str]) -> dict[str, Publication]:
    """The outbox state (status, send time, relay answers) of each given event id."""
    ids = [event_id for event_id in event_ids if event_id]
    if not ids:
        return {}
    rows = await many(
        src,
        "SELECT event_id, CAST(json_extract(event, '$.created_at') AS BIGINT) AS created_at, "  # noqa: S608
        "status, "
        f"sent_at, acks FROM outbox WHERE event_id IN ({placeholders(ids)})",
        ids,
    )
    return {row["event_id"]: _publication(row) for row in rows}


def _publication(row: Row) -> Publication:
    try:
        acks = json.loads(row["acks"] or "{}")
    except ValueError:
        acks = {}
    return Publication(
        event_id=row["event_id"],
        event_created_at=row["created_at"],
        status=row["status"],
        published_at=row["sent_at"],
        relays=acks if isinstance(acks, dict) else {},
    )


def publication_of(
    publications: dict[str, Publication], event_id: str | None, created_at: int | None
) -> Publication:
    """The publication of `event_id`, or a bare one when it never went through our outbox."""
    if event_id and event_id in publications:
        return publications[event_id]
    status = "unpublished" if event_id is None else "external"
    return Publication(event_id=event_id, event_created_at=created_at, status=status)


async def latest_outbox_event(
    src: Source, merchant_id: str, purpose: str
) -> tuple[str, int] | None:
    """(event_id, created_at) of the merchant's latest outbox event for `purpose`."""
    row = await one(
        src,
        "SELECT event_id, CAST(json_extract(event, '$.created_at') AS BIGINT) AS created_at"
        " FROM outbox "
        "WHERE merchant_id = ? AND purpose = ? ORDER BY id DESC LIMIT 1",
        (merchant_id, purpose),
    )
    return None if row is None else (row["event_id"], int(row["created_at"]))


async def latest_stamp(src: Source, merchant_id: str, purpose: str, identifier: str) -> int | None:
    """The newest `created_at` of the merchant's outbox events for `purpose` whose first tag
    is `["d", identifier]` (a replaceable event's versions), or None."""
    row = await one(
        src,
        "SELECT MAX(CAST(json_extract(event, '$.created_at') AS BIGINT)) AS t FROM outbox"
        " WHERE merchant_id = ? AND purpose = ? AND json_extract(event, '$.tags[0][1]') = ?",
        (merchant_id, purpose, identifier),
    )
    return None if row is None or row["t"] is None else int(row["t"])


async def outbox_purpose(src: Source, event_id: str) -> str | None:
    """What an event in our outbox was for (`product`, `deletion`, ...); None if not ours."""
    row = await one(src, "SELECT purpose FROM outbox WHERE event_id = ?", (event_id,))
    return None if row is None else str(row["purpose"])


def decimal_text(value: Decimal) -> str:
    """The canonical text stored for an amount: no exponent, no trailing zeros."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text
