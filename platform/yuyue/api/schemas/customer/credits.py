"""Class packages on sale, and the logged-in customer's credits: the balance, each package's remaining credits and expiry, the history."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import NameConverter
from yuyue.api.schemas.customer.common import ACCEPT_LANGUAGE, LANG, NULLABLE_TIME, PREFIX, TENANT, TIME, operation
from yuyue.types import MAX_INTEGER, bounded_integer

# The longest a package's credits may stay valid, about ten years.
MAX_VALID_DAYS = 3650
REASONS = ["purchase", "booking", "cancel_refund", "late_forfeit", "no_show", "adjust", "expire"]

PACKAGE_PURCHASE = {
    "type": "object",
    "required": ["package"],
    "additionalProperties": False,
    "properties": {"package": {"type": "string", "pattern": NameConverter.schema["pattern"], "description": "the code of a package that costs nothing"}},
}
PACKAGE = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "name": {"description": "in the reader's language (staff: every language)"},
        "credits": bounded_integer(1),
        "price_amount": bounded_integer(description="minor units (fen)"),
        "currency": {"type": "string"},
        "valid_days": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": MAX_VALID_DAYS,
            "description": "days from purchase the credits can be spent; null: no expiry",
        },
        "booking_types": {"type": "array", "items": {"type": "string"}, "description": "slugs the credits pay for; empty: any"},
    },
}
CREDITS = {
    "type": "object",
    "properties": {
        "balance": bounded_integer(description="credits that can be spent now"),
        "packages": {
            "type": "array",
            "description": "what is left of each package bought (and of credits staff added), those expiring first first",
            "items": {
                "type": "object",
                "properties": {
                    "package": {"type": ["string", "null"]},
                    "name": {},
                    "remaining": bounded_integer(1),
                    "bought_at": TIME,
                    "expires_at": NULLABLE_TIME,
                    "expired": {"type": "boolean"},
                },
            },
        },
        "history": {
            "type": "array",
            "description": "the newest ledger lines, newest first (at most 100)",
            "items": {
                "type": "object",
                "properties": {
                    "id": bounded_integer(1),
                    "reason": {"enum": REASONS},
                    "delta": bounded_integer(-MAX_INTEGER, description="0 for late_forfeit and no_show: the booking's credits stay spent"),
                    "package": {"type": ["string", "null"]},
                    "booking": {"type": ["string", "null"]},
                    "expires_at": NULLABLE_TIME,
                    "note": {"type": ["string", "null"]},
                    "created_at": TIME,
                },
            },
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/packages": {
        "parameters": [TENANT],
        "get": operation(
            "Class packages on sale",
            200,
            {"type": "object", "properties": {"packages": {"type": "array", "items": PACKAGE}}},
            parameters=[LANG, ACCEPT_LANGUAGE],
            errors=(422,),
        ),
    },
    f"{PREFIX}/me/credits": {
        "parameters": [TENANT],
        "get": operation("The customer's class credits", 200, CREDITS, auth="customer", parameters=[LANG, ACCEPT_LANGUAGE], errors=(401, 422)),
        "post": operation(
            "Take a package that costs nothing (a priced one is sold at the front desk: package_not_free)",
            201,
            CREDITS,
            auth="customer",
            body=PACKAGE_PURCHASE,
            parameters=[LANG, ACCEPT_LANGUAGE],
            errors=(400, 401, 409, 422),
        ),
    },
}
