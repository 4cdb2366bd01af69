"""End to end through a real relay on 127.0.0.1: a customer's publish to the customer
receiving the payment request.

Three parts, two processes:
- this process: nostr-sdk's LocalRelay (write rate limit raised: its default
  refuses bursts) and the merchant, a full `Runtime` (relay pool, order engine
  with its ingest workers and outbox publisher, fake wallet), on 127.0.0.1;
- a customer process (`--customer`): nostr-sdk `Client`s for 1,000 customer keys
  on 4 connections (the LocalRelay closes a connection after about 6,000 messages
  sent without a 1 s pause: one connection for 6,000 orders was cut at the end),
  each subscribed to kind 4 addressed to its customers, publishing pre-signed
  NIP-04 orders on a fixed schedule (`--rate` per second for `--duration`
  seconds) and timing each order from just before `send_event` to the arrival of
  the merchant's payment request for it (decrypted to match the order id).

The relay's sockets get TCP_NODELAY (`relay_nodelay.py`): the LocalRelay leaves
Nagle on, so it holds the payment request until the customer acknowledges the OK
it sent just before, up to 40 ms, which nothing on the merchant's side can change
(relays on Go's net package, for one, have TCP_NODELAY by default).
`--relay-nagle` measures the relay as shipped.

The orders are signed before the run (not timed). An order counts as lost when
no payment request came within `--grace` seconds after the last publish.
`--baseline` measures the relay and clients alone: other clients send each
customer a DM directly at the same rate (what the merchant adds is the rest).
`--trace` splits the latency into stages (`e2e_trace.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import nostr_sdk
from nostrbazaar.engine.embedded_relay import free_port
from nostrbazaar.engine.runtime import Runtime

from .common import (
    OrderSpec,
    PeakMemory,
    bench_settings,
    fill_shop,
    generate_orders,
    quiet_logs,
    reply_key,
)
from .e2e_customer import PREFIX, customer_main
from .e2e_trace import Tracer
from .relay_nodelay import keep_nodelay

# The 1,000 customers' connections to the relay: several, as separate people would have,
# and each under the LocalRelay's cap (~6,000 messages without a 1 s pause, then closed).
CUSTOMER_CONNECTIONS = 4


class BenchRelay:
    """nostr-sdk's LocalRelay on 127.0.0.1 with a write rate limit no burst reaches."""

    def __init__(self) -> None:
        self.port = free_port()
        self._relay: Any = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> str:
        builder = nostr_sdk.LocalRelayBuilder().addr("127.0.0.1").port(self.port)
        limit = nostr_sdk.RateLimit(max_reqs=10_000, notes_per_minute=10_000_000)
        self._relay = builder.rate_limit(limit).max_connections(10_000).build()
        await self._relay.run()
        return self.url

    async def stop(self) -> None:
        if self._relay is not None:
            self._relay.shutdown()
            self._relay = None


# ----------------------------------------------------------------- the merchant side


async def measure(
    rate: float,
    duration: float,
    grace: float,
    baseline: bool = False,
    trace: bool = False,
    relay_nodelay: bool = True,
) -> dict[str, Any]:
    count = max(1, int(rate * duration))
    relay = BenchRelay()
    url = await relay.start()
    nodelay = asyncio.create_task(keep_nodelay(relay.port)) if relay_nodelay else None
    memory = PeakMemory()
    try:
        with tempfile.TemporaryDirectory(prefix="nb-bench-e2e-") as tmp:
            if baseline:
                result = await _baseline(url, rate, count, grace, Path(tmp))
                result.pop("wall_times", None)
                return result
            tracer = Tracer() if trace else None
            if tracer is not None:
                tracer.install()
            try:
                result = await _with_merchant(url, rate, count, grace, Path(tmp), memory, tracer)
            finally:
                if tracer is not None:
                    tracer.uninstall()
            if tracer is not None:
                result["stages"] = tracer.stages(result.pop("wall_times"))
            return result
    finally:
        if nodelay is not None:
            nodelay.cancel()
        await relay.stop()


