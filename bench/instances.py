"""Several instances on one PostgreSQL database: NIP-04 ingest by two nostrbazaar
processes sharing the database, against one process, in the same run.

Both instances subscribe to the same relays, so each is handed every order event
(the relay pool's way in: verify, then the engine's subscription handler and its
ingest workers); the inbox's UNIQUE id makes one of them take each event and the
other find it taken. Each instance is a process of its own (its own interpreter,
pool of connections and fake wallet), started before the clock runs and released
at once; the figure is the orders placed over the wall time from the first start
to the last finish, and the CPU of the instances (and of the server) per order.

The set-up (not timed): a throwaway database (`bench.pg_server`), a fresh schema per
measurement with the shop made by the real services, the orders signed into files.

Run alone: `.venv/bin/python -m bench.instances --orders 4000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .common import REPO, OrderSpec, generate_orders, open_shop, percentiles
from .instance_worker import ready_file
from .pg_server import ServerCpu, new_schema, stopped_by_sigterm, throwaway_database

PY = sys.executable


async def measure(orders: int, counts: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """One measurement per instance count, each on a fresh schema of one database."""
    results: dict[str, Any] = {}
    async with throwaway_database() as url:
        for count in counts:
            results[str(count)] = await _measure(await new_schema(url), orders, count)
    one, two = results.get("1", {}), results.get("2", {})
    summary = {f"{key}_{n}": results[n].get(key) for n in results for key in _SHOWN}
    if one.get("orders_per_s") and two.get("orders_per_s"):
        summary["two_over_one"] = round(two["orders_per_s"] / one["orders_per_s"], 3)
    return {"orders": orders, **summary, "instances": results}


_SHOWN = ("orders_per_s", "cpu_ms_per_order", "server_cpu_ms_per_order", "p99_ms", "complete")


async def _measure(url: str, orders: int, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="nb-bench-instances-") as tmp:
        base = Path(tmp)
        async with open_shop(base / "setup", database_url=url) as shop:
            spec = OrderSpec(
                shop.merchant.public_key, tuple(shop.product_ids), shop.zone_id, "nip04"
            )
            generate_orders(spec, orders, base / "events")
            merchant_id = shop.merchant.id
        async with ServerCpu() as server:  # sampled while the instances run
            runs = await asyncio.to_thread(_run_instances, url, merchant_id, base, count)
        result = _combine(runs, orders)
        if server.seconds is not None:
            result["server_cpu_ms_per_order"] = round(server.seconds / orders * 1000, 3)
        result.update(await _check(url, merchant_id, orders))
    return {"instances": count, **result}


def _run_instances(url: str, merchant_id: str, base: Path, count: int) -> list[dict[str, Any]]:
    """Start `count` worker processes, wait until each is ready, release them together."""
    go = base / "go"
    outs = [base / f"instance-{n}.json" for n in range(count)]
    procs = [
        subprocess.Popen(_worker_command(url, merchant_id, base, n, go, out), cwd=REPO)
        for n, out in enumerate(outs)
    ]
    try:
        while not all(ready_file(out).exists() for out in outs):
            if any(proc.poll() is not None for proc in procs):
                raise RuntimeError("an instance ended before it was ready")
            time.sleep(0.05)
        go.touch()
        for proc in procs:
            proc.wait(timeout=3600)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    return [json.loads(out.read_text()) for out in outs]


def _worker_command(
    url: str, merchant_id: str, base: Path, n: int, go: Path, out: Path
) -> list[str]:
    return [
        PY, "-m", "bench.instance_worker", "--database-url", url, "--merchant-id", merchant_id,
        "--events", str(base / "events"), "--data-dir", str(base / f"instance-{n}"),
        "--go", str(go), "--out", str(out),
    ]  # fmt: skip


def _combine(runs: list[dict[str, Any]], orders: int) -> dict[str, Any]:
    wall = max(r["ended"] for r in runs) - min(r["started"] for r in runs)
    cpu = sum(r["cpu_s"] for r in runs)
    verdicts: Counter[str] = Counter()
    for run in runs:
        verdicts.update(run["verdicts"])
    latencies = [x for r in runs for x in r["latencies"]]
    return {
        "seconds": round(wall, 3),
        "orders_per_s": round(orders / wall, 1),
        "cpu_ms_per_order": round(cpu / orders * 1000, 3),
        **percentiles(latencies),
        "verdicts": dict(verdicts),
        "per_instance": [{"verdicts": r["verdicts"], "cpu_s": round(r["cpu_s"], 3)} for r in runs],
    }


async def _check(url: str, merchant_id: str, orders: int) -> dict[str, Any]:
    """Every order placed once: awaiting payment with an invoice, one payment request."""
    from nostrbazaar.storage.engines import open_database

    db = open_database(url, Path("unused"))
    await db.connect()
    try:
        row = await db.fetchone(
            "SELECT (SELECT COUNT(*) FROM orders WHERE merchant_id = ?"
            " AND status = 'awaiting_payment' AND payment_hash IS NOT NULL),"
            " (SELECT COUNT(*) FROM outbox WHERE merchant_id = ? AND purpose = 'order:type1')",
            (merchant_id, merchant_id),
        )
    finally:
        await db.close()
    assert row is not None
    return {
        "orders_awaiting_payment": row[0],
        "payment_requests_in_outbox": row[1],
        "complete": row[0] == orders and row[1] == orders,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args()
    from .common import quiet_logs

    quiet_logs()
    text = json.dumps(asyncio.run(stopped_by_sigterm(measure(args.orders))), indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
