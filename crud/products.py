"""SQL for products, their per-zone shipping costs, and the event last published."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from ..catalogue_models import Product, ProductConfig, ProductShipping
from ..storage.database import Connection, Row
from .catalogue import (
    Source,
    decimal_text,
    get_publications,
    many,
    now,
    one,
    placeholders,
    publication_of,
)

_COLUMNS = (
    "p.id, p.stall_id, p.name, p.description, p.images, p.categories, p.specs, p.price, "
    "p.quantity, p.active, p.pending, p.use_autoreply, p.autoreply_message, p.event_id, "
    "p.event_created_at, p.max_per_order, s.currency AS stall_currency"
)
_FROM = "FROM products p JOIN stalls s ON s.id = p.stall_id"


@dataclass(frozen=True)
class ProductFields:
    """What the merchant sets on a product."""

    stall_id: str
    name: str
    price: Decimal
    quantity: int
    description: str = ""
    images: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    specs: list[list[str]] = field(default_factory=list)
    active: bool = True
    use_autoreply: bool = False
    autoreply_message: str | None = None
    shipping: list[ProductShipping] = field(default_factory=list)
    max_per_order: int | None = None


def _values(fields: ProductFields) -> tuple[object, ...]:
    return (
        fields.stall_id,
        fields.name,
        fields.description,
        json.dumps(fields.images),
        json.dumps(fields.categories),
        json.dumps(fields.specs),
        decimal_text(fields.price),
        fields.quantity,
        int(fields.active),
        int(fields.use_autoreply),
        fields.autoreply_message,
        fields.max_per_order,
    )


async def insert_product(
    conn: Connection,
    merchant_id: str,
    product_id: str,
    fields: ProductFields,
    *,
    pending: bool = False,
    event: tuple[str, int] | None = None,
) -> None:
    """Insert a product; `event` is (id, created_at) of a relay event it was imported from."""
    stamp = now()
    event_id, created_at = event if event else (None, None)
    await conn.execute(
        "INSERT INTO products (stall_id, name, description, images, categories, specs, "
        "price, quantity, active, use_autoreply, autoreply_message, max_per_order, id, "
        "merchant_id, pending, event_id, event_created_at, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            *_values(fields),
            product_id,
            merchant_id,
            int(pending),
            event_id,
            created_at,
            stamp,
            stamp,
        ),
    )
    await _set_shipping(conn, product_id, fields.shipping)


async def update_product(
    conn: Connection, merchant_id: str, product_id: str, fields: ProductFields, pending: bool
) -> None:
    await conn.execute(
        "UPDATE products SET stall_id = ?, name = ?, description = ?, images = ?, "
        "categories = ?, specs = ?, price = ?, quantity = ?, active = ?, use_autoreply = ?, "
        "autoreply_message = ?, max_per_order = ?, pending = ?, updated_at = ? "
        "WHERE id = ? AND merchant_id = ?",
        (*_values(fields), int(pending), now(), product_id, merchant_id),
    )
    await _set_shipping(conn, product_id, fields.shipping)


async def _set_shipping(conn: Connection, product_id: str, shipping: list[ProductShipping]) -> None:
    await conn.execute("DELETE FROM product_shipping WHERE product_id = ?", (product_id,))
    await conn.executemany(
        "INSERT INTO product_shipping (product_id, zone_id, cost) VALUES (?, ?, ?)",
        [(product_id, item.id, decimal_text(item.cost)) for item in shipping],
    )


async def set_product_event(
    conn: Connection, product_id: str, event_id: str, created_at: int
) -> None:
    """Remember the latest event (30018 or deletion) published for the product."""
    await conn.execute(
        "UPDATE products SET event_id = ?, event_created_at = ? WHERE id = ?",
        (event_id, created_at, product_id),
    )


async def delete_product(conn: Connection, merchant_id: str, product_id: str) -> None:
    await conn.execute(
        "DELETE FROM products WHERE id = ? AND merchant_id = ?", (product_id, merchant_id)
    )


async def product_id_exists(src: Source, product_id: str) -> bool:
    """Whether any merchant has a product with this id (ids are global)."""
    return await one(src, "SELECT 1 FROM products WHERE id = ?", (product_id,)) is not None


async def get_product(src: Source, merchant_id: str, product_id: str) -> Product | None:
    rows = await many(
        src,
        f"SELECT {_COLUMNS} {_FROM} WHERE p.id = ? AND p.merchant_id = ?",
        (product_id, merchant_id),
    )
    products = await _products(src, rows)
    return products[0] if products else None


async def list_products(
    src: Source,
    merchant_id: str,
    *,
    stall_id: str | None = None,
    pending: bool | None = None,
) -> list[Product]:
    """The merchant's products, optionally of one stall and only pending or accepted ones."""
    sql = f"SELECT {_COLUMNS} {_FROM} WHERE p.merchant_id = ?"
    params: list[object] = [merchant_id]
    if stall_id is not None:
        sql += " AND p.stall_id = ?"
        params.append(stall_id)
    if pending is not None:
        sql += " AND p.pending = ?"
        params.append(int(pending))
    rows = await many(src, sql + " ORDER BY p.created_at, p.id", params)
    return await _products(src, rows)


async def _products(src: Source, rows: list[Row]) -> list[Product]:
    shipping = await _shipping_by_product(src, [row["id"] for row in rows])
    publications = await get_publications(src, [row["event_id"] for row in rows])
    return [
        Product(
            id=row["id"],
            stall_id=row["stall_id"],
            name=row["name"],
            price=Decimal(row["price"]),
            quantity=row["quantity"],
            images=json.loads(row["images"]),
            categories=json.loads(row["categories"]),
            active=bool(row["active"]),
            pending=bool(row["pending"]),
            config=ProductConfig(
                description=row["description"] or None,
                currency=row["stall_currency"],
                use_autoreply=bool(row["use_autoreply"]),
                autoreply_message=row["autoreply_message"],
                shipping=shipping.get(row["id"], []),
                specs=json.loads(row["specs"]),
                max_per_order=row["max_per_order"],
                free=Decimal(row["price"]) == 0,  # a price of 0 is only taken when free
            ),
            event_id=row["event_id"],
            event_created_at=row["event_created_at"],
            publication=publication_of(publications, row["event_id"], row["event_created_at"]),
        )
        for row in rows
    ]


async def _shipping_by_product(
    src: Source, product_ids: list[str]
) -> dict[str, list[ProductShipping]]:
    if not product_ids:
        return {}
    rows = await many(
        src,
        "SELECT product_id, zone_id, cost FROM product_shipping "  # noqa: S608
        f"WHERE product_id IN ({placeholders(product_ids)}) ORDER BY zone_id",
        product_ids,
    )
    shipping: dict[str, list[ProductShipping]] = {}
    for row in rows:
        item = ProductShipping(id=row["zone_id"], cost=Decimal(row["cost"]))
        shipping.setdefault(row["product_id"], []).append(item)
    return shipping
