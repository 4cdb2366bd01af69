"""LNbits' wallet keys in place of our accounts' keys.

A merchant belongs to an LNbits wallet: the wallet's admin key writes, its invoice key
reads. The key is looked up by LNbits (`get_wallet_for_key`); a key of no wallet is
404 and a user who has not enabled the extension 403, as LNbits' own key checks answer.
The wallet gets an account row here (its id is the wallet's) on first use, which the
merchant then belongs to.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import HTTPException

from ..crud.accounts import AccountRow, add_host_account, get_account
from ..storage.database import Database

EXT_ID = "nostrbazaar"


class LNbitsKeys:
    """`Runtime.key_check` for LNbits: (account, is_admin) for a wallet key."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._known: dict[str, AccountRow] = {}

    async def __call__(self, key: str) -> tuple[AccountRow, bool]:
        wallet = await _wallet_of(key)
        await _check_access(wallet.user)
        return await self._account(wallet), key == wallet.adminkey

    async def _account(self, wallet: Any) -> AccountRow:
        known = self._known.get(wallet.id)
        if known is not None:
            return known
        account = await get_account(self._db, wallet.id)
        if account is None:
            async with self._db.transaction() as conn:
                await add_host_account(conn, wallet.id, wallet.name or wallet.id)
            account = await get_account(self._db, wallet.id)
        assert account is not None
        self._known[wallet.id] = account
        return account


async def _wallet_of(key: str) -> Any:
    from lnbits.core.crud import get_wallet_for_key

    wallet = await get_wallet_for_key(key)
    if wallet is None:
        raise HTTPException(HTTPStatus.NOT_FOUND, "Wallet not found.")
    return wallet


async def _check_access(user_id: str) -> None:
    """The user may use LNbits and has enabled this extension."""
    from lnbits.decorators import check_user_extension_access
    from lnbits.settings import settings

    if not settings.is_user_allowed(user_id):
        raise HTTPException(HTTPStatus.FORBIDDEN, "User not allowed.")
    status = await check_user_extension_access(user_id, EXT_ID)
    if not status.success:
        raise HTTPException(HTTPStatus.FORBIDDEN, status.message)
