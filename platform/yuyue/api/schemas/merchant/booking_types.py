"""A tenant's booking types as staff configure them: created from a vertical, changed, archived."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import SlugConverter, path_parameter
from yuyue.api.schemas.merchant.common import LOCALIZED_TEXT, MAX_DESCRIPTION_LENGTH, PREFIX, TENANT_PARAMETER, json_content, localized_text, operation
from yuyue.catalog import operations as catalog
from yuyue.catalog.models import BookingTypeStatus
from yuyue.catalog.tickets import MAX_AGE, MAX_TICKET_TYPES, TICKET_KEY_PATTERN
from yuyue.provisioning.operations import SLUG_PATTERN
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

TICKET_TYPE = {
    "type": "object",
    "required": ["key", "name", "price_amount"],
    "properties": {
        "key": {"type": "string", "pattern": TICKET_KEY_PATTERN, "description": "what a booking's tickets name it by, e.g. adult"},
        "name": LOCALIZED_TEXT,
        "price_amount": {"type": "integer", "minimum": 0, "maximum": catalog.MAX_INTEGER, "description": "per place, in fen"},
        "proof": {**LOCALIZED_TEXT, "description": "what the visitor shows at entry, e.g. 学生证 (optional)"},
        "min_age": {"type": "integer", "minimum": 0, "maximum": MAX_AGE, "description": "whole years on the visit date (optional)"},
        "max_age": {"type": "integer", "minimum": 0, "maximum": MAX_AGE, "description": "whole years on the visit date (optional)"},
    },
}

# Shapes only: the operations check rules, policies, forms and localized text
# against the shared schemas and point at the exact field that is wrong.
BOOKING_TYPE_SETTINGS: dict[str, Any] = {
    "name": LOCALIZED_TEXT,
    "description": localized_text(MAX_DESCRIPTION_LENGTH, nullable=True),
    "availability_rules": {"type": "array", "items": {"type": "object"}, "description": "slot rules, see the slot-rules schemas"},
    "policies": {"type": "object", "description": "see the policies schema"},
    "resource_requirements": {"type": "array", "items": {"type": "object"}},
    "price_amount": {"type": "integer", "minimum": 0, "maximum": catalog.MAX_INTEGER, "description": "in fen, per place when there are no ticket types"},
    "ticket_types": {
        "type": "array",
        "maxItems": MAX_TICKET_TYPES,
        "items": TICKET_TYPE,
        "description": "the kinds of place sold, each with its price (keys unique, min_age not above max_age); a booking asks for tickets by key",
    },
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "hold_minutes": {"type": "integer", "minimum": 0, "maximum": catalog.MAX_HOLD_MINUTES},
    "max_party_size": {"type": "integer", "minimum": 1, "maximum": 1000},
    "form": {"type": "object", "description": "the booking form in the form dialect; a new one publishes the next form version"},
    "ui": {"type": "object", "description": "the form's UI schema"},
}
BOOKING_TYPE_CREATE = {
    "type": "object",
    "required": ["vertical", "slug", "name"],
    "additionalProperties": False,
    "properties": {
        "vertical": {"type": "string", "minLength": 1, "maxLength": 40},
        "slug": {"type": "string", "pattern": SLUG_PATTERN.pattern},
        **BOOKING_TYPE_SETTINGS,
    },
}
BOOKING_TYPE_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {**BOOKING_TYPE_SETTINGS, "status": {"enum": [s.value for s in BookingTypeStatus]}},
}

BOOKING_TYPE_SCHEMA = {
    "type": "object",
    "properties": {
        "slug": {"type": "string"},
        "vertical": {"type": "string"},
        **{key: value for key, value in BOOKING_TYPE_SETTINGS.items() if key not in ("form", "ui")},
        "status": {"enum": [s.value for s in BookingTypeStatus]},
        "form_version": bounded_integer(1),
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time"},
        "form": {
            "type": "object",
            "description": "the current form version (single booking type only)",
            "properties": {"version": bounded_integer(1), "definition": {"type": "object"}, "ui": {"type": "object"}},
        },
    },
}

FORM_DRAFT_CHANGE = {
    "type": "object",
    "required": ["form", "ui"],
    "additionalProperties": False,
    "properties": {
        "form": {"type": "object", "description": "the booking form in the form dialect, complete or not: a draft is checked when it is published"},
        "ui": {"type": "object", "description": "the form's UI schema"},
    },
}
FORM_DRAFT_SCHEMA = {
    "type": "object",
    "properties": {
        "based_on": bounded_integer(0, description="the form version the draft started from"),
        "form": {"type": "object"},
        "ui": {"type": "object"},
        "updated_at": {"type": "string", "format": "date-time"},
        "problems": {
            "type": "array",
            "description": "what publishing the draft would refuse, pointers under /form and /ui",
            "items": {"type": "object", "properties": {"pointer": {"type": "string"}, "message": {"type": "string"}, "code": {"type": "string"}}},
        },
    },
}
PUBLISHED_SCHEMA = {
    "type": "object",
    "properties": {
        "published": {"type": "boolean", "description": "false when the draft equalled the current version, so nothing was published"},
        "booking_type": BOOKING_TYPE_SCHEMA,
    },
}
_SLUG = path_parameter("slug", SlugConverter, "the booking type's slug")

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/booking-types": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "List booking types, drafts and archived included",
            StaffRole.staff,
            200,
            json_content({"type": "object", "properties": {"booking_types": {"type": "array", "items": BOOKING_TYPE_SCHEMA}}}),
        ),
        "post": operation(
            "Create a booking type from a vertical; settings left out come from the vertical",
            StaffRole.manager,
            201,
            json_content(BOOKING_TYPE_SCHEMA),
            body=BOOKING_TYPE_CREATE,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}": {
        "parameters": [TENANT_PARAMETER, path_parameter("slug", SlugConverter, "the booking type's slug")],
        "get": operation("Show a booking type with its current form", StaffRole.staff, 200, json_content(BOOKING_TYPE_SCHEMA), errors=(404,)),
        "patch": operation(
            "Change a booking type; a new form or UI schema publishes the next form version",
            StaffRole.manager,
            200,
            json_content(BOOKING_TYPE_SCHEMA),
            body=BOOKING_TYPE_CHANGE,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}/form-draft": {
        "parameters": [TENANT_PARAMETER, _SLUG],
        "get": operation(
            "Show the draft of the booking type's next form version, with what publishing it would refuse",
            StaffRole.staff,
            200,
            json_content(FORM_DRAFT_SCHEMA),
            errors=(404,),
        ),
        "put": operation(
            "Keep a draft of the next form version (customers never see it); valid or not",
            StaffRole.manager,
            200,
            json_content(FORM_DRAFT_SCHEMA),
            body=FORM_DRAFT_CHANGE,
            errors=(400, 404, 422),
        ),
        "delete": operation("Discard the draft", StaffRole.manager, 204, {}, errors=(404,)),
    },
    f"{PREFIX}/booking-types/{{slug}}/form-draft/publish": {
        "parameters": [TENANT_PARAMETER, _SLUG],
        "post": operation(
            "Publish the draft as the next form version (nothing when it equals the current one) and drop it",
            StaffRole.manager,
            200,
            json_content(PUBLISHED_SCHEMA),
            errors=(404, 409, 422),
        ),
    },
}
