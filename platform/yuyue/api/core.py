"""The v1 blueprint and what every endpoint shares: JSON input, token auth, problem errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, g, request
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter, Map

import yuyue_schemas
from yuyue.api.problems import ApiProblem, problem_response, render_domain_error
from yuyue.db import db
from yuyue.errors import DomainError, FieldProblem, InvalidInput, json_pointer
from yuyue.tenancy.models import TokenKind
from yuyue.tenancy.operations import authenticate_token

log = logging.getLogger(__name__)

v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")

# Row ids are PostgreSQL ``integer`` columns; a larger number in a URL names no row, and must not reach the database.
MAX_ROW_ID = 2**31 - 1

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class RowIdConverter(IntegerConverter):
    """``<row_id:name>``: a positive whole number that fits an id column; any other path segment matches no route (404)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, min=1, max=MAX_ROW_ID)


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """The request's JSON object, validated against ``schema``; every problem is reported at once."""
    try:
        # Not silent: a body of ``null`` is valid JSON, and is reported by the schema rather than as malformed.
        body = request.get_json(force=True)
    except BadRequest:
        raise ApiProblem(400, "malformed_json", "the request body is not valid JSON") from None
    problems = [FieldProblem(p.pointer, p.message, p.keyword) for p in yuyue_schemas.problems_against(schema, body)]
    problems += [FieldProblem(pointer, "text may not contain the NUL character", "nul_character") for pointer in _nul_pointers(body)]
    if problems:
        raise InvalidInput("the request body is not valid", errors=problems)
    return body


def _nul_pointers(value: Any, *path: str | int) -> list[str]:
    """Where a JSON value holds a NUL character, in a string or a key, which PostgreSQL text cannot store."""
    if isinstance(value, str):
        return [json_pointer(*path)] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in ([json_pointer(*path, key)] if "\x00" in key else []) + _nul_pointers(item, *path, key)]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _nul_pointers(item, *path, index)]
    return []


def bearer_secret() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "unauthorized", "send an API token as 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
    return secret.strip()


def operator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only an operator token may call ``view``: 401 without a valid token, 403 with any other kind."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = authenticate_token(db.session, bearer_secret())
        if token is None:
            raise ApiProblem(401, "invalid_token", "the API token is unknown or revoked", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if token.kind is not TokenKind.operator:
            raise ApiProblem(403, "forbidden", "this endpoint needs an operator token")
        g.api_token = token
        return view(*args, **kwargs)

    return wrapper


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    """Everything under /api/ answers errors as problem documents, never as HTML."""

    @app.before_request
    def _refuse_nul_in_url() -> Response | None:
        # PostgreSQL cannot store or compare text with NUL, and no id or slug contains one: not found, before any lookup.
        # Query parameters are validated by the endpoints that read them (422 at the parameter).
        if _is_api_request() and "\x00" in request.path:
            return problem_response(404, "not_found", "nothing here: the URL path contains a NUL character")
        return None

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return render_domain_error(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if not _is_api_request():
            return error
        code = HTTP_CODES.get(error.code or 500, "http_error")
        headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else None
        return problem_response(error.code or 500, code, error.description or code, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not _is_api_request():
            raise error
        return problem_response(500, "internal_error", "an unexpected error occurred; it has been logged")
