"""The tenant's notification channels (email, SMS, WeChat, the development log): on or off, their settings, a test message."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import NameConverter, path_parameter
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, operation
from yuyue.tenancy.models import StaffRole

# Who may see and change where the tenant's customers hear from it.
CHANNELS_ROLE = StaffRole.manager

CHANNEL_CHANGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "enabled": {"type": "boolean", "description": "whether customer notifications go out on this channel; default true"},
        "settings": {
            "type": "object",
            "maxProperties": 50,
            "description": "the channel's settings, as its settings_schema (GET) describes; a writeOnly setting (a secret) left out keeps its stored value",
        },
    },
}
TEST_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["to"],
    "additionalProperties": False,
    "properties": {
        "to": {
            "type": "string",
            "minLength": 1,
            "maxLength": 254,
            "description": "who receives the test: a mobile number (log, sms), an email address (email) or a customer's openid (wechat)",
        }
    },
}
CHANNEL: dict[str, Any] = {
    "type": "object",
    "description": "one channel; for each secret of its settings, <name>_set says whether the tenant has set it (the value is never shown)",
    "properties": {
        "key": {"type": "string"},
        "address_kind": {"enum": ["phone", "email", "wechat_openid"], "description": "what the channel sends to"},
        "enabled": {"type": "boolean", "description": "whether the tenant's customer notifications go out on it now"},
        "source": {
            "enum": ["tenant", "installation"],
            "description": "whose settings it sends with: the tenant's own over the installation's, or the installation's alone",
        },
        "settings": {"type": "object", "description": "the tenant's own settings, secrets left out"},
        "settings_schema": {"type": "object", "description": "the JSON Schema of the channel's settings; writeOnly marks secrets"},
    },
    "additionalProperties": {"type": "boolean"},
}
CHANNEL_LIST: dict[str, Any] = {
    "type": "object",
    "properties": {
        "channels": {"type": "array", "items": CHANNEL},
        "enabled": {"type": "array", "items": {"type": "string"}, "description": "the channels customer notifications go out on, in the order tried"},
    },
}
TEST_RESULT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "channel": {"type": "string"},
        "to": {"type": "string"},
        "sent": {"const": True},
        "message_id": {"type": "string", "description": "the message's id (an email's Message-ID, an SMS out id)"},
    },
}
CHANNEL_KEY = path_parameter("channel", NameConverter, "a notification channel's key: log, email, sms, wechat or a plugin's")


def _with_bad_gateway(described: dict[str, Any]) -> dict[str, Any]:
    described["responses"]["502"] = {
        "description": "the channel's receiver (SMTP server, SMS gateway, WeChat) refused or could not be reached; detail says what it answered",
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    return described


OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/notifications/channels": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "Every notification channel, on or off, with the tenant's settings of it (secrets left out)", CHANNELS_ROLE, 200, json_content(CHANNEL_LIST)
        ),
    },
    f"{PREFIX}/notifications/channels/{{channel}}": {
        "parameters": [TENANT_PARAMETER, CHANNEL_KEY],
        "get": operation(
            "One notification channel with the tenant's settings of it (secrets left out)", CHANNELS_ROLE, 200, json_content(CHANNEL), errors=(404,)
        ),
        "put": operation(
            "Turn a channel on or off and set the tenant's own settings of it (its SMTP server, SMS gateway, WeChat templates)",
            CHANNELS_ROLE,
            200,
            json_content(CHANNEL),
            body=CHANNEL_CHANGE,
            errors=(400, 404, 413, 415, 422),
        ),
        "delete": operation("Forget the tenant's settings of a channel: it falls back to the installation's", CHANNELS_ROLE, 204, {}, errors=(404,)),
    },
    f"{PREFIX}/notifications/channels/{{channel}}/test": {
        "parameters": [TENANT_PARAMETER, CHANNEL_KEY],
        "post": _with_bad_gateway(
            operation(
                "Send a test message on a channel now, with the tenant's settings, and say what happened",
                CHANNELS_ROLE,
                200,
                json_content(TEST_RESULT),
                body=TEST_MESSAGE,
                errors=(400, 404, 413, 415, 422),
            )
        ),
    },
}
