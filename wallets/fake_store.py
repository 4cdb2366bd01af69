"""The fake wallet's invoices, in memory and in a small SQLite file in the data dir.

The file is written by the store's own thread, so the event loop never waits
for SQLite. New invoices are kept in memory at once and written in batches:
`flush` (which the wallet calls once the loop's current turn is over) hands the
batch to the thread, which inserts and commits it. Settling and cancelling go
through the same thread, after any batch handed over before them, and return
only once committed. A process killed within those few milliseconds loses the
invoices minted in them, which nobody can have paid (paying commits first).
Settling is one conditional UPDATE: two payers racing for one invoice cannot
both win.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from loguru import logger

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    payment_hash TEXT PRIMARY KEY,
    bolt11       TEXT NOT NULL UNIQUE,
    amount_msat  INTEGER NOT NULL CHECK (amount_msat > 0),
    memo         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    extra        TEXT NOT NULL,
    preimage     TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'settled', 'cancelled')),
    settled_at   INTEGER
)
"""
_BATCH_LIMIT = 256  # hand a batch over at least this often, even if the loop never turns
_INSERT = (
    "INSERT INTO invoices (payment_hash, bolt11, amount_msat, memo, created_at, expires_at,"
    " extra, preimage, state, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = (
    "payment_hash, bolt11, amount_msat, memo, created_at, expires_at, extra, preimage, "
    "state, settled_at"
)


@dataclass(frozen=True)
class FakeInvoice:
    """One invoice as stored; `state` is pending, settled or cancelled (expiry is computed)."""

    payment_hash: str
    bolt11: str
    amount_msat: int
    memo: str
    created_at: int
    expires_at: int
    preimage: str
    extra: dict[str, Any] = field(default_factory=dict)
    state: str = "pending"
    settled_at: int | None = None


class FakeStore:
    """Invoices by payment hash and by BOLT11 string, persisted to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self.by_hash: dict[str, FakeInvoice] = {}
        self.by_bolt11: dict[str, str] = {}
        self._batch: list[tuple[Any, ...]] = []

    def open(self) -> None:
        """Open (creating if needed) the file and load every invoice into memory."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        self._db = db
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="fake-wallet-store")
        self.by_hash.clear()
        self.by_bolt11.clear()
        for row in db.execute(f"SELECT {_COLUMNS} FROM invoices"):  # noqa: S608
            self._remember(_from_row(row))

    def close(self) -> None:
        """Write what is pending and close the file."""
        if self._db is not None and self._thread is not None:
            self.flush()
            self._thread.shutdown(wait=True)
            self._db.close()
        self._db = self._thread = None

    def add(self, invoice: FakeInvoice) -> None:
        """Keep a new pending invoice (its payment hash must be new); `flush` writes it."""
        if invoice.payment_hash in self.by_hash or invoice.bolt11 in self.by_bolt11:
            raise ValueError(f"invoice {invoice.payment_hash} exists already")
        self._running()
        self._remember(invoice)
        self._batch.append(_row(invoice))
        if len(self._batch) >= _BATCH_LIMIT:
            self.flush()

    def flush(self) -> None:
        """Hand the invoices added so far to the store's thread (a no-op when none are)."""
        if self._batch:
            batch, self._batch = self._batch, []
            self._running().submit(self._insert, batch).add_done_callback(_report_failure)

    async def settle(self, payment_hash: str, now: int) -> FakeInvoice | None:
        """Mark a pending, unexpired invoice settled; None when it was not (any more)."""
        settled = await self._in_thread(self._settle, payment_hash, now)
        if settled is not None:
            self._remember(settled)
        return settled

    async def cancel(self, payment_hash: str) -> bool:
        """Mark a pending invoice cancelled; False when it is settled, cancelled or unknown."""
        cancelled = await self._in_thread(self._cancel, payment_hash)
        if cancelled is not None:
            self._remember(cancelled)
        return cancelled is not None

    async def _in_thread(self, work: Any, *args: Any) -> Any:
        self.flush()  # the thread runs in order: the invoice is written before this
        return await asyncio.wrap_future(self._running().submit(work, *args))

    # -- on the store's thread ---------------------------------------------------------

    def _insert(self, batch: list[tuple[Any, ...]]) -> None:
        db = self._conn()
        with db:
            db.execute("BEGIN")
            db.executemany(_INSERT, batch)

    def _settle(self, payment_hash: str, now: int) -> FakeInvoice | None:
        cursor = self._conn().execute(
            "UPDATE invoices SET state = 'settled', settled_at = ? "
            "WHERE payment_hash = ? AND state = 'pending' AND expires_at >= ?",
            (now, payment_hash, now),
        )
        if cursor.rowcount != 1:
            return None
        return replace(self.by_hash[payment_hash], state="settled", settled_at=now)

    def _cancel(self, payment_hash: str) -> FakeInvoice | None:
        cursor = self._conn().execute(
            "UPDATE invoices SET state = 'cancelled' WHERE payment_hash = ? AND state = 'pending'",
            (payment_hash,),
        )
        if cursor.rowcount != 1:
            return None
        return replace(self.by_hash[payment_hash], state="cancelled")

    # -- helpers -----------------------------------------------------------------------

    def _remember(self, invoice: FakeInvoice) -> None:
        self.by_hash[invoice.payment_hash] = invoice
        self.by_bolt11[invoice.bolt11] = invoice.payment_hash

    def _running(self) -> ThreadPoolExecutor:
        if self._thread is None:
            raise RuntimeError("fake wallet store is not open")
        return self._thread

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("fake wallet store is not open")
        return self._db


def _report_failure(done: Future[None]) -> None:
    if done.exception() is not None:
        logger.error("fake wallet: invoices could not be written: {}", done.exception())


def _row(invoice: FakeInvoice) -> tuple[Any, ...]:
    return (
        invoice.payment_hash, invoice.bolt11, invoice.amount_msat, invoice.memo,
        invoice.created_at, invoice.expires_at, json.dumps(invoice.extra), invoice.preimage,
        invoice.state, invoice.settled_at,
    )  # fmt: skip


def _from_row(row: tuple[Any, ...]) -> FakeInvoice:
    (payment_hash, bolt11, amount, memo, created, expires, extra, preimage, state, settled) = row
    return FakeInvoice(
        payment_hash=payment_hash,
        bolt11=bolt11,
        amount_msat=amount,
        memo=memo,
        created_at=created,
        expires_at=expires,
        preimage=preimage,
        extra=json.loads(extra),
        state=state,
        settled_at=settled,
    )
