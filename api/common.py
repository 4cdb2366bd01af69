"""What every API module shares: documented error responses and the error handlers.

One error shape everywhere: `{"detail": "..."}`, or for a body that fails
validation (422) `{"detail": [{"loc", "msg", "type"}, ...]}`. Validation
errors never echo the submitted value: it may be a private key.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from loguru import logger
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..models import ErrorResponse
from ..services.catalogue_errors import (
    CatalogueError,
    Conflict,
    InvalidRequest,
    NotFound,
    SignupDisabled,
    Unavailable,
)


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
