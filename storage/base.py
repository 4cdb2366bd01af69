"""The storage seam: what every database engine offers the layers above it.

`crud/` and the services speak to a `Database` (reads outside a transaction,
`transaction()` for a unit of work) and to the `Connection` a unit of work
yields (`execute`, `executemany`, `fetchone`, `fetchall`). SQL is written once,
in SQLite's spelling with `?` placeholders (or `:name` with a dict); an engine
that speaks another dialect translates it (`storage/pg_sql.py`). What cannot be
spelled the same way is asked of the `Dialect` (e.g. row locks that skip rows
another process holds). Rows are addressable by column name and by index.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

Params = Sequence[Any] | dict[str, Any]
Row = Any  # sqlite3.Row or asyncpg.Record: row["column"], row[0], dict(row), tuple(row)


@dataclass(frozen=True)
class Dialect:
    """What SQL cannot say the same way on every engine."""

    name: str  # "sqlite" or "postgresql"
    # Appended to a SELECT inside a unit of work. On SQLite the one writer holds the
    # whole database, so there is nothing to add; PostgreSQL locks the rows read.
    for_update: str = ""  # the rows read are this unit's until it ends (others wait)
    skip_locked: str = ""  # rows another unit holds are skipped (claiming work)
    # A statement taking a lock on a name (one text parameter) until the unit ends, held
    # even where no row exists yet: two units placing one new order id take turns.
    lock_name: str = ""


SQLITE = Dialect("sqlite")
POSTGRESQL = Dialect(
    "postgresql",
    for_update=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    lock_name="SELECT pg_advisory_xact_lock(hashtextextended(?, 0))",
)


class Cursor(ABC):
    """The outcome of one statement: its rows, and how many rows it changed."""

    @property
    @abstractmethod
    def rowcount(self) -> int: ...

    @property
    def lastrowid(self) -> int | None:
        return None

    @abstractmethod
    async def fetchone(self) -> Row | None: ...

    @abstractmethod
    async def fetchall(self) -> list[Row]: ...

    async def close(self) -> None:
        return None


class Statement(ABC):
    """`conn.execute(...)`: runs when awaited, or when entered as a context manager."""

    @abstractmethod
    async def run(self) -> Cursor: ...

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self.run().__await__()

    async def __aenter__(self) -> Cursor:
        self._cursor = await self.run()
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        await self._cursor.close()


class _NothingToGroup:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NOTHING_TO_GROUP = _NothingToGroup()


class Connection(ABC):
    """The connection of one unit of work (inside `Database.transaction()`)."""

    dialect: Dialect

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Statement: ...

    @abstractmethod
    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Run `sql` once per row; nothing is returned (the engine may defer it to the end of
        the unit of work or to the next read)."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    def grouped(self) -> AbstractAsyncContextManager[None]:
        """Inside it, `executemany` writes may be gathered and sent grouped by statement,
        each statement's rows in order, the statements in the order each first came, before
        the next read and at the end. For a caller whose writes to one table never depend
        on a later-first statement's (a batch of new orders; a constraint that a regrouping
        upsets fails the unit, which the caller then redoes without it). An engine that
        sends each statement at no cost (SQLite, in process) ignores it."""
        return _NOTHING_TO_GROUP

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.fetchall(sql, params)

    @abstractmethod
    async def script(self, script: str) -> None:
        """Run several statements (DDL) inside the unit of work, committing nothing."""


class Database(ABC):
    """A database engine: reads, units of work, commit listeners, health."""

    dialect: Dialect
    default: type[Database] | None = None  # SqliteDatabase, set where it is defined

    def __new__(cls, *args: Any, **kwargs: Any) -> Database:
        """`Database(path)` is the SQLite file at `path`, the embedded default (as it was
        before there were two engines); `storage.engines.open_database` chooses by URL."""
        if cls is Database and Database.default is not None:
            return super().__new__(Database.default)
        return super().__new__(cls)

    def __init__(self) -> None:
        self._commit_listeners: list[Callable[[], None]] = []

    @property
    def engine(self) -> str:
        return self.dialect.name

    @property
    def shared(self) -> bool:
        """Whether other processes may work on this database at the same time."""
        return False

    def add_commit_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` after every successful commit (e.g. wake the outbox publisher)."""
        self._commit_listeners.append(listener)

    def _notify_commit(self) -> None:
        for listener in self._commit_listeners:
            listener()

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self, await_commit: bool = True) -> AbstractAsyncContextManager[Connection]:
        """One atomic unit of work: committed when this returns, rolled back on any error."""

    async def settled(self) -> None:
        """Return once every transaction that has ended so far is committed."""
        return None

    @abstractmethod
    async def fetchone(self, sql: str, params: Params = ()) -> Row | None: ...

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    async def fetchall_inline(self, sql: str, params: Params = ()) -> list[Row]:
        """A small indexed read on the order path (an engine may run it in place)."""
        return await self.fetchall(sql, params)

    async def fetchone_inline(self, sql: str, params: Params = ()) -> Row | None:
        """`fetchall_inline` for one row."""
        return await self.fetchone(sql, params)

    @abstractmethod
    async def executescript(self, script: str) -> None: ...

    @asynccontextmanager
    async def migration_lock(self) -> AsyncIterator[None]:
        """Held while migrations run, so two processes starting together run them once."""
        yield

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            return await self.fetchone("SELECT 1") is not None
        except Exception:
            return False

    async def describe(self) -> dict[str, Any]:
        """The engine, for the health endpoint."""
        return {"engine": self.engine}

    async def listen(self, channel: str, callback: Callable[[str], None]) -> None:
        """Call `callback(payload)` for each notification other processes send on `channel`
        (a database several processes share); a no-op where no other process can be."""
        return None

    async def notify(self, channel: str, payloads: list[str]) -> None:
        """Send each payload on `channel` to the processes listening (see `listen`)."""
        return None
