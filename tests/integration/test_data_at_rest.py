"""What a copy of the data directory gives away: the directory is 0700, the database and its
-wal/-shm files 0600, and the database holds API keys only as SHA-256 digests."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager  # type: ignore[import-not-found]
from nostrbazaar.app import create_app
from nostrbazaar.config import Settings
from nostrbazaar.crud.accounts import get_account_by_key, key_digest
from nostrbazaar.migrations import MIGRATIONS, m005_hashed_api_keys, run_migrations
from nostrbazaar.services.accounts import new_account
from nostrbazaar.storage.database import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as a copy of the directory would hold."""
    return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal")
                    if Path(f"{path}{suffix}").exists())  # fmt: skip


async def test_a_new_data_directory_is_0700_and_the_database_files_0600(tmp_path: Path) -> None:
    db = Database(tmp_path / "new" / "data" / "nostrbazaar.sqlite3")
    await db.connect()
    try:
        await run_migrations(db)
        await new_account(db, "shop")
        files = [db.path, Path(f"{db.path}-wal"), Path(f"{db.path}-shm")]
        assert all(file.exists() for file in files)
        assert mode(db.path.parent) == 0o700
        assert {file.name: mode(file) for file in files} == {file.name: 0o600 for file in files}
    finally:
        await db.close()


async def test_an_existing_world_readable_database_is_made_0600(tmp_path: Path) -> None:
    path = tmp_path / "nostrbazaar.sqlite3"
    first = Database(path)
    await first.connect()
    await run_migrations(first)
    await first.close()
    path.chmod(0o644)
    again = Database(path)
    await again.connect()
    try:
        assert mode(path) == 0o600
    finally:
        await again.close()


async def test_the_database_holds_no_clear_api_key_and_the_keys_still_work(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret="s")
    app = create_app(settings)
    app.state.runtime.background = False
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            account = (await http.post("/api/v1/account", json={"name": "Alice"})).json()
            admin, reader = {"X-Api-Key": account["adminkey"]}, {"X-Api-Key": account["inkey"]}
            created = await http.post("/api/v1/merchant", json={}, headers=admin)
            assert created.status_code == 200, created.text
            assert (await http.get("/api/v1/merchant", headers=reader)).status_code == 200
            refused = await http.post("/api/v1/merchant", json={}, headers=reader)
            assert refused.status_code == 401
            stored = database_bytes(settings.database_path)
    assert account["adminkey"].encode() not in stored
    assert account["inkey"].encode() not in stored
    assert key_digest(account["adminkey"]).encode() in stored


async def test_clear_keys_written_before_are_replaced_by_digests_and_keep_working(
    tmp_path: Path,
) -> None:
    db = Database(tmp_path / "nostrbazaar.sqlite3")
    await db.connect()
    try:
        before = MIGRATIONS[: MIGRATIONS.index(m005_hashed_api_keys)]
        await run_migrations(db, before)
        async with db.transaction() as conn:  # as an older release wrote it
            await conn.execute(
                "INSERT INTO accounts (id, name, admin_key, invoice_key, created_at)"
                " VALUES ('a1', 'old shop', 'old-admin-key', 'old-invoice-key', 1)"
            )
        assert await run_migrations(db) == len(MIGRATIONS) - len(before)
        row = await db.fetchone("SELECT admin_key, invoice_key FROM accounts")
        assert row is not None
        assert tuple(row) == (key_digest("old-admin-key"), key_digest("old-invoice-key"))
        admin = await get_account_by_key(db, "old-admin-key")
        reader = await get_account_by_key(db, "old-invoice-key")
        assert admin is not None and (admin[0].id, admin[1]) == ("a1", True)
        assert reader is not None and (reader[0].id, reader[1]) == ("a1", False)
        assert await get_account_by_key(db, key_digest("old-admin-key")) is None
        assert await run_migrations(db) == 0  # once only: a digest is never hashed again
    finally:
        await db.close()
