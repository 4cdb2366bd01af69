"""Routes for the ecash a merchant holds: the balance and trusted mints, and withdrawals
(melt to a Lightning invoice, or export one token for any Cashu wallet)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .. import compat
from ..models import Body
from ..services import cashu_wallet
from .auth import ReadMerchant, RuntimeDep, WriteMerchant
from .common import READ, WRITE, DomainErrorRoute
from .orders import deps_of

router = APIRouter(tags=["ecash"], route_class=DomainErrorRoute)


class MintBalance(BaseModel):
    mint: str
    sats: int


class EcashSummary(BaseModel):
    """What the merchant holds in ecash, where, and what it takes."""

    balances: list[MintBalance]
    total_sats: int
    configured_mints: list[str] = Field(description="NOSTRBAZAAR_CASHU_MINTS, for every merchant")
    merchant_mints: list[str] = Field(description="the mints this merchant added")
    trusted_mints: list[str] = Field(description="both: tokens of other mints are refused")
    withdrawals: list[dict[str, Any]]


class MintsUpdate(Body):
    mints: list[str] = Field(max_length=50, description="http(s) mint URLs")


MINT_URL = r"^https?://\S+$"


class MeltRequest(Body):
    mint: str = Field(max_length=500, pattern=MINT_URL)
    bolt11: str = Field(min_length=10, max_length=4000, description="the invoice to pay")


class ExportRequest(Body):
    mint: str = Field(max_length=500, pattern=MINT_URL)


class Withdrawal(BaseModel):
    id: str
    mint: str
    kind: str = Field(description="melt or token")
    amount: int = Field(description="sats paid (melt) or handed over (token)")
    fee: int
    token: str | None = Field(None, description="the exported cashuB token: it is the money")
    preimage: str | None = None


@router.get("/cashu", responses=READ)
async def api_cashu(merchant: ReadMerchant, runtime: RuntimeDep) -> EcashSummary:
    """The ecash held per mint, the trusted mints and the last withdrawals."""
    found = await cashu_wallet.summary(deps_of(runtime), merchant.id)
    return compat.validate(EcashSummary, found)


@router.put("/cashu/mints", responses=WRITE)
async def api_cashu_mints(
    body: MintsUpdate, merchant: WriteMerchant, runtime: RuntimeDep
) -> EcashSummary:
    """Set the merchant's own trusted mints (beside NOSTRBAZAAR_CASHU_MINTS)."""
    deps = deps_of(runtime)
    await cashu_wallet.set_mints(deps, merchant.id, body.mints)
    return compat.validate(EcashSummary, await cashu_wallet.summary(deps, merchant.id))


@router.post("/cashu/melt", responses=WRITE)
async def api_cashu_melt(
    body: MeltRequest, merchant: WriteMerchant, runtime: RuntimeDep
) -> Withdrawal:
    """Withdraw a mint's ecash by having it pay a Lightning invoice."""
    done = await cashu_wallet.melt(deps_of(runtime), merchant.id, body.mint, body.bolt11)
    return compat.validate(Withdrawal, done, from_attributes=True)


@router.post("/cashu/export", responses=WRITE)
async def api_cashu_export(
    body: ExportRequest, merchant: WriteMerchant, runtime: RuntimeDep
) -> Withdrawal:
    """Withdraw a mint's ecash as one token (it leaves this server: keep it safe)."""
    done = await cashu_wallet.export_token(deps_of(runtime), merchant.id, body.mint)
    return compat.validate(Withdrawal, done, from_attributes=True)
