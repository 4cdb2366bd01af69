"""Choosing the engine, and the errors callers may meet on either.

`open_database(url, path)`: no URL means the SQLite file at `path` (the
embedded default); a `postgresql://` URL means PostgreSQL. `IntegrityError`
names what a UNIQUE, CHECK or trigger refusal raises on each engine, so code
above the storage layer catches it without importing an engine's driver; a unit
of work that failed for want of storage raises `storage.errors.StorageUnavailable`
on both (PostgreSQL's deadlocks, full disk and lost connections are mapped to it).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from .base import Database
from .database import SqliteDatabase
from .postgres import DatabaseUnavailable, PgDatabase, check_url

IntegrityError: tuple[type[Exception], ...] = (
    sqlite3.IntegrityError,
    asyncpg.IntegrityConstraintViolationError,
)


def open_database(url: str | None, path: Path) -> Database:
    """The engine for `url` (not yet connected); `DatabaseUnavailable` for a URL it cannot use."""
    if not url:
        return SqliteDatabase(path)
    check_url(url)
    return PgDatabase(url)


def in_schema(url: str, schema: str) -> str:
    """`url` with its tables in `schema` (asyncpg passes `search_path` to the server): how a
    host that keeps several applications in one database gives us ours (LNbits)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "search_path"]
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    query.append(("search_path", schema))
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


__all__ = ["DatabaseUnavailable", "IntegrityError", "in_schema", "open_database"]
