"""A tenant's customers as staff know them: searched and exported, one customer's page, points, bans, tags and a note."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import MAX_ROW_ID, RowIdConverter, path_parameter
from yuyue.api.schemas.customer.credits import CREDITS
from yuyue.api.schemas.merchant.bookings import BOOKING_CONSENT, PAGE_PARAMETERS
from yuyue.api.schemas.merchant.common import NULLABLE_TEXT, PREFIX, TENANT_PARAMETER, json_content, operation, query_parameter
from yuyue.api.schemas.merchant.feedback import FEEDBACK
from yuyue.bookings.customer_records import CUSTOMER_FILTER_NAMES, MAX_NOTE_LENGTH, MAX_POINTS_DELTA, MAX_TAG_LENGTH, MAX_TAGS, TAG_PATTERN
from yuyue.bookings.models import BookingStatus
from yuyue.bookings.queries import MAX_TEXT
from yuyue.customers.models import Ban, BanSubject, PointsEntry
from yuyue.customers.operations import MAX_BAN_DAYS
from yuyue.exports.operations import CSV_MIMETYPE, XLSX_MIMETYPE
from yuyue.merging.operations import MERGE_REASON_LENGTH
from yuyue.tenancy.models import StaffRole
from yuyue.types import MAX_INTEGER, bounded_integer

MASKED = "in full for owners and managers; masked for other staff roles"
REASON = {"type": "string", "minLength": 1, "description": "why, for the audit log"}
TAG = {"type": "string", "minLength": 1, "maxLength": MAX_TAG_LENGTH, "pattern": TAG_PATTERN}
TAGS = {"type": "array", "maxItems": MAX_TAGS, "items": TAG, "description": f"at most {MAX_TAGS}, each once; no quotes or backslashes"}

POINTS_ADJUSTMENT = {
    "type": "object",
    "required": ["delta", "reason"],
    "additionalProperties": False,
    "properties": {
        "delta": {**bounded_integer(-MAX_POINTS_DELTA, MAX_POINTS_DELTA), "not": {"const": 0}, "description": "points added (> 0) or taken (< 0)"},
        "reason": {**REASON, "maxLength": PointsEntry.__table__.c.reason.type.length},
    },
}
BAN_REASON = {**REASON, "maxLength": Ban.__table__.c.reason.type.length}
BAN_CREATE = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "oneOf": [{"required": ["until"]}, {"required": ["days"]}],
    "properties": {
        "until": {"type": "string", "format": "date-time", "maxLength": 64, "description": "when the ban ends, with a UTC offset"},
        "days": {**bounded_integer(1, MAX_BAN_DAYS), "description": "or how many days from now it lasts"},
        "reason": BAN_REASON,
    },
}
BAN_LIFT = {"type": "object", "required": ["reason"], "additionalProperties": False, "properties": {"reason": BAN_REASON}}
CUSTOMER_MERGE = {
    "type": "object",
    "required": ["from", "reason"],
    "additionalProperties": False,
    "properties": {
        "from": {**bounded_integer(1, MAX_ROW_ID), "description": "the other record of the same person; it moves to this one and is deleted"},
        "reason": {**REASON, "maxLength": MERGE_REASON_LENGTH},
    },
}
CUSTOMER_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "tags": {**TAGS, "description": "replaces the tags; " + TAGS["description"]},
        "note": {"type": ["string", "null"], "maxLength": MAX_NOTE_LENGTH, "description": "replaces the note; null or empty: none"},
    },
}

# The query parameters a search takes, and those an export takes.
CUSTOMER_QUERY = (*CUSTOMER_FILTER_NAMES, "cursor", "limit")
EXPORT_FORMATS = ("xlsx", "csv")
CUSTOMER_EXPORT_QUERY = (*CUSTOMER_FILTER_NAMES, "format")
FILTER_PARAMETERS = [
    query_parameter(
        "q",
        "part of a name; digits of a phone (masked roles: the whole number or its last four); or a whole ID number, "
        "of a companion or of someone on the customer's bookings",
        {"type": "string", "maxLength": MAX_TEXT},
    ),
    query_parameter("tag", "one of the merchant's tags, exactly", {"type": "string", "maxLength": MAX_TEXT}),
]

TIME = {"type": "string", "format": "date-time", "description": "with the tenant's UTC offset"}
PROFILE = {
    "id": bounded_integer(1),
    "name": NULLABLE_TEXT,
    "phone": {"type": ["string", "null"], "description": MASKED},
    "tags": {"type": "array", "items": {"type": "string"}},
    "created_at": TIME,
}
CUSTOMER_ROW = {
    "type": "object",
    "properties": {
        **PROFILE,
        "bookings": bounded_integer(description="bookings made, whatever became of them"),
        "points": bounded_integer(-MAX_INTEGER, description="the points balance"),
        "banned": {"type": "boolean", "description": "a ban on the customer, their phone or an ID number of theirs holds now"},
    },
}
BOOKING_LINE = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "booking_type": {"type": "string"},
        "status": {"enum": [s.value for s in BookingStatus]},
        "starts_at": TIME,
        "party_size": bounded_integer(),
        "price_amount": bounded_integer(),
        "currency": {"type": "string"},
        "counts_as_no_show": {"type": "boolean"},
    },
}
CUSTOMER = {
    "type": "object",
    "properties": {
        **PROFILE,
        "note": NULLABLE_TEXT,
        "points": {
            "type": "object",
            "properties": {
                "balance": bounded_integer(-MAX_INTEGER),
                "history": {
                    "type": "array",
                    "description": "the newest 100 ledger lines, newest first",
                    "items": {
                        "type": "object",
                        "properties": {
                            "id": bounded_integer(1),
                            "delta": bounded_integer(-MAX_INTEGER),
                            "reason": {"type": "string"},
                            "booking": {**NULLABLE_TEXT, "description": "the booking a penalty was for"},
                            "created_at": TIME,
                        },
                    },
                },
            },
        },
        "no_shows": {
            "type": "object",
            "properties": {
                "count": bounded_integer(description="no-shows and late cancellations that count as one"),
                "bookings": {"type": "array", "items": BOOKING_LINE, "description": "the newest 50"},
            },
        },
        "bans": {
            "type": "array",
            "description": "active and past bans on the customer, their phone and the ID numbers of their companions and booked people; latest end first",
            "items": {
                "type": "object",
                "properties": {
                    "id": bounded_integer(1),
                    "subject_kind": {"enum": [s.value for s in BanSubject]},
                    "subject": {"type": "string", "description": "the customer's id, or a phone or ID number " + MASKED},
                    "starts_at": TIME,
                    "ends_at": TIME,
                    "active": {"type": "boolean"},
                    "reason": {"type": "string"},
                },
            },
        },
        "companions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": bounded_integer(1),
                    "name": {"type": "string"},
                    "id_number": {"type": ["string", "null"], "description": MASKED},
                    "phone": {"type": ["string", "null"], "description": MASKED},
                    "birth_date": {"type": ["string", "null"], "format": "date", "description": "null for masked roles"},
                    "relation": NULLABLE_TEXT,
                },
            },
        },
        "bookings": {
            "type": "object",
            "properties": {"count": bounded_integer(), "recent": {"type": "array", "items": BOOKING_LINE, "description": "the newest 50, by slot"}},
        },
        "credits": {**CREDITS, "description": "class credits, as GET …/customers/{customer_id}/credits shows them"},
        "privacy_consents": {
            "type": "array",
            "description": "the newest 50 consents to booking types' privacy notices, newest first",
            "items": {
                "type": "object",
                "properties": {
                    **BOOKING_CONSENT["properties"],
                    "booking_type": {"type": "string"},
                    "booking": NULLABLE_TEXT | {"description": "the booking's id; null while given on a waitlist entry not yet booked"},
                    "waitlist_entry": bounded_integer(1) | {"type": ["integer", "null"]},
                },
            },
        },
        "reviews": {"type": "array", "items": FEEDBACK, "description": "the newest 50 reviews and feedback the customer wrote, as the inbox shows them"},
    },
}
CUSTOMER_PARAMETER = path_parameter("customer_id", RowIdConverter, "the customer's id")
BAN_PARAMETER = path_parameter("ban_id", RowIdConverter, "the ban's id, one of the customer's bans")
CUSTOMER_CONTENT = json_content(CUSTOMER)
ACTION_ERRORS = (400, 404, 422)

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/customers": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "Search customers by name, phone, ID number or tag; pages newest customer first",
            StaffRole.staff,
            200,
            json_content({"type": "object", "properties": {"customers": {"type": "array", "items": CUSTOMER_ROW}, "next_cursor": NULLABLE_TEXT}}),
            parameters=FILTER_PARAMETERS + PAGE_PARAMETERS,
            errors=(422,),
        ),
    },
    f"{PREFIX}/customers/export": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "Every customer a search finds, as xlsx (default) or UTF-8 csv, masked as in the list",
            StaffRole.staff,
            200,
            {"content": {mimetype: {"schema": {"type": "string", "format": "binary"}} for mimetype in (XLSX_MIMETYPE, CSV_MIMETYPE)}},
            parameters=[*FILTER_PARAMETERS, query_parameter("format", "the file's format", {"enum": list(EXPORT_FORMATS), "default": "xlsx"})],
            errors=(422,),
        ),
    },
    f"{PREFIX}/customers/{{customer_id}}": {
        "parameters": [TENANT_PARAMETER, CUSTOMER_PARAMETER],
        "get": operation(
            "A customer's page: profile, tags and note, points, no-shows, bans, companions, bookings and credits",
            StaffRole.staff,
            200,
            CUSTOMER_CONTENT,
            errors=(404,),
        ),
        "patch": operation("Replace the customer's tags and/or note", StaffRole.manager, 200, CUSTOMER_CONTENT, body=CUSTOMER_CHANGE, errors=ACTION_ERRORS),
    },
    f"{PREFIX}/customers/{{customer_id}}/points": {
        "parameters": [TENANT_PARAMETER, CUSTOMER_PARAMETER],
        "post": operation(
            "Add or take away points with the reason; answers the customer's page",
            StaffRole.manager,
            201,
            CUSTOMER_CONTENT,
            body=POINTS_ADJUSTMENT,
            errors=ACTION_ERRORS,
        ),
    },
    f"{PREFIX}/customers/{{customer_id}}/bans": {
        "parameters": [TENANT_PARAMETER, CUSTOMER_PARAMETER],
        "post": operation(
            "Ban the customer from booking until a moment or for a number of days, with the reason; answers the customer's page",
            StaffRole.manager,
            201,
            CUSTOMER_CONTENT,
            body=BAN_CREATE,
            errors=ACTION_ERRORS,
        ),
    },
    f"{PREFIX}/customers/{{customer_id}}/bans/{{ban_id}}/lift": {
        "parameters": [TENANT_PARAMETER, CUSTOMER_PARAMETER, BAN_PARAMETER],
        "post": operation(
            "End one of the customer's bans now, with the reason (ban_not_in_force: it has ended); answers the customer's page",
            StaffRole.manager,
            200,
            CUSTOMER_CONTENT,
            body=BAN_LIFT,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/customers/{{customer_id}}/merge": {
        "parameters": [TENANT_PARAMETER, CUSTOMER_PARAMETER],
        "post": operation(
            "Merge another record of the same person into this customer (bookings, companions, points, credits, bans, login "
            "identity, tags and note move; the other record is deleted), with the reason; answers this customer's page",
            StaffRole.manager,
            200,
            CUSTOMER_CONTENT,
            body=CUSTOMER_MERGE,
            errors=(400, 404, 409, 422),
        ),
    },
}
