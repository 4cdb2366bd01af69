"""Named errors for a database that cannot take a write right now.

SQLite reports a full disk (or a page limit reached), another process holding
the write lock past our timeout, and I/O failures as `sqlite3.OperationalError`
with a code. Callers need to tell these apart from a bug or a constraint: the
unit of work failed whole, nothing of it was written, and the same work can be
tried again later (the API answers 503, ingest leaves the event for a retry).
They subclass `sqlite3.OperationalError`, so code that caught that still does.
"""

from __future__ import annotations

import sqlite3


class StorageUnavailable(sqlite3.OperationalError):
    """The database could not take this unit of work; nothing of it was written."""


class StorageFull(StorageUnavailable):
    """The database file could not grow: the disk (or its page limit) is full."""


class StorageBusy(StorageUnavailable):
    """Another process held the database's write lock for longer than we wait."""


_AFTER = "nothing was written; try again later"


def storage_error(error: BaseException) -> StorageUnavailable | None:
    """`error` as a named storage error (its cause set), or None when it is something else."""
    if isinstance(error, StorageUnavailable):
        return error
    if not isinstance(error, sqlite3.DatabaseError) or isinstance(error, sqlite3.IntegrityError):
        return None
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF  # the primary result code
    named: StorageUnavailable
    if code == sqlite3.SQLITE_FULL:
        named = StorageFull(f"storage is full ({error}): {_AFTER}")
    elif code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        named = StorageBusy(f"storage is busy: the database is locked ({error}): {_AFTER}")
    elif code == sqlite3.SQLITE_IOERR:
        named = StorageUnavailable(f"storage I/O error ({error}): {_AFTER}")
    else:
        return None
    named.__cause__ = error
    return named
