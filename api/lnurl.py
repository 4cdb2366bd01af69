"""LNURL-pay for the merchants' lightning addresses: `GET /.well-known/lnurlp/{name}` and
its callback `GET /lnurlp/{name}/callback?amount=<msat>` (LUD-06, LUD-16).

Mounted at the root of the standalone app (a lightning address is looked up at
`https://<host>/.well-known/lnurlp/<name>`). Answers are LNURL's own shapes, not
the API's: the pay request, `{"pr", "routes"}`, or `{"status": "ERROR", "reason"}`
with a 4xx (or 503 when the wallet is down).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from ..services.deps import Deps
from ..services.lnurl import LnurlError, address_invoice, pay_request
from .auth import runtime_of

lnurl_router = APIRouter(tags=["lnurl"])

_ERROR = {
    "description": 'LNURL error: `{"status": "ERROR", "reason": "..."}`',
    "content": {"application/json": {"example": {"status": "ERROR", "reason": "..."}}},
}
_RESPONSES: dict[int | str, dict[str, Any]] = {400: _ERROR, 404: _ERROR, 503: _ERROR}


def _deps(request: Request) -> Deps:
    runtime = runtime_of(request)
    deps = getattr(runtime, "deps", None)
    return deps if isinstance(deps, Deps) else Deps.from_runtime(runtime)


def _base_url(request: Request, deps: Deps) -> str:
    """Where buyers reach us: `NOSTRBAZAAR_PUBLIC_URL`, else the address they asked at."""
    return deps.settings.public_url or str(request.base_url)


def _error(error: LnurlError) -> JSONResponse:
    return JSONResponse({"status": "ERROR", "reason": error.reason}, status_code=error.status)


@lnurl_router.get("/.well-known/lnurlp/{name}", responses=_RESPONSES)
async def lnurl_pay_request(name: str, request: Request) -> Any:
    """The merchant's lightning address (`name` is its npub): the LUD-06 pay request."""
    deps = _deps(request)
    try:
        return await pay_request(deps, name, _base_url(request, deps))
    except LnurlError as error:
        return _error(error)


@lnurl_router.get("/lnurlp/{name}/callback", responses=_RESPONSES)
async def lnurl_callback(name: str, request: Request, amount: str | None = Query(None)) -> Any:
    """An invoice for `amount` millisatoshis (whole satoshis), minted by the merchant's
    wallet; a receipt naming it can pay one of the merchant's orders."""
    try:
        return await address_invoice(_deps(request), name, amount)
    except LnurlError as error:
        return _error(error)
