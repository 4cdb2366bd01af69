"""Notifications: what needs the merchant, stored, pushed live, and (if asked) sent as a DM.

A source records its notification inside the transaction of what it reports
(`Notifier.record`), so the notification exists exactly when the failure does,
and announces it after the commit (`Notifier.announce`); `Notifier.notify` does
both in a transaction of its own, for sources that write nothing else (the
wallet and relay watch, a failed job). The dedupe key makes a repeated report
one row. With the merchant's setting on, a high or critical notification is
also sealed as a NIP-17 message to the merchant's own public key and queued in
the outbox in the same transaction (invariant 9), unless it reports a failed
notification DM itself (that would loop).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from ..crud import notifications as crud
from ..crud.notifications import NotificationRow
from ..crud.outbox import Outgoing, enqueue_events
from ..storage.database import Connection, Database
from .bus import Bus
from .catalogue_errors import NotFound
from .deps import Deps, Merchants
from .outgoing import NIP17, seal_message

URGENT = ("high", "critical")
DM_PURPOSE = "notification"

# The sources, by type (README "Operator's console").
OUTBOX_FAILED = "outbox_failed"
WALLET_UNREACHABLE = "wallet_unreachable"
RELAY_DOWN = "relay_down"
REFUND_NEEDED = "refund_needed"
JOB_FAILED = "job_failed"
PAYMENT_UNMATCHED = "payment_unmatched"


def sortable_id() -> str:
    """A random id that sorts by creation time (nanoseconds first), so lists keep the
    order things happened in, within the same second too."""
    return f"{time.time_ns():016x}{secrets.token_hex(8)}"


@dataclass(frozen=True)
class Note:
    """A notification to raise; `key` says when two reports are the same one."""

    type: str
    priority: str
    title: str
    body: str = ""
    object_type: str | None = None
    object_id: str | None = None
    key: str | None = None
    dm: bool = True  # False: never as a DM (a failed notification DM must not send another)

    def dedupe_key(self) -> str:
        return self.key or f"{self.type}:{self.object_type}:{self.object_id}"


def document(row: NotificationRow) -> dict[str, object]:
    """A notification as the API and the websocket show it."""
    data: dict[str, object] = asdict(row)
    data.pop("dedupe_key")
    data["read"] = row.read_at is not None
    data["object"] = (
        None if row.object_type is None else {"type": row.object_type, "id": row.object_id}
    )
    return data


class Notifier:
    """Records, announces and (per the merchant's setting) DMs notifications."""

    def __init__(
        self, db: Database, bus: Bus, merchants: Merchants, clock: Callable[[], float] = time.time
    ) -> None:
        self.db, self.bus, self.merchants, self.clock = db, bus, merchants, clock

    @classmethod
    def from_deps(cls, deps: Deps) -> Notifier:
        return cls(deps.db, deps.bus, deps.merchants, deps.clock)

    async def record(
        self, conn: Connection, merchant_id: str, note: Note
    ) -> NotificationRow | None:
        """Store `note` in the caller's transaction; None when it was stored before."""
        now = int(self.clock())
        row = NotificationRow(
            sortable_id(), merchant_id, note.type, note.priority, note.title, note.body,
            note.object_type, note.object_id, note.dedupe_key(), now, None,
        )  # fmt: skip
        if not await crud.insert_notification(conn, row):
            return None
        if note.dm and note.priority in URGENT and await crud.dm_urgent(conn, merchant_id):
            await self._queue_dm(conn, merchant_id, note, now)
        return row

    async def _queue_dm(self, conn: Connection, merchant_id: str, note: Note, now: int) -> None:
        merchant = await self.merchants.get(merchant_id)
        text = f"nostrbazaar [{note.priority}]: {note.title}" + (
            f"\n{note.body}" if note.body else ""
        )
        envelope = seal_message(merchant, merchant.public_key, text, NIP17, now)
        # The first wrap is addressed to the recipient: here the merchant itself.
        wrap = envelope.events[0]
        await enqueue_events(conn, [Outgoing(merchant.id, wrap, DM_PURPOSE, None, merchant.relays)])

    def announce(self, rows: Iterable[NotificationRow | None]) -> None:
        """Push committed notifications to the merchant's dashboards."""
        for row in rows:
            if row is not None:
                data = {"action": "new", "notification": document(row)}
                self.bus.publish(row.merchant_id, "notification", data)

    async def notify(self, merchant_id: str, note: Note) -> NotificationRow | None:
        """Record and announce `note` in a transaction of its own."""
        async with self.db.transaction() as conn:
            row = await self.record(conn, merchant_id, note)
        self.announce([row])
        return row

    async def notify_all(self, note: Note) -> int:
        """`note` for every active merchant (the wallet and the relays serve them all)."""
        merchants = await self.merchants.active()
        rows: list[NotificationRow | None] = []
        async with self.db.transaction() as conn:
            for merchant in merchants:
                rows.append(await self.record(conn, merchant.id, note))
        self.announce(rows)
        return sum(row is not None for row in rows)


# -- reading and marking, for the API ---------------------------------------------------------


async def unread_count(db: Database, merchant_id: str) -> int:
    return await crud.count_unread(db, merchant_id)


async def mark_read(db: Database, bus: Bus, merchant_id: str, notification_id: str) -> int:
    """Mark one of the merchant's notifications read; the unread count after. 404 if absent."""
    async with db.transaction() as conn:
        if not await crud.mark_read(conn, merchant_id, notification_id, int(time.time())):
            raise NotFound("notification not found")
        unread = await crud.count_unread(conn, merchant_id)
    bus.publish(merchant_id, "notification", {"action": "read", "ids": [notification_id],
                                              "unread": unread})  # fmt: skip
    return unread


async def mark_all_read(db: Database, bus: Bus, merchant_id: str) -> int:
    """Mark every notification of the merchant read; how many were unread."""
    async with db.transaction() as conn:
        marked = await crud.mark_all_read(conn, merchant_id, int(time.time()))
    bus.publish(merchant_id, "notification", {"action": "read", "ids": "all", "unread": 0})
    return marked


async def set_dm_urgent(db: Database, merchant_id: str, enabled: bool) -> None:
    async with db.transaction() as conn:
        await crud.set_dm_urgent(conn, merchant_id, enabled, int(time.time()))
