"""A throwaway PostgreSQL database for a benchmark: created empty at the start of a
measurement, dropped (with any connection left) at its end, whatever happened.

The server is `NOSTRBAZAAR_BENCH_PG` (default the project's local PostgreSQL 15,
postgresql://postgres@127.0.0.1:5432, trust auth). The database is made as the test
harness makes its own (template0, byte-order collation, as SQLite compares text);
the benchmark does not import the tests. `server_cpu_s` reads the CPU time of the
server's processes, so a figure can say what the database itself cost.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

SERVER = os.environ.get("NOSTRBAZAAR_BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{SERVER}/postgres", timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def throwaway_database(prefix: str = "nostrbazaar_bench") -> AsyncIterator[str]:
    """The URL of a new empty database, dropped when the block ends."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    await _admin(f"CREATE DATABASE {name} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        yield f"{SERVER}/{name}"
    finally:
        await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def new_schema(database_url: str) -> str:
    """A fresh schema in the database: the URL of an empty database of its own."""
    schema = f"s_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return f"{database_url}?search_path={schema}"


def server_cpu_s() -> float | None:
    """User + system CPU seconds of every `postgres` process on this machine (Linux /proc;
    None elsewhere). Processes that end between two readings are not counted, and other
    clients of the same server are: read it as an estimate."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name_end = text.rfind(")")
        if text[text.find("(") + 1 : name_end] != "postgres":
            continue
        fields = text[name_end + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / _TICKS
