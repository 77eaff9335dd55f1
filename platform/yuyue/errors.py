"""Errors that operations raise for users to act on: a stable code, a message, per-field problems.

The API renders them as ``application/problem+json``; the CLI as one line on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass

# The one JSON-pointer builder: the shared schemas point at problems with it, and so does every error here.
from yuyue_schemas import json_pointer

__all__ = ["Conflict", "DomainError", "FieldProblem", "InvalidInput", "NotFound", "Refused", "json_pointer"]


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field: where (an RFC 6901 JSON pointer), what (for a person) and a stable code (for a program).

    Problems found by a JSON Schema carry the keyword that failed (``required``, ``type``, ``maxLength``…).
    """

    pointer: str
    message: str
    code: str


class DomainError(Exception):
    """Base of every error a user can cause and fix."""

    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, errors: list[FieldProblem] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.errors = list(errors or [])


class InvalidInput(DomainError):
    code = "validation_failed"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but clashes with the current state (a taken slug, a full slot)."""

    code = "conflict"


class Refused(DomainError):
    """A booking rule refuses the request; ``code`` names the rule (``slot_full``, ``quota_exceeded``, ``banned``, …)."""

    code = "refused"
