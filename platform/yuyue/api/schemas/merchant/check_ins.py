"""Checking a booking in at the gate, by its voucher code or the payload of its QR code."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.merchant.bookings import BOOKING_SCHEMA
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, operation, query_parameter
from yuyue.tenancy.models import StaffRole

CHECK_IN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "code": {"type": "string", "minLength": 1, "maxLength": 40, "description": "the voucher code as typed; case, spaces and dashes do not matter"},
        "qr": {"type": "string", "minLength": 1, "maxLength": 1000, "description": "the payload of the booking's QR code"},
        "place": {"type": "string", "maxLength": 100},
    },
}

CHECK_IN_LOG = {
    "type": "object",
    "properties": {
        "day": {"type": "string", "format": "date"},
        "attempts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "at": {"type": "string", "format": "date-time"},
                    "outcome": {"enum": ["accepted", "refused"]},
                    "reason": {"type": ["string", "null"], "description": "why it was refused: already_checked_in, wrong_tenant, voucher_not_found, …"},
                    "method": {"enum": ["code", "qr"]},
                    "code": {"type": ["string", "null"], "description": "only the last four characters"},
                    "booking": {"type": ["string", "null"]},
                    "staff": {"type": ["string", "null"], "description": "the staff member's login name"},
                    "place": {"type": ["string", "null"]},
                },
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/check-ins": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "The day's check-in attempts, admitted and refused, newest first",
            StaffRole.staff,
            200,
            json_content(CHECK_IN_LOG),
            parameters=[query_parameter("day", "a date in the tenant's zone (default: today)", {"type": "string", "format": "date"})],
            errors=(422,),
        ),
        "post": operation(
            "Check a booking in by voucher code or QR payload; a repeated scan answers with the first check-in",
            StaffRole.staff,
            200,
            json_content({"type": "object", "properties": {"already_checked_in": {"type": "boolean"}, "booking": BOOKING_SCHEMA}}),
            body=CHECK_IN,
            errors=(400, 404, 409, 422),
        ),
    },
}
