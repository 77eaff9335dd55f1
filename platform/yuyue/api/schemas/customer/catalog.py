"""The catalog customers browse: booking types open for booking, one with its form, and a type's slots."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import SlugConverter, path_parameter
from yuyue.api.schemas.customer.common import ACCEPT_LANGUAGE, LANG, PREFIX, TENANT, TIME, YEARS, operation
from yuyue.api.schemas.customer.reviews import RATING, RESOURCE_RATINGS
from yuyue.catalog.tickets import MAX_AGE
from yuyue.types import MAX_INTEGER, bounded_integer

MAX_AVAILABILITY_DAYS = 62
# Why a slot is not bookable, and the code a booking of it is refused with (409).
UNAVAILABLE_REASONS = {
    "not_released": "booking_not_open: the booking window has not opened yet (opens_at says when)",
    "closed": "booking_closed: the booking window has closed or the slot has started; slot_closed: the slot was called off",
    "sold_out": "slot_full: no place is left in the slot (for the channel)",
    "daily_cap": "daily_cap_reached: the day's cap (whole day or the channel's) is reached",
    "resource_busy": "resource_conflict: the staff, vehicle or room the slot needs is taken",
}
AVAILABILITY_DESCRIPTION = (
    "A slot listed bookable accepts a booking of up to `remaining` places from a customer whom no personal policy "
    "(quotas, bans, minors) holds back, and a slot listed not bookable refuses it. `reason` says why not, and the "
    "booking is refused (409) with the matching code:\n\n" + "\n".join(f"- `{reason}` → {meaning}" for reason, meaning in UNAVAILABLE_REASONS.items())
)

SLUG = path_parameter("slug", SlugConverter, "the booking type's slug")

BOOKING_TYPE_SUMMARY = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "vertical": {"type": "string"},
        "name": {"type": ["string", "null"]},
        "description": {"type": ["string", "null"]},
        "price_amount": bounded_integer(description="per place when there are no ticket types, in minor units (fen)"),
        "currency": {"type": "string"},
        "max_party_size": bounded_integer(),
    },
}
BOOKING_TYPE_DETAIL = {
    "type": "object",
    "properties": {
        **BOOKING_TYPE_SUMMARY["properties"],
        "rating": RATING,
        "resource_ratings": RESOURCE_RATINGS,
        "ticket_types": {
            "type": "array",
            "description": "the kinds of place sold, in the request's language; a booking asks for them by key in tickets",
            "items": {
                "type": "object",
                "properties": {
                    "key": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "price_amount": bounded_integer(description="per place, in minor units (fen)"),
                    "proof": {"type": ["string", "null"], "description": "what to show at the entrance, e.g. a student card"},
                    "min_age": bounded_integer(0, MAX_AGE, description="whole years on the visit date; null: no lower limit") | {"type": ["integer", "null"]},
                    "max_age": bounded_integer(0, MAX_AGE, description="whole years on the visit date; null: no upper limit") | {"type": ["integer", "null"]},
                },
            },
        },
        "form_version": bounded_integer(1),
        "form_schema": {"type": "object", "description": "JSON Schema (2020-12) of the answers a booking must give"},
        "ui_schema": {"type": "object", "description": "field order, widgets, labels, placeholders and help, in the request's language"},
        "availability_rules": {"type": "array", "items": {"type": "object"}},
        "policies": {"type": "object", "description": "quotas, minors, cancellation, reschedule, no-show and waitlist rules"},
        "hold_minutes": bounded_integer(description="how long an unpaid booking keeps its place (0: confirmed at once)"),
        "time_zone": {"type": "string"},
        "privacy_notice": {
            "type": ["object", "null"],
            "description": "the privacy notice to show with the form and ask the customer to agree to; a booking sends its version "
            "as privacy_consent.version. null: none, nothing to agree to",
            "properties": {
                "version": bounded_integer(1),
                "text": {"type": ["string", "null"], "description": "in the request's language, as the merchant wrote it: render it as text, escaped"},
                "published_at": {"type": "string", "format": "date-time"},
            },
        },
        "stops": {
            "type": "array",
            "description": "a shuttle's pick-up and drop-off points in route order; a booking's answers name them by code",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "kind": {"enum": ["pickup", "dropoff", "both"]},
                    "minutes_after_departure": bounded_integer(),
                },
            },
        },
        "minimum_participants": {
            "type": ["object", "null"],
            "description": "a session below this many places taken, that many hours before it starts, is called off and its bookings refunded",
            "properties": {"participants": bounded_integer(1), "decided_hours_before": bounded_integer(1)},
        },
    },
}
SLOT = {
    "type": "object",
    "properties": {
        "starts_at": TIME,
        "ends_at": TIME,
        "local_date": {"type": "string", "format": "date"},
        "channel": {"type": "string"},
        "capacity": bounded_integer(),
        "remaining": bounded_integer(-MAX_INTEGER, description="places a booking could take: the slot's left, within its day's caps"),
        "bookable": {"type": "boolean", "description": "whether a booking of one place would be accepted (from a customer no personal limit holds back)"},
        "reason": {
            "enum": [None, *UNAVAILABLE_REASONS],
            "description": "why not bookable (null when bookable); each the counterpart of the code a booking is refused with (see the operation)",
        },
        "opens_at": {**TIME, "type": ["string", "null"], "description": "with reason not_released: when the slot is released for booking"},
        "label": {"description": "the slot's label, if the rules give one"},
        "stops": {
            "type": "array",
            "description": "on a shuttle, when this trip reaches each stop",
            "items": {"type": "object", "properties": {"code": {"type": "string"}, "at": TIME}},
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/booking-types": {
        "parameters": [TENANT],
        "get": operation(
            "List the booking types open for booking, in the request's language",
            200,
            {"type": "object", "properties": {"booking_types": {"type": "array", "items": BOOKING_TYPE_SUMMARY}}},
            parameters=[LANG, ACCEPT_LANGUAGE],
            errors=(422,),
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}": {
        "parameters": [TENANT, SLUG],
        "get": operation(
            "A booking type with its current form, UI schema, rules and policies", 200, BOOKING_TYPE_DETAIL, parameters=[LANG, ACCEPT_LANGUAGE], errors=(422,)
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}/availability": {
        "parameters": [TENANT, SLUG],
        "get": operation(
            f"Slots of local days from … to (inclusive, at most {MAX_AVAILABILITY_DAYS}) with capacity and places remaining",
            200,
            {"type": "object", "properties": {"time_zone": {"type": "string"}, "slots": {"type": "array", "items": SLOT}}},
            parameters=[
                {"name": "from", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}, "description": YEARS},
                {"name": "to", "in": "query", "required": True, "schema": {"type": "string", "format": "date"}, "description": YEARS},
                LANG,
                ACCEPT_LANGUAGE,
            ],
            errors=(422,),
        )
        | {"description": AVAILABILITY_DESCRIPTION},
    },
}
