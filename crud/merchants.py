"""SQL for merchants: one per account, its sealed private key, profile and relays."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..storage.database import Connection, Row
from .catalogue import Source, many, now, one

_COLUMNS = (
    "id, account_id, public_key, private_key_sealed, profile, relays, active, "
    "created_at, updated_at"
)


@dataclass(frozen=True)
class MerchantRow:
    id: str
    account_id: str
    public_key: str
    private_key_sealed: str
    profile: dict[str, Any] = field(default_factory=dict)
    relays: list[str] = field(default_factory=list)
    active: bool = True
    created_at: int = 0
    updated_at: int = 0


def _merchant(row: Row) -> MerchantRow:
    return MerchantRow(
        id=row["id"],
        account_id=row["account_id"],
        public_key=row["public_key"],
        private_key_sealed=row["private_key_sealed"],
        profile=json.loads(row["profile"]),
        relays=json.loads(row["relays"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def create_merchant(conn: Connection, merchant: MerchantRow) -> None:
    """Insert; the UNIQUE constraints on account and public key reject duplicates."""
    stamp = now()
    await conn.execute(
        f"INSERT INTO merchants ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",  # noqa: S608
        (
            merchant.id,
            merchant.account_id,
            merchant.public_key,
            merchant.private_key_sealed,
            json.dumps(merchant.profile),
            json.dumps(merchant.relays),
            int(merchant.active),
            stamp,
            stamp,
        ),
    )


async def get_merchant(src: Source, merchant_id: str) -> MerchantRow | None:
    row = await one(src, f"SELECT {_COLUMNS} FROM merchants WHERE id = ?", (merchant_id,))  # noqa: S608
    return None if row is None else _merchant(row)


async def get_merchant_for_account(src: Source, account_id: str) -> MerchantRow | None:
    row = await one(src, f"SELECT {_COLUMNS} FROM merchants WHERE account_id = ?", (account_id,))  # noqa: S608
    return None if row is None else _merchant(row)


async def get_merchant_id_by_public_key(src: Source, public_key: str) -> str | None:
    row = await one(src, "SELECT id FROM merchants WHERE public_key = ?", (public_key,))
    return None if row is None else str(row["id"])


async def update_merchant(
    conn: Connection, merchant_id: str, profile: dict[str, Any], relays: list[str], active: bool
) -> None:
    await conn.execute(
        "UPDATE merchants SET profile = ?, relays = ?, active = ?, updated_at = ? WHERE id = ?",
        (json.dumps(profile), json.dumps(relays), int(active), now(), merchant_id),
    )


async def delete_merchant(conn: Connection, merchant_id: str) -> None:
    """Delete the merchant; its zones, stalls and products go with it (ON DELETE CASCADE)."""
    await conn.execute("DELETE FROM merchants WHERE id = ?", (merchant_id,))


async def active_merchant_relays(src: Source) -> list[str]:
    """Every relay an active merchant named, once each, in the order first named."""
    rows = await many(src, "SELECT relays FROM merchants WHERE active = 1 ORDER BY created_at")
    urls = [
        url for row in rows for url in json.loads(row["relays"] or "[]") if isinstance(url, str)
    ]
    return list(dict.fromkeys(urls))
