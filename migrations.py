"""Numbered schema migrations, run at start-up in order, each exactly once.

`run_migrations` records each applied step in `schema_migrations` inside the
same transaction as the step itself, so a crash mid-way leaves nothing half done
and running it again is harmless. New steps are appended as `m00N_<what>`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from loguru import logger

from .storage.base import POSTGRESQL
from .storage.database import Connection, Database, execute_script, fetchall
from .storage.engines import in_schema, open_database

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


async def m002_orders(conn: Connection) -> None:
    """The order engine: inbox, customers, messages, the order log and its projections, stock."""
    await execute_script(conn, _M002_INBOX_AND_MESSAGES)
    await execute_script(conn, _M002_ORDER_LOG)
    await execute_script(conn, _M002_PAYMENTS_AND_STOCK)
    triggers = _M002_PG_TRIGGERS if conn.dialect is POSTGRESQL else _M002_SQLITE_TRIGGERS
    await execute_script(conn, triggers)
    await write_order_transitions(conn)


async def write_order_transitions(conn: Connection) -> None:
    """Fill `order_transitions` from `orders.TRANSITIONS`, the one definition of the rules.

    The runtime calls it again at start-up whenever the table and the code differ.
    """
    from .orders.machine import TRANSITIONS

    await conn.execute("DELETE FROM order_transitions")
    await conn.executemany(
        "INSERT INTO order_transitions (from_status, to_status) VALUES (?, ?)",
        sorted((str(a), str(b)) for a, b in TRANSITIONS),
    )


_M002_INBOX_AND_MESSAGES = """
CREATE TABLE inbox (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    raw TEXT NOT NULL,
    kind INTEGER,
    pubkey TEXT,
    created_at INTEGER,
    verdict TEXT NOT NULL CHECK (verdict IN
        ('received', 'processed', 'rejected', 'ignored', 'outgoing', 'parked')),
    reason TEXT,
    order_id TEXT,
    received_at INTEGER NOT NULL,
    relay TEXT
);
CREATE INDEX inbox_by_merchant ON inbox(merchant_id, received_at);
CREATE INDEX inbox_parked ON inbox(merchant_id, order_id) WHERE verdict = 'parked';
CREATE TABLE customers (
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    name TEXT,
    about TEXT,
    picture TEXT,
    profile_at INTEGER NOT NULL DEFAULT 0,
    unread INTEGER NOT NULL DEFAULT 0 CHECK (unread >= 0),
    last_message_at INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, public_key)
);
CREATE TABLE direct_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    event_id TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    type INTEGER NOT NULL DEFAULT -1 CHECK (type IN (-1, 0, 1, 2)),
    order_id TEXT,
    message TEXT NOT NULL,
    transport TEXT NOT NULL CHECK (transport IN ('nip04', 'nip17')),
    read INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    created_at INTEGER NOT NULL,
    UNIQUE (merchant_id, event_id)
);
CREATE INDEX direct_messages_by_customer ON direct_messages(merchant_id, public_key, created_at);
"""

_M002_ORDER_LOG = """
CREATE TABLE order_events (
    merchant_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    cause TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, order_id, version)
) WITHOUT ROWID;
CREATE TABLE order_transitions (
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    PRIMARY KEY (from_status, to_status)
);
CREATE TABLE orders (
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    status TEXT NOT NULL,
    public_key TEXT NOT NULL,
    stall_id TEXT,
    zone_id TEXT,
    address TEXT,
    name TEXT,
    contact TEXT NOT NULL DEFAULT '{}',
    items TEXT NOT NULL DEFAULT '[]',
    message TEXT,
    subtotal_msat INTEGER NOT NULL DEFAULT 0 CHECK (subtotal_msat >= 0),
    shipping_msat INTEGER NOT NULL DEFAULT 0 CHECK (shipping_msat >= 0),
    total_msat INTEGER NOT NULL DEFAULT 0 CHECK (total_msat >= 0),
    currency TEXT NOT NULL DEFAULT 'sat',
    fiat_amount TEXT,
    fiat_rate TEXT,
    payment_hash TEXT,
    paid INTEGER NOT NULL DEFAULT 0 CHECK (paid IN (0, 1)),
    shipped INTEGER NOT NULL DEFAULT 0 CHECK (shipped IN (0, 1)),
    transport TEXT NOT NULL CHECK (transport IN ('nip04', 'nip17')),
    reason TEXT,
    merchant_message TEXT,
    refund_msat INTEGER NOT NULL DEFAULT 0,
    event_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, id)
);
CREATE INDEX orders_newest ON orders(merchant_id, created_at DESC, id);
CREATE INDEX orders_by_status ON orders(merchant_id, status, created_at DESC);
CREATE INDEX orders_by_customer ON orders(merchant_id, public_key, status);
CREATE TABLE invoices (
    payment_hash TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    bolt11 TEXT NOT NULL,
    amount_msat INTEGER NOT NULL CHECK (amount_msat > 0),
    expires_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('current', 'superseded', 'expired', 'settled')),
    created_at INTEGER NOT NULL
);
CREATE INDEX invoices_by_order ON invoices(merchant_id, order_id);
CREATE INDEX invoices_due ON invoices(state, expires_at);
"""

_M002_PAYMENTS_AND_STOCK = """
CREATE TABLE payments (
    payment_hash TEXT PRIMARY KEY,
    merchant_id TEXT,
    order_id TEXT,
    amount_msat INTEGER NOT NULL CHECK (amount_msat >= 0),
    source TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('paid', 'refund_needed', 'unmatched')),
    settled_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE TABLE stock_ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    delta INTEGER NOT NULL,
    cause TEXT NOT NULL,
    order_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX stock_ledger_by_product ON stock_ledger(product_id);
