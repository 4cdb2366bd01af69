"""SQL for accounts: an account holds two keys, admin (writes) and invoice (reads).

Only each key's SHA-256 digest is stored (columns `admin_key` and `invoice_key`): a copy
of the database does not hand out the keys. The keys are shown once, when the account
is made. They are 128-bit random tokens, so an unsalted fast hash is enough: there is no
dictionary to try, and a lookup by digest stays one indexed read per request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ..storage.database import Connection
from .catalogue import Source, now, one


def key_digest(key: str) -> str:
    """The stored form of an API key: its SHA-256, in hex."""
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class AccountRow:
    id: str
    name: str
    admin_key_digest: str
    invoice_key_digest: str


async def create_account(conn: Connection, account: AccountRow) -> None:
    await conn.execute(
        "INSERT INTO accounts (id, name, admin_key, invoice_key, created_at) VALUES (?,?,?,?,?)",
        (account.id, account.name, account.admin_key_digest, account.invoice_key_digest, now()),
    )


async def get_account_by_key(src: Source, key: str) -> tuple[AccountRow, bool] | None:
    """The account holding `key`, and whether `key` is its admin key."""
    digest = key_digest(key)
    row = await one(
        src,
        "SELECT id, name, admin_key, invoice_key FROM accounts "
        "WHERE admin_key = ? OR invoice_key = ?",
        (digest, digest),
    )
    if row is None:
        return None
    account = AccountRow(row["id"], row["name"], row["admin_key"], row["invoice_key"])
    return account, account.admin_key_digest == digest


async def get_account(src: Source, account_id: str) -> AccountRow | None:
    """The account with this id."""
    row = await one(
        src, "SELECT id, name, admin_key, invoice_key FROM accounts WHERE id = ?", (account_id,)
    )
    return None if row is None else AccountRow(*(row[k] for k in range(4)))


async def add_host_account(conn: Connection, account_id: str, name: str) -> None:
    """An account for a host's own key holder (inside LNbits: a wallet), made once.

    Its two key columns hold digests of random keys nobody is given: the host checks
    the caller's keys itself, so these never sign anyone in.
    """
    await conn.execute(
        "INSERT OR IGNORE INTO accounts (id, name, admin_key, invoice_key, created_at) "
        "VALUES (?,?,?,?,?)",
        (account_id, name, key_digest(secrets.token_hex(32)), key_digest(secrets.token_hex(32)),
         now()),
    )  # fmt: skip
