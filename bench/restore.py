"""Restore: a merchant's whole DM history replayed into an empty database, through the
restore path, and the restored state compared with the original.

1. The original: a shop whose database is snapshotted while it has a catalogue and
   no orders; then N signed NIP-04 orders through the ingest path (timed: this is
   also the ingest figure at size N for the growth table), half of them paid
   (fake wallet `pay` + `receive_payment`), a quarter shipped (`ship_order`), and
   for every second order a customer chat message and a merchant reply
   (`chat.send_message`). About 3.75 DM events per order.
2. The history: every event the restore filters (`restore.history_filters`) match,
   from the original's inbox (customers' orders and chats) and outbox (the
   merchant's payment requests, status messages and replies), newest first as
   `fetch_history` returns them.
3. Timed: into the snapshot (catalogue, no orders), the restore (ingest in restore
   mode, then the parked orders placed oldest first), see below.
4. Orders (status, totals, paid, shipped, invoice, items), stock, reservations and
   customers compared, row for row, with the original.

By default the history is loaded onto a LocalRelay (in a process of its own, not
timed) and `restore.restore_orders` is timed: fetch paged with `until`, verify,
restore. `--from-file` times `restore.restore_pages` on the file's events instead
(read and verified a page at a time), without a relay.

Run alone: `.venv/bin/python -m bench.restore --orders 27000`.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from nostrbazaar.engine.restore import history_filters, restore_pages
from nostrbazaar.nostr import nip04
from nostrbazaar.nostr.event import Event, parse_event, sign_event
from nostrbazaar.nostr.filters import matches_any
from nostrbazaar.services.chat import send_message
from nostrbazaar.services.deps import Deps, Merchants
from nostrbazaar.services.order_admin import ship_order
from nostrbazaar.services.payments import receive_payment
from nostrbazaar.wallets.fake import FakeWallet

from . import ingest as ingest_bench
from .common import (
    CUSTOMERS,
    OrderSpec,
    PeakMemory,
    bare_runtime,
    bench_settings,
    customer_key,
    generate_orders,
    open_shop,
    quiet_logs,
)
from .ingest import RELAY
from .restore_state import compare, order_row, portable, state, state_at

RELAYS = 2
INGEST_FIGURES = ("orders_per_s", "ms_per_order", "p50_ms", "p99_ms", "peak_rss_mb",
                  "orders_per_cpu_s")  # fmt: skip


async def measure(
    orders: int, from_relay: bool = True, profile: Path | None = None, keep: Path | None = None
) -> dict[str, Any]:
    memory = PeakMemory()
    with tempfile.TemporaryDirectory(prefix="nb-bench-restore-") as tmp_name:
        tmp = Path(tmp_name)
        snapshot = tmp / "empty" / "nostrbazaar.sqlite3"
        history = tmp / "history.jsonl"
        async with open_shop(tmp / "original") as shop:
            _snapshot(shop.runtime.settings.database_path, snapshot)
            spec = OrderSpec(
                shop.merchant.public_key, tuple(shop.product_ids), shop.zone_id, "nip04"
            )
            files = generate_orders(spec, orders, tmp / "events")
            ingest = await ingest_bench._run(shop, files, memory, None, "engine")
            activity = await _activity(shop, orders)
            counts = await _write_history(shop, history)
            original = await state(shop.deps.db, shop.merchant.id)
        if keep is not None:
            _keep(keep, snapshot, history, original)
        result = await _restore_elsewhere(snapshot, history, from_relay, profile)
        restored = await state_at(snapshot, result.pop("merchant_id"))
    equal, differences = compare(original, restored)
    result.update(
        orders=orders,
        events=counts["total"],
        history=counts,
        activity=activity,
        equal=equal,
        differences=differences,
        ingest={k: ingest[k] for k in INGEST_FIGURES},
    )
    return result


def _keep(directory: Path, snapshot: Path, history: Path, original: dict[str, Any]) -> None:
    """Save the empty shop, the history and the original's state, to replay them again
    (`--replay-kept DIR`) without building the original each time."""
    directory.mkdir(parents=True, exist_ok=True)
    _snapshot(snapshot, directory / "empty.sqlite3")
    shutil.copyfile(history, directory / "history.jsonl")
    (directory / "original.json").write_text(json.dumps(portable(original)))


async def replay_kept(directory: Path, from_relay: bool, profile: Path | None) -> dict[str, Any]:
    """Restore a kept history into a copy of its empty shop, and compare."""
    with tempfile.TemporaryDirectory(prefix="nb-bench-restore-") as tmp_name:
        snapshot = Path(tmp_name) / "empty" / "nostrbazaar.sqlite3"
        _snapshot(directory / "empty.sqlite3", snapshot)
        history = Path(tmp_name) / "history.jsonl"
        shutil.copyfile(directory / "history.jsonl", history)
        result = await _restore_elsewhere(snapshot, history, from_relay, profile)
        restored = portable(await state_at(snapshot, result.pop("merchant_id")))
    original = json.loads((directory / "original.json").read_text())
    original["orders"] = {k: list(order_row(v)) for k, v in original["orders"].items()}
    equal, differences = compare(original, restored)
    return result | {"events": _count_lines(directory / "history.jsonl"), "equal": equal,
                     "differences": differences}  # fmt: skip


def _snapshot(source: Path, target: Path) -> None:
    """A copy of the database as it is now (committed state, WAL included)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


