"""Paying the fake wallet's invoices: `POST /api/v1/fakewallet/pay` and `nostrbazaar pay`.

Mount `fake_pay_router` only when the fake backend is active and the server binds a
loopback address (`pay_endpoint_allowed`): the endpoint takes no key, and anyone who can
reach it can mark an order paid. The bind address is the operator's own statement of who
may reach the server; a client address is not (behind a reverse proxy every client is
127.0.0.1), so a request that says it was forwarded by a proxy is refused as well (403).
Errors answer `{"detail": "..."}` with:

- 400 the string is not a BOLT11 invoice (422 is left to FastAPI: body not `{"bolt11": str}`)
- 403 the request came through a proxy (it carries a forwarding header)
- 404 a valid invoice this wallet did not issue
- 409 the invoice is already paid
- 410 the invoice expired or was cancelled (Gone: it can never be paid again)
- 503 the fake backend is not the active wallet, or is not started
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

import httpx
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from ..config import Settings, is_loopback_host
from ..models import ErrorResponse
from ..wallets.base import WalletError
from ..wallets.fake import (
    FakeWallet,
    InvoiceAlreadyPaid,
    InvoiceNotPayable,
    MalformedInvoice,
    UnknownInvoice,
)
from .auth import runtime_of

fake_pay_router = APIRouter()

_FORWARDING_HEADERS = ("forwarded", "x-forwarded-for", "x-real-ip", "x-forwarded-host")

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
    403: _error("The request came through a proxy"),
    404: _error("Not an invoice this wallet issued"),
    409: _error("Already paid"),
    410: _error("Expired or cancelled: it can never be paid"),
    503: _error("The fake wallet is not the active Lightning backend"),
}


@fake_pay_router.post("/api/v1/fakewallet/pay", response_model=PayResponse, responses=_RESPONSES)
async def api_fakewallet_pay(body: PayRequest, request: Request) -> PayResponse:
    """Settle a fake-wallet invoice, as a Lightning payer would (mounted on loopback only)."""
    if any(header in request.headers for header in _FORWARDING_HEADERS):
        raise HTTPException(403, "the fake wallet pays only for this machine, not via a proxy")
    wallet = getattr(runtime_of(request), "wallet", None)
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


def pay_endpoint_allowed(settings: Settings) -> bool:
    """Whether to mount `POST /api/v1/fakewallet/pay`: the fake wallet on a loopback bind."""
    return settings.wallet == "fake" and settings.serves_loopback


def fake_wallet_warning(settings: Settings, relays: Sequence[str]) -> str | None:
    """What to tell the operator when the fake wallet runs with relays beyond this machine:
    real customers would get invoices no one can pay, and "paid" orders no one paid."""
    public = [url for url in relays if not is_loopback_host(urlparse(url).hostname or "")]
    if settings.wallet != "fake" or not public:
        return None
    return (
        f"The fake wallet is active with public relays ({', '.join(public)}): its invoices "
        "are not real money, and an order it marks paid was not paid. Do not ship for it; "
        "set NOSTRBAZAAR_WALLET to lnbits or nwc to sell."
    )


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