CREATE TABLE reservations (
    merchant_id TEXT NOT NULL,
    order_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    state TEXT NOT NULL CHECK (state IN ('held', 'sold', 'released')),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, order_id, product_id)
);
CREATE INDEX reservations_by_product ON reservations(product_id, state);
ALTER TABLE products ADD COLUMN stock_seq INTEGER NOT NULL DEFAULT 0;
INSERT INTO stock_ledger (merchant_id, product_id, delta, cause, created_at)
    SELECT merchant_id, id, quantity, 'opening balance', unixepoch() FROM products;
"""


# The rules the database itself keeps (invariants 3, 5 and 7), in each engine's language.
_M002_SQLITE_TRIGGERS = """
CREATE TRIGGER order_events_append_only_update BEFORE UPDATE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only: UPDATE refused');
END;
CREATE TRIGGER order_events_append_only_delete BEFORE DELETE ON order_events
BEGIN
    SELECT RAISE(ABORT, 'order_events is append-only: DELETE refused');
END;
CREATE TRIGGER orders_initial_status BEFORE INSERT ON orders
WHEN NOT EXISTS (SELECT 1 FROM order_transitions
                 WHERE from_status = '' AND to_status = NEW.status)
BEGIN
    SELECT RAISE(ABORT, 'illegal initial order status');
END;
CREATE TRIGGER orders_status_transition BEFORE UPDATE OF status ON orders
WHEN OLD.status <> NEW.status AND NOT EXISTS (
    SELECT 1 FROM order_transitions WHERE from_status = OLD.status AND to_status = NEW.status)
BEGIN
    SELECT RAISE(ABORT, 'illegal order status transition');
END;
CREATE TRIGGER stock_ledger_append_only_update BEFORE UPDATE ON stock_ledger
BEGIN
    SELECT RAISE(ABORT, 'stock_ledger is append-only: UPDATE refused');
END;
CREATE TRIGGER stock_ledger_append_only_delete BEFORE DELETE ON stock_ledger
BEGIN
    SELECT RAISE(ABORT, 'stock_ledger is append-only: DELETE refused');
END;
CREATE TRIGGER products_stock_created AFTER INSERT ON products
BEGIN
    INSERT INTO stock_ledger (merchant_id, product_id, delta, cause, created_at)
    VALUES (NEW.merchant_id, NEW.id, NEW.quantity, 'catalogue: product created', unixepoch());
END;
CREATE TRIGGER products_stock_edited AFTER UPDATE OF quantity ON products
WHEN NEW.quantity <> OLD.quantity AND NEW.stock_seq = OLD.stock_seq
BEGIN
    INSERT INTO stock_ledger (merchant_id, product_id, delta, cause, created_at)
    VALUES (NEW.merchant_id, NEW.id, NEW.quantity - OLD.quantity,
            'catalogue: quantity edited', unixepoch());
END;
"""

_M002_PG_TRIGGERS = """
CREATE FUNCTION nb_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION nb_append_only();
CREATE TRIGGER order_events_no_truncate BEFORE TRUNCATE ON order_events
    FOR EACH STATEMENT EXECUTE FUNCTION nb_append_only();
CREATE TRIGGER stock_ledger_append_only BEFORE UPDATE OR DELETE ON stock_ledger
    FOR EACH ROW EXECUTE FUNCTION nb_append_only();
CREATE TRIGGER stock_ledger_no_truncate BEFORE TRUNCATE ON stock_ledger
    FOR EACH STATEMENT EXECUTE FUNCTION nb_append_only();

