"""A throwaway PostgreSQL database for a benchmark: created empty at the start of a
measurement, dropped (with any connection left) at its end, whatever happened.

The server is `NOSTRBAZAAR_BENCH_PG` (default the project's local PostgreSQL 15,
postgresql://postgres@127.0.0.1:5432, trust auth). The database is made as the test
harness makes its own (template0, byte-order collation, as SQLite compares text);
the benchmark does not import the tests. `ServerCpu` reads the CPU time of the
server's processes, so a figure can say what the database itself cost.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")
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


async def stopped_by_sigterm(work: Coroutine[Any, Any, T]) -> T:
    """Run `work`, cancelled by SIGTERM (a harness's timeout, a `kill`), so a throwaway
    database is still dropped on the way out instead of left behind."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await work
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def new_schema(database_url: str) -> str:
    """A fresh schema in the database: the URL of an empty database of its own."""
    schema = f"s_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return f"{database_url}?search_path={schema}"


def _postgres_ticks() -> dict[int, int] | None:
    """CPU ticks (user + system) of each `postgres` process now; None without /proc."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks: dict[int, int] = {}
    for stat in proc.glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # it ended meanwhile
        name_end = text.rfind(")")
        if text[text.find("(") + 1 : name_end] != "postgres":
            continue
        fields = text[name_end + 2 :].split()
        ticks[int(stat.parent.name)] = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


class ServerCpu:
    """The CPU the PostgreSQL server spent while a block ran: every `postgres` process is
    sampled a few times a second, so connections opened and closed inside the block count
    (up to their last sample). Other clients of the same server count too: an estimate,
    fair on a machine where the benchmark is the server's main client."""

    def __init__(self, every_s: float = 0.25) -> None:
        self.every_s = every_s
        self.first: dict[int, int] = {}
        self.last: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None

    def _sample(self, at_start: bool = False) -> None:
        for pid, ticks in (_postgres_ticks() or {}).items():
            self.first.setdefault(pid, ticks if at_start else 0)
            self.last[pid] = ticks

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            self._sample()

    async def __aenter__(self) -> ServerCpu:
        self._sample(at_start=True)
        self._task = asyncio.create_task(self._loop())
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._sample()

    @property
    def seconds(self) -> float | None:
        if not self.last:
            return None
        return sum(self.last[pid] - self.first.get(pid, 0) for pid in self.last) / _TICKS
