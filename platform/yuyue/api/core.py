"""The v1 blueprint and what every endpoint shares: JSON input, token auth, problem errors."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

import yuyue_schemas
from yuyue.api.body import EMPTY, payload_too_large, request_json
from yuyue.api.problems import ApiProblem, problem_response, render_domain_error
from yuyue.api.query import check_query
from yuyue.db import db
from yuyue.errors import DomainError, FieldProblem, InvalidInput, json_pointer, schema_field_problems
from yuyue.provisioning.operations import authenticate_token
from yuyue.tenancy.models import TokenKind

log = logging.getLogger(__name__)

v1 = Blueprint("api_v1", __name__, url_prefix="/api/v1")

# What an HTTP error means for the client, in its language (werkzeug's descriptions are English).
HTTP_DETAILS = {
    400: _l("the request is not valid"),
    401: _l("this request needs authentication"),
    403: _l("this request is not allowed"),
    404: _l("nothing here: check the URL"),
    405: _l("this URL does not accept this method"),
    415: _l("this media type is not accepted"),
    429: _l("too many requests; try again later"),
}
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


def json_body(schema: dict[str, Any], *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object, validated against ``schema``; every problem is reported at once.

    With ``required=False`` a request without a body (an action that takes optional settings) is ``{}``.
    """
    body = request_json()
    if body is EMPTY:
        if not required:
            return {}
        raise ApiProblem(400, "malformed_json", _l("this request needs a JSON body"))
    # A body of ``null`` is valid JSON, and is reported by the schema rather than as malformed.
    problems = schema_field_problems(yuyue_schemas.problems_against(schema, body))
    problems += [FieldProblem(pointer, _l("text may not contain the NUL character"), "nul_character") for pointer in _nul_pointers(body)]
    if problems:
        raise InvalidInput(_l("the request body is not valid"), errors=problems)
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
        raise ApiProblem(401, "unauthorized", _l("send an API token as 'Authorization: Bearer <token>'"), headers={"WWW-Authenticate": "Bearer"})
    return secret.strip()


def operator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only an operator token may call ``view``: 401 without a valid token, 403 with any other kind."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = authenticate_token(db.session, bearer_secret())
        if token is None:
            raise ApiProblem(401, "invalid_token", _l("the API token is unknown or revoked"), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if token.kind is not TokenKind.operator:
            raise ApiProblem(403, "forbidden", _l("this endpoint needs an operator token"))
        g.api_token = token
        return view(*args, **kwargs)

    return wrapper


def _is_api_request() -> bool:
    return request.path.startswith("/api/")


ERROR_PAGES = "yuyue.error_pages"


def add_error_page(app: Flask, path_prefix: str, render: Callable[[HTTPException], Any]) -> None:
    """Answer an HTTP error outside the API whose path starts with ``path_prefix`` with ``render``'s page.

    A URL no route matches belongs to no blueprint, so the site's and the admin's own handlers never see it:
    they register here (the longest matching prefix wins) and their pages, with the request id, answer it.
    """
    pages = app.extensions.setdefault(ERROR_PAGES, {})
    pages[path_prefix] = render


def _error_page(error: HTTPException) -> Any:
    pages: dict[str, Callable[[HTTPException], Any]] = current_app.extensions.get(ERROR_PAGES, {})
    prefix = max((prefix for prefix in pages if request.path.startswith(prefix)), key=len, default=None)
    return error if prefix is None else pages[prefix](error)


def register_error_handlers(app: Flask) -> None:
    """Everything under /api/ answers errors as problem documents, never as HTML."""

    @app.before_request
    def _check_request_envelope() -> Response | None:
        """What no API view should ever see: checked once here, before any view or rate limit runs.

        Path segments are matched by bounded converters (``api/converters.py``), so a NUL or an
        over-long id matches no route; this catches a NUL in a path no converter covers. A declared
        body over the size limit is refused before anything reads it; the query string is checked
        by :func:`yuyue.api.query.check_query`.
        """
        if not _is_api_request():
            return None
        if "\x00" in request.path:
            # PostgreSQL cannot store or compare text with NUL, and no id or slug contains one: not found, before any lookup.
            return problem_response(404, "not_found", _l("nothing here: the URL path contains a NUL character"))
        if (request.content_length or 0) > current_app.config["MAX_CONTENT_LENGTH"]:
            raise payload_too_large()
        check_query()
        return None

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return render_domain_error(error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response | HTTPException:
        if not _is_api_request():
            return _error_page(error)
        if error.code == 413:
            return render_domain_error(payload_too_large())
        code = HTTP_CODES.get(error.code or 500, "http_error")
        headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else None
        return problem_response(error.code or 500, code, HTTP_DETAILS.get(error.code or 500) or error.description or code, headers=headers)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if not _is_api_request():
            raise error  # Flask logs it, once, and answers with the error page for its path (add_error_page)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "internal_error", _l("an unexpected error occurred; it has been logged"))
