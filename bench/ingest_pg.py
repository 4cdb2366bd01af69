"""Ingest throughput on PostgreSQL: `bench.ingest`'s measurement, the same signed
orders through the same pipeline, on a throwaway PostgreSQL database instead of a
SQLite file (`bench.pg_server`: created empty, dropped at the end).

Besides this process's CPU per order it reports the server's
(`server_cpu_ms_per_order`, the `postgres` processes' CPU over the timed phase):
on SQLite the database works inside this process, on PostgreSQL mostly outside it.

Run alone: `.venv/bin/python -m bench.ingest_pg --orders 10000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from . import ingest
from .pg_server import ServerCpu, stopped_by_sigterm, throwaway_database


async def measure(
    orders: int,
    transport: str,
    profile: Path | None = None,
    count_sql: bool = False,
    mode: str = "engine",
) -> dict[str, Any]:
    async with throwaway_database() as url, ServerCpu() as server:
        result = await ingest.measure(orders, transport, profile, count_sql, mode, url)
    if server.seconds is not None:
        # the set-up (migrations, catalogue) is in it too: a few ms in all
        result["server_cpu_ms_per_order"] = round(server.seconds / orders * 1000, 3)
    result["engine"] = "postgresql"
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--transport", choices=("nip04", "nip17", "gamma"), default="nip04")
    parser.add_argument("--mode", choices=("engine", "direct"), default="engine")
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile here")
    parser.add_argument("--count-sql", action="store_true", help="SQL round trips per order")
    parser.add_argument("--out", type=Path, help="write the result as JSON here")
    args = parser.parse_args()
    from .common import quiet_logs

    quiet_logs()
    work = measure(args.orders, args.transport, args.profile, args.count_sql, args.mode)
    text = json.dumps(asyncio.run(stopped_by_sigterm(work)), indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
