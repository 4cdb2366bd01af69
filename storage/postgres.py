"""The PostgreSQL engine (asyncpg): a pool of connections, one transaction per unit of work.

Several processes may share the database, so nothing is serialised in this
process: each `transaction()` takes a pooled connection and runs `BEGIN ...
COMMIT` on it (READ COMMITTED). What must happen once is enforced by the
schema (primary keys, UNIQUE, conditional UPDATEs that re-check their WHERE
after waiting for a row lock), exactly as on SQLite. Statements arrive in
SQLite's spelling and are translated once per text (`pg_sql`).

A statement error aborts a PostgreSQL transaction; the unit of work then fails
as a whole (on SQLite only its statement fails), and nothing in crud or the
services catches a database error to carry on inside the same unit.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

import asyncpg

from .base import POSTGRESQL, Connection, Cursor, Database, Params, Row, Statement
from .errors import StorageBusy, StorageFull, StorageUnavailable
from .pg_sql import translate, translate_ddl, translate_named

MIGRATION_LOCK = 0x6E627A72  # "nbzr": the advisory lock key held while migrations run
_ROWS_FIRST = ("SELECT", "WITH", "VALUES", "SHOW")


class DatabaseUnavailable(RuntimeError):
    """The database URL is malformed, or the server cannot be reached."""


def _bind(sql: str, params: Params) -> tuple[str, list[Any]]:
    if isinstance(params, dict):
        text, names = translate_named(sql)
        return text, [params[name] for name in names]
    return translate(sql), list(params)


@lru_cache(maxsize=4096)
def _returns_rows(sql: str) -> bool:
    head = sql.lstrip()[:8].upper()
    return head.startswith(_ROWS_FIRST) or " RETURNING " in sql.upper()


def _rowcount(status: str) -> int:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PgCursor(Cursor):
    __slots__ = ("_count", "_rows")

    def __init__(self, rows: list[Row], count: int) -> None:
        self._rows, self._count = rows, count

    @property
    def rowcount(self) -> int:
        return self._count

    async def fetchone(self) -> Row | None:
        return self._rows.pop(0) if self._rows else None

    async def fetchall(self) -> list[Row]:
        rows, self._rows = self._rows, []
        return rows


class _PgStatement(Statement):
    __slots__ = ("_conn", "_cursor", "_params", "_sql")

    def __init__(self, conn: PgConnection, sql: str, params: Params) -> None:
        self._conn, self._sql, self._params = conn, sql, params

    async def run(self) -> PgCursor:
        await self._conn.send_grouped()
        text, args = _bind(self._sql, self._params)
        raw = self._conn.raw
        if _returns_rows(text):
            rows = await raw.fetch(text, *args)
            return PgCursor(list(rows), len(rows))
        status = await raw.execute(text, *args)
        return PgCursor([], _rowcount(status))


async def _send(raw: asyncpg.Connection, text: str, args: list[list[Any]]) -> None:
    if len(args) == 1:
        await raw.execute(text, *args[0])
    else:
        await raw.executemany(text, args)


class PgConnection(Connection):
    """One pooled asyncpg connection inside its transaction."""

    dialect = POSTGRESQL

    def __init__(self, raw: asyncpg.Connection) -> None:
        self._raw = raw
        self._groups: dict[str, list[list[Any]]] | None = None  # inside `grouped()`

    @property
    def raw(self) -> asyncpg.Connection:
        return self._raw

    def execute(self, sql: str, params: Params = ()) -> Statement:
        return _PgStatement(self, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        batch = list(rows)
        if not batch:
            return
        if isinstance(batch[0], dict):
            text, names = translate_named(sql)
            args = [[row[name] for name in names] for row in batch]  # type: ignore[call-overload]
        else:
            text, args = translate(sql), [list(row) for row in batch]
        if self._groups is not None:
            self._groups.setdefault(text, []).extend(args)
        else:
            await _send(self._raw, text, args)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        await self.send_grouped()
        text, args = _bind(sql, params)
        return list(await self._raw.fetch(text, *args))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        await self.send_grouped()
        text, args = _bind(sql, params)
        return await self._raw.fetchrow(text, *args)

    @asynccontextmanager
    async def grouped(self) -> AsyncIterator[None]:
        """A round trip per statement instead of per row (see `Connection.grouped`)."""
        self._groups = {}
        try:
            yield
            await self.send_grouped()
        finally:
            self._groups = None

    async def send_grouped(self) -> None:
        """Send the gathered writes now (before a read, which must see them)."""
        if self._groups:
            groups, self._groups = self._groups, {}
            for text, args in groups.items():
                await _send(self._raw, text, args)

    async def script(self, script: str) -> None:
        await self.send_grouped()
        await self._raw.execute(translate_ddl(script))


async def _keep_session(_raw: asyncpg.Connection) -> None:
    """A connection going back to the pool keeps its session as it is. asyncpg's default
    sends a reset (advisory unlock all, CLOSE ALL, UNLISTEN *, RESET ALL): one more round
    trip on every unit of work, for state we never leave on a pooled connection (our
    locks are per transaction, the migration lock is released by its holder, LISTEN has
    its own connection, settings come from the URL). A transaction left open is still
    rolled back by the pool before this is called."""


class PgDatabase(Database):
    """A PostgreSQL database reached through `url` (postgresql://user@host:port/name)."""

    dialect = POSTGRESQL

    def __init__(self, url: str, *, min_size: int = 2, max_size: int = 20) -> None:
        super().__init__()
        self.url = url
        self._sizes = (min_size, max_size)
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None

    @property
    def shared(self) -> bool:
        return True

    async def connect(self) -> None:
        check_url(self.url)
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self._sizes[0],
                max_size=self._sizes[1],
                statement_cache_size=1024,
                command_timeout=60,
                reset=_keep_session,
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, ValueError) as error:
            raise DatabaseUnavailable(f"cannot connect to {redact(self.url)}: {error}") from None

    async def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.close()
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("database is not connected")
        return self._pool

    @asynccontextmanager
    async def transaction(self, await_commit: bool = True) -> AsyncIterator[Connection]:
        """One transaction on a pooled connection; `await_commit` changes nothing here
        (a commit is always awaited: it is what makes the row visible to other processes)."""
        try:
            async with self.pool.acquire() as raw:
                transaction = raw.transaction()
                await transaction.start()
                try:
                    yield PgConnection(raw)
                except BaseException:
                    await transaction.rollback()
                    raise
                await transaction.commit()
        except _RETRYABLE as error:
            raise _unavailable(error) from error
        self._notify_commit()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        text, args = _bind(sql, params)
        return await self.pool.fetchrow(text, *args)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        text, args = _bind(sql, params)
        return list(await self.pool.fetch(text, *args))

    async def executescript(self, script: str) -> None:
        await self.pool.execute(translate_ddl(script))

    @asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[None]:
        """A session advisory lock: a second process starting now waits here until the
        first has migrated, then finds nothing left to do."""
        async with self.pool.acquire() as raw:
            await raw.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                yield
            finally:
                await raw.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def listen(self, channel: str, callback: Callable[[str], None]) -> None:
        """LISTEN on a connection of its own (a pooled one would be handed to others)."""
        if self._listener is None:
            self._listener = await asyncpg.connect(self.url)

        def received(_conn: object, _pid: int, _channel: str, payload: str) -> None:
            callback(payload)

        await self._listener.add_listener(channel, received)

    async def notify(self, channel: str, payloads: list[str]) -> None:
        """NOTIFY each payload (delivered to listeners when this statement commits)."""
        if payloads:
            await self.pool.executemany(
                "SELECT pg_notify($1, $2)", [(channel, p) for p in payloads]
            )

    async def describe(self) -> dict[str, Any]:
        row = await self.fetchone("SELECT current_setting('server_version') AS v")
        return {"engine": self.engine, "version": None if row is None else row["v"]}


