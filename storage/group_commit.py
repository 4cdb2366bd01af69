"""Group commit: units of work that are ready together share one SQLite commit.

Each unit of work runs inside a SAVEPOINT of one open write transaction. When
a unit ends, its caller waits (shielded) for the batch it joined to commit:
the commit runs once the units that were ready at the same moment have joined,
so `async with db.transaction()` still returns only when its changes are
durable, exactly as with one commit per unit. A unit that fails rolls back to
its own savepoint and leaves the rest of the batch alone.

Why: a commit writes every page the batch dirtied to the WAL (one frame per
page; an order touches about thirty b-tree pages). Units that commit together
write the pages they share once, and pay the commit's fixed cost once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from .errors import StorageUnavailable, storage_error
from .writer import SyncConnection


class BatchLost(StorageUnavailable):
    """SQLite rolled back the whole open transaction (e.g. disk full, I/O error)."""


class Unit:
    """`async with group.unit():` a savepoint of the shared transaction, under the lock.

    (A class rather than a generator-based context manager: it runs twice per order.)
    """

    __slots__ = ("_await_commit", "_group")

    def __init__(self, group: GroupCommitter, await_commit: bool) -> None:
        self._group, self._await_commit = group, await_commit

    async def __aenter__(self) -> SyncConnection:
        group = self._group
        await group._lock.acquire()
        try:
            writer = group._writer
            if not writer.raw.in_transaction:
                await writer.begin()
            writer.raw.execute("SAVEPOINT unit")
        except BaseException:
            group._lock.release()
            raise
        return writer

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, *_: object
    ) -> None:
        group = self._group
        try:
            if error is not None:
                group._fail_unit(error)
                return
            try:
                await group._writer.flush_off_loop()
            except BaseException as failed:
                group._fail_unit(failed)
                raise
            group._writer.raw.execute("RELEASE unit")
            batch = group._join_batch()
        finally:
            group._lock.release()
        if self._await_commit:
            await asyncio.shield(batch)


class GroupCommitter:
    """Runs units of work on one writer, in savepoints of a shared transaction."""

    def __init__(self, writer: SyncConnection, on_commit: Callable[[], None]) -> None:
        self._writer = writer
        self._on_commit = on_commit
        self._lock = asyncio.Lock()
        self._batch: asyncio.Future[None] | None = None
        self._committer: asyncio.Task[None] | None = None

    def unit(self, await_commit: bool = True) -> Unit:
        """One atomic unit of work; returns once it is committed.

        With `await_commit=False` it returns as soon as the unit is in the open batch:
        it commits with that batch, so before or together with any later unit. That is
        for writes that only order later work on this database (claiming an inbox
        row before processing it), never for anything confirmed to the outside.
        """
        return Unit(self, await_commit)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[SyncConnection]:
        """The writer between units, for a read in place: it sees every ended unit."""
        async with self._lock:
            yield self._writer

    @asynccontextmanager
    async def idle_writer(self) -> AsyncIterator[SyncConnection]:
        """The writer with any open batch committed first, held for the caller alone."""
        async with self._lock:
            await self._commit_open_batch()
            yield self._writer

    async def settled(self) -> None:
        """Return once every unit that has ended so far is committed."""
        if self._batch is not None:
            await asyncio.shield(self._batch)

    async def flush(self) -> None:
        """Commit the open batch now, or wait for the commit in progress."""
        async with self._lock:
            await self._commit_open_batch()

    def _fail_unit(self, error: BaseException) -> None:
        """Undo the unit; a storage failure (full, locked, I/O) is raised under its name."""
        self._undo_unit(error)
        named = storage_error(error)
        if named is not None and named is not error:
            raise named from error

    def _undo_unit(self, error: BaseException) -> None:
        self._writer.discard_pending()
        raw = self._writer.raw
        if raw.in_transaction:
            raw.execute("ROLLBACK TO unit")
            raw.execute("RELEASE unit")
            if self._batch is None:
                raw.rollback()  # nothing else is waiting to commit: release the write lock
            return
        # SQLite dropped the whole transaction (as it does for most SQLITE_FULL and I/O
        # errors): the units that joined this batch before are lost too, and told so.
        batch, self._batch = self._batch, None
        if batch is not None and not batch.done():
            batch.set_exception(
                BatchLost(
                    f"SQLite rolled back the shared transaction after another unit failed"
                    f" ({error}): nothing of this unit was written; try again later"
                )
            )

    def _join_batch(self) -> asyncio.Future[None]:
        if self._batch is None:
            self._batch = asyncio.get_running_loop().create_future()
            self._committer = asyncio.create_task(self._commit_soon())
        return self._batch

    async def _commit_soon(self) -> None:
        await asyncio.sleep(0)  # units ready now join this batch before it commits
        async with self._lock:
            await self._commit_open_batch()

    async def _commit_open_batch(self) -> None:
        batch, self._batch = self._batch, None
        self._committer = None
        if batch is None:
            return
        try:
            # COMMIT writes the batch's pages to the WAL, in C with the GIL released: on a
            # worker thread, the loop goes on with other work (units wait for the lock).
            await self._writer.off_loop(self._writer.raw.commit)
        except asyncio.CancelledError:  # the thread ran to its end all the same
            if self._writer.raw.in_transaction:
                self._writer.raw.rollback()
                batch.set_exception(BatchLost("the commit was cancelled"))
            else:
                batch.set_result(None)
                self._on_commit()
            raise
        except BaseException as error:
            if self._writer.raw.in_transaction:
                self._writer.raw.rollback()
            batch.set_exception(storage_error(error) or error)
            return
        batch.set_result(None)
        self._on_commit()
