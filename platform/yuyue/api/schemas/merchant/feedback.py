"""The merchant's inbox of reviews and feedback: filters, one item, reply, hide and unhide, handled."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import RowIdConverter, path_parameter
from yuyue.api.schemas.customer.reviews import FEEDBACK_ITEM_PROPERTIES
from yuyue.api.schemas.merchant.bookings import PAGE_PARAMETERS
from yuyue.api.schemas.merchant.common import NULLABLE_TEXT, PREFIX, TENANT_PARAMETER, json_content, operation, query_parameter
from yuyue.bookings.models import FeedbackKind
from yuyue.bookings.queries import MAX_TEXT
from yuyue.bookings.reviews import FEEDBACK_FILTER_NAMES, MAX_HIDE_REASON_LENGTH, MAX_REPLY_LENGTH
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

MASKED = "in full for owners and managers; masked for other staff roles"
TIME = {"type": "string", "format": "date-time", "description": "with the tenant's UTC offset"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}

FEEDBACK_QUERY = (*FEEDBACK_FILTER_NAMES, "cursor", "limit")
FILTER_PARAMETERS = [
    query_parameter("kind", "reviews or general feedback", {"enum": [k.value for k in FeedbackKind]}),
    query_parameter("rating", "reviews of this rating", {"type": "integer", "minimum": 1, "maximum": 5}),
    query_parameter("handled", "handled or not", {"enum": ["true", "false"]}),
    query_parameter("hidden", "hidden or not", {"enum": ["true", "false"]}),
    query_parameter("booking_type", "reviews of this booking type (its slug)", {"type": "string", "maxLength": MAX_TEXT}),
    query_parameter("resource", "reviews naming this resource (its code)", {"type": "string", "maxLength": MAX_TEXT}),
    query_parameter("from", "written on or after this local date", {"type": "string", "format": "date", "maxLength": 10}),
    query_parameter("to", "written on or before this local date", {"type": "string", "format": "date", "maxLength": 10}),
    query_parameter("q", "part of the comment, the reply or the reason it was hidden, in any case", {"type": "string", "maxLength": MAX_TEXT}),
]
FEEDBACK = {
    "type": "object",
    "properties": {
        **FEEDBACK_ITEM_PROPERTIES,
        "customer": {
            "type": "object",
            "properties": {"id": bounded_integer(1), "name": NULLABLE_TEXT, "phone": {"type": ["string", "null"], "description": MASKED}},
        },
        "reply": {"type": ["object", "null"], "properties": {"text": {"type": "string"}, "at": TIME, "by": {"type": "string"}}},
        "hidden_reason": NULLABLE_TEXT,
        "hidden_at": {**NULLABLE_TIME, "description": "when it was last hidden or shown again"},
        "hidden_by": NULLABLE_TEXT,
        "handled": {"type": "boolean"},
        "handled_at": NULLABLE_TIME,
        "handled_by": NULLABLE_TEXT,
    },
}
FEEDBACK_CONTENT = json_content(FEEDBACK)
REPLY = {
    "type": "object",
    "required": ["reply"],
    "additionalProperties": False,
    "properties": {
        "reply": {"type": "string", "minLength": 1, "maxLength": MAX_REPLY_LENGTH, "description": "shown to the customer; replaces an earlier reply"}
    },
}
HIDE = {
    "type": "object",
    "required": ["reason"],
    "additionalProperties": False,
    "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": MAX_HIDE_REASON_LENGTH, "description": "why, kept for staff and the audit log"}},
}
HANDLED = {"type": "object", "required": ["handled"], "additionalProperties": False, "properties": {"handled": {"type": "boolean"}}}
FEEDBACK_PARAMETER = path_parameter("feedback_id", RowIdConverter, "the item's id")
ACTION_ERRORS = (400, 404, 413, 415, 422)


def _action(summary: str, body: dict[str, Any] | None, errors: tuple[int, ...] = ACTION_ERRORS) -> dict[str, Any]:
    return {
        "parameters": [TENANT_PARAMETER, FEEDBACK_PARAMETER],
        "post": operation(summary, StaffRole.manager, 200, FEEDBACK_CONTENT, body=body, body_required=body is not None, errors=errors),
    }


OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/feedback": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "The inbox of reviews and feedback, newest first, filtered; pages by cursor",
            StaffRole.staff,
            200,
            json_content({"type": "object", "properties": {"items": {"type": "array", "items": FEEDBACK}, "next_cursor": NULLABLE_TEXT}}),
            parameters=FILTER_PARAMETERS + PAGE_PARAMETERS,
            errors=(422,),
        ),
    },
    f"{PREFIX}/feedback/{{feedback_id}}": {
        "parameters": [TENANT_PARAMETER, FEEDBACK_PARAMETER],
        "get": operation("One review or feedback, with what staff did about it", StaffRole.staff, 200, FEEDBACK_CONTENT, errors=(404,)),
    },
    f"{PREFIX}/feedback/{{feedback_id}}/reply": _action("Reply to the customer (replaces an earlier reply); the reply shows on their booking", REPLY),
    f"{PREFIX}/feedback/{{feedback_id}}/hide": _action("Hide the text from customers as abusive, with the reason; the rating still counts", HIDE),
    f"{PREFIX}/feedback/{{feedback_id}}/unhide": _action("Show a hidden text again (feedback_not_hidden: it is shown)", None, (404, 409)),
    f"{PREFIX}/feedback/{{feedback_id}}/handled": _action("Mark the item handled or not", HANDLED),
}
