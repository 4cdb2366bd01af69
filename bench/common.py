"""Shared set-up for the benchmarks: a shop built through the real services, customers,
signed order events, percentiles, peak memory, and the machine/commit record.

Everything a benchmark times goes through the engine's own code; this module only
prepares inputs (not timed) and measures.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from loguru import logger
from nostrbazaar.catalogue_models import ProductCreate, StallBody, ZoneCreate
from nostrbazaar.config import Settings
from nostrbazaar.engine.runtime import Runtime
from nostrbazaar.migrations import run_migrations
from nostrbazaar.models import MerchantCreate
from nostrbazaar.nostr import nip04, nip17
from nostrbazaar.nostr.event import sign_event
from nostrbazaar.nostr.keys import PrivateKey
from nostrbazaar.orders.rates import FixedRates
from nostrbazaar.services.accounts import create_merchant, new_account
from nostrbazaar.services.bus import Bus
from nostrbazaar.services.catalogue import create_stall, create_zone
from nostrbazaar.services.catalogue_products import create_product
from nostrbazaar.services.deps import Deps, Merchant, Merchants
from nostrbazaar.storage.engines import open_database
from nostrbazaar.storage.keystore import KeyStore
from nostrbazaar.wallets.fake import FakeWallet

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
CUSTOMERS = 1000
PRODUCTS = 5
STOCK = 10**9  # the most the catalogue accepts: no order is refused for stock
NO_FLOOD_LIMIT = 10**9  # every customer places ~10 open orders; the default limit is 5


def quiet_logs() -> None:
    """The engine logs at INFO per settlement/merchant; keep the benchmark's output clean."""
    logger.remove()
    logger.add(sys.stderr, level="ERROR")


# ----------------------------------------------------------------- the shop


@dataclass
class Shop:
    """A merchant with a zone, a stall and products, and the engine's dependencies."""

    data_dir: Path
    runtime: Runtime
    deps: Deps
    merchant: Merchant
    zone_id: str
    stall_id: str
    product_ids: list[str]
    account: Any = None  # models.Account: its keys for the HTTP API


def bench_settings(
    data_dir: Path, relays: Sequence[str] = (), database_url: str | None = None
) -> Settings:
    """The bench shop's settings; `database_url` None: the SQLite file in `data_dir`."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        relays=tuple(relays) or ("ws://127.0.0.1:9",),
        secret="bench-secret",
        fiat_rates={"USD": Decimal("1600")},
        max_open_orders_per_customer=NO_FLOOD_LIMIT,
    )


async def bare_runtime(settings: Settings) -> Runtime:
    """A Runtime with its database and key store but no background tasks or relays:
    in-process benchmarks measure the pipeline, not a publisher running beside it."""
    runtime = Runtime(settings)
    runtime.db = open_database(settings.database_url, settings.database_path)
    await runtime.db.connect()
    await run_migrations(runtime.db)
    runtime.keystore = KeyStore(settings.secret or "bench-secret")
    runtime.relays = settings.relays
    runtime.bus = Bus()
    return runtime


@asynccontextmanager
async def open_shop(
    data_dir: Path, relays: Sequence[str] = (), database_url: str | None = None
) -> AsyncIterator[Shop]:
    """A fresh database with one merchant and its catalogue, made by the real services
    (`database_url`: an empty PostgreSQL database instead of a SQLite file in `data_dir`)."""
    settings = bench_settings(data_dir, relays, database_url)
    runtime = await bare_runtime(settings)
    wallet = FakeWallet(data_dir)
    await wallet.start()
    runtime.wallet = wallet
    try:
        shop = await fill_shop(runtime, wallet, data_dir)
        yield shop
    finally:
        await wallet.stop()
        await runtime.db.close()


async def fill_shop(runtime: Runtime, wallet: Any, data_dir: Path) -> Shop:
    """Account, merchant, zone, stall and products through the real services."""
    from nostrbazaar.crud.merchants import get_merchant

    account = await new_account(runtime.db, "bench")
    created = await create_merchant(
        runtime, account.id, MerchantCreate.model_validate({"config": {"name": "Bench shop"}})
    )
    row = await get_merchant(runtime.db, created.id)
    assert row is not None
    zone = await create_zone(
        runtime,
        row,
        ZoneCreate(name="Europe", currency="sat", cost=Decimal(500), countries=["DE", "FR"]),
    )
    stall = await create_stall(
        runtime, row, StallBody(name="Tea stall", currency="sat", shipping_zones=[zone.id])
    )
    product_ids = []
    for i in range(PRODUCTS):
        product = await create_product(
            runtime,
            row,
            ProductCreate.model_validate(
                {
                    "stall_id": stall.id,
                    "name": f"Tea {i}",
                    "price": 1000 + 100 * i,
                    "quantity": STOCK,
                    "config": {"shipping": [{"id": zone.id, "cost": 10}]},
                }
            ),
        )
        product_ids.append(product.id)
    deps = runtime.deps or Deps(
        db=runtime.db,
        settings=runtime.settings,
        merchants=Merchants(runtime.db, runtime.keystore),
        wallet=wallet,
        bus=runtime.bus,
        rates=FixedRates(runtime.settings.fiat_rates),
    )
    merchant = await deps.merchants.get(row.id)
    return Shop(data_dir, runtime, deps, merchant, zone.id, stall.id, product_ids, account)


# ----------------------------------------------------------------- customers and their orders


def customer_key(index: int) -> PrivateKey:
    """Customer `index`'s key, derived deterministically (any worker can rebuild it)."""
    return PrivateKey.from_bytes(hashlib.sha256(f"bench customer {index}".encode()).digest())


