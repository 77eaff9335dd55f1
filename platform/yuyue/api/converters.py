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
from werkzeug.routing import BaseConverter, IntegerConverter, Map

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


class RowIdConverter(IntegerConverter):
    """``<row_id:name>``: a positive whole number that fits an id column; any other path segment matches no route (404)."""

    schema: ClassVar[dict[str, Any]] = {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID}

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, min=1, max=MAX_ROW_ID)


CONVERTERS: dict[str, type[BaseConverter]] = {"slug": SlugConverter, "name": NameConverter, "token": TokenConverter, "row_id": RowIdConverter}


def init_converters(app: Flask) -> None:
    """Register the converters; before any blueprint that uses them."""
    app.url_map.converters.update(CONVERTERS)


def path_parameter(name: str, converter: type[_Bounded] | type[RowIdConverter], description: str) -> dict[str, Any]:
    """The OpenAPI path parameter ``name`` of a rule that matches it with ``converter``."""
    return {"name": name, "in": "path", "required": True, "description": description, "schema": dict(converter.schema)}