# A unit of work that failed for one of these wrote nothing and may simply be run again
# (ingest keeps the event and retries it; the API answers 503).
_RETRYABLE = (
    asyncpg.DeadlockDetectedError,  # two units waited for each other; this one was chosen
    asyncpg.SerializationError,
    asyncpg.LockNotAvailableError,
    asyncpg.DiskFullError,
    asyncpg.InsufficientResourcesError,
    asyncpg.CannotConnectNowError,  # the server is starting or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.PostgresConnectionError,  # the connection was lost
    OSError,  # the server cannot be reached
)


def _unavailable(error: Exception) -> StorageUnavailable:
    after = "nothing was written; try again later"
    if isinstance(error, asyncpg.DiskFullError | asyncpg.InsufficientResourcesError):
        return StorageFull(f"storage is full ({error}): {after}")
    if isinstance(error, asyncpg.DeadlockDetectedError | asyncpg.SerializationError):
        return StorageBusy(f"storage is busy: lost a race for locks ({error}): {after}")
    return StorageUnavailable(f"storage is unavailable ({error}): {after}")


def check_url(url: str) -> None:
    """Refuse a URL asyncpg would misread (wrong scheme, no host)."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgresql", "postgres") or not (parsed.hostname or parsed.path):
        raise DatabaseUnavailable(f"not a postgresql:// URL: {redact(url)}")
    try:
        _ = parsed.port
    except ValueError:
        raise DatabaseUnavailable(f"bad port in {redact(url)}") from None


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return url.replace(f":{parsed.password}@", ":***@", 1)


__all__ = ["DatabaseUnavailable", "PgDatabase", "check_url", "redact"]
