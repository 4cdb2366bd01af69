"""A unit of work: one write transaction, and helpers that run SQL inside it.

The writer runs in place on the loop's thread (`db_sync`), so a statement costs
what SQLite costs and nothing more; `run` hands a function the raw sqlite3
connection for work that is clearer written against it (several statements
whose results feed each other).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from ..storage.database import Connection, Database

T = TypeVar("T")


async def run(conn: Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    """Run `fn` with the raw sqlite3 connection of the transaction."""
    return fn(conn.raw)


def unit_of_work(db: Database) -> AbstractAsyncContextManager[Connection]:
    """`db.transaction()`: committed when it returns, rolled back on any error."""
    return db.transaction()


async def rows(conn: Connection, sql: str, params: Any = ()) -> list[sqlite3.Row]:
    """All rows of a query inside the transaction."""
    return conn.raw.execute(sql, params).fetchall()