def reply_key() -> PrivateKey:
    """The sender of the relay baseline's direct messages."""
    return PrivateKey.from_bytes(hashlib.sha256(b"bench baseline sender").digest())


def order_content(order_id: str, customer: str, product_ids: Sequence[str], zone_id: str) -> str:
    """A NIP-15 type 0 order for two products."""
    n = int(hashlib.sha256(order_id.encode()).hexdigest()[:8], 16)
    first, second = product_ids[n % len(product_ids)], product_ids[(n + 1) % len(product_ids)]
    return json.dumps(
        {
            "type": 0,
            "id": order_id,
            "name": "Ada Lovelace",
            "address": "12 Analytical Engine Street, London",
            "message": "Please gift wrap it",
            "contact": {"nostr": customer, "phone": "", "email": "ada@example.com"},
            "items": [
                {"product_id": first, "quantity": 1 + n % 3},
                {"product_id": second, "quantity": 1},
            ],
            "shipping_id": zone_id,
        }
    )


def gamma_order_tags(
    order_id: str, merchant: str, product_ids: Sequence[str], zone_id: str
) -> list[list[str]]:
    """The same order as `order_content`, as a Gamma market type 1 (kind 16) wants it: the
    listings' addresses and the total in sats (product i costs 1000 + 100 i, +10 shipping
    each, +500 for the zone: as `open_shop` made them)."""
    data = json.loads(order_content(order_id, merchant, product_ids, zone_id))
    items = [(item["product_id"], item["quantity"]) for item in data["items"]]
    price = {pid: 1000 + 100 * i for i, pid in enumerate(product_ids)}
    amount = sum((price[pid] + 10) * qty for pid, qty in items) + 500
    return [
        ["subject", "order-info"], ["type", "1"], ["order", order_id], ["amount", str(amount)],
        *(["item", f"30402:{merchant}:{pid}", str(qty)] for pid, qty in items),
        ["shipping", f"30406:{merchant}:{zone_id}"], ["address", data["address"]],
        ["email", "ada@example.com"],
    ]  # fmt: skip


@dataclass(frozen=True)
class OrderSpec:
    """What a worker process needs to sign a batch of orders."""

    merchant_pubkey: str
    product_ids: tuple[str, ...]
    zone_id: str
    transport: str  # nip04 | nip17 | gamma (a kind 16 in a NIP-17 gift wrap) | reply
    prefix: str = "bench"
    customers: int = CUSTOMERS
    # Orders are dated `per_second` a second, ending a minute ago: real customers do not
    # sign thousands of orders in one second, and relays page histories by the second.
    per_second: int = 50
    start: int = 0  # set by generate_orders


