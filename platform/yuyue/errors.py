"""Errors that operations raise for users to act on: a stable code, a message, per-field problems.

The API renders them as ``application/problem+json``; the CLI as one line on stderr.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field, located by an RFC 6901 JSON pointer."""

    pointer: str
    message: str
    code: str | None = None


def pointer(*parts: str | int) -> str:
    """An RFC 6901 JSON pointer to ``parts``, escaping ``~`` and ``/`` in each."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


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
