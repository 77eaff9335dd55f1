"""The tenant's own login-provider settings (its WeChat mini-program): set by the owner, secrets never shown."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import NameConverter, path_parameter
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, operation
from yuyue.tenancy.models import StaffRole

LOGIN_SETTINGS = {
    "type": "object",
    "description": "the provider's settings, as its settings_schema (GET) describes; a writeOnly setting left out keeps its stored value",
}
LOGIN_SETTINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "provider": {"type": "string"},
        "source": {
            "enum": ["tenant", "application", "none"],
            "description": "whose settings logins use: the tenant's own, the application's fallback, or none",
        },
        "settings": {"type": "object", "description": "the tenant's own settings, without writeOnly values"},
        "write_only_set": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the writeOnly settings the tenant has set; their values are never shown",
        },
        "settings_schema": {"type": "object", "description": "the JSON Schema of the provider's settings; writeOnly marks secrets"},
    },
}
LOGIN_PROVIDER = path_parameter("provider", NameConverter, "a login provider's key, e.g. wechat")

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/login-providers": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "The tenant's settings for every login provider, write-only values (secrets) left out",
            StaffRole.manager,
            200,
            json_content({"type": "object", "properties": {"login_providers": {"type": "array", "items": LOGIN_SETTINGS_SCHEMA}}}),
        ),
    },
    f"{PREFIX}/login-providers/{{provider}}": {
        "parameters": [TENANT_PARAMETER, LOGIN_PROVIDER],
        "get": operation(
            "The tenant's settings for one login provider, write-only values (secrets) left out",
            StaffRole.manager,
            200,
            json_content(LOGIN_SETTINGS_SCHEMA),
            errors=(404,),
        ),
        "put": operation(
            "Set the tenant's own settings for a login provider (its WeChat mini-program's AppID and AppSecret)",
            StaffRole.owner,
            200,
            json_content(LOGIN_SETTINGS_SCHEMA),
            body=LOGIN_SETTINGS,
            errors=(400, 404, 422),
        ),
        "delete": operation(
            "Forget the tenant's settings for a login provider; logins fall back to the application's", StaffRole.owner, 204, {}, errors=(404,)
        ),
    },
}
