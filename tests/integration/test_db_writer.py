"""The writer runs in place on the loop: it must never block it waiting for a lock, must
give up with a clear error after its lock timeout, and checkpoints happen off the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from nostrbazaar.storage import database as db_module
from nostrbazaar.storage.database import SqliteDatabase


async def _database(tmp_path: Path) -> SqliteDatabase:
    database = SqliteDatabase(tmp_path / "shop.sqlite3")
    await database.connect()
    async with database.transaction() as conn:
        await conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)")
    return database


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_waiting_for_another_process_lock_leaves_the_loop_free(tmp_path: Path) -> None:
    database = await _database(tmp_path)
    other = _hold_write_lock(database.path)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    async def write() -> None:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES ('after the wait')")

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.2)
    assert not writing.done()  # still waiting for the lock...
    assert ticks >= 10  # ...while the loop goes on running other work
    other.rollback()
    await asyncio.wait_for(writing, 5)
    ticking.cancel()
    row = await database.fetchone("SELECT body FROM notes")
    assert row is not None and row["body"] == "after the wait"
    other.close()
    await database.close()


async def test_a_lock_never_released_gives_a_clear_error(tmp_path: Path) -> None:
    database = await _database(tmp_path)
    assert database._writer is not None
    database._writer.lock_timeout = 0.1
    other = _hold_write_lock(database.path)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES ('never')")
    other.rollback()
    other.close()
    async with database.transaction() as conn:  # the writer is usable afterwards
        await conn.execute("INSERT INTO notes (body) VALUES ('later')")
    assert (await database.fetchone("SELECT COUNT(*) AS n FROM notes"))["n"] == 1  # type: ignore[index]
    await database.close()


async def test_the_wal_is_checkpointed_in_the_background_every_so_many_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "CHECKPOINT_EVERY", 4)
    database = await _database(tmp_path)  # one commit so far
    blob = b"x" * 200_000
    for _ in range(2):
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES (?)", (blob,))
    size_before = database.path.stat().st_size
    assert size_before < len(blob)  # the rows are only in the WAL: the writer never copies
    async with database.transaction() as conn:  # the fourth commit starts a checkpoint
        await conn.execute("INSERT INTO notes (body) VALUES (?)", (blob,))
    assert database._checkpointing is not None
    await database._checkpointing
    assert database.path.stat().st_size > 3 * len(blob)
    await database.close()


def _rows_seen_by_another_connection(path: Path) -> list[str]:
    other = sqlite3.connect(path)
    try:
        return [row[0] for row in other.execute("SELECT body FROM notes ORDER BY id")]
    finally:
        other.close()


async def test_units_ready_together_share_a_commit_and_each_is_durable_on_exit(
    tmp_path: Path,
) -> None:
    database = await _database(tmp_path)
    commits = 0

    def counted() -> None:
        nonlocal commits
        commits += 1

    database.add_commit_listener(counted)
    durable: list[bool] = []

    async def unit(n: int) -> None:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES (?)", (f"note {n}",))
        durable.append(f"note {n}" in _rows_seen_by_another_connection(database.path))

    await asyncio.gather(*(unit(n) for n in range(20)))
    assert durable == [True] * 20  # committed before `async with` returned, every time
    assert 1 <= commits < 20  # ...and grouped
    await database.close()


async def test_a_failing_unit_rolls_back_alone_and_its_batch_commits(tmp_path: Path) -> None:
    database = await _database(tmp_path)

    async def unit(n: int) -> None:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES (?)", (f"note {n}",))
            if n == 3:
                raise ValueError("this one fails")

    results = await asyncio.gather(*(unit(n) for n in range(6)), return_exceptions=True)
    assert isinstance(results[3], ValueError)
    assert _rows_seen_by_another_connection(database.path) == [f"note {n}" for n in (0, 1, 2, 4, 5)]
    await database.close()


async def test_a_cancelled_waiter_does_not_cancel_the_commit_of_the_others(
    tmp_path: Path,
) -> None:
    database = await _database(tmp_path)

    async def unit(n: int) -> None:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES (?)", (f"note {n}",))

    first = asyncio.create_task(unit(0))
    second = asyncio.create_task(unit(1))
    await asyncio.sleep(0)  # both have joined the batch and wait for its commit
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    await second
    assert _rows_seen_by_another_connection(database.path) == ["note 0", "note 1"]
    await database.close()


async def test_a_unit_that_does_not_wait_commits_with_the_next(tmp_path: Path) -> None:
    database = await _database(tmp_path)
    async with database.transaction(await_commit=False) as conn:
        await conn.execute("INSERT INTO notes (body) VALUES ('claimed')")
    async with database.transaction() as conn:
        await conn.execute("INSERT INTO notes (body) VALUES ('processed')")
    assert _rows_seen_by_another_connection(database.path) == ["claimed", "processed"]
    async with database.transaction(await_commit=False) as conn:
        await conn.execute("INSERT INTO notes (body) VALUES ('alone')")
    await database.settled()
    assert _rows_seen_by_another_connection(database.path)[-1] == "alone"
    await database.close()


async def test_a_buffered_write_that_fails_at_the_end_of_its_unit_fails_that_unit_only(
    tmp_path: Path,
) -> None:
    database = await _database(tmp_path)
    async with database.transaction() as conn:
        await conn.execute("CREATE UNIQUE INDEX notes_once ON notes(body)")

    async def unit(body: str) -> None:
        async with database.transaction() as conn:
            await conn.executemany("INSERT INTO notes (body) VALUES (?)", [(body,)])

    results = await asyncio.gather(
        unit("first"), unit("first"), unit("second"), return_exceptions=True
    )
    assert results[0] is None and results[2] is None
    assert isinstance(results[1], sqlite3.IntegrityError)  # raised by its own `async with`
    assert _rows_seen_by_another_connection(database.path) == ["first", "second"]
    await database.close()


async def test_a_read_inside_a_unit_sees_the_writes_buffered_before_it(tmp_path: Path) -> None:
    database = await _database(tmp_path)
    async with database.transaction() as conn:
        await conn.executemany("INSERT INTO notes (body) VALUES (?)", [("a",), ("b",)])
        async with conn.execute("SELECT COUNT(*) FROM notes") as cursor:
            row = await cursor.fetchone()
        assert row is not None and row[0] == 2
    await database.close()


async def test_a_commit_cancelled_mid_way_still_reports_what_happened(tmp_path: Path) -> None:
    database = await _database(tmp_path)
    group = database._group
    assert group is not None
    writer = group._writer
    real_off_loop = writer.off_loop

    async def slow_off_loop(fn: object, *args: object) -> object:
        def slowly() -> object:
            time.sleep(0.2)  # the COMMIT is under way on the writer's thread...
            return fn(*args)  # type: ignore[operator]

        return await real_off_loop(slowly)

    writer.off_loop = slow_off_loop  # type: ignore[method-assign]

    async def unit() -> None:
        async with database.transaction() as conn:
            await conn.execute("INSERT INTO notes (body) VALUES ('kept')")

    waiting = asyncio.create_task(unit())
    await asyncio.sleep(0.05)
    [committer] = [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "_commit_soon"]
    committer.cancel()  # ...when the loop shuts down, say
    await waiting  # it committed: the caller is told so, not handed the cancellation
    assert _rows_seen_by_another_connection(database.path) == ["kept"]
    writer.off_loop = real_off_loop  # type: ignore[method-assign]
    await database.close()
