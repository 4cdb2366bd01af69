"""What every API module shares: documented error responses and the error handlers.

One error shape everywhere: `{"detail": "..."}`, or for a body that fails
validation (422) `{"detail": [{"loc", "msg", "type"}, ...]}`. Validation
errors never echo the submitted value: it may be a private key.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from loguru import logger

from .models import ErrorResponse
from .services.catalogue_errors import (
    CatalogueError,
    Conflict,
    InvalidRequest,
    NotFound,
    SignupDisabled,
)


def error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


Responses = dict[int | str, dict[str, Any]]

UNAUTHORIZED: Responses = {
    401: error_doc("Missing or invalid X-Api-Key, or an invoice key where an admin key is needed")
}
NOT_FOUND: Responses = {404: error_doc("Not found, or not yours")}
BAD_REQUEST: Responses = {
    400: error_doc("The request cannot be applied (unknown zone, wrong currency, ...)")
}
CONFLICT: Responses = {409: error_doc("Clashes with the current state")}
READ: Responses = {**UNAUTHORIZED, **NOT_FOUND}
WRITE: Responses = {**UNAUTHORIZED, **NOT_FOUND, **BAD_REQUEST, **CONFLICT}

_STATUS: dict[type[Exception], int] = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    InvalidRequest: status.HTTP_400_BAD_REQUEST,
    SignupDisabled: status.HTTP_403_FORBIDDEN,
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


def register_error_handlers(app: FastAPI, extra: dict[type[Exception], int] | None = None) -> None:
    """Install the handlers; `extra` maps other domain errors (the order engine's) to statuses."""
    app.add_exception_handler(CatalogueError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
    for error_class, code in (extra or {}).items():
        app.add_exception_handler(error_class, _fixed_status(code))


def _fixed_status(code: int) -> Any:
    async def handler(_request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"detail": getattr(error, "detail", str(error))}, status_code=code)

    return handler
