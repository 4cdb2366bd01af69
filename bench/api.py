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

Reported besides the latencies: the CPU time per request (client and app, one
process), the index each query of the mix reads (EXPLAIN QUERY PLAN), and the
resident memory before and at peak during the requests, and the process's
lifetime peak (seeding included; it builds and writes 10,000 rows at a time).

Run alone: `.venv/bin/python -m bench.api --orders 100000 --requests 400`
(`--profile FILE` writes a pyinstrument profile of the timed requests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.crud.order_list import OrderFilter, page_keys_query, page_parameters
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.nostr.event import parse_event

from .common import (
    CUSTOMERS,
    OrderSpec,
    PeakMemory,
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


async def measure(orders: int, requests: int, profile: Path | None = None) -> dict[str, Any]:
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
            plans = await _plans(runtime.db, shop.merchant.id, customers)
            memory = PeakMemory()
            memory.reset()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                with _profiled(profile):
                    result = await _requests(http, shop.account.inkey, customers, requests)
            result.update(
                rss_before_requests_mb=round(memory.start_mb, 1),
                peak_during_requests_mb=round(memory.peak_mb(), 1),
            )
    result.update(orders=orders, requests=requests, seed_s=round(seed_s, 1), plans=plans,
                  process_peak_mb=round(PeakMemory.lifetime_peak_mb(), 1))  # fmt: skip
    return result


async def _plans(db: Any, merchant_id: str, customers: list[str]) -> dict[str, str]:
    """The index each query of the mix reads its page from (EXPLAIN QUERY PLAN)."""
    plans = {}
    for name, params in queries(customers):
        wanted = _filter_of(params)
        parameters = page_parameters(merchant_id, wanted, 50, int(params.get("offset", 0)))
        found = await db.fetchall(f"EXPLAIN QUERY PLAN {page_keys_query(wanted)}", parameters)
        plans[name] = "; ".join(row[3] for row in found if row[3].startswith("SEARCH orders"))
    return plans


def _filter_of(params: dict[str, Any]) -> OrderFilter:
    flags = {"true": True, "false": False}
    return OrderFilter(
        status=params.get("status"),
        paid=flags.get(params.get("paid", "")),
        shipped=flags.get(params.get("shipped", "")),
        public_key=params.get("pubkey"),
    )


@contextmanager
def _profiled(path: Path | None) -> Iterator[None]:
    """Profile the timed requests with pyinstrument into `path` (text), if asked."""
    if path is None:
        yield
        return
    from pyinstrument import Profiler  # type: ignore[import-not-found,unused-ignore]

    profiler = Profiler(interval=0.0005, async_mode="enabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        path.write_text(profiler.output_text(unicode=False, show_all=False))


SEED_CHUNK = 10_000  # rows built and written at a time, so seeding does not set the peak


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
    seed = _Seed(merchant_id, dict(template), dict(invoice), [dict(e) for e in logged], orders)
    for start in range(1, orders, SEED_CHUNK):
        async with db.transaction() as conn:
            await seed.write(conn, range(start, min(orders, start + SEED_CHUNK)))


@dataclass
class _Seed:
    """Copies of one real order's rows: new ids, customers, times; statuses moved along."""

    merchant_id: str
    order: dict[str, Any]
    invoice: dict[str, Any]
    log: list[dict[str, Any]]
    orders: int
    now: int = field(default_factory=lambda: int(time.time()))
    customers: list[str] = field(
        default_factory=lambda: [customer_key(i).public_key for i in range(CUSTOMERS)]
    )

    async def write(self, conn: Any, numbers: range) -> None:
        rows, invoices, log = [], [], []
        states: dict[str, list[tuple[str]]] = defaultdict(list)
        for i in numbers:
            order_id, payment_hash = f"seed-{i}", f"{i:064x}"
            created = self.now - 100 * DAY + (i * 100 * DAY) // self.orders
            rows.append(tuple({**self.order, "id": order_id, "payment_hash": payment_hash,
                "public_key": self.customers[i % CUSTOMERS], "created_at": created,
                "updated_at": created, "event_id": f"{i:064x}"}.values()))  # fmt: skip
            invoices.append(tuple({**self.invoice, "payment_hash": payment_hash,
                "order_id": order_id, "created_at": created,
                "expires_at": self.now + 3600}.values()))  # fmt: skip
            log += [tuple({**e, "order_id": order_id}.values()) for e in self.log]
            for status in _statuses(i % 10):
                states[status].append((order_id,))
        await _insert_many(conn, "orders", list(self.order), rows)
        await _insert_many(conn, "invoices", list(self.invoice), invoices)
        if self.log:
            await _insert_many(conn, "order_events", list(self.log[0]), log)
        for status, extra in (("paid", "paid = 1"), ("expired", "paid = 0"),
                              ("shipped", "shipped = 1")):  # fmt: skip
            await conn.executemany(
                f"UPDATE orders SET status = '{status}', {extra}"
                f" WHERE merchant_id = '{self.merchant_id}' AND id = ?",
                states[status],
            )


def _statuses(bucket: int) -> list[str]:
    """40 % stay awaiting payment, 30 % paid, 20 % paid then shipped, 10 % expired."""
    if bucket < 4:
        return []
    if bucket == 9:
        return ["expired"]
    return ["paid", "shipped"] if bucket >= 7 else ["paid"]


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
    cpu_started = time.process_time()
    for i in range(count):
        name, params = mix[i % len(mix)]
        start = time.perf_counter()
        response = await http.get("/api/v1/order", params=params, headers=headers)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200, response.text[:300]
        sizes[name] = len(response.json())
        samples.append(elapsed)
        by_query[name].append(elapsed)
    cpu_ms = (time.process_time() - cpu_started) * 1000 / max(count, 1)
    return {
        **percentiles(samples),
        "cpu_ms_per_request": round(cpu_ms, 3),  # the process's: client and app together
        "by_query": {
            name: {**percentiles(values), "rows": sizes[name]} for name, values in by_query.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile here")
    args = parser.parse_args()
    quiet_logs()
    result = asyncio.run(measure(args.orders, args.requests, args.profile))
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
