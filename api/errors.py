"""Errors the API answers with, all in one JSON shape.

    APIError                      {"error": {"code", "message", "details"}}
    ├── Unauthorized      401     missing or unknown bearer token
    ├── NotFound          404     no such quiz/question for this user
    ├── Conflict          409     the quiz's state does not allow the request
    ├── PreconditionFailed 412    If-Match names a version the resource has moved on from
    ├── PayloadTooLarge   413     body over the limit (refused before it is read)
    ├── Unprocessable     422     a valid request the rules refuse (e.g. duplicate text)
    ├── TooManyRequests   429     a client's bad tokens, or a teacher's quota (Retry-After)
    └── ServiceUnavailable 503    PostgreSQL, Temporal or Canvas cannot be reached
                                  (also TemporalUnavailableError from the gateway)

Canvas's errors (quizgen.errors.CanvasError) are answered too: a stored token Canvas
refuses is 409 `canvas_reconnect_required`; Canvas throttled or down is 503; Canvas
refusing what was asked (no access, not found) is 502 `canvas_refused`.

Request validation errors (422), unknown routes (404) and unexpected
exceptions (500, no stack trace) are rendered in the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from quizgen.db.outage import describe_outage, is_database_outage
from quizgen.errors import (
    CanvasAuthError,
    CanvasError,
    CanvasUnavailableError,
    TemporalUnavailableError,
)

__all__ = [
    "APIError",
    "Conflict",
    "ErrorBody",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "Unprocessable",
    "error_response",
    "error_responses",
    "install_error_handlers",
]

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class APIError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Unauthorized(APIError):
    status_code = 401
    code = "unauthorized"


class NotFound(APIError):
    status_code = 404
    code = "not_found"


class Conflict(APIError):
    status_code = 409
    code = "conflict"


class PreconditionFailed(APIError):
    status_code = 412
    code = "precondition_failed"


class PayloadTooLarge(APIError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(APIError):
    status_code = 422
    code = "unprocessable"


class TooManyRequests(APIError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int | None, details: Any = None) -> None:
        super().__init__(message, details)
        self.retry_after = retry_after


class ServiceUnavailable(APIError):
    status_code = 503
    code = "service_unavailable"


_CODES = {
    # A body that cannot be read as JSON at all (bad UTF-8, absurd nesting or numbers).
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def error_responses(*status_codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error shape for these statuses.

    A route that can refuse a token (401) can also tell a client sending bad ones to
    wait (429, `api.guard`).
    """
    codes = (*status_codes, 429) if 401 in status_codes else status_codes
    return {code: {"model": ErrorBody} for code in codes}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    all_headers = dict(headers or {})
    if status_code == 401:
        all_headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=all_headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        details.append({"loc": loc, "message": message})
    return details


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def _allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route of the app serves at this path."""
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    ]


# Renders an error as a page for requests that want one (the review pages), else None.
PageErrors = Callable[[Request, int], Response | None]


def install_error_handlers(app: FastAPI, pages: PageErrors = lambda _r, _s: None) -> None:
    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> Response:
        if (page := pages(request, exc.status_code)) is not None:
            return page
        headers = (
            {"Retry-After": str(exc.retry_after)}
            if isinstance(exc, TooManyRequests) and exc.retry_after is not None
            else {}
        )
        return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if (page := pages(request, 404)) is not None:
            # A page's malformed path or query (a bad quiz id) is a page that does not exist.
            return page
        details = _validation_details(exc)
        summary = "; ".join(f"{'.'.join(d['loc'])}: {d['message']}" for d in details[:3])
        return error_response(422, "invalid_request", f"the request is invalid: {summary}", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if (page := pages(request, exc.status_code)) is not None:
            return page
        code = _CODES.get(exc.status_code, f"http_{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette lists only the first matching route's methods; a path
            # served by several routes (GET and POST /quizzes) allows them all.
            headers["Allow"] = ", ".join(_allowed_methods(app, request.scope))
        return error_response(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(CanvasError)
    async def _canvas(request: Request, exc: CanvasError) -> Response:
        if isinstance(exc, CanvasAuthError):
            status, code = 409, "canvas_reconnect_required"
        elif isinstance(exc, CanvasUnavailableError):
            status, code = 503, ServiceUnavailable.code
        else:
            status, code = 502, "canvas_refused"
        if (page := pages(request, status)) is not None:
            return page
        return error_response(status, code, str(exc))

    @app.exception_handler(TemporalUnavailableError)
    async def _temporal_down(request: Request, exc: TemporalUnavailableError) -> Response:
        if (page := pages(request, 503)) is not None:
            return page
        return error_response(503, ServiceUnavailable.code, str(exc))

    # asyncpg's refusals (57P03 starting up, 53300 too many clients, ...) reach us as a bare
    # DBAPIError, so the handler takes every DBAPIError and decides by SQLSTATE; the rest
    # (integrity, syntax, ...) is re-raised to the generic 500 handler below.
    @app.exception_handler(sqlalchemy.exc.DBAPIError)
    @app.exception_handler(sqlalchemy.exc.TimeoutError)
    @app.exception_handler(OSError)
    async def _database_down(request: Request, exc: Exception) -> Response:
        if not is_database_outage(exc):
            raise exc
        log.warning("database unavailable (%s)", describe_outage(exc))
        if (page := pages(request, 503)) is not None:
            return page
        return error_response(
            503, "service_unavailable", "the database is unavailable; try again shortly"
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error", exc_info=exc)
        if (page := pages(request, 500)) is not None:
            return page
        return error_response(500, "internal_error", "an unexpected error occurred")
