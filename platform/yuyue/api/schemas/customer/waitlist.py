"""The waitlist: queueing for a full slot, accepting the place it offers, leaving it."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import RowIdConverter, path_parameter
from yuyue.api.schemas.customer.bookings import BOOKING, BOOKING_REQUEST_FIELDS
from yuyue.api.schemas.customer.common import NULLABLE_TIME, PREFIX, TENANT, TIME, operation
from yuyue.types import bounded_integer

WAITLIST_JOIN = {
    "type": "object",
    "required": ["booking_type", "starts_at", "answers"],
    "additionalProperties": False,
    "properties": {
        **BOOKING_REQUEST_FIELDS,
        "auto_confirm": {"type": "boolean", "default": False, "description": "book at once when a place frees, instead of being offered it"},
    },
}
WAITLIST_ENTRY = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "booking_type": {"type": "string"},
        "starts_at": TIME,
        "channel": {"type": "string"},
        "party_size": bounded_integer(),
        "auto_confirm": {"type": "boolean"},
        "status": {"enum": ["waiting", "offered", "accepted", "expired", "cancelled"]},
        "offer_expires_at": NULLABLE_TIME,
        "booking": {"type": ["string", "null"], "description": "the booking's id once accepted"},
        "created_at": TIME,
    },
}

ENTRY_ID = path_parameter("entry_id", RowIdConverter, "the waitlist entry's id")

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/waitlist": {
        "parameters": [TENANT],
        "post": operation("Queue for a full slot", 201, WAITLIST_ENTRY, auth="customer", body=WAITLIST_JOIN, errors=(400, 401, 409, 422)),
    },
    f"{PREFIX}/waitlist/{{entry_id}}/accept": {
        "parameters": [TENANT, ENTRY_ID],
        "post": operation("Accept a waitlist offer: book the place it holds", 201, BOOKING, auth="customer", errors=(401, 409)),
    },
    f"{PREFIX}/waitlist/{{entry_id}}": {
        "parameters": [TENANT, ENTRY_ID],
        "delete": operation("Leave the waitlist; an offered place goes to the next in line", 200, WAITLIST_ENTRY, auth="customer", errors=(401, 409)),
    },
}