# ----------------------------------------------------------------- the original's life


async def _activity(shop: Any, orders: int) -> dict[str, int]:
    """Pay half the orders, ship a quarter, and a chat exchange for every second one."""
    deps, merchant = shop.deps, shop.merchant
    rows = await deps.db.fetchall(
        "SELECT o.id, o.public_key, i.bolt11 FROM orders o"
        " JOIN invoices i ON i.payment_hash = o.payment_hash"
        " WHERE o.merchant_id = ? ORDER BY o.created_at, o.id",
        (merchant.id,),
    )
    keys = {key.public_key: key for key in map(customer_key, range(CUSTOMERS))}
    done: Counter[str] = Counter()
    for k, row in enumerate(rows):
        if k % 2 == 0:
            settlement = await deps.wallet.pay(row["bolt11"])
            if await receive_payment(deps, settlement) is not None:
                done["paid"] += 1
            if k % 4 == 0:
                await ship_order(deps, merchant.id, row["id"], "on its way")
                done["shipped"] += 1
        else:
            await _chat(deps, merchant, keys[row["public_key"]], k)
            done["chats"] += 1
    return dict(done)


async def _chat(deps: Deps, merchant: Any, key: Any, k: int) -> None:
    """The customer writes (through ingest), the merchant answers (`send_message`)."""
    text = f"Hello, is order {k} on its way?"
    encrypted = nip04.encrypt(key, merchant.public_key, text)
    event = sign_event(key, 4, encrypted, [["p", merchant.public_key]])
    await ingest_bench.ingest_event(deps, merchant, event, RELAY)
    await send_message(deps, merchant.id, key.public_key, f"Thank you, it leaves tomorrow ({k})")


async def _write_history(shop: Any, path: Path) -> dict[str, int]:
    """Every DM event restore would fetch, newest first, into a JSON-lines file."""
    db, merchant = shop.deps.db, shop.merchant
    filters = history_filters(merchant)
    events: dict[str, dict[str, Any]] = {}
    for row in await db.fetchall(
        "SELECT raw FROM inbox WHERE merchant_id = ? AND verdict <> 'rejected'", (merchant.id,)
    ):
        events.setdefault(json.loads(row["raw"])["id"], json.loads(row["raw"]))
    for row in await db.fetchall("SELECT event FROM outbox WHERE merchant_id = ?", (merchant.id,)):
        raw = json.loads(row["event"])
        events.setdefault(raw["id"], raw)
    kept = [raw for raw in events.values() if matches_any(filters, Event(**raw))]
    kept.sort(key=lambda raw: (-raw["created_at"], raw["id"]))
    counts: Counter[str] = Counter()
    with path.open("w") as out:
        for raw in kept:
            counts[
                "from merchant" if raw["pubkey"] == merchant.public_key else "from customers"
            ] += 1
            out.write(json.dumps(raw, separators=(",", ":")) + "\n")
    return {**counts, "total": len(kept)}


# ----------------------------------------------------------------- the restore


