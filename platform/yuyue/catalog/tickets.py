"""Ticket types: the kinds of place a booking type sells (adult, child, senior, student), each with its price.

A ticket type may name the proof a visitor shows at entry (a student card) and
an age range in whole years on the visit date, which real-name bookings are
checked against (``yuyue.bookings.tickets``). A booking type without ticket
types sells one kind of place at its ``price_amount``.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

import yuyue_schemas
from yuyue.errors import FieldProblem, json_pointer, schema_field_problems
from yuyue.types import MAX_INTEGER

MAX_TICKET_TYPES = 20
# Oldest age a range may name; a range without max_age is open-ended.
MAX_AGE = 150
TICKET_KEY_PATTERN = "^[a-z][a-z0-9_-]{0,39}$"
_LOCALIZED_TEXT = {"$ref": f"{yuyue_schemas.BASE_URI}localized-text.json"}
_AGE = {"type": "integer", "minimum": 0, "maximum": MAX_AGE}

TICKET_TYPES_SCHEMA: dict[str, Any] = {
    "type": "array",
    "maxItems": MAX_TICKET_TYPES,
    "items": {
        "type": "object",
        "required": ["key", "name", "price_amount"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string", "pattern": TICKET_KEY_PATTERN},
            "name": _LOCALIZED_TEXT,
            "price_amount": {"type": "integer", "minimum": 0, "maximum": MAX_INTEGER},
            "proof": _LOCALIZED_TEXT,
            "min_age": _AGE,
            "max_age": _AGE,
        },
    },
}


def ticket_type_problems(ticket_types: Any) -> list[FieldProblem]:
    """Everything wrong with a booking type's ticket types, pointed at under ``/ticket_types``: shape, repeated keys, age ranges."""
    problems = schema_field_problems(yuyue_schemas.problems_against(TICKET_TYPES_SCHEMA, ticket_types), "/ticket_types")
    if problems:
        return problems
    seen: set[str] = set()
    for index, ticket_type in enumerate(ticket_types):
        if ticket_type["key"] in seen:
            problems.append(FieldProblem(json_pointer("ticket_types", index, "key"), _l("another ticket type has this key"), "duplicate_key"))
        seen.add(ticket_type["key"])
        if ticket_type.get("max_age", MAX_AGE) < ticket_type.get("min_age", 0):
            problems.append(FieldProblem(json_pointer("ticket_types", index, "max_age"), _l("must not be below min_age"), "invalid_range"))
    return problems


def fits_age(ticket_type: Any, age: int | None) -> bool:
    """Whether someone ``age`` years old on the visit date may travel on ``ticket_type``; an unknown age is not checked."""
    return age is None or ticket_type.get("min_age", 0) <= age <= ticket_type.get("max_age", MAX_AGE)
