"""The tenant's appearance on its customer site: its theme, brand colour and logo."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, operation
from yuyue.provisioning.appearance import LOGO_MEDIA_TYPES, MAX_LOGO_BYTES, MAX_LOGO_SIDE
from yuyue.tenancy.models import StaffRole

# Who may see and change the look of the tenant's site.
APPEARANCE_ROLE = StaffRole.manager

COLOUR = {"type": ["string", "null"], "pattern": "^#[0-9a-fA-F]{6}$", "maxLength": 7, "description": "#rrggbb; null: the theme's own accent colour"}
APPEARANCE_CHANGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "theme": {"type": ["string", "null"], "maxLength": 40, "description": "the key of an installed theme (see themes); null: the default theme"},
        "brand_colour": COLOUR,
    },
    "description": "the fields to change; a field left out keeps its value",
}
APPEARANCE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "theme": {"type": ["string", "null"], "description": "the theme chosen; null: the default theme"},
        "theme_in_use": {"type": "string", "description": "the theme the site renders with (default when the chosen one is no longer installed)"},
        "brand_colour": COLOUR,
        "logo": {
            "type": ["object", "null"],
            "properties": {
                "media_type": {"enum": sorted(LOGO_MEDIA_TYPES)},
                "digest": {"type": "string", "description": "SHA-256 of the file, also its ETag"},
                "url": {"type": "string", "description": "where the site serves it"},
            },
        },
        "themes": {
            "type": "array",
            "description": "the installed themes, named in the reader's language",
            "items": {"type": "object", "properties": {"key": {"type": "string"}, "name": {"type": "string"}}},
        },
    },
}
LOGO_UPLOAD: dict[str, Any] = {
    "required": True,
    "description": (
        f"The logo as the raw request body with its media type: PNG, JPEG or WebP, at most {MAX_LOGO_BYTES // 1024} KiB and "
        f"{MAX_LOGO_SIDE} pixels a side. The file's first bytes must match its media type; SVG is refused (it can carry script)."
    ),
    "content": {media_type: {"schema": {"type": "string", "format": "binary", "maxLength": MAX_LOGO_BYTES}} for media_type in sorted(LOGO_MEDIA_TYPES)},
}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/appearance": {
        "parameters": [TENANT_PARAMETER],
        "get": operation("The tenant's theme, brand colour and logo, and the themes it may choose from", APPEARANCE_ROLE, 200, json_content(APPEARANCE)),
        "put": operation(
            "Choose the tenant's theme and brand colour (fields left out keep their value)",
            APPEARANCE_ROLE,
            200,
            json_content(APPEARANCE),
            body=APPEARANCE_CHANGE,
            errors=(400, 413, 415, 422),
        ),
    },
    f"{PREFIX}/appearance/logo": {
        "parameters": [TENANT_PARAMETER],
        "put": {
            **operation("Upload the tenant's logo, in place of the one before", APPEARANCE_ROLE, 200, json_content(APPEARANCE), errors=(413, 415, 422)),
            "requestBody": LOGO_UPLOAD,
        },
        "delete": operation("Remove the tenant's logo; its site shows its name alone", APPEARANCE_ROLE, 204, {}),
    },
}
