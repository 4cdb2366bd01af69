"""Sales figures for the dashboard's charts, and the first-run checklist.

`sales` answers `GET /stats?days=N`: for each of the last N days (today
included, in the caller's time zone) the orders placed, paid, expired and
refused and the revenue; the top products of the paid orders; the share of
orders placed in the window that are paid; the median time from order to
payment. Everything is read from the projections (`crud.stats`); a restore
dates what it adopts at the moment it adopts it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from ..crud import stats as crud
from ..storage.database import Database

TOP_PRODUCTS = 5


def _date(day: int) -> str:
    return datetime.fromtimestamp(day * crud.DAY, UTC).date().isoformat()


async def sales(
    db: Database, merchant_id: str, days: int, tz_offset_minutes: int, now: int
) -> dict[str, Any]:
    """The figures of the last `days` days; `tz_offset_minutes` is local time minus UTC."""
    offset = tz_offset_minutes * 60
    first_day = (now + offset) // crud.DAY - (days - 1)
    since = first_day * crud.DAY - offset
    placed, refused = await crud.placed_by_day(db, merchant_id, since, offset)
    expired = await crud.expired_by_day(db, merchant_id, since, offset)
    paid = await crud.paid_by_day(db, merchant_id, since, offset)
    rows = _days(first_day, days, placed=placed, refused=refused, expired=expired, paid=paid)
    top, median = await _paid_details(db, merchant_id, since)
    count, count_paid = await crud.placed_and_paid(db, merchant_id, since)
    return {
        "days": days,
        "since": since,
        "tz_offset_minutes": tz_offset_minutes,
        "per_day": rows,
        "totals": {key: sum(row[key] for row in rows) for key in _TOTALS},
        "top_products": top,
        "paid_share": None if count == 0 else round(count_paid / count, 4),
        "median_seconds_to_payment": median,
    }


_TOTALS = ("placed", "paid", "expired", "refused", "revenue_msat", "revenue_sat")


def _days(first_day: int, days: int, **series: list[crud.DayCount]) -> list[dict[str, Any]]:
    """One row per day of the window, zero where nothing happened."""
    by_day = {name: {c.day: c for c in counts} for name, counts in series.items()}
    rows = []
    for day in range(first_day, first_day + days):
        row: dict[str, Any] = {"date": _date(day)}
        row.update(
            {name: found[day].count if day in found else 0 for name, found in by_day.items()}
        )
        msat = by_day["paid"][day].amount_msat if day in by_day["paid"] else 0
        row.update(revenue_msat=msat, revenue_sat=msat // 1000)
        rows.append(row)
    return rows


async def _paid_details(
    db: Database, merchant_id: str, since: int
) -> tuple[list[dict[str, Any]], float | None]:
    """The best-selling products of the paid orders, and the median wait for payment."""
    units: Counter[str] = Counter()
    orders: Counter[str] = Counter()
    waits: list[int] = []
    async for chunk in crud.paid_orders(db, merchant_id, since):
        for order in chunk:
            waits.append(order.seconds_to_pay)
            for item in order.items:
                units[item["product_id"]] += int(item["quantity"])
                orders[item["product_id"]] += 1
    best = [product_id for product_id, _ in units.most_common(TOP_PRODUCTS)]
    names = await crud.product_names(db, merchant_id, best)
    top = [
        {"product_id": p, "name": names.get(p), "quantity": units[p], "orders": orders[p]}
        for p in best
    ]
    return top, (float(statistics.median(waits)) if waits else None)


async def setup_checklist(db: Database, merchant_id: str) -> dict[str, Any]:
    """The first-run steps and whether each is done (the merchant, so its keys, exists)."""
    counts = await crud.setup_counts(db, merchant_id)
    steps = [
        {"key": "keys", "label": "Keys for your shop", "done": True},
        {"key": "zone", "label": "A shipping zone", "done": counts.zones > 0},
        {"key": "stall", "label": "A stall", "done": counts.stalls > 0},
        {"key": "product", "label": "A product", "done": counts.products > 0},
        {"key": "publish", "label": "Published to a relay", "done": counts.published_products > 0},
    ]
    return {"steps": steps, "done": all(step["done"] for step in steps)}
