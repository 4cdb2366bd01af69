"""SQL for shipping zones: a name, a currency, a base cost and the regions covered."""

from __future__ import annotations

import json
from decimal import Decimal

from ..catalogue_models import Zone
from ..storage.database import Connection, Row
from .catalogue import Source, decimal_text, many, now, one, placeholders

_COLUMNS = "id, name, currency, cost, countries"


def zone_from_row(row: Row) -> Zone:
    return Zone(
        id=row["id"],
        name=row["name"] or None,
        currency=row["currency"],
        cost=Decimal(row["cost"]),
        countries=json.loads(row["countries"]),
    )


async def create_zone(conn: Connection, merchant_id: str, zone: Zone) -> None:
    stamp = now()
    await conn.execute(
        f"INSERT INTO zones ({_COLUMNS}, merchant_id, created_at, updated_at) "  # noqa: S608
        "VALUES (?,?,?,?,?,?,?,?)",
        (
            zone.id,
            zone.name or "",
            zone.currency,
            decimal_text(zone.cost),
            json.dumps(zone.countries),
            merchant_id,
            stamp,
            stamp,
        ),
    )


async def get_zone(src: Source, merchant_id: str, zone_id: str) -> Zone | None:
    row = await one(
        src,
        f"SELECT {_COLUMNS} FROM zones WHERE id = ? AND merchant_id = ?",  # noqa: S608
        (zone_id, merchant_id),
    )
    return None if row is None else zone_from_row(row)


async def list_zones(src: Source, merchant_id: str) -> list[Zone]:
    rows = await many(
        src,
        f"SELECT {_COLUMNS} FROM zones WHERE merchant_id = ? ORDER BY created_at, id",  # noqa: S608
        (merchant_id,),
    )
    return [zone_from_row(row) for row in rows]


async def get_zones_by_ids(src: Source, merchant_id: str, zone_ids: list[str]) -> dict[str, Zone]:
    """The merchant's zones among `zone_ids`; ids of other merchants' zones are absent."""
    if not zone_ids:
        return {}
    rows = await many(
        src,
        f"SELECT {_COLUMNS} FROM zones WHERE merchant_id = ? AND id IN ({placeholders(zone_ids)})",  # noqa: S608
        [merchant_id, *zone_ids],
    )
    return {row["id"]: zone_from_row(row) for row in rows}


async def zone_id_exists(src: Source, zone_id: str) -> bool:
    """Whether any merchant has a zone with this id (ids are global)."""
    return await one(src, "SELECT 1 FROM zones WHERE id = ?", (zone_id,)) is not None


async def update_zone(conn: Connection, merchant_id: str, zone: Zone) -> None:
    await conn.execute(
        "UPDATE zones SET name = ?, currency = ?, cost = ?, countries = ?, updated_at = ? "
        "WHERE id = ? AND merchant_id = ?",
        (
            zone.name or "",
            zone.currency,
            decimal_text(zone.cost),
            json.dumps(zone.countries),
            now(),
            zone.id,
            merchant_id,
        ),
    )


async def delete_zone(conn: Connection, merchant_id: str, zone_id: str) -> None:
    """Delete; its links to stalls and product shipping costs go with it (CASCADE)."""
    await conn.execute("DELETE FROM zones WHERE id = ? AND merchant_id = ?", (zone_id, merchant_id))


async def get_stall_ids_using_zone(src: Source, zone_id: str) -> list[str]:
    rows = await many(src, "SELECT stall_id FROM stall_zones WHERE zone_id = ?", (zone_id,))
    return [row["stall_id"] for row in rows]


async def get_product_ids_shipping_to_zone(src: Source, zone_id: str) -> list[str]:
    rows = await many(src, "SELECT product_id FROM product_shipping WHERE zone_id = ?", (zone_id,))
    return [row["product_id"] for row in rows]
