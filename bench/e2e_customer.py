"""The customer process of `bench/end_to_end.py` (run as `python -m bench.end_to_end
--customer ...`): nostr-sdk clients for 1,000 customers on a few connections, each
subscribed to the DMs addressed to its customers, publishing pre-signed orders on a
fixed schedule and timing each one until its payment request arrives."""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import nostr_sdk

from .common import CUSTOMERS, customer_key, percentiles

PREFIX = "e2e"


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
