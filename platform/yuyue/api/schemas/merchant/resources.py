"""A tenant's resources (coaches, vehicles, rooms…) and their working hours."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import NameConverter, path_parameter
from yuyue.api.schemas.merchant.common import LOCALIZED_TEXT, PREFIX, TENANT_PARAMETER, json_content, operation
from yuyue.catalog import operations as catalog
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

SCHEDULE = {**catalog.SCHEDULE_SCHEMA, "type": ["object", "null"], "description": "weekday → working hours; null: always available"}
RESOURCE_CREATE = {
    "type": "object",
    "required": ["kind", "code", "name"],
    "additionalProperties": False,
    "properties": {
        "kind": {"type": "string", "minLength": 1, "maxLength": 40},
        "code": {"type": "string", "pattern": NameConverter.schema["pattern"]},
        "name": LOCALIZED_TEXT,
        "schedule": SCHEDULE,
    },
}
RESOURCE_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"name": LOCALIZED_TEXT, "schedule": SCHEDULE, "active": {"type": "boolean"}},
}

RESOURCE_SCHEMA = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1, description="what resource_requirements[].resource_ids refer to"),
        "code": {"type": "string"},
        "kind": {"type": "string"},
        "name": LOCALIZED_TEXT,
        "schedule": SCHEDULE,
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/resources": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "List resources (coaches, vehicles, rooms…)",
            StaffRole.staff,
            200,
            json_content({"type": "object", "properties": {"resources": {"type": "array", "items": RESOURCE_SCHEMA}}}),
        ),
        "post": operation("Add a resource", StaffRole.manager, 201, json_content(RESOURCE_SCHEMA), body=RESOURCE_CREATE, errors=(400, 409, 422)),
    },
    f"{PREFIX}/resources/{{code}}": {
        "parameters": [TENANT_PARAMETER, path_parameter("code", NameConverter, "the resource's code")],
        "patch": operation(
            "Rename a resource, change its working hours or (de)activate it",
            StaffRole.manager,
            200,
            json_content(RESOURCE_SCHEMA),
            body=RESOURCE_CHANGE,
            errors=(400, 404, 422),
        ),
    },
}
