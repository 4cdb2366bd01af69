"""`X-Api-Key` authentication: the admin key writes, the invoice key (or admin key) reads.

A missing or unknown key is 401. Everything else is scoped to the caller's own
merchant, so an object of another merchant is simply not found (404): its
existence is never confirmed, let alone its data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader
from starlette.requests import HTTPConnection

from ..crud.accounts import AccountRow, get_account_by_key
from ..crud.merchants import MerchantRow, get_merchant_for_account
from ..engine.runtime import Runtime

MAX_KEY_LENGTH = 128

api_key_header = APIKeyHeader(
    name="X-Api-Key",
    auto_error=False,
    description="An account's admin key (reads and writes) or invoice key (reads only).",
)


@dataclass(frozen=True)
class Caller:
    """The account a request's key belongs to, and whether the key is its admin key."""

    account: AccountRow
    is_admin: bool


def runtime_of(request: HTTPConnection) -> Runtime:
    """The runtime serving this request: the one the host put on the request (LNbits,
    whose app is not ours, does so in a dependency of our router), else our app's."""
    runtime: Runtime | None = getattr(request.state, "nostrbazaar_runtime", None)
    if runtime is None:
        runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    """The app's Runtime, as a dependency (async: FastAPI runs a plain function on a
    worker thread, a hand-off per request for nothing)."""
    return runtime_of(request)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail)


async def caller_from_key(runtime: Runtime, key: str | None) -> Caller | None:
    """The caller holding `key`, or None for a missing, oversized or unknown key.

    A host with keys of its own checks them (`runtime.key_check`: LNbits' wallet keys,
    which answers an unknown wallet with 404 and a user without the extension with 403).
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    if runtime.key_check is not None:
        found = await runtime.key_check(key)
    else:
        found = await get_account_by_key(runtime.db, key)
    return None if found is None else Caller(*found)


async def require_invoice_key(
    request: Request, key: Annotated[str | None, Security(api_key_header)]
) -> Caller:
    """Any valid key of an account (reads)."""
    caller = await caller_from_key(runtime_of(request), key)
    if caller is None:
        raise _unauthorized("missing or invalid X-Api-Key")
    return caller


async def require_admin_key(caller: Annotated[Caller, Depends(require_invoice_key)]) -> Caller:
    """The account's admin key (writes); the invoice key is refused like LNbits does."""
    if not caller.is_admin:
        raise _unauthorized("this needs the admin key; the invoice key can only read")
    return caller


async def _merchant_of(request: Request, caller: Caller) -> MerchantRow:
    merchant = await get_merchant_for_account(runtime_of(request).db, caller.account.id)
    if merchant is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, "no merchant for this account: POST /api/v1/merchant first"
        )
    return merchant


async def reading_merchant(
    request: Request, caller: Annotated[Caller, Depends(require_invoice_key)]
) -> MerchantRow:
    """The caller's merchant, for a read."""
    return await _merchant_of(request, caller)


async def writing_merchant(
    request: Request, caller: Annotated[Caller, Depends(require_admin_key)]
) -> MerchantRow:
    """The caller's merchant, for a write."""
    return await _merchant_of(request, caller)


def check_merchant_id(merchant: MerchantRow, merchant_id: str) -> MerchantRow:
    """The caller's merchant when `merchant_id` names it; 404 for any other id."""
    if merchant.id != merchant_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "merchant not found")
    return merchant


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
ReadCaller = Annotated[Caller, Depends(require_invoice_key)]
AdminCaller = Annotated[Caller, Depends(require_admin_key)]
ReadMerchant = Annotated[MerchantRow, Depends(reading_merchant)]
WriteMerchant = Annotated[MerchantRow, Depends(writing_merchant)]