CREATE FUNCTION nb_order_status_rule() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM order_transitions
                       WHERE from_status = '' AND to_status = NEW.status) THEN
            RAISE EXCEPTION 'illegal initial order status'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    ELSIF OLD.status <> NEW.status AND NOT EXISTS (SELECT 1 FROM order_transitions
            WHERE from_status = OLD.status AND to_status = NEW.status) THEN
        RAISE EXCEPTION 'illegal order status transition'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER orders_initial_status BEFORE INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION nb_order_status_rule();
CREATE TRIGGER orders_status_transition BEFORE UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION nb_order_status_rule();

CREATE FUNCTION nb_stock_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stock_ledger (merchant_id, product_id, delta, cause, created_at)
        VALUES (NEW.merchant_id, NEW.id, NEW.quantity, 'catalogue: product created',
                CAST(EXTRACT(EPOCH FROM now()) AS BIGINT));
    ELSE
        INSERT INTO stock_ledger (merchant_id, product_id, delta, cause, created_at)
        VALUES (NEW.merchant_id, NEW.id, NEW.quantity - OLD.quantity,
                'catalogue: quantity edited', CAST(EXTRACT(EPOCH FROM now()) AS BIGINT));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER products_stock_created AFTER INSERT ON products
    FOR EACH ROW EXECUTE FUNCTION nb_stock_ledger_entry();
CREATE TRIGGER products_stock_edited AFTER UPDATE OF quantity ON products
    FOR EACH ROW WHEN (NEW.quantity <> OLD.quantity AND NEW.stock_seq = OLD.stock_seq)
    EXECUTE FUNCTION nb_stock_ledger_entry();
"""


async def m003_order_list_indexes(conn: Connection) -> None:
    """Indexes for the order list's filters, each in the list's order (newest first, ties by
    id) with the filter columns it can check in the index (crud/order_list.py)."""
    await execute_script(conn, _M003_ORDER_LIST_INDEXES)


# They replace orders_newest and orders_by_status, whose columns they start with.
_M003_ORDER_LIST_INDEXES = """
CREATE INDEX orders_list_newest ON orders(merchant_id, created_at DESC, id, stall_id);
CREATE INDEX orders_list_by_customer
    ON orders(merchant_id, public_key, created_at DESC, id, status, paid, shipped, stall_id);
CREATE INDEX orders_list_by_status
    ON orders(merchant_id, status, created_at DESC, id, paid, shipped);
CREATE INDEX orders_list_by_flags ON orders(merchant_id, paid, shipped, created_at DESC, id);
DROP INDEX orders_newest;
DROP INDEX orders_by_status;
"""


async def m004_product_holds(conn: Connection) -> None:
    """A product's optional limit per order, and `held`: the units its unpaid orders hold,
    kept equal to its held reservations by triggers (the new-customer share reads it
    instead of summing the reservations on every order)."""
    await execute_script(conn, _M004_PRODUCT_HOLDS)
    pg = conn.dialect is POSTGRESQL
    await execute_script(conn, _M004_PG_TRIGGERS if pg else _M004_SQLITE_TRIGGERS)


_M004_PRODUCT_HOLDS = """
ALTER TABLE products ADD COLUMN max_per_order INTEGER
    CHECK (max_per_order IS NULL OR max_per_order > 0);
ALTER TABLE products ADD COLUMN held INTEGER NOT NULL DEFAULT 0;
UPDATE products SET held = COALESCE((SELECT SUM(r.quantity) FROM reservations r
    WHERE r.product_id = products.id AND r.state = 'held'), 0);
"""


_M004_SQLITE_TRIGGERS = """
CREATE TRIGGER reservations_held_inserted AFTER INSERT ON reservations
WHEN NEW.state = 'held'
BEGIN
    UPDATE products SET held = held + NEW.quantity WHERE id = NEW.product_id;
END;
CREATE TRIGGER reservations_held_updated AFTER UPDATE OF state, quantity ON reservations
WHEN OLD.state = 'held' OR NEW.state = 'held'
BEGIN
    UPDATE products SET held = held
        - CASE WHEN OLD.state = 'held' THEN OLD.quantity ELSE 0 END
        + CASE WHEN NEW.state = 'held' THEN NEW.quantity ELSE 0 END
    WHERE id = NEW.product_id;
END;
CREATE TRIGGER reservations_held_deleted AFTER DELETE ON reservations
WHEN OLD.state = 'held'
BEGIN
    UPDATE products SET held = held - OLD.quantity WHERE id = OLD.product_id;
