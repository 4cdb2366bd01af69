"""A unit of work with few round trips: writes nobody reads back are sent together.

Every aiosqlite call is a round trip to the connection's thread (tens of
microseconds each, and the write lock is held all along). Inside `unit_of_work`
the connection is wrapped so that `executemany` is buffered and sent in one
round trip, just before anything reads (`execute`, `execute_fetchall`) and at
the end of the transaction. Statements whose result matters (a conditional
UPDATE's rowcount, a SELECT) use `execute` and see every buffered write first,
so the order of effects inside the transaction is exactly as written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import aiosqlite

from ..db import Connection, Database

T = TypeVar("T")


async def run_sync(conn: aiosqlite.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn` with the raw sqlite3 connection on aiosqlite's own thread: one round trip.

    This is the one place that uses aiosqlite's internal `_execute` / `_conn`, stable
    since aiosqlite 0.17; everything else goes through the public API.
    """
    raw = conn._conn
    result: T = await conn._execute(fn, raw)
    return result


class _Statement:
    """`conn.execute(...)` on a buffered connection: awaitable and `async with`-able."""

    def __init__(self, owner: BufferedConnection, sql: str, params: Any) -> None:
        self._owner, self._sql, self._params = owner, sql, params
        self._cursor: aiosqlite.Cursor | None = None

    async def _run(self) -> aiosqlite.Cursor:
        await self._owner.flush()
        return await self._owner.raw.execute(self._sql, self._params)

    def __await__(self) -> Generator[Any, None, aiosqlite.Cursor]:
        return self._run().__await__()

    async def __aenter__(self) -> aiosqlite.Cursor:
        self._cursor = await self._run()
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        if self._cursor is not None:
            await self._cursor.close()


class BufferedConnection:
    """The subset of aiosqlite.Connection the services use, with buffered executemany."""

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw
        self._pending: list[tuple[str, list[Sequence[Any]]]] = []

    def execute(self, sql: str, params: Any = ()) -> _Statement:
        return _Statement(self, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Any]) -> None:
        batch = list(rows)
        if batch:
            self._pending.append((sql, batch))

    async def execute_fetchall(self, sql: str, params: Any = ()) -> Iterable[sqlite3.Row]:
        await self.flush()
        return await self.raw.execute_fetchall(sql, params)

    async def flush(self) -> None:
        """Send every buffered statement in one round trip (errors surface here)."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []

        def apply(raw: sqlite3.Connection) -> None:
            for sql, rows in pending:
                if len(rows) == 1:
                    raw.execute(sql, rows[0])
                else:
                    raw.executemany(sql, rows)

        await run_sync(self.raw, apply)


async def run(conn: Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn` on the connection's thread after any buffered writes: one round trip."""
    if isinstance(conn, BufferedConnection):
        await conn.flush()
        return await run_sync(conn.raw, fn)
    return await run_sync(conn, fn)


@asynccontextmanager
async def unit_of_work(db: Database) -> AsyncIterator[Connection]:
    """`db.transaction()` with buffered writes, flushed before the commit."""
    async with db.transaction() as raw:
        conn = BufferedConnection(raw)
        yield cast(Connection, conn)
        await conn.flush()


async def rows(conn: Connection, sql: str, params: Any = ()) -> list[sqlite3.Row]:
    """All rows of a query in one round trip (aiosqlite's `execute_fetchall`)."""
    return list(await conn.execute_fetchall(sql, params))
