"""PostgreSQL for the tests: the local server (started if installed but stopped), one
throwaway database per test session, and a fresh schema per test inside it.

On this project's machines and in CI, PostgreSQL 15 listens on 127.0.0.1:5432
(trust auth, user `postgres`). Without PostgreSQL installed, `server_problem`
says why and the PostgreSQL variants of the tests skip with that reason.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")
# The `database_at` fixture: a data dir's database URL on the test's engine (None: SQLite).
DatabaseAt = Callable[[Path], Awaitable[str | None]]

SERVER = os.environ.get("NOSTRBAZAAR_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
CLUSTERS = Path("/etc/postgresql")


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end on a loop of its own (a session fixture may be set up while a
    test's loop is running)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, work).result()


def _installed() -> bool:
    return CLUSTERS.is_dir() and any(CLUSTERS.iterdir()) and bool(shutil.which("pg_ctlcluster"))


async def _reachable() -> str | None:
    try:
        conn = await asyncpg.connect(f"{SERVER}/postgres", timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        return str(error)
    await conn.close()
    return None


def _start_cluster() -> None:
    version = sorted(p.name for p in CLUSTERS.iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
        check=False,
        capture_output=True,
        timeout=60,
    )


def server_problem() -> str | None:
    """None when the server answers (started here if it was installed but stopped)."""
    if _run(_reachable()) is None:
        return None
    if not _installed():
        return "PostgreSQL is not installed (no /etc/postgresql cluster, no pg_ctlcluster)"
    _start_cluster()
    problem = _run(_reachable())
    return None if problem is None else f"PostgreSQL did not start: {problem}"


def create_database() -> str:
    """A new empty database (byte-order collation, as SQLite compares text); its URL."""
    name = f"nostrbazaar_test_{secrets.token_hex(4)}"

    async def create() -> None:
        conn = await asyncpg.connect(f"{SERVER}/postgres")
        try:
            await conn.execute(
                f"CREATE DATABASE {name} TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
            )
        finally:
            await conn.close()

    _run(create())
    return f"{SERVER}/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]

    async def drop() -> None:
        conn = await asyncpg.connect(f"{SERVER}/postgres")
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()

    _run(drop())


async def new_schema(database_url: str) -> str:
    """A fresh, empty schema in the session's database: the URL of a database of its own."""
    schema = f"t_{secrets.token_hex(6)}"
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return f"{database_url}?search_path={schema}"
