"""Paying the fake wallet's invoices: `POST /api/v1/fakewallet/pay` and `nostrbazaar pay`.

Mount `fake_pay_router` only when the fake backend is active. Errors answer
`{"detail": "..."}` with:

- 400 the string is not a BOLT11 invoice (422 is left to FastAPI: body not `{"bolt11": str}`)
- 404 a valid invoice this wallet did not issue
- 409 the invoice is already paid
- 410 the invoice expired or was cancelled (Gone: it can never be paid again)
- 503 the fake backend is not the active wallet, or is not started
"""

from __future__ import annotations

import sys
from typing import Any

import httpx
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from ..models import ErrorResponse
from ..wallets.base import WalletError
from ..wallets.fake import (
    FakeWallet,
    InvoiceAlreadyPaid,
    InvoiceNotPayable,
    MalformedInvoice,
    UnknownInvoice,
)

fake_pay_router = APIRouter()

_STATUS: tuple[tuple[type[WalletError], int], ...] = (
    (MalformedInvoice, 400),
    (UnknownInvoice, 404),
    (InvoiceAlreadyPaid, 409),
    (InvoiceNotPayable, 410),
)


class PayRequest(BaseModel):
    bolt11: str


class PayResponse(BaseModel):
    payment_hash: str
    amount_msat: int
    settled_at: int


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("Not a BOLT11 invoice"),
    404: _error("Not an invoice this wallet issued"),
    409: _error("Already paid"),
    410: _error("Expired or cancelled: it can never be paid"),
    503: _error("The fake wallet is not the active Lightning backend"),
}


@fake_pay_router.post("/api/v1/fakewallet/pay", response_model=PayResponse, responses=_RESPONSES)
async def api_fakewallet_pay(body: PayRequest, request: Request) -> PayResponse:
    """Settle a fake-wallet invoice, as a Lightning payer would."""
    wallet = getattr(request.app.state.runtime, "wallet", None)
    if not isinstance(wallet, FakeWallet):
        raise HTTPException(503, "the fake wallet is not the active Lightning backend")
    try:
        settlement = await wallet.pay(body.bolt11)
    except WalletError as error:
        raise HTTPException(_status_for(error), str(error)) from error
    return PayResponse(
        payment_hash=settlement.payment_hash,
        amount_msat=settlement.amount_msat,
        settled_at=settlement.settled_at,
    )


def _status_for(error: WalletError) -> int:
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 503


def pay_command(bolt11: str, base_url: str) -> int:
    """`nostrbazaar pay BOLT11`: ask a running server to settle it; 0 when paid."""
    url = base_url.rstrip("/") + "/api/v1/fakewallet/pay"
    try:
        response = httpx.post(url, json={"bolt11": bolt11}, timeout=10.0)
    except httpx.HTTPError as error:
        print(f"cannot reach {url}: {error}", file=sys.stderr)
        return 2
    if response.status_code == 200:
        paid = response.json()
        print(f"paid {paid['amount_msat']} msat, payment hash {paid['payment_hash']}")
        return 0
    print(f"payment refused ({response.status_code}): {_detail(response)}", file=sys.stderr)
    return 1


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else response.text[:200]
