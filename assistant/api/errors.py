"""Errors as JSON with one stable shape: ``{"error": {"code", "message", "fix"}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from assistant.errors import (
    Conflict,
    DevrelError,
    EmptyIndexError,
    Forbidden,
    ForgeError,
    InvalidInput,
    NotFound,
    ProviderUnavailable,
)

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    fix: str | None = None


class ErrorResponse(BaseModel):
    """Every error the API returns."""

    error: ErrorBody


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error statuses a route answers (all in the one error shape)."""
    return {code: {"model": ErrorResponse} for code in codes}


class ApiError(Exception):
    """An error raised by the web layer itself (auth, limits, webhooks)."""

    def __init__(self, status: int, code: str, message: str, fix: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.fix = status, code, message, fix
        self.headers = headers


# Most specific first.
STATUS: list[tuple[type[DevrelError], int, str]] = [
    (NotFound, 404, "not_found"),
    (EmptyIndexError, 409, "empty_index"),
    (InvalidInput, 422, "invalid_input"),
    (Conflict, 409, "conflict"),
    (Forbidden, 403, "forbidden"),
    (ProviderUnavailable, 503, "unavailable"),
    (ForgeError, 502, "forge_error"),
    (DevrelError, 500, "error"),
]

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
               429: "rate_limited"}


def error_json(status: int, code: str, message: str, fix: str | None = None,
               headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "fix": fix}}
    return JSONResponse(body, status_code=status, headers=headers)


def _first_validation_error(errors: list[Any]) -> str:
    if not errors:
        return "The request is not valid."
    err = errors[0]
    if err.get("type") == "json_invalid":
        return f"The body is not valid JSON: {(err.get('ctx') or {}).get('error', 'invalid')}."
    where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request"
    return f"{where}: {err.get('msg', 'invalid')}"


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> str:
    """Every method the app serves at the request's path, for a 405's ``Allow`` (Starlette names
    only those of the first route whose path matched)."""
    routes = request.app.router.routes
    return ", ".join(method for method in METHODS
                     if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                            for route in routes))


def install(app: FastAPI) -> None:
    """Register the handlers that give every error the same shape."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.code, exc.message, exc.fix, exc.headers)

    @app.exception_handler(DevrelError)
    async def _devrel(_: Request, exc: DevrelError) -> JSONResponse:
        for cls, status, code in STATUS:
            if isinstance(exc, cls):
                if status >= 500 and status != 501:
                    log.warning("%s: %s", code, exc)
                return error_json(status, code, exc.message, exc.fix)
        return error_json(500, "error", exc.message, exc.fix)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_json(422, "invalid_request", _first_validation_error(list(exc.errors())),
                          "see the request schema and examples at /docs")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message, fix = str(exc.detail), None
        headers = getattr(exc, "headers", None)
        if exc.status_code == 400 and "parsing the body" in message:
            message = "The request body could not be read as JSON (is it UTF-8 text?)."
            fix = "send a UTF-8 JSON body with content-type application/json"
        if exc.status_code == 405 and (allow := allowed_methods(request)):
            headers = {**(headers or {}), "Allow": allow}
            fix = f"use {allow.replace(', ', ' or ')}"
        return error_json(exc.status_code, code, message, fix, headers)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_json(500, "internal", f"Unexpected {type(exc).__name__}.",
                          "see the server log")
