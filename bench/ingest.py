"""Ingest throughput: signed orders through the whole pipeline in-process, no relay.

Each wire event goes the way the relay pool sends it: JSON frame parsed, event
verified (`parse_event`, as `RelayPool._verify` does), then the ingest handler
(`ingest.ingest_event`): inbox, decrypt or unwrap, parse, price, reserve stock,
invoice from the fake wallet, payment request encrypted, signed and in the
outbox, committed. One at a time, as the pool's single dispatcher delivers them.

The orders are signed beforehand in worker processes into files (not timed).

Run alone: `.venv/bin/python -m bench.ingest --orders 10000 --transport nip04`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from nostrbazaar.ingest import ingest_event
from nostrbazaar.nostr.event import parse_event

from .common import CUSTOMERS, OrderSpec, PeakMemory, generate_orders, open_shop, percentiles

RELAY = "bench://in-process"


async def measure(orders: int, transport: str, profile: Path | None = None) -> dict[str, Any]:
    memory = PeakMemory()
    with tempfile.TemporaryDirectory(prefix="nb-bench-ingest-") as tmp:
        async with open_shop(Path(tmp) / "data") as shop:
            spec = OrderSpec(
                shop.merchant.public_key, tuple(shop.product_ids), shop.zone_id, transport
            )
            started = time.perf_counter()
            files = generate_orders(spec, orders, Path(tmp) / "events")
            generation_s = time.perf_counter() - started
            result = await _run(shop, files, memory, profile)
            result.update(await _check(shop, orders, transport))
    result.update(
        orders=orders,
        transport=transport,
        customers=min(CUSTOMERS, orders),
        generation_s=round(generation_s, 2),
    )
    return result


async def _run(shop: Any, files: list[Path], memory: PeakMemory, profile: Path | None) -> dict:
    deps, merchant = shop.deps, shop.merchant
    latencies: list[float] = []
    verdicts: Counter[str] = Counter()
    profiler = _profiler(profile)
    gc.collect()
    memory.reset()
    clock = time.perf_counter
    wall = clock()
    for path in files:
        with path.open() as lines:
            for line in lines:
                start = clock()
                event = parse_event(json.loads(line))  # what RelayPool._verify does
                verdict = await ingest_event(deps, merchant, event, RELAY)
                latencies.append(clock() - start)
                verdicts[verdict.verdict] += 1
    elapsed = clock() - wall
    if profiler is not None:
        profiler.stop()
        assert profile is not None
        profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return {
        "seconds": round(elapsed, 3),
        "orders_per_s": round(len(latencies) / elapsed, 1),
        "ms_per_order": round(elapsed / len(latencies) * 1000, 3),
        **percentiles(latencies),
        "peak_rss_mb": round(memory.peak_mb(), 1),
        "rss_before_mb": round(memory.start_mb, 1),
        "verdicts": dict(verdicts),
    }


def _profiler(profile: Path | None) -> Any:
    if profile is None:
        return None
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    return profiler


async def _check(shop: Any, orders: int, transport: str) -> dict[str, Any]:
    """Every order awaiting payment with its invoice, and its payment request in the outbox."""
    db, merchant_id = shop.deps.db, shop.merchant.id
    awaiting = await db.fetchone(
        "SELECT COUNT(*) AS n FROM orders WHERE merchant_id = ? AND status = 'awaiting_payment'"
        " AND payment_hash IS NOT NULL",
        (merchant_id,),
    )
    requests = await db.fetchone(
        "SELECT COUNT(*) AS n FROM outbox WHERE merchant_id = ? AND purpose = 'order:type1'",
        (merchant_id,),
    )
    per_order = 2 if transport == "nip17" else 1  # NIP-17: the customer's wrap and our copy
    assert awaiting is not None and requests is not None
    complete = awaiting["n"] == orders and requests["n"] == orders * per_order
    return {
        "orders_awaiting_payment": awaiting["n"],
        "payment_requests_in_outbox": requests["n"],
        "complete": complete,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--transport", choices=("nip04", "nip17"), default="nip04")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile here")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args()
    from .common import quiet_logs

    quiet_logs()
    result = asyncio.run(measure(args.orders, args.transport, args.profile))
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
