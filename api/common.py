"""What every API module shares: documented error responses and the error handlers.

One error shape everywhere: `{"detail": "..."}`, or for a body that fails
validation (422) `{"detail": [{"loc", "msg", "type"}, ...]}`. Validation
errors never echo the submitted value: it may be a private key.

The domain errors are mapped twice over: by app-wide handlers in the standalone
app, and by each route itself (`DomainErrorRoute`, the `route_class` of every API
router), because inside LNbits the app is LNbits' and only our routers are ours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..models import ErrorResponse
from ..nostr.keys import InvalidKey
from ..orders.errors import OrderError, OrderNotFound
from ..orders.pricing import OrderInvalid
from ..services.catalogue_errors import (
    CatalogueError,
    Conflict,
    InvalidRequest,
    NotFound,
    SignupDisabled,
    Unavailable,
)
from ..services.chat import MessageInvalid
from ..services.deps import MerchantNotFound
from ..services.intake import WalletUnavailable
from ..storage.errors import StorageUnavailable
from ..wallets.base import WalletError


def error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


Responses = dict[int | str, dict[str, Any]]

UNAUTHORIZED: Responses = {
    401: error_doc("Missing or invalid X-Api-Key, or an invoice key where an admin key is needed")
}
NOT_FOUND: Responses = {404: error_doc("Not found, or not yours")}
BAD_REQUEST: Responses = {
    400: error_doc("A body that is not JSON, or cannot be applied (unknown zone, ...)")
}
CONFLICT: Responses = {409: error_doc("Clashes with the current state")}
READ: Responses = {**UNAUTHORIZED, **NOT_FOUND}
WRITE: Responses = {**UNAUTHORIZED, **NOT_FOUND, **BAD_REQUEST, **CONFLICT}

# The order engine's domain errors, by what they mean for the caller.
ENGINE_ERRORS: dict[type[Exception], int] = {
    OrderNotFound: status.HTTP_404_NOT_FOUND,
    MerchantNotFound: status.HTTP_404_NOT_FOUND,
    OrderError: status.HTTP_409_CONFLICT,
    OrderInvalid: status.HTTP_422_UNPROCESSABLE_CONTENT,
    MessageInvalid: status.HTTP_422_UNPROCESSABLE_CONTENT,
    InvalidKey: status.HTTP_422_UNPROCESSABLE_CONTENT,
    WalletUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
    WalletError: status.HTTP_503_SERVICE_UNAVAILABLE,
    StorageUnavailable: status.HTTP_503_SERVICE_UNAVAILABLE,  # disk full, locked: try again
}

_STATUS: dict[type[Exception], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    InvalidRequest: status.HTTP_400_BAD_REQUEST,
    SignupDisabled: status.HTTP_403_FORBIDDEN,
    Unavailable: status.HTTP_503_SERVICE_UNAVAILABLE,
}


def status_of(error: Exception, table: dict[type[Exception], int]) -> int | None:
    """The status for `error` by its class (or nearest base class) in `table`."""
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return None


async def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    code = status_of(error, _STATUS) or status.HTTP_400_BAD_REQUEST
    return JSONResponse({"detail": getattr(error, "detail", str(error))}, status_code=code)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return _validation_response(error)


def _validation_response(error: RequestValidationError) -> JSONResponse:
    problems = [
        {
            "loc": list(problem.get("loc", ())),
            "msg": problem.get("msg", ""),
            "type": problem.get("type", ""),
        }
        for problem in error.errors()
    ]
    return JSONResponse({"detail": problems}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    logger.opt(exception=error).error("unhandled error on {} {}", request.method, request.url.path)
    return JSONResponse(
        {"detail": "internal error; it has been logged"},
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every documented method at this URL; a literal path wins over templates (OpenAPI)."""
    paths: dict[str, dict[str, Any]] = request.app.openapi()["paths"]
    path = request.url.path
    found = paths.get(path)
    if found is None:
        found = {}
        for template, item in paths.items():
            pattern = re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template))
            if re.fullmatch(pattern, path):
                found.update(item)
    methods = {method.upper() for method in found}
    return sorted(methods | ({"HEAD"} if "GET" in methods else set()))


async def _http_error(request: Request, error: Exception) -> Response:
    """FastAPI's answer, except that a 405 names every allowed method, not just one route's."""
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == status.HTTP_405_METHOD_NOT_ALLOWED:
        headers = {**(error.headers or {}), "Allow": ", ".join(_allowed_methods(request))}
        return JSONResponse({"detail": error.detail}, status_code=405, headers=headers)
    return await http_exception_handler(request, error)


def register_error_handlers(app: FastAPI, extra: dict[type[Exception], int] | None = None) -> None:
    """Install the handlers; `extra` maps other domain errors (the order engine's) to statuses."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(CatalogueError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    for error_class, code in (extra or {}).items():
        app.add_exception_handler(error_class, _fixed_status(code))


def _fixed_status(code: int) -> Any:
    async def handler(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": getattr(error, "detail", str(error))}, status_code=code)

    return handler


def error_response(error: Exception) -> JSONResponse | None:
    """Our answer to a domain or validation error; None for any other exception."""
    if isinstance(error, RequestValidationError):
        return _validation_response(error)
    code = status_of(error, {**_STATUS, **ENGINE_ERRORS})
    if code is None:
        return None
    return JSONResponse({"detail": getattr(error, "detail", str(error))}, status_code=code)


class DomainErrorRoute(APIRoute):
    """A route that answers its own domain and validation errors with our error shape,
    whichever app it is mounted in (ours, or LNbits', whose handlers are its own)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def mapped(request: Request) -> Response:
            try:
                return await handle(request)
            except Exception as error:
                answer = error_response(error)
                if answer is None:
                    raise
                return answer

        return mapped
