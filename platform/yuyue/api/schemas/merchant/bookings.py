"""A tenant's bookings as staff work them: searched and filtered, read with their answers, confirmed, cancelled, marked no-show; a group's name list."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import SlugConverter, TokenConverter, path_parameter
from yuyue.api.schemas import PRICE_LINES, PROOFS, TICKETS
from yuyue.api.schemas.merchant.common import NULLABLE_TEXT, PREFIX, TENANT_PARAMETER, json_content, operation, query_parameter
from yuyue.api.schemas.name_lists import UPLOAD, name_list_schema
from yuyue.bookings.models import BookingStatus, ConsentChannel
from yuyue.bookings.queries import DEFAULT_PAGE_SIZE, FILTER_NAMES, MAX_PAGE_SIZE
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

BOOKING_CANCEL = {"type": "object", "additionalProperties": False, "properties": {"reason": {"type": "string", "maxLength": 200}}}
BOOKING_RESCHEDULE = {
    "type": "object",
    "required": ["starts_at"],
    "additionalProperties": False,
    "properties": {"starts_at": {"type": "string", "format": "date-time", "maxLength": 64, "description": "the new slot's start, with its UTC offset"}},
}
BOOKING_REFUND = {
    "type": "object",
    "required": ["amount"],
    "additionalProperties": False,
    "properties": {
        "amount": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "description": "minor units (fen); at most what was paid and not yet refunded"},
        "note": {"type": "string", "maxLength": 200, "description": "why, for the audit log"},
    },
}

# The query parameters a search takes, and those an export takes (everything but paging).
BOOKING_QUERY = (*FILTER_NAMES, "cursor", "limit")
FILTER_PARAMETERS = [
    query_parameter("from", "first slot date, in the tenant's time zone (inclusive)", {"type": "string", "format": "date"}),
    query_parameter("to", "last slot date, in the tenant's time zone (inclusive)", {"type": "string", "format": "date"}),
    query_parameter("status", "one status or several separated by commas", {"type": "string"}),
    query_parameter("booking_type", "a booking type's slug", {"type": "string"}),
    query_parameter("q", "part of a customer's or listed person's phone or name, or a voucher code", {"type": "string", "maxLength": 100}),
    query_parameter("channel", "a sales channel (default, group, …)", {"type": "string", "maxLength": 100}),
    query_parameter("resource", "a resource's code: the bookings it serves (held by the booking or by its slot)", {"type": "string", "maxLength": 100}),
]
PAGE_PARAMETERS = [
    query_parameter("cursor", "next_cursor of the previous page", {"type": "string"}),
    query_parameter("limit", "page size", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}),
]

BOOKING_CONSENT = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "version": bounded_integer(1, description="the privacy notice version agreed to"),
        "channel": {"enum": [c.value for c in ConsentChannel], "description": "where it was given: the API or the site"},
        "given_at": {"type": "string", "format": "date-time", "description": "with the tenant's UTC offset"},
    },
}
BOOKING_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "booking_type": {"type": "string"},
        "status": {"enum": [s.value for s in BookingStatus]},
        "starts_at": {"type": "string", "format": "date-time", "description": "with the tenant's UTC offset"},
        "ends_at": {"type": "string", "format": "date-time"},
        "local_date": {"type": "string", "format": "date"},
        "time_zone": {"type": "string"},
        "channel": {"type": "string"},
        "party_size": bounded_integer(),
        "tickets": TICKETS,
        "price_lines": PRICE_LINES,
        "price_amount": bounded_integer(description="the total of price_lines, in minor units (fen)"),
        "currency": {"type": "string"},
        "proofs": PROOFS,
        "voucher_code": NULLABLE_TEXT,
        "hold_expires_at": {"type": ["string", "null"], "format": "date-time"},
        "cancel_reason": NULLABLE_TEXT,
        "created_at": {"type": "string", "format": "date-time"},
        "customer": {
            "type": "object",
            "properties": {
                "id": bounded_integer(1, description="for /admin/customers/{customer_id}/credits"),
                "phone": {"type": "string"},
                "name": NULLABLE_TEXT,
            },
        },
        "people": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "name": NULLABLE_TEXT,
                    "phone": NULLABLE_TEXT,
                    "id_number": {"type": ["string", "null"], "description": "masked: only the last four characters"},
                    "is_minor": {"type": "boolean"},
                },
            },
        },
        "check_in": {
            "type": ["object", "null"],
            "properties": {"at": {"type": "string", "format": "date-time"}, "place": NULLABLE_TEXT, "method": {"enum": ["code", "qr"]}},
        },
        "form_version": bounded_integer(1, description="single booking only"),
        "answers": {"type": "object", "description": "the booking form's answers (single booking only)"},
        "privacy_consents": {
            "type": "array",
            "items": BOOKING_CONSENT,
            "description": "the customer's consents to the booking type's privacy notice given for this booking (none when it had no notice)",
        },
    },
}
BOOKING_ID = path_parameter("public_id", TokenConverter, "the booking's id")
TERMS_SCHEMA = {
    "type": "object",
    "properties": {
        "terms": {"type": "string"},
        "late": {"type": "boolean"},
        "points_deducted": bounded_integer(),
        "fee_percent": bounded_integer(0, 100),
        "counts_as_no_show": {"type": "boolean"},
    },
}
CANCELLATION_QUOTE = {
    "type": "object",
    "properties": {
        "booking": {"type": "string"},
        "terms": {**TERMS_SCHEMA, "description": "what a staff cancellation applies: never a penalty"},
        "customer_terms": {**TERMS_SCHEMA, "description": "what the customer would face cancelling now (allowed: whether they still may)"},
        "paid": bounded_integer(description="minor units paid"),
        "refund": bounded_integer(description="minor units a cancellation now would refund"),
        "currency": {"type": "string"},
    },
}
WAITLIST = {
    "type": "object",
    "properties": {
        "booking_type": {"type": "string"},
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": bounded_integer(1),
                    "position": {
                        **bounded_integer(1),
                        "type": ["integer", "null"],
                        "description": "1 is offered the next free place; null once the entry left the queue",
                    },
                    "status": {"enum": ["waiting", "offered", "accepted", "expired", "cancelled"]},
                    "channel": {"type": "string"},
                    "party_size": bounded_integer(1),
                    "starts_at": {"type": "string", "format": "date-time"},
                    "offer_expires_at": {"type": ["string", "null"], "format": "date-time"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "customer": {"type": "object", "properties": {"id": bounded_integer(1), "phone": {"type": "string"}, "name": NULLABLE_TEXT}},
                },
            },
        },
    },
}
REFUNDS = {
    "type": "object",
    "properties": {
        "refunds": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "reference": {"type": "string"},
                    "amount": bounded_integer(),
                    "status": {"enum": ["requested", "pending", "succeeded", "failed"]},
                    "reason": {"type": "string"},
                },
            },
        }
    },
}
NAME_LIST = name_list_schema("masked: only the last four characters", "in full")


def _action(summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "parameters": [TENANT_PARAMETER, BOOKING_ID],
        "post": operation(
            summary, StaffRole.staff, 200, json_content(BOOKING_SCHEMA), body=body, body_required=False, errors=(400, 404, 409, 422) if body else (404, 409)
        ),
    }


OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/bookings": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "Search bookings by slot date, status, booking type and text; pages ordered by slot start",
            StaffRole.staff,
            200,
            json_content(
                {
                    "type": "object",
                    "properties": {"bookings": {"type": "array", "items": BOOKING_SCHEMA}, "next_cursor": NULLABLE_TEXT},
                }
            ),
            parameters=FILTER_PARAMETERS + PAGE_PARAMETERS,
            errors=(422,),
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}": {
        "parameters": [TENANT_PARAMETER, BOOKING_ID],
        "get": operation("Show a booking with its form answers", StaffRole.staff, 200, json_content(BOOKING_SCHEMA), errors=(404,)),
    },
    f"{PREFIX}/bookings/{{public_id}}/confirm": _action("Confirm a held booking (paid on site)"),
    f"{PREFIX}/bookings/{{public_id}}/cancel": _action("Cancel a booking without a late-cancellation penalty", BOOKING_CANCEL),
    f"{PREFIX}/bookings/{{public_id}}/no-show": _action("Mark a booking whose slot has started as a no-show"),
    f"{PREFIX}/bookings/{{public_id}}/reschedule": _action(
        "Move a held or confirmed booking to another slot of its booking type, judged as the customer's move is (slot_full, resource_conflict, …)",
        BOOKING_RESCHEDULE,
    ),
    f"{PREFIX}/bookings/{{public_id}}/offline-payment": _action(
        "Record that the booking's price was paid at the counter (offline provider); a held booking is confirmed"
    ),
    f"{PREFIX}/bookings/{{public_id}}/cancellation": {
        "parameters": [TENANT_PARAMETER, BOOKING_ID],
        "get": operation(
            "What cancelling the booking now would mean, before cancelling: the terms, the customer's own terms and the refund",
            StaffRole.staff,
            200,
            json_content(CANCELLATION_QUOTE),
            errors=(404, 409),
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}/refund": {
        "parameters": [TENANT_PARAMETER, BOOKING_ID],
        "post": operation(
            "Give back part or all of what was paid for a booking (the booking's status is unchanged); sent to the provider at once",
            StaffRole.manager,
            200,
            json_content(REFUNDS),
            body=BOOKING_REFUND,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}/waitlist": {
        "parameters": [TENANT_PARAMETER, path_parameter("slug", SlugConverter, "the booking type's slug")],
        "get": operation(
            "The waitlist of one slot, in the order places are offered, with each waiting entry's position in its channel's queue",
            StaffRole.staff,
            200,
            json_content(WAITLIST),
            parameters=[{**query_parameter("start", "the slot's start, with its UTC offset", {"type": "string", "format": "date-time"}), "required": True}],
            errors=(404, 422),
        ),
    },
    f"{PREFIX}/bookings/{{public_id}}/name-list": {
        "parameters": [TENANT_PARAMETER, BOOKING_ID],
        "get": operation("A group booking's name list", StaffRole.staff, 200, json_content(NAME_LIST), errors=(404,)),
        "put": {
            **operation(
                "Upload a group booking's name list (团队名单), in place of the one before; 409 and 422 codes as in the customer API",
                StaffRole.staff,
                200,
                json_content(NAME_LIST),
                errors=(404, 409, 413, 415, 422),
            ),
            "requestBody": UPLOAD,
        },
    },
}
