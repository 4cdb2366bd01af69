"""SQL for accounts: an account holds two keys, admin (writes) and invoice (reads)."""

from __future__ import annotations

from dataclasses import dataclass

from ..storage.database import Connection
from .catalogue import Source, now, one


@dataclass(frozen=True)
class AccountRow:
    id: str
    name: str
    admin_key: str
    invoice_key: str


async def create_account(conn: Connection, account: AccountRow) -> None:
    await conn.execute(
        "INSERT INTO accounts (id, name, admin_key, invoice_key, created_at) VALUES (?,?,?,?,?)",
        (account.id, account.name, account.admin_key, account.invoice_key, now()),
    )


async def get_account_by_key(src: Source, key: str) -> tuple[AccountRow, bool] | None:
    """The account holding `key`, and whether `key` is its admin key."""
    row = await one(
        src,
        "SELECT id, name, admin_key, invoice_key FROM accounts "
        "WHERE admin_key = ? OR invoice_key = ?",
        (key, key),
    )
    if row is None:
        return None
    account = AccountRow(row["id"], row["name"], row["admin_key"], row["invoice_key"])
    return account, account.admin_key == key
