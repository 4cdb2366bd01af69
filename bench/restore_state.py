"""The state a restore must give back (invariant 4), read from a database and compared:
orders (status, totals, paid, shipped, invoice, items), stock, reservations, customers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nostrbazaar.storage.database import Database, SqliteDatabase

ITEMS = 5  # the items column in `state`'s order rows


async def state_at(path: Path, merchant_id: str) -> dict[str, Any]:
    db = SqliteDatabase(path)
    await db.connect()
    try:
        return await state(db, merchant_id)
    finally:
        await db.close()


async def state(db: Database, merchant_id: str) -> dict[str, Any]:
    """What replay equivalence promises: orders, statuses, totals, stock."""
    orders = await db.fetchall(
        "SELECT id, status, public_key, stall_id, zone_id, items, subtotal_msat, shipping_msat,"
        " total_msat, payment_hash, paid, shipped, refund_msat FROM orders WHERE merchant_id = ?",
        (merchant_id,),
    )
    stock = await db.fetchall(
        "SELECT id, quantity FROM products WHERE merchant_id = ?", (merchant_id,)
    )
    reservations = await db.fetchall(
        "SELECT order_id, product_id, quantity, state FROM reservations WHERE merchant_id = ?",
        (merchant_id,),
    )
    customers = await db.fetchall(
        "SELECT public_key FROM customers WHERE merchant_id = ?", (merchant_id,)
    )
    return {
        "orders": {row["id"]: order_row(tuple(row)) for row in orders},
        "stock": {row["id"]: row["quantity"] for row in stock},
        "reservations": {(r["order_id"], r["product_id"]): tuple(r) for r in reservations},
        "customers": {row["public_key"] for row in customers},
    }


def order_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """An order's row with its items in one spelling (the JSON's spacing is no state)."""
    items = json.dumps(json.loads(row[ITEMS]), sort_keys=True)
    return (*row[:ITEMS], items, *row[ITEMS + 1 :])


def compare(original: dict[str, Any], restored: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    differences: dict[str, Any] = {}
    for part in ("orders", "stock", "reservations"):
        a, b = original[part], restored[part]
        missing = [k for k in a if k not in b]
        extra = [k for k in b if k not in a]
        changed = [k for k in a if k in b and a[k] != b[k]]
        if missing or extra or changed:
            differences[part] = {
                "original": len(a),
                "restored": len(b),
                "missing": len(missing),
                "extra": len(extra),
                "different": len(changed),
                "examples": [
                    {"key": str(k), "original": str(a[k]), "restored": str(b[k])}
                    for k in changed[:3]
                ]
                + [{"missing": str(k)} for k in missing[:3]],
            }
    if original["customers"] != restored["customers"]:
        differences["customers"] = {
            "original": len(original["customers"]),
            "restored": len(restored["customers"]),
        }
    return not differences, differences


def portable(state: dict[str, Any]) -> dict[str, Any]:
    """The state as JSON keeps it (string keys, lists for tuples and sets), to compare a
    kept original with a restore."""
    portable = {part: {str(k): v for k, v in values.items()} if isinstance(values, dict)
                else sorted(values) for part, values in state.items()}  # fmt: skip
    result: dict[str, Any] = json.loads(json.dumps(portable))
    return result
