"""The writer connection, run synchronously on the event loop's thread.

A write statement inside `BEGIN IMMEDIATE` takes microseconds in SQLite (WAL,
`synchronous=NORMAL`: a commit appends to the log and does not fsync). Sending
each one to a worker thread, as aiosqlite does, costs several times that in
thread hand-offs and leaves the loop idle while it waits. So the writer runs
its statements in place and offers the same awaitable surface as
`aiosqlite.Connection` (`execute`, `executemany`, `execute_fetchall`, cursors
with async `fetchone`/`fetchall`), which the services already use.

Writes whose results nobody reads (`executemany`) are buffered: they are
applied before the next statement that reads or counts (`execute`, or any use of
`raw`), or at the end of the unit of work on a worker thread, where SQLite runs
with the GIL released while the loop goes on with other work.

The one wait that can be long is for another process's write lock. The writer
has `busy_timeout=0`, so `begin` never blocks the loop: on SQLITE_BUSY it sleeps
asynchronously and tries again, up to `lock_timeout` seconds. Once `BEGIN
IMMEDIATE` holds the lock, nothing inside the transaction can be busy.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .base import SQLITE, Connection, Cursor, Params, Row, Statement
from .errors import StorageBusy

T = TypeVar("T")

BUSY_RETRY_FIRST = 0.001
IN_PLACE_ROWS = 12  # buffered rows a unit applies on the loop's thread (a chat message's few)
BUSY_RETRY_MAX = 0.05


class SyncCursor(Cursor):
    """A sqlite3 cursor with aiosqlite's awaitable fetch methods."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def fetchone(self) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._cursor.fetchone()
        return row

    async def fetchall(self) -> list[sqlite3.Row]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class _Statement(Statement):
    """`conn.execute(...)`: runs when awaited or entered, like aiosqlite's."""

    __slots__ = ("_conn", "_cursor", "_params", "_sql")

    def __init__(self, conn: SyncConnection, sql: str, params: Any) -> None:
        self._conn, self._sql, self._params = conn, sql, params

    async def run(self) -> SyncCursor:
        return SyncCursor(self._conn.raw.execute(self._sql, self._params))


class SyncConnection(Connection):
    """The subset of `aiosqlite.Connection` the services use, run in place."""

    dialect = SQLITE

    def __init__(self, raw: sqlite3.Connection, lock_timeout: float = 5.0) -> None:
        self._raw = raw
        self.lock_timeout = lock_timeout
        self._pending: list[tuple[str, list[Any]]] = []
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")

    async def off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the writer's worker thread, always run to its end.

        If the caller is cancelled meanwhile, this still waits (briefly, blocking)
        for the thread to finish before raising: nothing else may touch the
        connection while the thread uses it.
        """
        work = self._thread.submit(fn, *args)
        try:
            return await asyncio.wrap_future(work)
        except asyncio.CancelledError:
            concurrent.futures.wait([work])
            raise

    @property
    def raw(self) -> sqlite3.Connection:
        """The sqlite3 connection, with every buffered write applied first."""
        if self._pending:
            pending, self._pending = self._pending, []
            _apply(self._raw, pending)
        return self._raw

    async def flush_off_loop(self) -> None:
        """Apply the buffered writes on a worker thread (errors surface here); a few rows
        are applied in place, where the hand-off would cost more than the writes."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        if sum(len(rows) for _, rows in pending) <= IN_PLACE_ROWS:
            _apply(self._raw, pending)
        else:
            await self.off_loop(_apply, self._raw, pending)

    def discard_pending(self) -> None:
        """Drop buffered writes of a unit that is being rolled back."""
        self._pending.clear()

    @property
    def row_factory(self) -> Any:
        return self.raw.row_factory

    @row_factory.setter
    def row_factory(self, factory: Any) -> None:
        self.raw.row_factory = factory

    def execute(self, sql: str, params: Any = ()) -> _Statement:
        return _Statement(self, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Any]) -> None:
        """Buffered until something reads, or until the unit of work ends."""
        batch = list(rows)
        if batch:
            self._pending.append((sql, batch))

    async def execute_fetchall(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.raw.execute(sql, params).fetchall()

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return self.raw.execute(sql, params).fetchall()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return self.raw.execute(sql, params).fetchone()

    async def executescript(self, script: str) -> None:
        """sqlite3's `executescript`: it commits any open transaction first."""
        self.raw.executescript(script)

    async def script(self, script: str) -> None:
        for statement in split_statements(script):
            self.raw.execute(statement)

    async def begin(self) -> None:
        """`BEGIN IMMEDIATE`, waiting for another process's write lock without blocking."""
        deadline = time.monotonic() + self.lock_timeout
        delay = BUSY_RETRY_FIRST
        while True:
            try:
                self.raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                if time.monotonic() >= deadline:
                    raise StorageBusy(
                        f"storage is busy: another process has held the database's write lock"
                        f" ({error}) for more than {self.lock_timeout:g} s; nothing was written;"
                        " try again later"
                    ) from error
            await asyncio.sleep(delay)
            delay = min(delay * 2, BUSY_RETRY_MAX)

    async def commit(self) -> None:
        self.raw.commit()

    async def rollback(self) -> None:
        self.discard_pending()
        self._raw.rollback()

    async def close(self) -> None:
        self.discard_pending()
        self._thread.shutdown(wait=True)
        self._raw.close()


def split_statements(script: str) -> list[str]:
    """Split SQL into whole statements (trigger bodies included) without committing.

    `executescript` commits any open transaction first, which would break the
    all-or-nothing promise of a migration; this lets us run a script statement
    by statement inside one transaction.
    """
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:80]!r}")
    return statements


def _apply(raw: sqlite3.Connection, pending: list[tuple[str, list[Any]]]) -> None:
    for sql, rows in pending:
        if len(rows) == 1:
            raw.execute(sql, rows[0])
        else:
            raw.executemany(sql, rows)


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in str(error)


def open_sync(path: str, pragmas: Iterable[str]) -> SyncConnection:
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    raw.row_factory = sqlite3.Row
    for pragma in pragmas:
        raw.execute(pragma)
    raw.execute("PRAGMA busy_timeout=0")
    return SyncConnection(raw)
