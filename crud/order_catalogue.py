"""SQL that reads the part of the catalogue one order touches (two queries, no N+1)."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from ..orders.pricing import Catalogue, CatalogueProduct, CatalogueZone
from ..orders.rates import normalize_currency
from ..storage.database import Database

# One query: the zone (and the count of parked messages for the order) ride along on
# every product row, so pricing an order costs one round trip, not three.
_CATALOGUE = (
    "SELECT p.id, p.stall_id, p.name, p.price, COALESCE(p.currency, s.currency) AS currency,"
    " p.quantity, p.active, p.pending, p.use_autoreply, p.autoreply_message, p.max_per_order,"
    " s.currency AS stall_currency, ps.cost AS zone_cost,"
    " z.id AS zone_id, z.cost AS zone_base, z.currency AS zone_currency, z.countries,"
    " (SELECT group_concat(sz.stall_id, char(31)) FROM stall_zones sz WHERE sz.zone_id = z.id)"
    " AS stall_ids,"
    " (SELECT COUNT(*) FROM inbox i WHERE i.merchant_id = p.merchant_id AND i.order_id = ?"
    " AND i.verdict = 'parked') AS parked"
    " FROM products p JOIN stalls s ON s.id = p.stall_id"
    " LEFT JOIN product_shipping ps ON ps.product_id = p.id AND ps.zone_id = ?"
    " LEFT JOIN zones z ON z.id = ? AND z.merchant_id = p.merchant_id"
    " WHERE p.merchant_id = ? AND p.id IN ({marks})"
)
_ZONE = (
    "SELECT z.id AS zone_id, z.cost AS zone_base, z.currency AS zone_currency, z.countries,"
    " (SELECT group_concat(sz.stall_id, char(31)) FROM stall_zones sz WHERE sz.zone_id = z.id)"
    " AS stall_ids FROM zones z WHERE z.id = ? AND z.merchant_id = ?"
)


def _decimal(text: Any) -> Decimal:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return Decimal("NaN")
    return value


def _product(row: Any, zone_id: str) -> CatalogueProduct:
    shipping = {} if row["zone_cost"] is None else {zone_id: _decimal(row["zone_cost"])}
    return CatalogueProduct(
        id=row["id"],
        stall_id=row["stall_id"],
        name=row["name"],
        price=_decimal(row["price"]),
        currency=normalize_currency(row["currency"]),
        quantity=row["quantity"],
        active=bool(row["active"]),
        pending=bool(row["pending"]),
        shipping=shipping,
        autoreply=row["autoreply_message"] if row["use_autoreply"] else None,
        max_per_order=row["max_per_order"],
    )


def _zone(row: Any) -> CatalogueZone | None:
    if row is None or row["zone_id"] is None:
        return None
    countries = json.loads(row["countries"] or "[]")
    return CatalogueZone(
        id=row["zone_id"],
        cost=_decimal(row["zone_base"]),
        currency=normalize_currency(row["zone_currency"]),
        countries=tuple(c for c in countries if isinstance(c, str)),
        stall_ids=frozenset((row["stall_ids"] or "").split(chr(31))) - {""},
    )


async def load_catalogue(
    db: Database, merchant_id: str, product_ids: list[str], zone_id: str, order_id: str = ""
) -> Catalogue:
    """The products named by an order and the chosen zone, as pricing needs them, and how
    many messages are parked waiting for `order_id`."""
    marks = ",".join("?" * len(product_ids))
    sql = _CATALOGUE.format(marks=marks)
    rows = await db.fetchall_inline(sql, (order_id, zone_id, zone_id, merchant_id, *product_ids))
    if not rows:  # no product matched: the zone (and parked messages) on their own
        return await _without_products(db, merchant_id, zone_id, order_id)
    products = {row["id"]: _product(row, zone_id) for row in rows}
    stalls = {row["stall_id"]: normalize_currency(row["stall_currency"]) for row in rows}
    return Catalogue(products, _zone(rows[0]), stalls, int(rows[0]["parked"]))


async def _without_products(
    db: Database, merchant_id: str, zone_id: str, order_id: str
) -> Catalogue:
    zone = _zone(await db.fetchone_inline(_ZONE, (zone_id, merchant_id)))
    row = await db.fetchone_inline(
        "SELECT COUNT(*) AS n FROM inbox WHERE merchant_id = ? AND order_id = ?"
        " AND verdict = 'parked'",
        (merchant_id, order_id),
    )
    return Catalogue({}, zone, {}, int(row["n"]) if row else 0)


async def autoreplies(db: Database, merchant_id: str, product_ids: list[str]) -> list[str]:
    """The autoreply messages of the given products that have one, in the given order."""
    marks = ",".join("?" * len(product_ids))
    rows = await db.fetchall(
        f"SELECT id, autoreply_message FROM products WHERE merchant_id = ? AND id IN ({marks})"  # noqa: S608
        " AND use_autoreply = 1 AND autoreply_message IS NOT NULL AND autoreply_message <> ''",
        (merchant_id, *product_ids),
    )
    by_id = {row["id"]: row["autoreply_message"] for row in rows}
    return [by_id[pid] for pid in product_ids if pid in by_id]


async def default_zone(db: Database, merchant_id: str, product_id: str) -> str | None:
    """The shipping zone of the product's stall with the lowest base cost (ties by id): the
    zone of an order whose client names none (Shopstr shows no zone of ours)."""
    row = await db.fetchone(
        "SELECT z.id FROM products p JOIN stall_zones sz ON sz.stall_id = p.stall_id"
        " JOIN zones z ON z.id = sz.zone_id WHERE p.merchant_id = ? AND p.id = ?"
        " ORDER BY CAST(z.cost AS REAL), z.id LIMIT 1",
        (merchant_id, product_id),
    )
    return None if row is None else str(row["id"])