def order_event(spec: OrderSpec, index: int) -> dict[str, Any]:
    """Order number `index`, from customer `index % customers`, as the wire event."""
    key = customer_key(index % spec.customers)
    created_at = spec.start + index // spec.per_second
    if spec.transport == "reply":  # a payment request to the customer (relay baseline)
        sender = reply_key()
        content = json.dumps({"type": 1, "id": f"{spec.prefix}-{index}",
                              "payment_options": [{"type": "ln", "link": "lnbcrt1"}]})  # fmt: skip
        encrypted = nip04.encrypt(sender, key.public_key, content)
        return sign_event(sender, 4, encrypted, [["p", key.public_key]], created_at).to_dict()
    if spec.transport == "gamma":
        tags = gamma_order_tags(
            f"{spec.prefix}-{index}", spec.merchant_pubkey, spec.product_ids, spec.zone_id
        )
        _rumor, wraps = nip17.chat_message(
            key, spec.merchant_pubkey, "Please gift wrap it", tags, created_at, kind=16
        )
        return wraps[0].to_dict()
    content = order_content(
        f"{spec.prefix}-{index}", key.public_key, spec.product_ids, spec.zone_id
    )
    if spec.transport == "nip17":
        _rumor, wraps = nip17.chat_message(
            key, spec.merchant_pubkey, content, created_at=created_at
        )
        return wraps[0].to_dict()
    encrypted = nip04.encrypt(key, spec.merchant_pubkey, content)
    return sign_event(key, 4, encrypted, [["p", spec.merchant_pubkey]], created_at).to_dict()


def _write_chunk(spec: OrderSpec, start: int, stop: int, path: str) -> str:
    with open(path, "w") as out:
        for index in range(start, stop):
            out.write(json.dumps(order_event(spec, index), separators=(",", ":")) + "\n")
    return path


def generate_orders(spec: OrderSpec, count: int, directory: Path, start: int = 0) -> list[Path]:
    """Sign `count` orders in worker processes into JSON-lines files (not timed).

    Files, not lists: the events stay out of the measuring process's memory, so its
    peak memory is the engine's, and reading a line back costs about a microsecond.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if not spec.start:
        spec = replace(spec, start=int(time.time()) - 60 - (start + count) // spec.per_second)
    workers = max(1, min(os.cpu_count() or 1, 4))
    chunk = max(1, -(-count // (workers * 4)))
    bounds = [(s, min(s + chunk, start + count)) for s in range(start, start + count, chunk)]
    paths = [
        str(directory / f"{spec.transport}-{spec.prefix}-{i:04d}.jsonl") for i in range(len(bounds))
    ]
    with ProcessPoolExecutor(workers) as pool:
        done = pool.map(_write_chunk, [spec] * len(bounds), *zip(*bounds, strict=True), paths)
        return [Path(p) for p in done]


def read_events(paths: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """The generated wire events, in order, one at a time."""
    for path in paths:
        with path.open() as lines:
            for line in lines:
                yield json.loads(line)


# ----------------------------------------------------------------- measuring


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean in milliseconds (nearest-rank)."""
    if not samples:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))] * 1000

    return {
        "p50_ms": round(rank(0.50), 3),
        "p99_ms": round(rank(0.99), 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


class PeakMemory:
    """Peak resident memory of this process from `reset()` on (Linux VmHWM, reset through
    /proc/self/clear_refs); elsewhere the lifetime peak from getrusage."""

    def __init__(self) -> None:
        self.resettable = False
        self.start_mb = self.current_mb()

    def reset(self) -> None:
        try:
            with open("/proc/self/clear_refs", "w") as handle:
                handle.write("5")
            self.resettable = True
        except OSError:
            self.resettable = False
        self.start_mb = self.current_mb()

    @staticmethod
    def _status(field: str) -> float | None:
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def current_mb(self) -> float:
        value = self._status("VmRSS")
        return value if value is not None else self.lifetime_peak_mb()

    @staticmethod
    def lifetime_peak_mb() -> float:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024

    def peak_mb(self) -> float:
        if self.resettable:
            value = self._status("VmHWM")
            if value is not None:
                return value
        return self.lifetime_peak_mb()


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    pinned = os.environ.get("NOSTRBAZAAR_BENCH_COMMIT")
    if pinned:  # `python -m bench --snapshot`: an exported copy of this commit
        return {"commit": pinned, "dirty_tracked_files": False, "snapshot": True}
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "HEAD"), "dirty_tracked_files": bool(dirty)}


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
