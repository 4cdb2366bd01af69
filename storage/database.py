"""The SQLite engine: one writer behind a lock, one reader (WAL snapshots).

Every state change happens inside `Database.transaction()`, which takes the
write lock and issues `BEGIN IMMEDIATE`, so a service's reads and writes are
one atomic unit. The writer runs in place on the event loop's thread
(`db_sync`): its statements take microseconds, less than a thread hand-off.
Reads that need no transaction go to the reader connection (aiosqlite, on its
own thread, so a long query never stalls the loop) and never wait for writers.

`Database` and `Connection` are the engine-neutral interface (`storage.base`);
`open_database` picks the engine from the settings (`NOSTRBAZAAR_DATABASE_URL`).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiosqlite
from loguru import logger

from .base import SQLITE, Connection, Database, Params, Row
from .group_commit import GroupCommitter
from .writer import SyncConnection, open_sync, split_statements

__all__ = [
    "Connection",
    "Database",
    "Params",
    "Row",
    "SqliteDatabase",
    "execute_script",
    "executemany",
    "fetchall",
    "fetchone",
    "split_statements",
]

# The writer never checkpoints (see `connect`), and keeps up to 32 MiB of pages: a batch
# touches a few hundred index pages, which SQLite's default 2 MiB cache spills and reads
# again mid-transaction (measured: 0.75 -> 0.59 ms CPU an order at 8,000 orders).
_WRITER_PRAGMAS = ("PRAGMA wal_autocheckpoint=0", "PRAGMA cache_size=-32768")
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)
# Commits between two checkpoints of the WAL (on the checkpointer's thread). A commit carries
# a batch of 16-32 orders: a WAL left to grow over 200 of them made ingest at 40,000 orders
# 9% slower (0.83 against 0.76 ms an order; every 20: 0.78).
CHECKPOINT_EVERY = 40


class SqliteDatabase(Database):
    """A SQLite database file with a serialised writer and a separate reader."""

    dialect = SQLITE

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = Path(path)
        self._writer: SyncConnection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._group: GroupCommitter | None = None
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpointing: asyncio.Task[None] | None = None
        self._commits = 0

    async def connect(self) -> None:
        self._private_files()
        # The writer never checkpoints: copying the WAL back (and its fsync) would stall
        # the loop; the checkpointer does it on its own thread every CHECKPOINT_EVERY commits.
        self._writer = open_sync(str(self.path), (*_PRAGMAS, *_WRITER_PRAGMAS))
        self._group = GroupCommitter(self._writer, self._after_commit)
        self._reader = await self._open_reader()
        self._checkpointer = await self._open_reader()
        self._private_files()  # the -wal and -shm files exist now

    def _private_files(self) -> None:
        """The data directory 0700 when created here; the database and its -wal and -shm files
        0600, also when they exist already: they hold orders, customers' messages and keys.

        The file is created before SQLite opens it, so SQLite gives the -wal and -shm files
        the same mode (it copies the database file's).
        """
        try:
            self.path.parent.mkdir(mode=0o700, parents=True)
        except FileExistsError:
            pass
        if not self.path.exists():
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        for suffix in ("", "-wal", "-shm"):
            file = Path(f"{self.path}{suffix}")
            if file.exists() and file.stat().st_mode & 0o777 != 0o600:
                file.chmod(0o600)

    async def _open_reader(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in _PRAGMAS:
            await conn.execute(pragma)
        return conn

    async def close(self) -> None:
        if self._group is not None:
            await self._group.flush()
        if self._checkpointing is not None:
            await asyncio.gather(self._checkpointing, return_exceptions=True)
        for conn in (self._reader, self._checkpointer):
            if conn is not None:
                await conn.close()
        self._checkpointer = None
        if self._writer is not None:
            await self._writer.close()
        self._reader = self._writer = self._group = None

    def transaction(self, await_commit: bool = True) -> AbstractAsyncContextManager[Connection]:
        """One atomic unit of work: committed when this returns, rolled back on any error.

        Units ready at the same moment share one commit (`db_commit.GroupCommitter`);
        `await_commit=False` returns before that commit (see `GroupCommitter.unit`).
        """
        return self._require_group().unit(await_commit)

    async def settled(self) -> None:
        """Return once every transaction that has ended so far is committed."""
        await self._require_group().settled()

    def _after_commit(self) -> None:
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._start_checkpoint()
        self._notify_commit()

    def _start_checkpoint(self) -> None:
        if self._checkpointer is None or self._checkpointing is not None:
            return  # closed, or the previous one is still copying
        self._checkpointing = asyncio.create_task(self.checkpoint())
        self._checkpointing.add_done_callback(self._checkpoint_done)

    def _checkpoint_done(self, task: asyncio.Task[None]) -> None:
        self._checkpointing = None
        if not task.cancelled() and task.exception() is not None:
            logger.warning("WAL checkpoint failed: {}", task.exception())

    async def checkpoint(self) -> None:
        """Copy committed pages from the WAL into the database file (PASSIVE: never waits)."""
        if self._checkpointer is not None:
            await self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        async with self._require(self._reader).execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._require(self._reader).execute_fetchall(sql, params))  # one hop

    async def fetchall_inline(self, sql: str, params: Params = ()) -> list[Row]:
        """A small indexed read in place, on the writer's connection (no thread hop).

        It sees every transaction that has ended (committed, or committing with its
        batch). For reads on the order path that take microseconds: a long query
        here would stall the loop, so anything else goes to `fetchall`.
        """
        async with self._require_group().reading() as writer:
            return writer.raw.execute(sql, params).fetchall()

    async def fetchone_inline(self, sql: str, params: Params = ()) -> Row | None:
        """`fetchall_inline` for one row."""
        async with self._require_group().reading() as writer:
            row: sqlite3.Row | None = writer.raw.execute(sql, params).fetchone()
            return row

    async def executescript(self, script: str) -> None:
        async with self._require_group().idle_writer() as writer:
            await writer.executescript(script)

    async def describe(self) -> dict[str, object]:
        return {"engine": self.engine, "version": sqlite3.sqlite_version}

    @staticmethod
    def _require(conn: aiosqlite.Connection | None) -> aiosqlite.Connection:
        if conn is None:
            raise RuntimeError("database is not connected")
        return conn

    def _require_group(self) -> GroupCommitter:
        if self._group is None:
            raise RuntimeError("database is not connected")
        return self._group


Database.default = SqliteDatabase  # `Database(path)`: the embedded default


async def fetchone(conn: Connection, sql: str, params: Params = ()) -> Row | None:
    """Read one row through a given connection (inside a transaction)."""
    return await conn.fetchone(sql, params)


async def fetchall(conn: Connection, sql: str, params: Params = ()) -> list[Row]:
    """Read all rows through a given connection (inside a transaction)."""
    return await conn.fetchall(sql, params)


async def executemany(conn: Connection, sql: str, rows: Iterable[Params]) -> None:
    await conn.executemany(sql, rows)


async def execute_script(conn: Connection, script: str) -> None:
    """Run every statement of `script` on `conn`, inside the caller's transaction."""
    await conn.script(script)
