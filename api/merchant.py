"""Routes for accounts and the merchant: keys, profile, relays, and Nostr (re)publishing."""

from __future__ import annotations

from fastapi import APIRouter, status

from ..crud.merchants import get_merchant_for_account
from ..models import (
    Account,
    AccountCreate,
    Merchant,
    MerchantCreate,
    MerchantUpdate,
    NostrDeletion,
    NostrSync,
)
from ..services import accounts, catalogue_nostr
from .auth import AdminCaller, ReadCaller, RuntimeDep, WriteMerchant, check_merchant_id
from .common import BAD_REQUEST, CONFLICT, READ, UNAUTHORIZED, WRITE, DomainErrorRoute, error_doc

router = APIRouter(tags=["merchant"], route_class=DomainErrorRoute)


@router.post(
    "/account",
    tags=["account"],
    responses={
        **BAD_REQUEST,
        403: error_doc("Sign-up is disabled (NOSTRBAZAAR_ALLOW_SIGNUP=false)"),
    },
)
async def api_account_create(body: AccountCreate, runtime: RuntimeDep) -> Account:
    """Create an account; keep `adminkey` secret, hand `inkey` to read-only tools."""
    return await accounts.sign_up(runtime, body.name)


@router.post("/merchant", responses={**UNAUTHORIZED, **BAD_REQUEST, **CONFLICT})
async def api_merchant_create(
    body: MerchantCreate, caller: AdminCaller, runtime: RuntimeDep
) -> Merchant:
    """Create the account's merchant: a new key pair, or an imported hex/nsec private key."""
    return await accounts.create_merchant(runtime, caller.account.id, body)


@router.get("/merchant", responses=UNAUTHORIZED)
async def api_merchant_get(caller: ReadCaller, runtime: RuntimeDep) -> Merchant | None:
    """The account's merchant, or null when it has none yet (as in LNbits)."""
    merchant = await get_merchant_for_account(runtime.db, caller.account.id)
    return None if merchant is None else await accounts.merchant_view(runtime.db, merchant)


@router.patch("/merchant/{merchant_id}", responses=WRITE)
async def api_merchant_update(
    merchant_id: str, body: MerchantUpdate, merchant: WriteMerchant, runtime: RuntimeDep
) -> Merchant:
    """Change profile fields (republished as kind 0), `config.active`, or relays (kind 10050)."""
    check_merchant_id(merchant, merchant_id)
    return await accounts.update_merchant(runtime, merchant, body)


@router.delete(
    "/merchant/{merchant_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**READ, **CONFLICT},
    response_model=None,  # pydantic 1 (in LNbits) reads `-> None` as a body model
)
async def api_merchant_delete(
    merchant_id: str, merchant: WriteMerchant, runtime: RuntimeDep
) -> None:
    """Delete the merchant and its catalogue here (relays keep theirs: see DELETE .../nostr)."""
    check_merchant_id(merchant, merchant_id)
    await accounts.delete_merchant(runtime, merchant)


@router.put("/merchant/{merchant_id}/nostr", responses=READ)
async def api_merchant_republish(
    merchant_id: str, merchant: WriteMerchant, runtime: RuntimeDep
) -> NostrSync:
    """Republish profile, DM relays, stalls and products; import unknown ones as pending."""
    check_merchant_id(merchant, merchant_id)
    return await catalogue_nostr.republish(runtime, merchant)


@router.delete("/merchant/{merchant_id}/nostr", responses=READ)
async def api_merchant_unpublish(
    merchant_id: str, merchant: WriteMerchant, runtime: RuntimeDep
) -> NostrDeletion:
    """Ask relays to delete every stall and product (NIP-09); they stay here."""
    check_merchant_id(merchant, merchant_id)
    return await catalogue_nostr.delete_from_nostr(runtime, merchant)


@router.put("/merchant/{merchant_id}/toggle", responses=READ)
async def api_merchant_toggle(
    merchant_id: str, merchant: WriteMerchant, runtime: RuntimeDep
) -> Merchant:
    """Switch order taking on or off. An inactive merchant's new orders are refused at once
    ("this shop is not taking orders right now"), never queued; its open orders go on."""
    check_merchant_id(merchant, merchant_id)
    return await accounts.toggle_merchant(runtime, merchant)
