"""The logged-in customer's account: their profile, points ledger, the bans on them, and the download of their data."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.customer.common import PREFIX, TENANT, TIME, operation
from yuyue.api.schemas.customer.me import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from yuyue.api.schemas.customer.reviews import FEEDBACK_ITEM
from yuyue.types import MAX_INTEGER, bounded_integer

PROFILE_CHANGE = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100, "description": "the name the customer goes by, stored as given"}},
}
PROFILE = {
    "type": "object",
    "properties": {
        "name": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"], "description": "the number the customer logs in with; not changed here"},
        "wechat_linked": {"type": "boolean", "description": "whether a WeChat mini-program account logs in as this customer"},
        "created_at": TIME,
    },
}
POINTS_ENTRY = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "delta": bounded_integer(-MAX_INTEGER),
        "reason": {"type": "string", "description": "late_cancellation, no_show, adjust, …"},
        "booking": {"type": ["string", "null"], "description": "the booking the line is about"},
        "created_at": TIME,
    },
}
POINTS = {
    "type": "object",
    "properties": {
        "balance": bounded_integer(-MAX_INTEGER, description="the sum of the ledger; below zero is a debt"),
        "entries": {"type": "array", "items": POINTS_ENTRY, "description": "newest first"},
        "next_cursor": {"type": ["string", "null"]},
    },
}
BAN = {
    "type": "object",
    "properties": {
        "subject_kind": {"enum": ["customer", "phone", "id_number"]},
        "subject": {"type": ["string", "null"], "description": "the phone or ID number banned; null for the account itself"},
        "reason": {"type": "string"},
        "starts_at": TIME,
        "ends_at": TIME,
        "in_force": {"type": "boolean", "description": "false for a ban that starts later"},
    },
}
BANS = {"type": "object", "properties": {"bans": {"type": "array", "items": BAN, "description": "earliest first"}}}
PERSONAL_DATA = {
    "type": "object",
    "description": "everything the tenant holds about the customer, sent as an attachment; see docs/customers.md for each key",
    "required": ["format_version", "generated_at", "profile", "login_identities", "bookings", "companions", "points", "credits"],
    "properties": {
        "format_version": {"const": 1},
        "generated_at": TIME,
        "tenant": {"type": "object"},
        "profile": PROFILE,
        "login_identities": {
            "type": "array",
            "items": {"type": "object", "properties": {"kind": {"enum": ["phone", "wechat_openid"]}, "value": {"type": ["string", "null"]}}},
        },
        "bookings": {"type": "array", "items": {"type": "object"}, "description": "with their answers, people, payments, refunds and check-ins"},
        "waitlist": {"type": "array", "items": {"type": "object"}},
        "companions": {"type": "array", "items": {"type": "object"}},
        "points": {"type": "object", "properties": {"balance": bounded_integer(-MAX_INTEGER), "entries": {"type": "array", "items": POINTS_ENTRY}}},
        "credits": {"type": "object", "properties": {"packages": {"type": "array"}, "entries": {"type": "array"}}},
        "notification_preferences": {"type": ["object", "null"]},
        "bans": {"type": "array", "items": BAN},
        "privacy_consents": {
            "type": "array",
            "items": {"type": "object"},
            "description": "every consent to a booking type's privacy notice: booking type, version, booking, channel (api or site), when",
        },
        "notifications": {
            "type": "array",
            "items": {"type": "object"},
            "description": "every notification planned for the customer: channel, topic, recipient as shown to staff, status, attempts, when",
        },
        "audit": {
            "type": "array",
            "items": {"type": "object"},
            "description": "the audit log's records about the customer, their bookings, payments, waitlist entries and companions: "
            "action, when, the kind of actor, and the data as the log keeps it (phones and ID numbers masked)",
        },
        "reviews": {"type": "array", "items": FEEDBACK_ITEM, "description": "every review and feedback the customer wrote, with the merchant's replies"},
    },
}
PAGE = [
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "next_cursor of the previous page"},
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}},
]

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/me/profile": {
        "parameters": [TENANT],
        "get": operation("The customer's profile", 200, PROFILE, auth="customer", errors=(401,)),
        "put": operation("Change the name the customer goes by", 200, PROFILE, auth="customer", body=PROFILE_CHANGE, errors=(400, 401, 413, 415, 422)),
    },
    f"{PREFIX}/me/points": {
        "parameters": [TENANT],
        "get": operation("The customer's points balance and ledger, newest first, in pages", 200, POINTS, auth="customer", parameters=PAGE, errors=(401, 422)),
    },
    f"{PREFIX}/me/bans": {
        "parameters": [TENANT],
        "get": operation(
            "The bans on the customer, their phone or their ID numbers that are in force or start later", 200, BANS, auth="customer", errors=(401,)
        ),
    },
    f"{PREFIX}/me/data": {
        "parameters": [TENANT],
        "get": operation(
            "Download everything the merchant holds about the customer (JSON, as an attachment yuyue-data-<tenant>-<date>.json)",
            200,
            PERSONAL_DATA,
            auth="customer",
            errors=(401,),
        ),
    },
}
