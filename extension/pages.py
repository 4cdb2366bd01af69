"""The pages under LNbits: the dashboard in LNbits' page frame, and the public market.

The dashboard needs a signed-in LNbits user who enabled the extension (LNbits'
`check_user_exists`); it is `templates/nostrbazaar/lnbits.html`, extending LNbits'
`base.html` (its header, menu, Vue and Quasar) with our components. The market is the
standalone page, served under the extension's path.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from lnbits.decorators import check_user_exists
from lnbits.helpers import template_renderer

from ..views import lnbits_dashboard, market_config, market_page, named_merchants
from .auth import EXT_ID

BASE = f"/{EXT_ID}"
pages_router = APIRouter(include_in_schema=False)


@pages_router.get("/", response_class=HTMLResponse)
async def dashboard(
    request: Request, user: Annotated[Any, Depends(check_user_exists)]
) -> HTMLResponse:
    """The merchant dashboard for the signed-in LNbits user (its wallets are its merchants)."""
    renderer = template_renderer([f"{EXT_ID}/templates"])
    context = {"user": user.json(), **lnbits_dashboard(BASE)}
    response: HTMLResponse = renderer.TemplateResponse(request, f"{EXT_ID}/lnbits.html", context)
    return response


@pages_router.get("/market", response_class=HTMLResponse)
async def market(request: Request) -> HTMLResponse:
    """The customer market, with this LNbits' merchants and their relays."""
    return await market_page(request, BASE)


@pages_router.get("/market/config.json")
async def market_config_json(request: Request) -> dict[str, Any]:
    """The market's configuration as JSON."""
    from ..api.auth import runtime_of

    return await market_config(runtime_of(request), named_merchants(request))
