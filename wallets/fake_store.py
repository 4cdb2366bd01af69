"""The fake wallet's invoices, in a small SQLite file in the data dir.

The file is written by the store's own thread, so the event loop never waits
for SQLite writes. New invoices are kept in memory until written, in batches:
`flush` (which the wallet calls once the loop's current turn is over) hands the
batch to the thread, which inserts and commits it; a batch of orders' invoices
(`put_many`) is checked with one read and handed over at once. Look-ups read the file
(indexed, microseconds), so memory does not grow with the number of invoices.
Settling and cancelling go through the same thread, after any batch handed
over before them, and return only once committed. A process killed within
those few milliseconds loses the invoices minted in them, which nobody can have
paid (paying commits first).
Settling is one conditional UPDATE: two payers racing for one invoice cannot
both win.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
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
_LOOKUP_CHUNK = 500  # payment hashes per existence check (SQLite's bound-variable limit)
_INSERT = (
    "INSERT INTO invoices (payment_hash, bolt11, amount_msat, memo, created_at, expires_at,"
    " extra, preimage, state, settled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = (
    "payment_hash, bolt11, amount_msat, memo, created_at, expires_at, extra, preimage, "
    "state, settled_at"
)
_SETTLE = (
    "UPDATE invoices SET state = 'settled', settled_at = ? "  # noqa: S608
    "WHERE payment_hash = ? AND state = 'pending' AND expires_at >= ?"
    f" RETURNING {_COLUMNS}"
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
        self._db: sqlite3.Connection | None = None  # the thread's
        self._reader: sqlite3.Connection | None = None  # the loop's
        self._thread: ThreadPoolExecutor | None = None
        self._unwritten: dict[str, FakeInvoice] = {}  # by payment hash, until committed
        self._batch: list[FakeInvoice] = []

    def open(self) -> None:
        """Open (creating if needed) the file."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        self._db = db
        self._reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="fake-wallet-store")

    def close(self) -> None:
        """Write what is pending and close the file."""
        if self._db is not None and self._thread is not None and self._reader is not None:
            self.flush()
            self._thread.shutdown(wait=True)
            self._reader.close()
            self._db.close()
        self._db = self._reader = self._thread = None

    async def start(self) -> bytes | None:
        """Open the file; the node key stays in its own file (None: the wallet loads it)."""
        self.open()
        return None

    async def stop(self) -> None:
        self.close()

    async def lookup(self, payment_hash: str) -> FakeInvoice | None:
        return self.get(payment_hash)

    async def lookup_bolt11(self, bolt11: str) -> FakeInvoice | None:
        return self.find(bolt11)

    async def put(self, invoice: FakeInvoice) -> None:
        """`add`: written with the next batch (`flush`)."""
        self.add(invoice)

    async def put_many(self, invoices: Sequence[FakeInvoice]) -> None:
        """`add_many`, then `flush`: the batch is written by one `executemany`, one commit."""
        self.add_many(invoices)
        self.flush()

    def get(self, payment_hash: str) -> FakeInvoice | None:
        """The invoice with this payment hash, or None."""
        unwritten = self._unwritten.get(payment_hash)
        if unwritten is not None:
            return unwritten
        return self._read("payment_hash = ?", payment_hash)

    def find(self, bolt11: str) -> FakeInvoice | None:
        """The invoice with this BOLT11 string (lower case), or None."""
        for invoice in list(self._unwritten.values()):
            if invoice.bolt11 == bolt11:
                return invoice
        return self._read("bolt11 = ?", bolt11)

    def add(self, invoice: FakeInvoice) -> None:
        """Keep a new pending invoice (its payment hash must be new); `flush` writes it."""
        if self.get(invoice.payment_hash) is not None:
            raise ValueError(f"invoice {invoice.payment_hash} exists already")
        self._running()
        self._unwritten[invoice.payment_hash] = invoice
        self._batch.append(invoice)
        if len(self._batch) >= _BATCH_LIMIT:
            self.flush()

    def add_many(self, invoices: Sequence[FakeInvoice]) -> None:
        """Keep a batch of new pending invoices (all or none: every payment hash must be new),
        checked with one read of the file, kept together for the next `flush`."""
        hashes = [invoice.payment_hash for invoice in invoices]
        taken = self._taken(hashes)
        if taken or len(set(hashes)) != len(hashes):
            raise ValueError(f"invoice {taken[0] if taken else 'hash'} exists already")
        self._running()
        self._unwritten.update(zip(hashes, invoices, strict=True))
        self._batch.extend(invoices)

    def _taken(self, hashes: list[str]) -> list[str]:
        """The payment hashes among `hashes` already kept (written or not)."""
        taken = [one for one in hashes if one in self._unwritten]
        for start in range(0, len(hashes), _LOOKUP_CHUNK):
            chunk = hashes[start : start + _LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = self._reading().execute(
                f"SELECT payment_hash FROM invoices WHERE payment_hash IN ({marks})",  # noqa: S608
                chunk,
            )
            taken += [row[0] for row in rows]
        return taken

    def flush(self) -> None:
        """Hand the invoices added so far to the store's thread (a no-op when none are)."""
        if self._batch:
            batch, self._batch = self._batch, []
            self._running().submit(self._insert, batch).add_done_callback(_report_failure)

    async def settle(self, payment_hash: str, now: int) -> FakeInvoice | None:
        """Mark a pending, unexpired invoice settled; None when it was not (any more)."""
        settled: FakeInvoice | None = await self._in_thread(self._settle, payment_hash, now)
        return settled

    async def cancel(self, payment_hash: str) -> bool:
        """Mark a pending invoice cancelled; False when it is settled, cancelled or unknown."""
        cancelled: bool = await self._in_thread(self._cancel, payment_hash)
        return cancelled

    async def _in_thread(self, work: Any, *args: Any) -> Any:
        self.flush()  # the thread runs in order: the invoice is written before this
        return await asyncio.wrap_future(self._running().submit(work, *args))

    def _read(self, where: str, value: str) -> FakeInvoice | None:
        row = (
            self._reading()
            .execute(
                f"SELECT {_COLUMNS} FROM invoices WHERE {where}",  # noqa: S608
                (value,),
            )
            .fetchone()
        )
        return None if row is None else _from_row(row)

    # -- on the store's thread ---------------------------------------------------------

    def _insert(self, batch: list[FakeInvoice]) -> None:
        db = self._conn()
        with db:
            db.execute("BEGIN")
            db.executemany(_INSERT, [_row(invoice) for invoice in batch])
        for invoice in batch:  # readable from the file now
            self._unwritten.pop(invoice.payment_hash, None)

    def _settle(self, payment_hash: str, now: int) -> FakeInvoice | None:
        cursor = self._conn().execute(_SETTLE, (now, payment_hash, now))
        row = cursor.fetchone()
        return None if row is None else _from_row(row)

    def _cancel(self, payment_hash: str) -> bool:
        cursor = self._conn().execute(
            "UPDATE invoices SET state = 'cancelled' WHERE payment_hash = ? AND state = 'pending'",
            (payment_hash,),
        )
        return cursor.rowcount == 1

    # -- helpers -----------------------------------------------------------------------

    def _reading(self) -> sqlite3.Connection:
        if self._reader is None:
            raise RuntimeError("fake wallet store is not open")
        return self._reader

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
