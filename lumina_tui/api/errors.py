"""Every failure as the CLI's JSON error, `{"error": {"code", "field", "message"}}`, with a status.

Services raise `LuminaError`s that already name the field; here each code gets its HTTP status.
FastAPI's own request validation (422), Starlette's HTTP errors (404 route, 405, 413 body too large)
and anything unexpected (500, the traceback to the log only) are given the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from lumina_tui.errors import LuminaError
from lumina_tui.logs import scrub

log = logging.getLogger(__name__)

STATUS_BY_CODE: dict[str, int] = {
    "invalid": 400,
    "unauthorized": 401,
    "not_found": 404,
    "conflict": 409,
    "stale_revision": 409,
    "already_sent": 409,
    "idempotency_conflict": 409,
    "invalid_state": 409,
    "suppressed": 409,
    "payload_too_large": 413,
    "ai_rate_limited": 429,
}

CODE_BY_STATUS: dict[int, str] = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def error_body(code: str, message: str, field: str | None = None, **details: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "field": field, "message": scrub(message)}
    if details:
        body["details"] = details
    return {"error": body}


def status_of(error: LuminaError) -> int:
    status = STATUS_BY_CODE.get(error.code)
    if status is not None:
        return status
    if error.code.startswith("ai_"):
        return 502  # the AI server failed; our request was fine
    if error.code == "provider_error":
        return 502
    if error.exit_code == 2:
        return 400
    return 503  # the store is locked, full or unavailable: try again later


def error_response(status: int, body: dict[str, Any]) -> JSONResponse:
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 503:
        headers["Retry-After"] = "1"  # the store was busy (locked past its timeout): try again
    return JSONResponse(body, status_code=status, headers=headers or None)


def _field_of(location: Sequence[Any]) -> str | None:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or (str(location[-1]) if location else None)


async def _lumina_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LuminaError)
    body = exc.as_dict()
    return error_response(status_of(exc), {"error": body})


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "the request is not valid"}
    field = _field_of(tuple(first.get("loc", ())))
    message = f"{field}: {first.get('msg', 'not valid')}" if field else str(first.get("msg"))
    return error_response(422, error_body("invalid", message, field))


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = CODE_BY_STATUS.get(exc.status_code, "error")
    detail = str(exc.detail or "request refused")
    if exc.status_code == 413:
        detail = "the request body is too large"
    response = error_response(exc.status_code, error_body(code, detail))
    for name, value in (exc.headers or {}).items():
        response.headers.setdefault(name, value)
    return response


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error in the API", exc_info=exc)
    return error_response(500, error_body("internal", "an unexpected error; see the server's log"))


def install(app: FastAPI) -> None:
    app.add_exception_handler(LuminaError, _lumina_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
