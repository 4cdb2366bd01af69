"""The standalone FastAPI application (inside LNbits, `extension/` is the host)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from loguru import logger

from . import __version__
from .api.docs import docs_router
from .api.fakewallet import fake_pay_router, fake_wallet_warning, pay_endpoint_allowed
from .api.lnurl import lnurl_router
from .config import Settings
from .engine.runtime import Runtime
from .views import views_router
from .views_api import api_router, register_api_errors

standalone_router: APIRouter = APIRouter()
standalone_router.include_router(api_router)
standalone_router.include_router(views_router)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the runtime starts and stops with the app's lifespan."""
    runtime = Runtime(settings or Settings.from_env())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not runtime.started:  # `nostrbazaar serve` starts it before serving
            await runtime.start()
        warning = fake_wallet_warning(runtime.settings, runtime.relays)
        if warning:
            logger.warning(warning)
        try:
            yield
        finally:
            await runtime.stop()

    # The API docs are served by api/docs.py, with their scripts from this app (no CDN).
    app = FastAPI(
        title="nostrbazaar", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.runtime = runtime
    app.include_router(standalone_router)
    app.include_router(docs_router)
    app.include_router(lnurl_router)  # lightning addresses live at the root of a host
    if pay_endpoint_allowed(runtime.settings):
        app.include_router(fake_pay_router)
    register_api_errors(app)
    return app
