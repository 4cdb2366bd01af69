"""The embedded relay's events on disk: `DATA_DIR/embedded_relay.sqlite3`.

nostr-sdk's LocalRelay keeps events in memory, and its LMDB store can only be handed
to it from Python as a foreign (Python-called) database, which runs every relay
query through one global event loop. So the relay runs in memory, and this store
keeps what it accepted: `EmbeddedRelay` records each event the relay broadcasts
(a live subscription that asks for no stored events) and sends them all back at
start-up. What the store holds is what a relay would keep (NIP-01, NIP-09):

- ephemeral events (kinds 20000-29999) are not kept;
- a replaceable (0, 3, 10000-19999) or addressable (30000-39999) event replaces
  the older one with its address, and an older one than what is kept is dropped;
- a deletion (kind 5) removes the events it names by id or address, if they are
  its author's, and is kept itself.

Writes run on the store's own thread, a batch per call; the event loop only hands
batches over. A process killed between the relay's broadcast and the commit loses
those few milliseconds of events (the relay, in memory, lost them too).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

FILE_NAME = "embedded_relay.sqlite3"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS events ("
    " id TEXT PRIMARY KEY, pubkey TEXT NOT NULL, kind INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL, address TEXT, raw TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS events_by_address ON events (address) WHERE address IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS events_by_time ON events (created_at, id)",
)


def address_of(event: dict[str, Any]) -> str | None:
    """`kind:pubkey:d` for a replaceable or addressable event (d empty for replaceable)."""
    kind = int(event["kind"])
    if kind in (0, 3) or 10_000 <= kind < 20_000:
        return f"{kind}:{event['pubkey']}:"
    if 30_000 <= kind < 40_000:
        d = next((t[1] for t in event.get("tags", []) if len(t) > 1 and t[0] == "d"), "")
        return f"{kind}:{event['pubkey']}:{d}"
    return None


def is_ephemeral(event: dict[str, Any]) -> bool:
    return 20_000 <= int(event["kind"]) < 30_000


class RelayStore:
    """A SQLite file of the events a relay holds; open, `add`, `events`, close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def open(self) -> None:
        """Open (creating if needed) the file; call from the thread that will write."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for statement in _SCHEMA:
            db.execute(statement)
        self._db = db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def events(self) -> list[dict[str, Any]]:
        """Every kept event, oldest first (the order they are sent back to the relay)."""
        rows = self._conn().execute("SELECT raw FROM events ORDER BY created_at, id")
        return [json.loads(row[0]) for row in rows]

    def count(self) -> int:
        row = self._conn().execute("SELECT COUNT(*) FROM events").fetchone()
        return int(row[0])

    def add(self, events: Iterable[dict[str, Any]]) -> int:
        """Keep `events` (one transaction); returns how many were new."""
        db = self._conn()
        added = 0
        with db:
            db.execute("BEGIN")
            for event in events:
                added += self._add_one(db, event)
        return added

    def _add_one(self, db: sqlite3.Connection, event: dict[str, Any]) -> int:
        if is_ephemeral(event) or _known(db, event["id"]):
            return 0
        address = address_of(event)
        if address is not None and not _newest(db, address, event):
            return 0
        if address is not None:
            db.execute("DELETE FROM events WHERE address = ?", (address,))
        if int(event["kind"]) == 5:
            _delete_named(db, event)
        db.execute(
            "INSERT INTO events (id, pubkey, kind, created_at, address, raw)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event["id"], event["pubkey"], int(event["kind"]), int(event["created_at"]),
             address, json.dumps(event, separators=(",", ":"))),
        )  # fmt: skip
        return 1

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("relay store is not open")
        return self._db


def _known(db: sqlite3.Connection, event_id: str) -> bool:
    return db.execute("SELECT 1 FROM events WHERE id = ?", (event_id,)).fetchone() is not None


def _newest(db: sqlite3.Connection, address: str, event: dict[str, Any]) -> bool:
    """True when `event` is newer than what is kept at `address` (ties: the lower id wins)."""
    row = db.execute("SELECT created_at, id FROM events WHERE address = ?", (address,)).fetchone()
    if row is None:
        return True
    created = int(event["created_at"])
    return created > row[0] or (created == row[0] and event["id"] < row[1])


def _delete_named(db: sqlite3.Connection, deletion: dict[str, Any]) -> None:
    """NIP-09: remove the author's own events the deletion names, by id or by address."""
    author, until = deletion["pubkey"], int(deletion["created_at"])
    for tag in deletion.get("tags", []):
        if len(tag) < 2:
            continue
        if tag[0] == "e":
            db.execute("DELETE FROM events WHERE id = ? AND pubkey = ?", (tag[1], author))
        elif tag[0] == "a" and tag[1].split(":")[1:2] == [author]:
            db.execute("DELETE FROM events WHERE address = ? AND created_at <= ?", (tag[1], until))
