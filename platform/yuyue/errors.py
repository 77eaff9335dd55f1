"""Errors that operations raise for users to act on: a stable code, a message, per-field problems.

The API renders them as ``application/problem+json``; the CLI as one line on stderr. Messages are
lazily translated (``lazy_gettext`` as ``_l``, values as ``%(name)s`` parameters): an error is raised
where no one knows who will read it, and is put into words in the reader's locale when it is shown.
``code`` never changes with the language: programs read it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

# The one JSON-pointer builder: the shared schemas point at problems with it, and so does every error here.
from yuyue_schemas import json_pointer

__all__ = [
    "Conflict",
    "DomainError",
    "FieldProblem",
    "InvalidInput",
    "Message",
    "NotFound",
    "Refused",
    "json_pointer",
    "schema_field_problems",
    "schema_problem_message",
]

# A message for a person: a plain string, or a lazy one that ``str()`` puts into the current locale.
Message = str | LazyString


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field: where (an RFC 6901 JSON pointer), what (for a person) and a stable code (for a program).

    Problems found by a JSON Schema carry the keyword that failed (``required``, ``type``, ``maxLength``…).
    """

    pointer: str
    message: Message
    code: str


class DomainError(Exception):
    """Base of every error a user can cause and fix.

    ``http_status`` is the status every surface answers it with: the API's problem document, the site's and the admin's error pages.
    """

    code = "bad_request"
    http_status = 400

    def __init__(self, message: Message, *, code: str | None = None, errors: list[FieldProblem] | None = None, extensions: dict[str, Any] | None = None):
        super().__init__(message)
        self.lazy_message = message
        self.code = code or self.code
        self.errors = list(errors or [])
        # Members a program reads beside the code (RFC 9457 extension members), e.g. the current version a request missed.
        self.extensions = dict(extensions or {})

    @property
    def message(self) -> str:
        """The message in the current locale (the reader's in a request)."""
        return str(self.lazy_message)


class InvalidInput(DomainError):
    code = "validation_failed"
    http_status = 422


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Conflict(DomainError):
    """The request is valid but clashes with the current state (a taken slug, a full slot)."""

    code = "conflict"
    http_status = 409


class Refused(DomainError):
    """A booking rule refuses the request; ``code`` names the rule (``slot_full``, ``quota_exceeded``, ``banned``, …)."""

    code = "refused"
    http_status = 409


# What a JSON Schema keyword demands, in a person's words; ``limit`` is the keyword's value as shown (:func:`_shown`).
_KEYWORD_MESSAGES: dict[str, Callable[[Any], LazyString]] = {
    "required": lambda limit: _l("this field is required"),
    "dependentRequired": lambda limit: _l("this field is required"),
    "minLength": lambda limit: _l("at least %(limit)s characters", limit=limit),
    "maxLength": lambda limit: _l("at most %(limit)s characters", limit=limit),
    "minimum": lambda limit: _l("at least %(limit)s", limit=limit),
    "maximum": lambda limit: _l("at most %(limit)s", limit=limit),
    "exclusiveMinimum": lambda limit: _l("more than %(limit)s", limit=limit),
    "exclusiveMaximum": lambda limit: _l("less than %(limit)s", limit=limit),
    "multipleOf": lambda limit: _l("a multiple of %(limit)s", limit=limit),
    "minItems": lambda limit: _l("at least %(limit)s items", limit=limit),
    "maxItems": lambda limit: _l("at most %(limit)s items", limit=limit),
    "uniqueItems": lambda limit: _l("items must not repeat"),
    "minProperties": lambda limit: _l("at least %(limit)s fields", limit=limit),
    "maxProperties": lambda limit: _l("at most %(limit)s fields", limit=limit),
    "pattern": lambda limit: _l("not in the expected form (%(pattern)s)", pattern=limit),
    "enum": lambda limit: _l("one of %(choices)s", choices=limit),
    "const": lambda limit: _l("must be %(value)s", value=limit),
    "format": lambda limit: _l("not a valid %(format)s", format=limit),
    "type": lambda limit: _l("must be %(kind)s", kind=limit),
    "additionalProperties": lambda limit: _unknown_field(*limit),
    "unevaluatedProperties": lambda limit: _unknown_field(*limit),
    "propertyNames": lambda limit: _l("invalid name %(name)r", name=limit),
    "anyOf": lambda limit: _l("matches none of the accepted forms"),
    "oneOf": lambda limit: _l("matches none of the accepted forms"),
    "not": lambda limit: _l("this value is not allowed"),
    "contains": lambda limit: _l("no item is of the expected kind"),
}


def _unknown_field(name: str, *allowed: str) -> LazyString:
    if not allowed:
        return _l("unknown field %(name)r", name=name)
    return _l("unknown field %(name)r; allowed: %(allowed)s", name=name, allowed=", ".join(allowed))


_TYPE_NAMES: dict[str, LazyString] = {
    "string": _l("text"),
    "integer": _l("a whole number"),
    "number": _l("a number"),
    "boolean": _l("true or false"),
    "object": _l("an object"),
    "array": _l("a list"),
    "null": _l("null"),
}


def _type_names(kinds: list[str]) -> str:
    return " / ".join(str(_TYPE_NAMES.get(kind, kind)) for kind in kinds)


def _shown(keyword: str, limit: Any) -> Any:
    """The keyword's value as a message shows it: JSON for enum and const, type names in the reader's words (lazily)."""
    if keyword == "type":
        return LazyString(_type_names, [limit] if isinstance(limit, str) else list(limit))
    if keyword == "enum" and isinstance(limit, list):
        return ", ".join(json.dumps(value, ensure_ascii=False) for value in limit)
    if keyword == "const":
        return json.dumps(limit, ensure_ascii=False)
    return limit


def schema_problem_message(keyword: str, limit: Any, fallback: Message) -> Message:
    """A JSON Schema problem in the reader's words ("最多 40 个字符"); ``fallback`` (jsonschema's English) for a keyword not listed."""
    message = _KEYWORD_MESSAGES.get(keyword)
    if message is None or (keyword.endswith("Properties") and keyword.startswith(("additional", "unevaluated")) and not isinstance(limit, tuple)):
        # Not listed, or no one unknown key to name: jsonschema's own words.
        return fallback
    return message(_shown(keyword, limit))


def schema_field_problems(problems: Iterable[Any], prefix: str = "") -> list[FieldProblem]:
    """``yuyue_schemas`` problems as field problems under ``prefix``, each message in the reader's language."""
    return [FieldProblem(prefix + p.pointer, schema_problem_message(p.keyword, p.limit, p.message), p.keyword) for p in problems]
