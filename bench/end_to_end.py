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
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import nostr_sdk
from nostrbazaar.embedded_relay import free_port
from nostrbazaar.runtime import Runtime

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
    reply_key,
)
from .e2e_trace import Tracer
from .relay_nodelay import keep_nodelay

PREFIX = "e2e"
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


# ----------------------------------------------------------------- the customer side


async def customer_main(args: argparse.Namespace) -> dict[str, Any]:
    lines = [line for path in args.events for line in Path(path).read_text().splitlines()]
    keys = {}
    for index in range(min(CUSTOMERS, len(lines))):
        key = customer_key(index)
        keys[key.public_key] = nostr_sdk.SecretKey.parse(key.hex)
    merchant = nostr_sdk.PublicKey.parse(args.merchant)
    clients = [await _connect(args.relay) for _ in range(args.connections)]
    owner = {pubkey: clients[i % len(clients)] for i, pubkey in enumerate(keys)}
    senders = clients
    if args.customer_mode == "baseline":
        senders = [await _connect(args.relay) for _ in range(args.connections)]
    sent: dict[str, float] = {}
    latencies: dict[str, float] = {}
    wall: dict[str, dict[str, float]] = {}
    refused: list[str] = []
    readers = []
    for client in clients:
        mine = [nostr_sdk.PublicKey.parse(k) for k, c in owner.items() if c is client]
        wanted = nostr_sdk.Filter().kinds([nostr_sdk.Kind(4)]).pubkeys(mine).limit(0)
        stream = client.notifications()
        await client.subscribe(nostr_sdk.ReqTarget.auto([wanted]))
        work = _read(stream, keys, merchant, sent, latencies, refused, wall)
        readers.append(asyncio.create_task(work))

    def sender_of(index: int, event: Any) -> Any:
        if senders is clients:
            return owner.get(event.author().to_hex(), clients[0])
        return senders[index % len(senders)]

    send_errors = await _publish(sender_of, lines, args.rate, sent, wall)
    deadline = time.perf_counter() + args.grace
    while len(latencies) + len(refused) < len(sent) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    for reader in readers:
        reader.cancel()
    missing = [order for order in sent if order not in latencies and order not in refused]
    on_relay = await _on_relay(clients[0], keys, merchant, missing, lines) if missing else 0
    for client in {*clients, *senders}:
        await client.shutdown()
    samples = list(latencies.values())
    return {
        "client": "nostr-sdk Client " + getattr(nostr_sdk, "__version__", "0.45"),
        "customer_connections": len(clients),
        "rate_per_s": args.rate,
        "sent": len(sent),
        "received": len(latencies),
        "refused": len(refused),
        "lost": len(missing),
        "lost_but_on_relay": on_relay,
        "send_errors": send_errors,
        **percentiles(samples),
        "wall_times": wall,
    }


async def _connect(url: str) -> Any:
    client = nostr_sdk.Client()
    await client.add_relay(nostr_sdk.RelayUrl.parse(url))
    await client.connect()
    return client


async def _on_relay(
    client: Any, keys: dict[str, Any], merchant: Any, missing: list[str], lines: list[str]
) -> int:
    """How many of the orders never answered live have their payment request on the relay
    (published, but missed by the customer's connection: a LocalRelay drop, not the engine)."""
    by_order = {f"{PREFIX}-{i}": json.loads(line)["pubkey"] for i, line in enumerate(lines)}
    customers = sorted({by_order[order] for order in missing if order in by_order})
    found: set[str] = set()
    for start in range(0, len(customers), 50):  # the LocalRelay answers 500 events a query
        wanted = (
            nostr_sdk.Filter()
            .kinds([nostr_sdk.Kind(4)])
            .author(merchant)
            .pubkeys([nostr_sdk.PublicKey.parse(c) for c in customers[start : start + 50]])
        )
        try:
            events = await client.fetch_events(
                nostr_sdk.ReqTarget.auto([wanted]), timeout=timedelta(seconds=10)
            )
        except Exception:
            continue
        for event in events.to_vec() if hasattr(events, "to_vec") else events:
            found |= _order_ids(event, keys)
    return len(found & set(missing))


def _order_ids(event: Any, keys: dict[str, Any]) -> set[str]:
    recipient = next((v[1] for v in map(_tag_values, event.tags()) if v[0] == "p"), None)
    secret = keys.get(recipient or "")
    if secret is None:
        return set()
    try:
        message = json.loads(nostr_sdk.nip04_decrypt(secret, event.author(), event.content()))
    except Exception:
        return set()
    return {message["id"]} if isinstance(message, dict) and "id" in message else set()


async def _publish(
    sender_of: Callable[[int, Any], Any],
    lines: list[str],
    rate: float,
    sent: dict[str, float],
    wall: dict[str, dict[str, float]],
) -> int:
    """Send each pre-signed order at its slot on a fixed schedule; each send its own task."""
    errors = 0
    tasks: list[asyncio.Task[Any]] = []  # all kept: each one's error is counted
    loop_start = time.perf_counter() + 0.5
    for index, line in enumerate(lines):
        slot = loop_start + index / rate
        delay = slot - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        event = nostr_sdk.Event.from_json(line)
        order_id = f"{PREFIX}-{index}"
        sent[order_id] = time.perf_counter()
        stamps = wall[order_id] = {"published": time.time()}
        tasks.append(asyncio.create_task(_send(sender_of(index, event), event, stamps)))
    results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) or not getattr(result, "success", True):
            errors += 1
    return errors


async def _read(
    stream: Any,
    keys: dict[str, Any],
    merchant: Any,
    sent: dict[str, float],
    latencies: dict[str, float],
    refused: list[str],
    wall: dict[str, dict[str, float]],
) -> None:
    """Payment requests as they arrive: note the time, then decrypt to find the order."""
    while True:
        note = await stream.next()
        if note is None:
            return
        if not note.is_new_event():
            continue
        arrived, arrived_wall = time.perf_counter(), time.time()
        event = note.event
        recipient = next((v[1] for v in map(_tag_values, event.tags()) if v[0] == "p"), None)
        secret = keys.get(recipient or "")
        if secret is None:
            continue
        try:
            text = nostr_sdk.nip04_decrypt(secret, event.author(), event.content())
            message = json.loads(text)
        except Exception:
            continue
        order_id = message.get("id") if isinstance(message, dict) else None
        if order_id not in sent or order_id in latencies:
            continue
        if message.get("type", 1) == 0 or message.get("payment_options"):
            latencies[order_id] = arrived - sent[order_id]
            wall[order_id]["received"] = arrived_wall
        else:
            refused.append(order_id)


async def _send(client: Any, event: Any, stamps: dict[str, float]) -> Any:
    """`send_event`, noting when it returned (the relay's OK reached the customer)."""
    try:
        return await client.send_event(event)
    finally:
        stamps["accepted"] = time.time()


def _tag_values(tag: Any) -> list[str]:
    values: list[str] = tag.to_vec()
    return values if len(values) > 1 else ["", ""]


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
