"""The storage contract: what crud and the services rely on, held by both engines.

Each test runs on a SQLite file and on a fresh PostgreSQL schema (`database_url`),
against the real schema made by the migrations.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nostrbazaar.migrations import run_migrations
from nostrbazaar.storage.database import Database
from nostrbazaar.storage.engines import IntegrityError, open_database

_ACCOUNT = "INSERT INTO accounts (id, name, admin_key, invoice_key, created_at) VALUES (?,?,?,?,?)"


@pytest.fixture
async def db(tmp_path: Path, database_url: str | None) -> AsyncIterator[Database]:
    database = open_database(database_url, tmp_path / "contract.sqlite3")
    await database.connect()
    await run_migrations(database)
    yield database
    await database.close()


async def _account(db: Database, n: int) -> None:
    async with db.transaction() as conn:
        await conn.execute(_ACCOUNT, (f"a{n}", f"name {n}", f"adm{n}", f"inv{n}", n))


async def test_rows_are_addressable_by_name_and_by_index(db: Database) -> None:
    await _account(db, 1)
    row = await db.fetchone("SELECT id, name FROM accounts WHERE id = ?", ("a1",))
    assert row is not None
    assert (row["id"], row[1], dict(row), tuple(row)) == (
        "a1", "name 1", {"id": "a1", "name": "name 1"}, ("a1", "name 1"),
    )  # fmt: skip


async def test_a_statement_reports_how_many_rows_it_changed(db: Database) -> None:
    for n in range(3):
        await _account(db, n)
    async with db.transaction() as conn:
        changed = await conn.execute("UPDATE accounts SET name = 'x' WHERE created_at >= ?", (1,))
        none = await conn.execute("DELETE FROM accounts WHERE id = ?", ("nobody",))
        selected = await conn.fetchall("SELECT id FROM accounts ORDER BY id")
    assert (changed.rowcount, none.rowcount) == (2, 0)
    assert [row["id"] for row in selected] == ["a0", "a1", "a2"]


async def test_named_parameters_and_executemany_work_alike(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.executemany(_ACCOUNT, [(f"a{n}", "n", f"k{n}", f"i{n}", n) for n in range(5)])
    rows = await db.fetchall(
        "SELECT id FROM accounts WHERE created_at >= :low AND created_at < :high ORDER BY id",
        {"low": 1, "high": 3},
    )
    assert [row[0] for row in rows] == ["a1", "a2"]


async def test_insert_or_ignore_keeps_the_first_row(db: Database) -> None:
    await _account(db, 1)
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO accounts (id, name, admin_key, invoice_key, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ("a1", "other", "k", "i", 9),
        )
    assert cursor.rowcount == 0
    assert (await db.fetchone("SELECT name FROM accounts"))["name"] == "name 1"


async def test_a_unique_key_taken_twice_fails_the_second_unit_with_integrity_error(
    db: Database,
) -> None:
    await _account(db, 1)
    with pytest.raises(IntegrityError):
        await _account(db, 1)
    assert len(await db.fetchall("SELECT id FROM accounts")) == 1


async def test_a_failing_unit_rolls_back_alone_while_units_beside_it_commit(db: Database) -> None:
    async def unit(n: int) -> None:
        async with db.transaction() as conn:
            await conn.execute(_ACCOUNT, (f"a{n}", "n", f"k{n}", f"i{n}", n))
            if n == 2:
                raise RuntimeError("this unit fails after its write")

    results = await asyncio.gather(*(unit(n) for n in range(5)), return_exceptions=True)
    assert [type(r).__name__ for r in results].count("RuntimeError") == 1
    rows = await db.fetchall("SELECT id FROM accounts ORDER BY id")
    assert [row["id"] for row in rows] == ["a0", "a1", "a3", "a4"]


async def test_commit_listeners_hear_commits_and_not_rollbacks(db: Database) -> None:
    heard: list[str] = []
    db.add_commit_listener(lambda: heard.append("commit"))
    await _account(db, 1)
    with pytest.raises(RuntimeError):
        async with db.transaction() as conn:
            await conn.execute(_ACCOUNT, ("a2", "n", "k2", "i2", 2))
            raise RuntimeError("roll back")
    assert heard == ["commit"]
    assert await db.ping()


async def test_amounts_beyond_32_bits_are_kept_exactly(db: Database) -> None:
    await _account(db, 1)
    big = 21_000_000 * 100_000_000 * 1000  # every bitcoin, in millisatoshis
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO payments (payment_hash, amount_msat, source, outcome, created_at)"
            " VALUES (?, ?, 'wallet', 'unmatched', ?)",
            ("h", big, 1),
        )
    assert (await db.fetchone("SELECT amount_msat FROM payments"))[0] == big


async def test_the_engine_names_itself(db: Database, db_engine: str) -> None:
    described = await db.describe()
    assert described["engine"] == db_engine and described["version"]
