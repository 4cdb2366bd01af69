"""Choosing the engine, and the errors callers may meet on either.

`open_database(url, path)`: no URL means the SQLite file at `path` (the
embedded default); a `postgresql://` URL means PostgreSQL. `IntegrityError`
names what a UNIQUE, CHECK or trigger refusal raises on each engine, so code
above the storage layer catches it without importing an engine's driver.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg

from .base import Database
from .database import SqliteDatabase
from .postgres import DatabaseUnavailable, PgDatabase, check_url

IntegrityError: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)
# A unit of work that lost a race for locks (PostgreSQL picks one transaction to fail);
# running the same work again later succeeds.
TransientError: tuple[type[Exception], ...] = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


def open_database(url: str | None, path: Path) -> Database:
    """The engine for `url` (not yet connected); `DatabaseUnavailable` for a URL it cannot use."""
    if not url:
        return SqliteDatabase(path)
    check_url(url)
    return PgDatabase(url)


__all__ = ["DatabaseUnavailable", "IntegrityError", "TransientError", "open_database"]
