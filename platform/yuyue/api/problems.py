"""RFC 9457 problem documents: every API error is ``application/problem+json`` with a stable ``code``.

``title``, ``detail`` and each field error's ``message`` are in the reader's language (the API's locale:
``?lang=``, ``Accept-Language``, the tenant's first locale), said in ``Content-Language``; ``type`` and
``code`` never change with it. ``request_id`` is the id of the request, as in its ``X-Request-ID`` header and in every
log line written while answering it: what a caller quotes to an operator.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, json
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from yuyue.errors import DomainError, FieldProblem, Message
from yuyue.observability.logs import current_request_id
from yuyue.presenting.catalogs import locale_tag

PROBLEM_TYPE_BASE = "https://yuyue.dev/problems/"
# A secret no configured key opens is the installation's fault, not the client's: 503 until the operator restores the key.
# The ``title`` of every status the API answers with, in the reader's language (HTTPStatus's English phrase otherwise).
STATUS_TITLES: dict[int, LazyString] = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    409: _l("Conflict"),
    413: _l("Content Too Large"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Content"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    501: _l("Not Implemented"),
    502: _l("Bad Gateway"),
    503: _l("Service Unavailable"),
}


class ApiProblem(DomainError):
    """An error raised by the API layer itself (authentication, malformed requests)."""

    def __init__(self, status: int, code: str, message: Message, errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message, code=code, errors=errors)
        self.status = status
        self.headers = headers or {}


def problem_document(status: int, code: str, detail: Message, errors: list[FieldProblem] = (), extensions: dict[str, Any] | None = None) -> dict[str, Any]:
    """The RFC 9457 body of an error, its texts in the current locale; ``errors`` point at the fields at fault."""
    document = {
        **(extensions or {}),
        "type": PROBLEM_TYPE_BASE + code,
        "title": str(STATUS_TITLES.get(status, HTTPStatus(status).phrase)),
        "status": status,
        "detail": str(detail),
        "code": code,
        "errors": [{"pointer": e.pointer, "message": str(e.message), "code": e.code} for e in errors],
    }
    if "request_id" not in document and (request_id := current_request_id()):
        document["request_id"] = request_id
    return document


def problem_response(
    status: int, code: str, detail: Message, errors: list[FieldProblem] = (), headers: dict[str, str] | None = None, extensions: dict[str, Any] | None = None
) -> Response:
    response = Response(json.dumps(problem_document(status, code, detail, errors, extensions)), status=status, mimetype="application/problem+json")
    response.headers["Content-Language"] = locale_tag()
    response.headers.update(headers or {})
    return response


def render_domain_error(error: DomainError) -> Response:
    if isinstance(error, ApiProblem):
        return problem_response(error.status, error.code, error.lazy_message, error.errors, error.headers)
    return problem_response(error.http_status, error.code, error.lazy_message, error.errors, extensions=error.extensions)