async def _with_merchant(
    url: str,
    rate: float,
    count: int,
    grace: float,
    tmp: Path,
    memory: PeakMemory,
    tracer: Tracer | None = None,
) -> dict[str, Any]:
    runtime = Runtime(bench_settings(tmp / "data", [url]))
    await runtime.start()
    try:
        shop = await fill_shop(runtime, runtime.wallet, tmp / "data")
        await runtime.engine.refresh()  # subscribe now, not at the next 30 s refresh
        spec = OrderSpec(
            shop.merchant.public_key, tuple(shop.product_ids), shop.zone_id, "nip04", PREFIX
        )
        files = generate_orders(spec, count, tmp / "events")
        await asyncio.sleep(1.0)  # the pool's subscription reaches the relay
        memory.reset()
        result = await _customers(url, shop.merchant.public_key, files, rate, grace)
        if tracer is None:
            result.pop("wall_times", None)
        result["merchant_peak_rss_mb"] = round(memory.peak_mb(), 1)
        row = await runtime.db.fetchone(
            "SELECT COUNT(*) AS n FROM orders WHERE merchant_id = ? AND status = ?",
            (shop.merchant.id, "awaiting_payment"),
        )
        result["orders_in_database"] = row["n"] if row else 0
        result["payment_requests_in_outbox"] = await _outbox(runtime.db, shop.merchant.id)
        return result
    finally:
        await runtime.stop()


async def _outbox(db: Any, merchant_id: str) -> dict[str, Any]:
    """What became of the payment requests: sent, pending, failed, and how many needed
    more than one attempt (a lost order is then the relay's or the customer's doing)."""
    rows = await db.fetchall(
        "SELECT status, attempts > 1 AS retried, COUNT(*) AS n, MIN(last_error) AS error"
        " FROM outbox WHERE merchant_id = ? AND purpose = 'order:type1'"
        " GROUP BY status, attempts > 1",
        (merchant_id,),
    )
    return {
        f"{row['status']}{' after retries' if row['retried'] else ''}": row["n"] for row in rows
    } | {"errors": sorted({row["error"] for row in rows if row["error"]})[:3]}


async def _customers(
    url: str, merchant: str, files: list[Path], rate: float, grace: float, mode: str = "orders"
) -> dict[str, Any]:
    """Run the customer process and wait for it without blocking this event loop."""
    out = files[0].parent / "customers.json"
    command = [
        sys.executable, "-m", "bench.end_to_end", "--customer", "--relay", url,
        "--merchant", merchant, "--rate", str(rate), "--grace", str(grace),
        "--customer-mode", mode, "--connections", str(CUSTOMER_CONNECTIONS),
        "--out", str(out), "--events", *map(str, files),
    ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0 or not out.exists():
        tail = stderr.decode(errors="replace").strip().splitlines()[-10:]
        raise RuntimeError(f"customer process failed ({process.returncode}): {tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def _baseline(url: str, rate: float, count: int, grace: float, tmp: Path) -> dict[str, Any]:
    """The relay and the clients alone: DMs sent straight to the customers, no merchant."""
    sender = reply_key()
    spec = OrderSpec(sender.public_key, ("p1", "p2"), "zone", "reply", PREFIX)
    files = generate_orders(spec, count, tmp / "events")
    return await _customers(url, sender.public_key, files, rate, grace, mode="baseline")


# ----------------------------------------------------------------- command line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=100.0, help="orders per second")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of publishing")
    parser.add_argument("--grace", type=float, default=20.0, help="seconds to wait at the end")
    parser.add_argument("--baseline", action="store_true", help="relay and clients only")
    parser.add_argument("--trace", action="store_true", help="latency by stage")
    parser.add_argument(
        "--relay-nagle",
        action="store_true",
        help="leave the LocalRelay's sockets as shipped (Nagle on: up to 40 ms a reply)",
    )
    parser.add_argument("--out", type=Path)
    parser.add_argument("--customer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--customer-mode", default="orders", help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--relay", help=argparse.SUPPRESS)
    parser.add_argument("--merchant", help=argparse.SUPPRESS)
    parser.add_argument("--events", nargs="*", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    quiet_logs()
    if args.customer:
        result = asyncio.run(customer_main(args))
    else:
        work = measure(
            args.rate, args.duration, args.grace, args.baseline, args.trace, not args.relay_nagle
        )
        result = asyncio.run(work)
        result.update(
            duration_s=args.duration, baseline=args.baseline, relay_nodelay=not args.relay_nagle
        )
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
