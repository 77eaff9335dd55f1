"""The logged-in customer's own records: their bookings in pages, and the companions they book for."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import RowIdConverter, path_parameter
from yuyue.api.schemas.customer.bookings import BOOKING
from yuyue.api.schemas.customer.common import PREFIX, TENANT, operation
from yuyue.types import bounded_integer

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

COMPANION_CREATE = {
    "type": "object",
    "required": ["name", "id_number"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "id_number": {
            "type": "string",
            "minLength": 1,
            "maxLength": 32,
            "description": "mainland resident ID number; a companion with the same one is updated",
        },
        "phone": {"type": "string", "minLength": 1, "maxLength": 30},
        "relation": {"type": "string", "minLength": 1, "maxLength": 40},
    },
}
# What PUT …/me/companions/<id> replaces: the same fields, validated alike; one left out is cleared.
COMPANION_CHANGE = {
    **COMPANION_CREATE,
    "properties": {
        **COMPANION_CREATE["properties"],
        "id_number": {
            "type": "string",
            "minLength": 1,
            "maxLength": 32,
            "description": "mainland resident ID number; no other companion of the customer's may have it",
        },
    },
}
COMPANION = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "name": {"type": "string"},
        "id_number": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "relation": {"type": ["string", "null"]},
        "birth_date": {"type": ["string", "null"], "format": "date"},
    },
}

COMPANION_ID = path_parameter("companion_id", RowIdConverter, "the companion's id")

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/me/bookings": {
        "parameters": [TENANT],
        "get": operation(
            "The customer's bookings, newest first, in pages",
            200,
            {"type": "object", "properties": {"bookings": {"type": "array", "items": BOOKING}, "next_cursor": {"type": ["string", "null"]}}},
            auth="customer",
            parameters=[
                {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "next_cursor of the previous page"},
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
                },
            ],
            errors=(401, 422),
        ),
    },
    f"{PREFIX}/me/companions": {
        "parameters": [TENANT],
        "get": operation(
            "The customer's companions",
            200,
            {"type": "object", "properties": {"companions": {"type": "array", "items": COMPANION}}},
            auth="customer",
            errors=(401,),
        ),
        "post": operation(
            "Add a companion, or update the one with the same ID number", 201, COMPANION, auth="customer", body=COMPANION_CREATE, errors=(400, 401, 422)
        ),
    },
    f"{PREFIX}/me/companions/{{companion_id}}": {
        "parameters": [TENANT, COMPANION_ID],
        "put": operation(
            "Change a companion (fields left out are cleared)",
            200,
            COMPANION,
            auth="customer",
            body=COMPANION_CHANGE,
            errors=(400, 401, 409, 413, 415, 422),
            described={409: "another companion of the customer's has this ID number (companion_exists)"},
        ),
        "delete": operation("Remove a companion", 204, None, auth="customer", errors=(401,)),
    },
}
