"""A tenant's wording of its notifications: every (event, channel, locale) template, default or the merchant's own, and previews."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import NameConverter, path_parameter
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, operation
from yuyue.notifying.templates import MAX_SOURCE_CHARS, NOTIFIED_EVENTS, TEMPLATE_LOCALES
from yuyue.tenancy.models import StaffRole

# Who may change what customers are told.
TEMPLATES_ROLE = StaffRole.manager

KEY = {
    "event": {"enum": list(NOTIFIED_EVENTS)},
    "channel": {"type": "string", "description": "an installed notification channel's key"},
    "locale": {"enum": list(TEMPLATE_LOCALES)},
}
PARTS_SCHEMA = {
    "subject": {"type": ["string", "null"], "maxLength": MAX_SOURCE_CHARS["subject"], "description": "Jinja; empty or null: the default"},
    "body": {
        "type": ["string", "null"],
        "maxLength": MAX_SOURCE_CHARS["body"],
        "description": "Jinja text (the SMS, WeChat or email text); empty or null: the default",
    },
    "html": {
        "type": ["string", "null"],
        "maxLength": MAX_SOURCE_CHARS["html"],
        "description": "Jinja HTML, autoescaped (email only); empty or null: the default",
    },
}
TEMPLATE_DRAFT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": PARTS_SCHEMA,
    "description": "the merchant's template; it is rendered with sample data before it is saved, and a part that fails is a 422 naming its line",
}
PREVIEW_REQUEST: dict[str, Any] = {**TEMPLATE_DRAFT, "description": "a draft to render; without a body, the saved template (or the default)"}
SOURCES = {"type": "object", "properties": {part: {"type": ["string", "null"]} for part in PARTS_SCHEMA}}
TEMPLATE_SUMMARY: dict[str, Any] = {
    "type": "object",
    "properties": {**KEY, "overridden": {"type": "boolean"}, "updated_at": {"type": ["string", "null"], "format": "date-time"}},
}
TEMPLATE: dict[str, Any] = {
    "type": "object",
    "properties": {
        **TEMPLATE_SUMMARY["properties"],
        "template": {**SOURCES, "description": "the merchant's sources; null parts are the default's"},
        "default": {**SOURCES, "description": "the host's default sources (html is shared by every event; null on channels without HTML)"},
    },
}
TEMPLATE_LIST: dict[str, Any] = {"type": "object", "properties": {"templates": {"type": "array", "items": TEMPLATE_SUMMARY}}}
RENDERED: dict[str, Any] = {
    "type": "object",
    "properties": {"subject": {"type": "string"}, "text": {"type": "string"}, "html": {"type": ["string", "null"]}},
}

TEMPLATE_PARAMETERS = [
    TENANT_PARAMETER,
    path_parameter("event", NameConverter, "the event, e.g. booking.confirmed"),
    path_parameter("channel", NameConverter, "the channel's key, e.g. email"),
    path_parameter("locale", NameConverter, "zh-Hans, zh-Hant or en"),
]

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/notifications/templates": {
        "parameters": [TENANT_PARAMETER],
        "get": operation("Every notification template (event × channel × locale), default or overridden", TEMPLATES_ROLE, 200, json_content(TEMPLATE_LIST)),
    },
    f"{PREFIX}/notifications/templates/{{event}}/{{channel}}/{{locale}}": {
        "parameters": TEMPLATE_PARAMETERS,
        "get": operation("One template: the merchant's sources and the default's", TEMPLATES_ROLE, 200, json_content(TEMPLATE), errors=(404,)),
        "put": operation(
            "Save the merchant's wording (checked by rendering it with sample data)",
            TEMPLATES_ROLE,
            200,
            json_content(TEMPLATE),
            body=TEMPLATE_DRAFT,
            errors=(400, 404, 413, 415, 422),
        ),
        "delete": operation("Go back to the default wording", TEMPLATES_ROLE, 204, {}, errors=(404,)),
    },
    f"{PREFIX}/notifications/templates/{{event}}/{{channel}}/{{locale}}/preview": {
        "parameters": TEMPLATE_PARAMETERS,
        "post": operation(
            "Render a draft, or the saved template, with sample data",
            TEMPLATES_ROLE,
            200,
            json_content(RENDERED),
            body=PREVIEW_REQUEST,
            body_required=False,
            errors=(400, 404, 413, 415, 422),
        ),
    },
}
