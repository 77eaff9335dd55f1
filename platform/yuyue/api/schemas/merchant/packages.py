"""Class packages a merchant sells, selling one at the front desk, and a customer's credits with staff adjustments."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import NameConverter, RowIdConverter, SlugConverter, path_parameter
from yuyue.api.schemas.customer.credits import CREDITS, MAX_VALID_DAYS, PACKAGE
from yuyue.api.schemas.merchant.common import LOCALIZED_TEXT, PREFIX, TENANT_PARAMETER, json_content, operation
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

MAX_CREDITS = 10_000
CODE = {"type": "string", "pattern": NameConverter.schema["pattern"], "maxLength": 60}
NOTE = {"type": "string", "minLength": 1, "maxLength": 200}

PACKAGE_SETTINGS = {
    "name": LOCALIZED_TEXT,
    "credits": bounded_integer(1, MAX_CREDITS),
    "price_amount": bounded_integer(description="minor units (fen); 0: customers take it themselves"),
    "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "valid_days": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_VALID_DAYS, "description": "null: the credits never expire"},
    "active": {"type": "boolean", "description": "on sale"},
    "booking_types": {
        "type": "array",
        "items": {"type": "string", "pattern": SlugConverter.schema["pattern"], "maxLength": 40},
        "maxItems": 50,
        "description": "slugs of the booking types its credits pay for; empty: any",
    },
}
PACKAGE_CREATE = {
    "type": "object",
    "required": ["code", "name", "credits"],
    "additionalProperties": False,
    "properties": {"code": CODE, **PACKAGE_SETTINGS},
}
PACKAGE_CHANGE = {"type": "object", "additionalProperties": False, "minProperties": 1, "properties": PACKAGE_SETTINGS}
PACKAGE_SALE = {
    "type": "object",
    "required": ["phone", "package"],
    "additionalProperties": False,
    "properties": {
        "phone": {"type": "string", "minLength": 1, "maxLength": 30, "description": "the customer's mobile; a new customer is created"},
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "package": CODE,
        "note": NOTE,
    },
}
CREDIT_ADJUSTMENT = {
    "type": "object",
    "required": ["delta", "reason"],
    "additionalProperties": False,
    "properties": {
        "delta": {**bounded_integer(-MAX_CREDITS, MAX_CREDITS), "not": {"const": 0}, "description": "credits added (> 0) or taken (< 0)"},
        "reason": {**NOTE, "description": "why, for the customer's history and the audit log"},
        "expires_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "maxLength": 64,
            "description": "when added credits expire (with a UTC offset); null: never",
        },
    },
}

STAFF_PACKAGE = {**PACKAGE, "properties": {**PACKAGE["properties"], "name": LOCALIZED_TEXT, "active": {"type": "boolean"}}}
STAFF_CREDITS = {
    **CREDITS,
    "properties": {
        **CREDITS["properties"],
        "customer": {"type": "object", "properties": {"id": bounded_integer(1), "phone": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]}}},
    },
}
PACKAGE_PARAMETER = path_parameter("package", NameConverter, "the package's code")
CUSTOMER_PARAMETER = path_parameter("customer_id", RowIdConverter, "the customer's id (customer.id of a booking)")

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/packages": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "List class packages", StaffRole.staff, 200, json_content({"type": "object", "properties": {"packages": {"type": "array", "items": STAFF_PACKAGE}}})
        ),
        "post": operation("Add a class package", StaffRole.manager, 201, json_content(STAFF_PACKAGE), body=PACKAGE_CREATE, errors=(400, 409, 422)),
    },
    f"{PREFIX}/packages/{{package}}": {
        "parameters": [TENANT_PARAMETER, PACKAGE_PARAMETER],
        "patch": operation(
            "Change a package (credits already bought keep their expiry)",
            StaffRole.manager,
            200,
            json_content(STAFF_PACKAGE),
            body=PACKAGE_CHANGE,
            errors=(400, 404, 422),
        ),
    },
    f"{PREFIX}/package-sales": {
        "parameters": [TENANT_PARAMETER],
        "post": operation(
            "Add a package paid for at the front desk to a customer's credits",
            StaffRole.staff,
            201,
            json_content(STAFF_CREDITS),
            body=PACKAGE_SALE,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/customers/{{customer_id}}/credits": {
        "parameters": [TENANT_PARAMETER, CUSTOMER_PARAMETER],
        "get": operation("A customer's class credits", StaffRole.staff, 200, json_content(STAFF_CREDITS), errors=(404,)),
        "post": operation(
            "Add or take away credits, with the reason (insufficient_credits: more than the usable balance)",
            StaffRole.manager,
            201,
            json_content(STAFF_CREDITS),
            body=CREDIT_ADJUSTMENT,
            errors=(400, 404, 409, 422),
        ),
    },
}
