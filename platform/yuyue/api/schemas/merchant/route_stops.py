"""The stops of a booking type's route (a shuttle's pick-up and drop-off points), as staff manage them."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import NameConverter, SlugConverter, path_parameter
from yuyue.api.schemas.merchant.common import PREFIX, TENANT_PARAMETER, json_content, localized_text, operation
from yuyue.catalog import stops
from yuyue.catalog.models import StopKind
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

STOP_NAME = localized_text(100)
STOP_FIELDS: dict[str, Any] = {
    "name": STOP_NAME,
    "kind": {"enum": [kind.value for kind in StopKind], "description": "pickup, dropoff or both"},
    "minutes_after_departure": {"type": "integer", "minimum": 0, "maximum": stops.MAX_MINUTES_AFTER_DEPARTURE},
    "position": {"type": "integer", "minimum": 0, "maximum": stops.MAX_POSITION, "description": "order on the route; a drop-off comes after the pick-up"},
}
STOP_CREATE = {
    "type": "object",
    "required": ["code", "name"],
    "additionalProperties": False,
    "properties": {"code": NameConverter.schema, **STOP_FIELDS},
}
STOP_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {**STOP_FIELDS, "active": {"type": "boolean"}},
}

STOP_SCHEMA = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "description": "what a booking's pick-up or drop-off answer names"},
        "name": STOP_NAME,
        "kind": {"enum": [kind.value for kind in StopKind]},
        "minutes_after_departure": bounded_integer(0, stops.MAX_MINUTES_AFTER_DEPARTURE),
        "position": bounded_integer(0, stops.MAX_POSITION),
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"},
    },
}

_ROUTE = [TENANT_PARAMETER, path_parameter("slug", SlugConverter, "the booking type's slug")]
OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/booking-types/{{slug}}/stops": {
        "parameters": _ROUTE,
        "get": operation(
            "List the stops of a booking type's route, withdrawn ones included, in route order",
            StaffRole.staff,
            200,
            json_content({"type": "object", "properties": {"stops": {"type": "array", "items": STOP_SCHEMA}}}),
            errors=(404,),
        ),
        "post": operation(
            f"Add a pick-up or drop-off point to the route (at most {stops.MAX_STOPS}); without a position it goes last",
            StaffRole.manager,
            201,
            json_content(STOP_SCHEMA),
            body=STOP_CREATE,
            errors=(400, 404, 409, 422),
        ),
    },
    f"{PREFIX}/booking-types/{{slug}}/stops/{{code}}": {
        "parameters": [*_ROUTE, path_parameter("code", NameConverter, "the stop's code")],
        "patch": operation(
            "Rename, retime, move or (de)activate a stop", StaffRole.manager, 200, json_content(STOP_SCHEMA), body=STOP_CHANGE, errors=(400, 404, 422)
        ),
        "delete": operation(
            "Withdraw a stop: no longer offered, still shown on the bookings that chose it (the stop is answered, inactive)",
            StaffRole.manager,
            200,
            json_content(STOP_SCHEMA),
            errors=(404,),
        ),
    },
}
