"""The fake wallet's invoices, in memory and in a small SQLite file in the data dir.

Writes go to SQLite first (WAL) and then to the in-memory index, so what a
restart reads back is what callers were told. New invoices are committed in
batches: `add` writes into an open transaction and the wallet commits it at the
end of the event loop's current turn (a commit costs ~30 us of system calls, the
insert ~8 us); settling, cancelling and closing commit at once. A process killed
within that turn loses the invoices minted in it, which nobody can have paid.
Settling is one conditional UPDATE: two payers racing for one invoice cannot
both win.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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
_BATCH_LIMIT = 256  # commit at least this often, even if the loop never turns
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
        self.by_hash: dict[str, FakeInvoice] = {}
        self.by_bolt11: dict[str, str] = {}
        self._batched = 0

    def open(self) -> None:
        """Open (creating if needed) the file and load every invoice into memory."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(_SCHEMA)
        self._db = db
        self.by_hash.clear()
        self.by_bolt11.clear()
        for row in db.execute(f"SELECT {_COLUMNS} FROM invoices"):  # noqa: S608
            self._remember(_from_row(row))

    def close(self) -> None:
        """Commit what is pending and close the file."""
        if self._db is not None:
            self.commit()
            self._db.close()
            self._db = None

    def commit(self) -> None:
        """Make every invoice added so far durable (a no-op when none is pending)."""
        if self._db is not None and self._db.in_transaction:
            self._db.execute("COMMIT")
        self._batched = 0

    def add(self, invoice: FakeInvoice) -> None:
        """Write a new pending invoice (its payment hash must be new) into the open batch;
        `commit` makes it durable.
        """
        db = self._conn()
        if not db.in_transaction:
            db.execute("BEGIN")
        db.execute(
            f"INSERT INTO invoices ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            (
                invoice.payment_hash,
                invoice.bolt11,
                invoice.amount_msat,
                invoice.memo,
                invoice.created_at,
                invoice.expires_at,
                json.dumps(invoice.extra),
                invoice.preimage,
                invoice.state,
                invoice.settled_at,
            ),
        )
        self._remember(invoice)
        self._batched += 1
        if self._batched >= _BATCH_LIMIT:
            self.commit()

    def settle(self, payment_hash: str, now: int) -> FakeInvoice | None:
        """Mark a pending, unexpired invoice settled; None when it was not (any more)."""
        cursor = self._conn().execute(
            "UPDATE invoices SET state = 'settled', settled_at = ? "
            "WHERE payment_hash = ? AND state = 'pending' AND expires_at >= ?",
            (now, payment_hash, now),
        )
        self.commit()
        if cursor.rowcount != 1:
            return None
        settled = replace(self.by_hash[payment_hash], state="settled", settled_at=now)
        self._remember(settled)
        return settled

    def cancel(self, payment_hash: str) -> bool:
        """Mark a pending invoice cancelled; False when it is settled, cancelled or unknown."""
        cursor = self._conn().execute(
            "UPDATE invoices SET state = 'cancelled' WHERE payment_hash = ? AND state = 'pending'",
            (payment_hash,),
        )
        self.commit()
        if cursor.rowcount != 1:
            return False
        self._remember(replace(self.by_hash[payment_hash], state="cancelled"))
        return True

    def _remember(self, invoice: FakeInvoice) -> None:
        self.by_hash[invoice.payment_hash] = invoice
        self.by_bolt11[invoice.bolt11] = invoice.payment_hash

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("fake wallet store is not open")
        return self._db


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
