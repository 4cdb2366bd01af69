"""SQL for stalls, their shipping zones, and the event last published for each."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalogue_models import Stall, StallConfig, Zone
from ..storage.database import Connection, Row
from .catalogue import (
    Source,
    get_publications,
    many,
    now,
    one,
    placeholders,
    publication_of,
)
from .zones import zone_from_row

_COLUMNS = "id, name, currency, description, image_url, pending, event_id, event_created_at"


@dataclass(frozen=True)
class StallFields:
    """What the merchant sets on a stall (zones are linked separately)."""

    name: str
    currency: str
    description: str = ""
    image_url: str | None = None


async def insert_stall(
    conn: Connection,
    merchant_id: str,
    stall_id: str,
    fields: StallFields,
    *,
    pending: bool = False,
    event: tuple[str, int] | None = None,
) -> None:
    """Insert a stall; `event` is (id, created_at) of a relay event it was imported from."""
    stamp = now()
    event_id, created_at = event if event else (None, None)
    await conn.execute(
        f"INSERT INTO stalls ({_COLUMNS}, merchant_id, created_at, updated_at) "  # noqa: S608
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            stall_id,
            fields.name,
            fields.currency,
            fields.description,
            fields.image_url,
            int(pending),
            event_id,
            created_at,
            merchant_id,
            stamp,
            stamp,
        ),
    )


async def update_stall(
    conn: Connection, merchant_id: str, stall_id: str, fields: StallFields, pending: bool
) -> None:
    await conn.execute(
        "UPDATE stalls SET name = ?, currency = ?, description = ?, image_url = ?, "
        "pending = ?, updated_at = ? WHERE id = ? AND merchant_id = ?",
        (
            fields.name,
            fields.currency,
            fields.description,
            fields.image_url,
            int(pending),
            now(),
            stall_id,
            merchant_id,
        ),
    )


async def set_stall_zones(conn: Connection, stall_id: str, zone_ids: list[str]) -> None:
    """Replace the stall's shipping zones (the caller checked they are the merchant's)."""
    await conn.execute("DELETE FROM stall_zones WHERE stall_id = ?", (stall_id,))
    await conn.executemany(
        "INSERT INTO stall_zones (stall_id, zone_id) VALUES (?, ?)",
        [(stall_id, zone_id) for zone_id in zone_ids],
    )


async def set_stall_event(conn: Connection, stall_id: str, event_id: str, created_at: int) -> None:
    """Remember the latest event published for the stall."""
    await conn.execute(
        "UPDATE stalls SET event_id = ?, event_created_at = ? WHERE id = ?",
        (event_id, created_at, stall_id),
    )


async def delete_stall(conn: Connection, merchant_id: str, stall_id: str) -> None:
    """Delete; its products and zone links go with it (ON DELETE CASCADE)."""
    await conn.execute(
        "DELETE FROM stalls WHERE id = ? AND merchant_id = ?", (stall_id, merchant_id)
    )


async def stall_id_exists(src: Source, stall_id: str) -> bool:
    """Whether any merchant has a stall with this id (ids are global)."""
    return await one(src, "SELECT 1 FROM stalls WHERE id = ?", (stall_id,)) is not None


async def get_stall(src: Source, merchant_id: str, stall_id: str) -> Stall | None:
    rows = await many(
        src,
        f"SELECT {_COLUMNS} FROM stalls WHERE id = ? AND merchant_id = ?",  # noqa: S608
        (stall_id, merchant_id),
    )
    stalls = await _stalls(src, rows)
    return stalls[0] if stalls else None


async def list_stalls(src: Source, merchant_id: str, pending: bool | None = None) -> list[Stall]:
    """The merchant's stalls; only pending (imported) or only accepted ones when asked."""
    sql = f"SELECT {_COLUMNS} FROM stalls WHERE merchant_id = ?"  # noqa: S608
    params: list[object] = [merchant_id]
    if pending is not None:
        sql += " AND pending = ?"
        params.append(int(pending))
    rows = await many(src, sql + " ORDER BY created_at, id", params)
    return await _stalls(src, rows)


async def _stalls(src: Source, rows: list[Row]) -> list[Stall]:
    ids = [row["id"] for row in rows]
    zones = await _zones_by_stall(src, ids)
    publications = await get_publications(src, [row["event_id"] for row in rows])
    return [
        Stall(
            id=row["id"],
            name=row["name"],
            currency=row["currency"],
            shipping_zones=zones.get(row["id"], []),
            config=StallConfig(description=row["description"] or None, image_url=row["image_url"]),
            pending=bool(row["pending"]),
            event_id=row["event_id"],
            event_created_at=row["event_created_at"],
            publication=publication_of(publications, row["event_id"], row["event_created_at"]),
        )
        for row in rows
    ]


async def _zones_by_stall(src: Source, stall_ids: list[str]) -> dict[str, list[Zone]]:
    if not stall_ids:
        return {}
    rows = await many(
        src,
        "SELECT sz.stall_id, z.id, z.name, z.currency, z.cost, z.countries "  # noqa: S608
        "FROM stall_zones sz JOIN zones z ON z.id = sz.zone_id "
        f"WHERE sz.stall_id IN ({placeholders(stall_ids)}) ORDER BY z.created_at, z.id",
        stall_ids,
    )
    zones: dict[str, list[Zone]] = {}
    for row in rows:
        zones.setdefault(row["stall_id"], []).append(zone_from_row(row))
    return zones
