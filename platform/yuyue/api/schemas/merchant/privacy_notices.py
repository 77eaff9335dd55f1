"""A booking type's privacy notice as staff set it (every change a new version, the history kept) and the consents customers gave to it."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import SlugConverter, path_parameter
from yuyue.api.schemas.merchant.bookings import BOOKING_CONSENT, PAGE_PARAMETERS
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, localized_text, operation, query_parameter
from yuyue.catalog.privacy_notices import MAX_NOTICE_LENGTH, MAX_VERSIONS_SHOWN
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

PRIVACY_NOTICE_CHANGE = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {"text": {**localized_text(MAX_NOTICE_LENGTH), "description": localized_text(MAX_NOTICE_LENGTH)["description"] + "; stored as given"}},
}
CONSENT_QUERY = ("version", "cursor", "limit")

TIME = {"type": "string", "format": "date-time", "description": "with the tenant's UTC offset"}
NOTICE_VERSION = {
    "type": "object",
    "properties": {
        "version": bounded_integer(1),
        "text": {"type": ["string", "object", "null"], "description": "as written, every language; null on the version that withdrew the notice"},
        "withdrawn": {"type": "boolean"},
        "created_at": TIME,
        "created_by": {"type": "string", "description": "who published it, as the audit log names them (staff:<user id>)"},
    },
}
PRIVACY_NOTICE_SCHEMA = {
    "type": "object",
    "properties": {
        "booking_type": {"type": "string"},
        "current": {**NOTICE_VERSION, "type": ["object", "null"], "description": "the version bookings agree to now; null: no consent asked"},
        "versions": {"type": "array", "items": NOTICE_VERSION, "description": f"the newest {MAX_VERSIONS_SHOWN} versions, newest first"},
        "version_count": bounded_integer(),
    },
}
CONSENT = {
    "type": "object",
    "properties": {
        **BOOKING_CONSENT["properties"],
        "customer": bounded_integer(1, description="the customer's id (…/admin/customers/{customer_id})"),
        "booking": {"type": ["string", "null"], "description": "the booking's id; null while it was given on joining a waitlist not yet booked"},
        "waitlist_entry": bounded_integer(1) | {"type": ["integer", "null"]},
    },
}
CONSENT_PAGE = {
    "type": "object",
    "properties": {"consents": {"type": "array", "items": CONSENT}, "next_cursor": {"type": ["string", "null"]}},
}

_SLUG = path_parameter("slug", SlugConverter, "the booking type's slug")
OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/booking-types/{{slug}}/privacy-notice": {
        "parameters": [TENANT_PARAMETER, _SLUG],
        "get": operation(
            "Show the privacy notice bookings of this type agree to, and its versions", StaffRole.staff, 200, json_content(PRIVACY_NOTICE_SCHEMA), errors=(404,)
        ),
        "put": operation(
            "Publish a privacy notice as its next version (the same text as the current one publishes nothing); bookings must agree to it from now",
            StaffRole.manager,
            200,
            json_content(PRIVACY_NOTICE_SCHEMA),
            body=PRIVACY_NOTICE_CHANGE,
            errors=(400, 404, 422),
        ),
        "delete": operation("Withdraw the notice: bookings agree to nothing from now; the history is kept", StaffRole.manager, 204, {}, errors=(404,)),
    },
    f"{PREFIX}/booking-types/{{slug}}/privacy-notice/consents": {
        "parameters": [TENANT_PARAMETER, _SLUG],
        "get": operation(
            "The consents given to the booking type's privacy notice, newest first, of one version or all",
            StaffRole.staff,
            200,
            json_content(CONSENT_PAGE),
            parameters=[query_parameter("version", "only consents to this version", bounded_integer(1)), *PAGE_PARAMETERS],
            errors=(404, 422),
        ),
    },
}
