"""Thin HTTP routes: parse the body, call one service, map domain errors to statuses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from . import __version__
from .runtime import Runtime

api_router = APIRouter(prefix="/api/v1")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


@api_router.get("/health", tags=["health"])
async def api_health(request: Request) -> dict[str, Any]:
    """Version, database status and each relay's connection state."""
    details = await get_runtime(request).health()
    return {"version": __version__, **details}
