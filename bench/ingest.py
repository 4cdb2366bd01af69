"""Ingest throughput: signed orders through the whole pipeline in-process, no relay.

Each wire event goes the way the relay pool sends it: JSON frame parsed, event
verified (`parse_event`, as `RelayPool._verify` does), then the handler the order
engine subscribes with (`OrderEngine._handler`: a bounded queue read by the
engine's ingest workers, each calling `ingest.ingest_event`): inbox, decrypt or
unwrap, parse, price, reserve stock, invoice from the fake wallet, payment
request encrypted, signed and in the outbox, committed. `--mode direct` calls
`ingest_event` one event at a time instead (one worker, no queue).

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
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nostrbazaar.engine import background
from nostrbazaar.engine.ingest import ingest_event
from nostrbazaar.nostr.event import parse_event
from nostrbazaar.nostr.relay_pool import RelayPool

from .common import (
    CUSTOMERS,
    OrderSpec,
    PeakMemory,
    generate_orders,
    open_shop,
    percentiles,
)
from .sql_counter import SqlCounter

RELAY = "bench://in-process"


async def measure(
    orders: int,
    transport: str,
    profile: Path | None = None,
    count_sql: bool = False,
    mode: str = "engine",
    database_url: str | None = None,
) -> dict[str, Any]:
    memory = PeakMemory()
    with tempfile.TemporaryDirectory(prefix="nb-bench-ingest-") as tmp:
        async with open_shop(Path(tmp) / "data", database_url=database_url) as shop:
            spec = OrderSpec(
                shop.merchant.public_key, tuple(shop.product_ids), shop.zone_id, transport
            )
            started = time.perf_counter()
            files = generate_orders(spec, orders, Path(tmp) / "events")
            generation_s = time.perf_counter() - started
            if count_sql:
                counter = SqlCounter()
                await counter.trace(shop.deps.db)
                with counter:
                    result = await _run(shop, files, memory, profile, mode)
                result["sql"] = counter.per(orders)
            else:
                result = await _run(shop, files, memory, profile, mode)
            result.update(await _check(shop, orders, transport))
    result.update(
        orders=orders,
        transport=transport,
        customers=min(CUSTOMERS, orders),
        generation_s=round(generation_s, 2),
    )
    return result


async def _run(
    shop: Any, files: list[Path], memory: PeakMemory, profile: Path | None, mode: str
) -> dict[str, Any]:
    """Feed every event through verification and the ingest handler; time each one."""
    latencies: list[float] = []
    verdicts: Counter[str] = Counter()
    feed = _engine_feed if mode == "engine" else _direct_feed
    profiler = _profiler(profile)
    gc.collect()
    memory.reset()
    wall, cpu = time.perf_counter(), time.process_time()
    await feed(shop, files, latencies, verdicts)
    elapsed, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    if profiler is not None:
        profiler.stop()
        assert profile is not None
        profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return {
        "mode": mode,
        "seconds": round(elapsed, 3),
        "orders_per_s": round(len(latencies) / elapsed, 1),
        "ms_per_order": round(elapsed / len(latencies) * 1000, 3),
        # CPU of this process (all its threads): what the run cost whatever else ran
        "cpu_ms_per_order": round(cpu_s / len(latencies) * 1000, 3),
        "orders_per_cpu_s": round(len(latencies) / cpu_s, 1),
        **percentiles(latencies),
        "peak_rss_mb": round(memory.peak_mb(), 1),
        "rss_before_mb": round(memory.start_mb, 1),
        "verdicts": dict(verdicts),
    }


def _lines(files: list[Path]) -> Iterator[str]:
    for path in files:
        with path.open() as lines:
            yield from lines


async def _direct_feed(
    shop: Any, files: list[Path], latencies: list[float], verdicts: Counter[str]
) -> None:
    """One event at a time straight into `ingest_event` (what one ingest worker does)."""
    deps, merchant, clock = shop.deps, shop.merchant, time.perf_counter
    for line in _lines(files):
        start = clock()
        event = parse_event(json.loads(line))  # what RelayPool._verify does
        verdict = await ingest_event(deps, merchant, event, RELAY)
        latencies.append(clock() - start)
        verdicts[verdict.verdict] += 1


async def _engine_feed(
    shop: Any, files: list[Path], latencies: list[float], verdicts: Counter[str]
) -> None:
    await feed_engine(shop.deps, shop.merchant, _lines(files), latencies, verdicts, RELAY)


async def feed_engine(
    deps: Any,
    merchant: Any,
    lines: Iterable[str],
    latencies: list[float],
    verdicts: Counter[str],
    relay: str,
) -> None:
    """The relay pool's way in: verify, then the engine's subscription handler, whose
    bounded queue feeds the engine's ingest workers (`OrderEngine._worker`).

    Latency per order is verification plus the time of the batch it was ingested in
    (`ingest_batch`, waiting for the write lock included); the queue wait is not
    counted, as the feed keeps the queue full on purpose to measure throughput.
    """
    clock = time.perf_counter
    engine = background.OrderEngine(deps, RelayPool([]))  # the pool is never started
    verify_s: dict[str, float] = {}
    original = background.ingest_batch

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        found = await original(*args, **kwargs)
        spent = clock() - start
        for (event, _), verdict in zip(args[2], found, strict=True):
            latencies.append(spent + verify_s.pop(event.id, 0.0))
            verdicts[verdict.verdict] += 1
        return found

    background.ingest_batch = timed  # type: ignore[assignment]
    workers = [asyncio.create_task(engine._worker()) for _ in range(background.WORKERS)]
    try:
        handle = engine._handler(merchant)
        for line in lines:
            start = clock()
            event = parse_event(json.loads(line))  # what RelayPool._verify does
            verify_s[event.id] = clock() - start
            await handle(event, relay)
        await engine.drain()
    finally:
        background.ingest_batch = original  # type: ignore[assignment]
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


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
    per_order = 1 if transport == "nip04" else 2  # NIP-17: the customer's wrap and our copy
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
    parser.add_argument("--transport", choices=("nip04", "nip17", "gamma"), default="nip04")
    parser.add_argument(
        "--mode",
        choices=("engine", "direct"),
        default="engine",
        help="engine: the subscription handler and the engine's workers (default); "
        "direct: ingest_event one event at a time",
    )
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile here")
    parser.add_argument("--count-sql", action="store_true", help="SQL round trips per order")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args()
    from .common import quiet_logs

    quiet_logs()
    work = measure(args.orders, args.transport, args.profile, args.count_sql, args.mode)
    result = asyncio.run(work)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