END;
"""

_M004_PG_TRIGGERS = """
CREATE FUNCTION nb_reservations_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.state = 'held' THEN
        UPDATE products SET held = held - OLD.quantity WHERE id = OLD.product_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state = 'held' THEN
        UPDATE products SET held = held + NEW.quantity WHERE id = NEW.product_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reservations_held_inserted AFTER INSERT ON reservations
    FOR EACH ROW WHEN (NEW.state = 'held') EXECUTE FUNCTION nb_reservations_held();
CREATE TRIGGER reservations_held_updated AFTER UPDATE OF state, quantity ON reservations
    FOR EACH ROW WHEN (OLD.state = 'held' OR NEW.state = 'held')
    EXECUTE FUNCTION nb_reservations_held();
CREATE TRIGGER reservations_held_deleted AFTER DELETE ON reservations
    FOR EACH ROW WHEN (OLD.state = 'held') EXECUTE FUNCTION nb_reservations_held();
"""


async def m005_hashed_api_keys(conn: Connection) -> None:
    """API keys are kept as their SHA-256 digests only: each clear key written before is
    replaced by its digest (as `crud.accounts.key_digest` computes it, spelled out here so
    this step never changes); the keys themselves keep working."""

    def digest(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    rows = await fetchall(conn, "SELECT id, admin_key, invoice_key FROM accounts")
    for row in rows:
        await conn.execute(
            "UPDATE accounts SET admin_key = ?, invoice_key = ? WHERE id = ?",
            (digest(row["admin_key"]), digest(row["invoice_key"]), row["id"]),
        )


async def m006_gamma_orders(conn: Connection) -> None:
    """Each order's dialect (the message format it came in, its replies go in), and the
    invoices minted for the merchants' lightning addresses: a receipt claims one for one
    order, once (`used_by_order` is set once, and unique per merchant)."""
    await execute_script(conn, _M006_GAMMA_ORDERS)


_M006_GAMMA_ORDERS = """
ALTER TABLE orders ADD COLUMN dialect TEXT NOT NULL DEFAULT 'nip15'
    CHECK (dialect IN ('nip15', 'gamma'));
CREATE TABLE lnurl_invoices (
    payment_hash TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    amount_msat INTEGER NOT NULL CHECK (amount_msat > 0),
    bolt11 TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    used_by_order TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (merchant_id, used_by_order)
);
CREATE INDEX lnurl_invoices_by_merchant ON lnurl_invoices(merchant_id, created_at);
"""


async def m007_console(conn: Connection) -> None:
    """The operator's console: jobs (one active per merchant and kind, by a partial UNIQUE
    index), notifications (one per dedupe key) and the merchant's notification setting."""
    await execute_script(conn, _M007_CONSOLE)


_M007_CONSOLE = """
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL CHECK (state IN
        ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted')),
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    retry_of TEXT,
    created_at INTEGER NOT NULL,
    started_at INTEGER,
    ended_at INTEGER,
    updated_at INTEGER NOT NULL
);
CREATE INDEX jobs_by_merchant ON jobs(merchant_id, created_at);
CREATE UNIQUE INDEX jobs_one_active ON jobs(merchant_id, kind)
    WHERE state IN ('queued', 'running');
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'critical')),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    object_type TEXT,
    object_id TEXT,
    dedupe_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER,
    UNIQUE (merchant_id, dedupe_key)
);
CREATE INDEX notifications_by_merchant ON notifications(merchant_id, created_at);
CREATE TABLE notification_settings (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants(id) ON DELETE CASCADE,
    dm_urgent INTEGER NOT NULL DEFAULT 0 CHECK (dm_urgent IN (0, 1)),
    updated_at INTEGER NOT NULL
);
"""


async def m008_shopstr_conduit_cashu(conn: Connection) -> None:
    """Orders in the Shopstr and Conduit dialects (the dialect column's CHECK widened: a new
    column, copied, the old one dropped, the new one renamed), and Cashu ecash: each token
    received (`cashu_redemptions`, its proofs' Y values UNIQUE in `cashu_spent_ys`, so the
    same token pays once) and the proofs the mint gave in exchange, sealed (`cashu_proofs`),
    with each merchant's trusted mints and each withdrawal."""
    await execute_script(conn, _M008_SHOPSTR_CONDUIT_CASHU)