async def _restore_elsewhere(
    snapshot: Path, history: Path, from_relay: bool, profile: Path | None
) -> dict[str, Any]:
    """The restore in a fresh process, so its peak memory is the restore's alone."""
    out = history.with_suffix(".result.json")
    command = [sys.executable, "-m", "bench.restore", "--replay", str(snapshot), str(history),
               "--out", str(out), *([] if from_relay else ["--from-file"]),
               *(["--profile", str(profile)] if profile else [])]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await process.communicate()
    if process.returncode != 0 or not out.exists():
        tail = stderr.decode(errors="replace").strip().splitlines()[-10:]
        raise RuntimeError(f"restore process failed ({process.returncode}): {tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


async def _restore(
    snapshot: Path,
    history: Path,
    memory: PeakMemory,
    from_relay: bool,
    profile: Path | None = None,
) -> dict[str, Any]:
    data_dir = snapshot.parent
    runtime = await bare_runtime(bench_settings(data_dir))
    wallet = FakeWallet(data_dir)
    await wallet.start()
    try:
        deps = Deps.from_runtime(runtime)
        deps.wallet = wallet
        merchant = (await Merchants(runtime.db, runtime.keystore).active())[0]
        deps.merchants = Merchants(runtime.db, runtime.keystore)
        merchant = await deps.merchants.get(merchant.id)
        if from_relay:
            return await _restore_from_relay(deps, merchant, history, memory, profile)
        gc.collect()
        memory.reset()
        profiler = ingest_bench._profiler(profile)
        started, cpu = time.perf_counter(), time.process_time()
        summary = await restore_pages(deps, merchant, _file_pages(history))
        elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        _write_profile(profiler, profile)
        return _figures(summary.events_scanned, elapsed, summary, memory, merchant.id, cpu_s) | {
            "source": "events from the original's inbox and outbox (file), a page at a time "
            "verified as the relay pool does and restored with restore.restore_pages",
        }
    finally:
        await wallet.stop()
        await runtime.db.close()


async def _file_pages(history: Path, size: int = 500) -> AsyncIterator[list[Event]]:
    """The history file a page at a time, each event verified (`parse_event`, as
    `RelayPool.fetch` does to what a relay sends)."""
    with history.open() as lines:
        while page := [parse_event(json.loads(line)) for line in itertools.islice(lines, size)]:
            yield page


def _figures(
    count: int,
    elapsed: float,
    summary: Any,
    memory: PeakMemory,
    merchant_id: str,
    cpu_s: float | None = None,
) -> dict[str, Any]:
    cpu = {} if not cpu_s else {"events_per_cpu_s": round(count / cpu_s, 1)}
    return cpu | {
        "seconds": round(elapsed, 2),
        "events_per_s": round(count / elapsed, 1),
        "ms_per_event": round(elapsed / count * 1000, 4),
        "peak_rss_mb": round(memory.peak_mb(), 1),
        "summary": {k: v for k, v in vars(summary).items() if k != "reasons"},
        "reasons": summary.reasons[:5],
        "merchant_id": merchant_id,
    }


async def _restore_from_relay(
    deps: Deps, merchant: Any, history: Path, memory: PeakMemory, profile: Path | None
) -> dict[str, Any]:
    """Deal the history out to `RELAYS` LocalRelays, each in its own process (not timed),
    then `restore_orders` from them all."""
    from nostrbazaar.engine.restore import restore_orders
    from nostrbazaar.nostr.relay_pool import RelayPool

    from .relay_process import RelayProcess

    started = time.perf_counter()
    async with AsyncExitStack() as stack:
        shares = [stack.enter_async_context(RelayProcess(part)) for part in _deal(history)]
        relays = await asyncio.gather(*shares)
        load_s = time.perf_counter() - started
        loaded = sum(count for _, count in relays)
        pool = RelayPool([url for url, _ in relays], queue_size=100_000)
        await pool.start()
        try:
            gc.collect()
            memory.reset()
            profiler = ingest_bench._profiler(profile)
            started, cpu = time.perf_counter(), time.process_time()
            summary = await restore_orders(deps, pool, merchant.id)
            elapsed, cpu_s = time.perf_counter() - started, time.process_time() - cpu
            _write_profile(profiler, profile)
        finally:
            await pool.close()
    return _figures(loaded, elapsed, summary, memory, merchant.id, cpu_s) | {
        "source": f"{RELAYS} LocalRelays on 127.0.0.1, each in its own process with part of "
        "the history, restore.restore_orders (fetch paged with until, verify, restore)",
        "loaded_on_relay": loaded,
        "fetched": summary.events_scanned,
        "all_fetched": summary.events_scanned == loaded == _count_lines(history),
        "load_s": round(load_s, 2),
    }


def _deal(history: Path) -> list[Path]:
    """The history dealt out line by line into `RELAYS` files: a LocalRelay keeps some
    75,000 events in memory at most, and merchants use several relays anyway."""
    parts = [history.with_suffix(f".relay{n}.jsonl") for n in range(RELAYS)]
    outs = [part.open("w") for part in parts]
    try:
        with history.open() as lines:
            for n, line in enumerate(lines):
                outs[n % RELAYS].write(line)
    finally:
        for out in outs:
            out.close()
    return parts


def _write_profile(profiler: Any, profile: Path | None) -> None:
    if profiler is not None and profile is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True, color=False))


def _count_lines(path: Path) -> int:
    with path.open() as lines:
        return sum(1 for _ in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=27_000)
    parser.add_argument(
        "--from-file",
        dest="from_relay",
        action="store_false",
        help="restore from the history file instead of a LocalRelay",
    )
    parser.add_argument(
        "--from-relay",
        dest="from_relay",
        action="store_true",
        help="restore from a LocalRelay (the default)",
    )
    parser.add_argument("--keep", type=Path, help="keep the empty shop and history here")
    parser.add_argument("--replay-kept", type=Path, help="restore a history kept with --keep")
    parser.add_argument("--replay", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--profile", type=Path, help="pyinstrument profile of the restore")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    quiet_logs()
    if args.replay:
        snapshot, history = args.replay
        work = _restore(snapshot, history, PeakMemory(), args.from_relay, args.profile)
        result = asyncio.run(work)
    elif args.replay_kept:
        result = asyncio.run(replay_kept(args.replay_kept, args.from_relay, args.profile))
    else:
        work = measure(args.orders, args.from_relay, args.profile, args.keep)
        result = asyncio.run(work)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
