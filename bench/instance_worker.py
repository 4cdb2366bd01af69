"""One nostrbazaar instance of `bench.instances`, in a process of its own: it opens the
shared PostgreSQL database (its own pool, its own fake wallet), says it is ready,
waits for the go, then hands every signed order to its order engine as the relay
pool would (verify, subscription handler, ingest workers) and writes its figures.

Run by `bench.instances`; by hand: `python -m bench.instance_worker --help`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from nostrbazaar.orders.rates import FixedRates
from nostrbazaar.services.deps import Deps, Merchant, Merchants
from nostrbazaar.wallets.fake import FakeWallet

from .common import bare_runtime, bench_settings
from .ingest import feed_engine

RELAY = "bench://shared-relay"


def ready_file(out: Path) -> Path:
    return out.with_suffix(".ready")


async def _wait_for(go: Path) -> None:
    while not go.exists():
        await asyncio.sleep(0.005)


async def run(url: str, merchant_id: str, events: Path, data_dir: Path, go: Path, out: Path):
    runtime = await bare_runtime(bench_settings(data_dir, (), url))
    wallet = FakeWallet(data_dir)
    await wallet.start()
    merchants = Merchants(runtime.db, runtime.keystore)
    deps = Deps(runtime.db, runtime.settings, merchants, wallet, runtime.bus,
                FixedRates(runtime.settings.fiat_rates))  # fmt: skip
    merchant = await merchants.get(merchant_id)
    lines = [line for path in sorted(events.glob("*.jsonl")) for line in path.open()]
    try:
        ready_file(out).touch()
        await _wait_for(go)
        started, cpu = time.time(), time.process_time()
        latencies, verdicts = await _feed(deps, merchant, lines)
        result = {"started": started, "ended": time.time(), "cpu_s": time.process_time() - cpu}
    finally:
        await wallet.stop()
        await runtime.db.close()
    out.write_text(json.dumps({**result, "latencies": latencies, "verdicts": dict(verdicts)}))


async def _feed(deps: Deps, merchant: Merchant, lines: list[str]) -> tuple[list[float], Any]:
    """Verify each event, then the engine's handler and workers (`bench.ingest`'s feed);
    per event: verification plus the time of the batch it was ingested in."""
    latencies: list[float] = []
    verdicts: Counter[str] = Counter()
    await feed_engine(deps, merchant, lines, latencies, verdicts, RELAY)
    return latencies, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--merchant-id", required=True)
    parser.add_argument("--events", type=Path, required=True, help="the signed orders' folder")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--go", type=Path, required=True, help="start when this file exists")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from .common import quiet_logs

    quiet_logs()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(
        run(args.database_url, args.merchant_id, args.events, args.data_dir, args.go, args.out)
    )


if __name__ == "__main__":
    main()
