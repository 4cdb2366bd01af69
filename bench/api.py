"""API: `GET /api/v1/order` (a page of 50, with filters) with N orders stored.

The app is the real one (`create_app`, its lifespan, auth by the account's
invoice key) over httpx's ASGI transport; the engine's background loops are off
(`Runtime.background = False`) so that nothing else touches the database while
we measure the read path.

Seeding (not timed): one order goes through the real ingest path; the other
N - 1 are copies of its `orders`, `invoices` and `order_events` rows written with
`executemany` (a benchmark set-up through ingest would take many minutes), with
new ids, 1,000 customers, creation times spread over 100 days, and statuses
moved along allowed transitions (the trigger checks each): 40 % awaiting
payment, 30 % paid, 20 % shipped, 10 % expired.

Run alone: `.venv/bin/python -m bench.api --orders 100000 --requests 400`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.ingest import ingest_event
from nostrbazaar.nostr.event import parse_event

from .common import (
    CUSTOMERS,
    OrderSpec,
    bench_settings,
    customer_key,
    fill_shop,
    generate_orders,
    percentiles,
    quiet_logs,
)

DAY = 86_400


def queries(customers: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The request mix: a page of 50 each, newest first."""
    return [
        ("newest", {}),
        ("status=paid", {"status": "paid"}),
        ("paid, not shipped", {"paid": "true", "shipped": "false"}),
        ("shipped", {"shipped": "true"}),
        ("one customer", {"pubkey": customers[0]}),
        ("awaiting, page 21", {"status": "awaiting_payment", "offset": 1000}),
        ("newest, page 101", {"offset": 5000}),
        ("expired", {"status": "expired"}),
    ]


async def measure(orders: int, requests: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nb-bench-api-") as tmp:
        settings = bench_settings(Path(tmp) / "data")
        app = create_app(settings)
        app.state.runtime.background = False
        async with LifespanManager(app):
            runtime = app.state.runtime
            shop = await fill_shop(runtime, runtime.wallet, settings.data_dir)
            started = time.perf_counter()
            await _seed(shop, orders, Path(tmp))
            seed_s = time.perf_counter() - started
            customers = [customer_key(i).public_key for i in range(CUSTOMERS)]
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                result = await _requests(http, shop.account.inkey, customers, requests)
    result.update(orders=orders, requests=requests, seed_s=round(seed_s, 1))
    return result


async def _seed(shop: Any, orders: int, tmp: Path) -> None:
    spec = OrderSpec(shop.merchant.public_key, tuple(shop.product_ids), shop.zone_id, "nip04")
    (path,) = generate_orders(spec, 1, tmp / "events")
    event = parse_event(json.loads(path.read_text()))
    verdict = await ingest_event(shop.deps, shop.merchant, event, "bench")
    assert verdict.verdict == "processed", verdict
    db, merchant_id = shop.deps.db, shop.merchant.id
    template = await db.fetchone("SELECT * FROM orders WHERE merchant_id = ?", (merchant_id,))
    invoice = await db.fetchone("SELECT * FROM invoices WHERE merchant_id = ?", (merchant_id,))
    logged = await db.fetchall("SELECT * FROM order_events WHERE merchant_id = ?", (merchant_id,))
    assert template is not None and invoice is not None
    now = int(time.time())
    customers = [customer_key(i).public_key for i in range(CUSTOMERS)]
    rows, invoices, log = [], [], []
    states: dict[str, list[tuple[str]]] = defaultdict(list)
    for i in range(1, orders):
        order_id, payment_hash = f"seed-{i}", f"{i:064x}"
        created = now - 100 * DAY + (i * 100 * DAY) // orders
        row = dict(template)
        row.update(id=order_id, public_key=customers[i % CUSTOMERS], payment_hash=payment_hash,
                   created_at=created, updated_at=created, event_id=f"{i:064x}")  # fmt: skip
        rows.append(tuple(row.values()))
        inv = dict(invoice)
        inv.update(payment_hash=payment_hash, order_id=order_id, created_at=created,
                   expires_at=now + 3600)  # fmt: skip
        invoices.append(tuple(inv.values()))
        log += [tuple({**dict(e), "order_id": order_id}.values()) for e in logged]
        bucket = i % 10
        if bucket >= 4:
            states["paid" if bucket < 9 else "expired"].append((order_id,))
        if 7 <= bucket < 9:
            states["shipped"].append((order_id,))
    async with db.transaction() as conn:
        await _insert_many(conn, "orders", template.keys(), rows)
        await _insert_many(conn, "invoices", invoice.keys(), invoices)
        if logged:
            await _insert_many(conn, "order_events", logged[0].keys(), log)
        for status, extra in (("paid", "paid = 1"), ("expired", "paid = 0"),
                              ("shipped", "shipped = 1")):  # fmt: skip
            await conn.executemany(
                f"UPDATE orders SET status = '{status}', {extra}"
                f" WHERE merchant_id = '{merchant_id}' AND id = ?",
                states[status],
            )


async def _insert_many(conn: Any, table: str, columns: list[str], rows: list[tuple]) -> None:
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    await conn.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)


async def _requests(
    http: httpx.AsyncClient, key: str, customers: list[str], count: int
) -> dict[str, Any]:
    mix = queries(customers)
    headers = {"X-Api-Key": key}
    for name, params in mix:  # warm-up, and check each answers a full page
        response = await http.get("/api/v1/order", params=params, headers=headers)
        assert response.status_code == 200, (name, response.status_code, response.text[:300])
    samples: list[float] = []
    by_query: dict[str, list[float]] = defaultdict(list)
    sizes: dict[str, int] = {}
    for i in range(count):
        name, params = mix[i % len(mix)]
        start = time.perf_counter()
        response = await http.get("/api/v1/order", params=params, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.text[:300]
        sizes[name] = len(response.json())
        samples.append(elapsed)
        by_query[name].append(elapsed)
    return {
        **percentiles(samples),
        "by_query": {
            name: {**percentiles(values), "rows": sizes[name]} for name, values in by_query.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    quiet_logs()
    result = asyncio.run(measure(args.orders, args.requests))
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
