"""URL converters for every variable path segment of the API, each matching only what such a segment can be.

A segment that is not a slug, a name, a token or a row id matches no route, so
it answers 404 before any view runs and before anything is looked up: a NUL
character (which PostgreSQL cannot even compare), an over-long value or a
number no id column holds never reaches the database. Each converter carries
the JSON Schema of what it matches, for the OpenAPI document's path parameters.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import Flask
from werkzeug.routing import BaseConverter

from yuyue.provisioning.operations import SLUG_PATTERN

__all__ = ["CONVERTERS", "MAX_ROW_ID", "NameConverter", "RowIdConverter", "SlugConverter", "TokenConverter", "init_converters", "path_parameter"]

# Row ids are PostgreSQL ``integer`` columns; a larger number in a URL names no row, and must not reach the database.
MAX_ROW_ID = 2**31 - 1


class _Bounded(BaseConverter):
    """A segment matching ``regex`` (anchored by werkzeug), described to OpenAPI by ``schema``."""

    schema: ClassVar[dict[str, Any]]


class SlugConverter(_Bounded):
    """``<slug:name>``: a tenant's or a booking type's slug, exactly as the slug rule allows (at most 40 characters)."""

    regex = SLUG_PATTERN.pattern.removeprefix("^").removesuffix("$")
    schema = {"type": "string", "pattern": SLUG_PATTERN.pattern, "maxLength": 40}


class NameConverter(_Bounded):
    """``<name:name>``: a resource's code or a provider's key: letters, digits, ``.``, ``_`` and ``-``, at most 60."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}"
    schema = {"type": "string", "pattern": f"^{regex}$", "maxLength": 60}


class TokenConverter(_Bounded):
    """``<token:name>``: a generated identifier (a booking's public id, a payment reference): URL-safe base64 letters, at most 64."""

    regex = r"[A-Za-z0-9_-]{1,64}"
    schema = {"type": "string", "pattern": f"^{regex}$", "maxLength": 64}


def _whole_numbers_up_to(limit: int) -> str:
    """A regular expression matching exactly the decimal numbers 1 to ``limit``, without leading zeros."""
    digits = str(limit)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for position, digit in enumerate(digits):
        low = "1" if position == 0 else "0"
        if int(digit) > int(low):
            rest = len(digits) - position - 1
            below = low if int(digit) - 1 == int(low) else f"[{low}-{int(digit) - 1}]"
            same_length.append(digits[:position] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    return "|".join([*shorter, *same_length, digits])


class RowIdConverter(BaseConverter):
    """``<row_id:name>``: a positive whole number that fits an id column; any other path segment matches no route (404).

    The bound is in the regular expression, not in ``to_python``: werkzeug answers a value its converter refuses after
    matching with 405 when another method has a rule on the same path, where a segment that matches nothing is a 404.
    """

    regex = f"(?:{_whole_numbers_up_to(MAX_ROW_ID)})"
    schema: ClassVar[dict[str, Any]] = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}
    part_isolating = True

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: Any) -> str:
        return str(int(value))


CONVERTERS: dict[str, type[BaseConverter]] = {"slug": SlugConverter, "name": NameConverter, "token": TokenConverter, "row_id": RowIdConverter}


def init_converters(app: Flask) -> None:
    """Register the converters; before any blueprint that uses them."""
    app.url_map.converters.update(CONVERTERS)


def path_parameter(name: str, converter: type[_Bounded] | type[RowIdConverter], description: str) -> dict[str, Any]:
    """The OpenAPI path parameter ``name`` of a rule that matches it with ``converter``."""
    return {"name": name, "in": "path", "required": True, "description": description, "schema": dict(converter.schema)}
