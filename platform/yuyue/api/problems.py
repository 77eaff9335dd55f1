"""RFC 9457 problem documents: every API error is ``application/problem+json`` with a stable ``code``."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from flask import Response, json

from yuyue.errors import Conflict, DomainError, FieldProblem, InvalidInput, NotFound, Refused

PROBLEM_TYPE_BASE = "https://yuyue.dev/problems/"
STATUS_BY_ERROR: dict[type[DomainError], int] = {InvalidInput: 422, NotFound: 404, Conflict: 409, Refused: 409}


class ApiProblem(DomainError):
    """An error raised by the API layer itself (authentication, malformed requests)."""

    def __init__(self, status: int, code: str, message: str, errors: list[FieldProblem] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message, code=code, errors=errors)
        self.status = status
        self.headers = headers or {}


def problem_document(status: int, code: str, detail: str, errors: list[FieldProblem] = ()) -> dict[str, Any]:
    """The RFC 9457 body of an error; ``errors`` point at the fields at fault."""
    return {
        "type": PROBLEM_TYPE_BASE + code,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [{"pointer": e.pointer, "message": e.message, "code": e.code} for e in errors],
    }


def problem_response(status: int, code: str, detail: str, errors: list[FieldProblem] = (), headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(problem_document(status, code, detail, errors)), status=status, mimetype="application/problem+json")
    response.headers.update(headers or {})
    return response


def render_domain_error(error: DomainError) -> Response:
    if isinstance(error, ApiProblem):
        return problem_response(error.status, error.code, error.message, error.errors, error.headers)
    status = next((s for cls, s in STATUS_BY_ERROR.items() if isinstance(error, cls)), 400)
    return problem_response(status, error.code, error.message, error.errors)