_M008_SHOPSTR_CONDUIT_CASHU = """
ALTER TABLE orders ADD COLUMN dialect_v2 TEXT NOT NULL DEFAULT 'nip15'
    CHECK (dialect_v2 IN ('nip15', 'gamma', 'shopstr', 'conduit'));
UPDATE orders SET dialect_v2 = dialect;
ALTER TABLE orders DROP COLUMN dialect;
ALTER TABLE orders RENAME COLUMN dialect_v2 TO dialect;
CREATE TABLE cashu_redemptions (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    order_id TEXT NOT NULL,
    mint TEXT NOT NULL,
    amount_msat INTEGER NOT NULL CHECK (amount_msat >= 0),
    fee_msat INTEGER NOT NULL DEFAULT 0 CHECK (fee_msat >= 0),
    state TEXT NOT NULL CHECK (state IN ('claimed', 'redeemed', 'refused')),
    reason TEXT,
    token_sealed TEXT,
    outputs_sealed TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cashu_redemptions_by_order ON cashu_redemptions(merchant_id, order_id);
CREATE TABLE cashu_spent_ys (
    y TEXT PRIMARY KEY,
    redemption_id TEXT NOT NULL REFERENCES cashu_redemptions(id) ON DELETE CASCADE
);
CREATE TABLE cashu_proofs (
    y TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    mint TEXT NOT NULL,
    amount INTEGER NOT NULL CHECK (amount > 0),
    sealed TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('unspent', 'withdrawing', 'spent')),
    redemption_id TEXT,
    withdrawal_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX cashu_proofs_by_merchant ON cashu_proofs(merchant_id, mint, state);
CREATE TABLE cashu_withdrawals (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants(id) ON DELETE CASCADE,
    mint TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('melt', 'token')),
    amount INTEGER NOT NULL,
    fee INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    detail TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE cashu_settings (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants(id) ON DELETE CASCADE,
    mints TEXT NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL
);
"""


async def m009_outbox_leases(conn: Connection) -> None:
    """An outbox row is claimed by one process at a time (several instances on one
    PostgreSQL database): who holds it, and until when; a lease run out frees it."""
    await execute_script(
        conn,
        """
        ALTER TABLE outbox ADD COLUMN lease_owner TEXT;
        ALTER TABLE outbox ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;
        """,
    )


MIGRATIONS: list[Migration] = [
    m001_catalogue,
    m002_orders,
    m003_order_list_indexes,
    m004_product_holds,
    m005_hashed_api_keys,
    m006_gamma_orders,
    m007_console,
    m008_shopstr_conduit_cashu,
    m009_outbox_leases,
]


async def run_migrations(db: Database, migrations: list[Migration] | None = None) -> int:
    """Apply every migration not yet recorded; return how many ran."""
    async with db.migration_lock():  # two processes starting together: one migrates
        return await _run_migrations(db, MIGRATIONS if migrations is None else migrations)


async def _run_migrations(db: Database, steps: list[Migration]) -> int:
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


# -- inside LNbits ----------------------------------------------------------------------------
# LNbits migrates an extension by calling each `m00N_` function of this module with its own
# connection (SQLAlchemy, a statement per commit, HTML stripped from values). Our steps need
# ours (one transaction a step, triggers, our SQL), so under LNbits each step is run by the
# same runner as standalone, through our storage, on the very file LNbits keeps the
# extension's data in: both hosts run the same steps and record them in schema_migrations.


def host_database(conn: Any) -> tuple[str | None, Path]:
    """Where LNbits keeps the extension's data, for `open_database`: its SQLite file, or on
    PostgreSQL a URL into the extension's schema (which LNbits created); CockroachDB is
    refused by name."""
    engine_type = getattr(conn, "type", None)
    url = conn.conn.engine.url
    if engine_type == "SQLITE":
        return None, Path(url.database)
    if engine_type == "POSTGRES":
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        return in_schema(plain, conn.schema), Path()
    raise RuntimeError(f"nostrbazaar runs inside LNbits on SQLite or PostgreSQL, not {engine_type}")


async def run_in_host(conn: Any, upto: str) -> int:
    """Apply every step up to the one named `upto` not yet applied, in the database LNbits
    keeps for the extension (the one behind `conn`)."""
    names = [step.__name__ for step in MIGRATIONS]
    db = open_database(*host_database(conn))
    await db.connect()
    try:
        return await run_migrations(db, MIGRATIONS[: names.index(upto) + 1])
    finally:
        await db.close()


def _either_host(step: Migration) -> Migration:
    """`step` as called with our connection (run it) or LNbits' (run it through ours)."""

    @functools.wraps(step)
    async def run(conn: Any) -> None:
        if isinstance(conn, Connection):  # ours, on either engine
            await step(conn)
        else:
            await run_in_host(conn, step.__name__)

    return run


MIGRATIONS[:] = [_either_host(step) for step in MIGRATIONS]
for _step in MIGRATIONS:  # the names LNbits finds, and our runner's steps, are the same ones
    globals()[_step.__name__] = _step
