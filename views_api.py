"""Thin HTTP routes: parse the body, call one service, map domain errors to statuses.

The routes live in a few small modules, each an `APIRouter` included here under
`/api/v1`: `api_merchant` (accounts, merchant), `api_catalogue` (zones, stalls,
products), `api_orders` (orders, messages, customers) and `api_ws` (the
dashboard websocket).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request

from . import __version__
from .api.auth import RuntimeDep, get_runtime, runtime_of
from .api.cashu import router as cashu_router
from .api.catalogue import router as catalogue_router
from .api.common import ENGINE_ERRORS, DomainErrorRoute, register_error_handlers
from .api.export import router as export_router
from .api.fakewallet import fake_wallet_warning
from .api.jobs import router as jobs_router
from .api.merchant import router as merchant_router
from .api.notifications import router as notifications_router
from .api.orders import router as orders_router
from .api.refunds import router as refunds_router
from .api.stats import router as stats_router
from .api.ws import router as ws_router
from .services.catalogue import currencies

api_router = APIRouter(prefix="/api/v1", route_class=DomainErrorRoute)
api_router.include_router(merchant_router)
api_router.include_router(export_router)  # before /order/{id} and /product/{id}
api_router.include_router(jobs_router)
api_router.include_router(notifications_router)
api_router.include_router(stats_router)
api_router.include_router(cashu_router)
api_router.include_router(catalogue_router)
api_router.include_router(orders_router)
api_router.include_router(refunds_router)
api_router.include_router(ws_router)

__all__ = ["api_router", "get_runtime", "register_api_errors"]


@api_router.get("/health", tags=["health"])
async def api_health(request: Request) -> dict[str, Any]:
    """Version, database status, each relay's connection state, and `warnings` for the
    operator (the dashboard shows them), e.g. the fake wallet running with public relays."""
    runtime = runtime_of(request)
    details = await runtime.health()
    warning = fake_wallet_warning(runtime.settings, runtime.relays)
    return {
        "version": __version__,
        **details,
        "fake_wallet_with_public_relays": warning is not None,
        "warnings": [warning] if warning else [],
    }


@api_router.get("/currencies", tags=["health"])
async def api_currencies(runtime: RuntimeDep) -> list[str]:
    """The currencies prices can be in: `sat` and each fiat code with a rate (configured,
    or from the live provider while its rates are fresh)."""
    return currencies(runtime)


def register_api_errors(app: FastAPI) -> None:
    """One error shape for every route: see `api_common`."""
    register_error_handlers(app, ENGINE_ERRORS)
