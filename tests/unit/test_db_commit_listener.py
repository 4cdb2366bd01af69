"""The post-commit hook that wakes the outbox publisher the moment a reply is committed."""

from __future__ import annotations

from pathlib import Path

import pytest
from nostrbazaar.storage.database import SqliteDatabase


async def test_listeners_run_after_a_commit_and_not_after_a_rollback(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "x.sqlite3")
    await db.connect()
    calls: list[str] = []
    db.add_commit_listener(lambda: calls.append("committed"))
    try:
        async with db.transaction() as conn:
            await conn.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("roll back")
        assert calls == ["committed"]
    finally:
        await db.close()
