"""The logged-in customer's notification preferences: an email address, channels on or off, optional messages muted."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.customer.common import PREFIX, TENANT, operation
from yuyue.notifying.preferences import MAX_CHANNELS, MAX_EMAIL_LENGTH
from yuyue.notifying.templates import OPTIONAL_EVENTS

CHANNEL_KEY = {"type": "string", "minLength": 1, "maxLength": 40}
PREFERENCES_CHANGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "the fields to change; a field left out keeps its value",
    "properties": {
        "email": {"type": ["string", "null"], "maxLength": MAX_EMAIL_LENGTH, "description": "where emails go; null or empty: none"},
        "channels_off": {"type": "array", "maxItems": MAX_CHANNELS, "items": CHANNEL_KEY, "description": "channels the customer hears nothing on"},
        "muted": {"type": "array", "maxItems": len(OPTIONAL_EVENTS), "items": {"enum": list(OPTIONAL_EVENTS)}, "description": "optional messages turned off"},
    },
}
PREFERENCES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "email": {"type": ["string", "null"]},
        "channels": {
            "type": "array",
            "description": "the tenant's channels, each on or off for this customer",
            "items": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "on": {"type": "boolean"}, "address_kind": {"enum": ["phone", "email", "wechat_openid"]}},
            },
        },
        "channels_off": {"type": "array", "items": {"type": "string"}},
        "muted": {"type": "array", "items": {"enum": list(OPTIONAL_EVENTS)}},
        "optional_events": {
            "type": "array",
            "items": {"enum": list(OPTIONAL_EVENTS)},
            "description": "the messages that may be muted; the others always go out",
        },
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/me/notifications": {
        "parameters": [TENANT],
        "get": operation("The customer's notification preferences", 200, PREFERENCES, auth="customer", errors=(401,)),
        "put": operation(
            "Change the customer's notification preferences (fields left out keep their value)",
            200,
            PREFERENCES,
            auth="customer",
            body=PREFERENCES_CHANGE,
            errors=(400, 401, 413, 415, 422),
        ),
    },
}
