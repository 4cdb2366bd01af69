"""A unit of work: one write transaction, and helpers that run SQL inside it.

The engine is behind `storage` (SQLite's writer runs in place on the loop's
thread; PostgreSQL's statements go to the unit's pooled connection), so the
SQL here is the same for both.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

from ..storage.database import Connection, Database, Row


def unit_of_work(db: Database) -> AbstractAsyncContextManager[Connection]:
    """`db.transaction()`: committed when it returns, rolled back on any error."""
    return db.transaction()


async def rows(conn: Connection, sql: str, params: Any = ()) -> list[Row]:
    """All rows of a query inside the transaction."""
    return await conn.fetchall(sql, params)
