"""Numbered schema migrations, run at start-up in order, each exactly once.

`run_migrations` records each applied step in `schema_migrations` inside the
same transaction as the step itself, so a crash mid-way leaves nothing half done
and running it again is harmless. New steps are appended as `m00N_<what>`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from loguru import logger

from .db import Connection, Database, execute_script

Migration = Callable[[Connection], Awaitable[None]]


async def m001_catalogue(conn: Connection) -> None:
    """Accounts, merchants and their catalogue (zones, stalls, products), and the outbox."""
    await execute_script(
        conn,
        """
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            admin_key TEXT NOT NULL UNIQUE,
            invoice_key TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE merchants (
            id TEXT PRIMARY KEY,
            account_id TEXT NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
            public_key TEXT NOT NULL UNIQUE,
            private_key_sealed TEXT NOT NULL,
            profile TEXT NOT NULL DEFAULT '{}',
            relays TEXT NOT NULL DEFAULT '[]',
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            published_at INTEGER,
            published_relays TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE zones (
            id TEXT PRIMARY KEY,
            merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            currency TEXT NOT NULL,
            cost TEXT NOT NULL DEFAULT '0',
            countries TEXT NOT NULL DEFAULT '[]',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX zones_by_merchant ON zones(merchant_id);
        CREATE TABLE stalls (
            id TEXT PRIMARY KEY,
            merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            currency TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            image_url TEXT,
            pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),
            event_id TEXT,
            event_created_at INTEGER,
            published_at INTEGER,
            published_relays TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX stalls_by_merchant ON stalls(merchant_id);
        CREATE TABLE stall_zones (
            stall_id TEXT NOT NULL REFERENCES stalls(id) ON DELETE CASCADE,
            zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            PRIMARY KEY (stall_id, zone_id)
        );
        CREATE TABLE products (
            id TEXT PRIMARY KEY,
            merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
            stall_id TEXT NOT NULL REFERENCES stalls(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            images TEXT NOT NULL DEFAULT '[]',
            categories TEXT NOT NULL DEFAULT '[]',
            specs TEXT NOT NULL DEFAULT '[]',
            price TEXT NOT NULL,
            currency TEXT,
            quantity INTEGER NOT NULL CHECK (quantity >= 0),
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            pending INTEGER NOT NULL DEFAULT 0 CHECK (pending IN (0, 1)),
            use_autoreply INTEGER NOT NULL DEFAULT 0 CHECK (use_autoreply IN (0, 1)),
            autoreply_message TEXT,
            event_id TEXT,
            event_created_at INTEGER,
            published_at INTEGER,
            published_relays TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX products_by_stall ON products(stall_id);
        CREATE INDEX products_by_merchant ON products(merchant_id);
        CREATE TABLE product_shipping (
            product_id TEXT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
            zone_id TEXT NOT NULL REFERENCES zones(id) ON DELETE CASCADE,
            cost TEXT NOT NULL,
            PRIMARY KEY (product_id, zone_id)
        );
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            merchant_id TEXT NOT NULL,
            event_id TEXT NOT NULL UNIQUE,
            event TEXT NOT NULL,
            relays TEXT NOT NULL DEFAULT '[]',
            purpose TEXT NOT NULL,
            order_id TEXT,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            acks TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            sent_at INTEGER
        );
        CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
        CREATE INDEX outbox_by_merchant ON outbox(merchant_id, status);
        """,
    )


MIGRATIONS: list[Migration] = [m001_catalogue]


async def run_migrations(db: Database, migrations: list[Migration] | None = None) -> int:
    """Apply every migration not yet recorded; return how many ran."""
    steps = MIGRATIONS if migrations is None else migrations
    await db.executescript(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))"
    )
    applied = {row["name"] for row in await db.fetchall("SELECT name FROM schema_migrations")}
    count = 0
    for step in steps:
        if step.__name__ in applied:
            continue
        async with db.transaction() as conn:
            await step(conn)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES (?)", (step.__name__,))
        logger.info("applied migration {}", step.__name__)
        count += 1
    return count
