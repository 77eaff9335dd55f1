"""Checking a booking in at the gate, by its voucher code or the payload of its QR code."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.merchant.bookings import BOOKING_SCHEMA
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, operation
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

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/check-ins": {
        "parameters": [TENANT_PARAMETER],
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
