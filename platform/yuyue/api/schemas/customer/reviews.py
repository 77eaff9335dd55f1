"""A customer's reviews of their bookings and general feedback, with the merchant's replies; and the public rating."""

from __future__ import annotations

from typing import Any

from yuyue.api.schemas.customer.common import PREFIX, PUBLIC_ID, TENANT, TIME, operation
from yuyue.bookings.models import FeedbackKind
from yuyue.bookings.reviews import CATEGORIES, MAX_COMMENT_LENGTH, PUBLIC_MIN_REVIEWS
from yuyue.types import bounded_integer

# A page of the customer's own reviews and feedback, as their other lists page.
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 20, 100
RATING_VALUE = bounded_integer(1, 5)
REVIEW_WRITE = {
    "type": "object",
    "required": ["rating"],
    "additionalProperties": False,
    "properties": {
        "rating": {**RATING_VALUE, "description": "1 (poor) to 5 (excellent)"},
        "comment": {"type": ["string", "null"], "maxLength": MAX_COMMENT_LENGTH, "description": "stored as given; blank or null: none"},
        "resource": {
            "type": ["string", "null"],
            "maxLength": 60,
            "description": "the code of a resource that served the booking (a coach, a driver, a guide), as the booking type lists them; null: none",
        },
    },
}
FEEDBACK_SEND = {
    "type": "object",
    "required": ["comment"],
    "additionalProperties": False,
    "properties": {
        "comment": {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT_LENGTH, "description": "stored as given; not blank"},
        "category": {"enum": [*CATEGORIES, None], "description": "what it is about; null: not said"},
    },
}
RESOURCE = {
    "type": ["object", "null"],
    "properties": {"code": {"type": "string"}, "kind": {"type": "string"}, "name": {"type": ["string", "null"]}},
}
REPLY = {
    "type": ["object", "null"],
    "description": "the merchant's reply; null until they reply",
    "properties": {"text": {"type": "string"}, "at": TIME},
}
FEEDBACK_ITEM_PROPERTIES: dict[str, Any] = {
    "id": bounded_integer(1),
    "kind": {"enum": [k.value for k in FeedbackKind]},
    "booking": {"type": ["string", "null"], "description": "the booking a review is of"},
    "booking_type": {"type": ["string", "null"]},
    "resource": RESOURCE,
    "rating": {**RATING_VALUE, "type": ["integer", "null"], "description": "a review's rating; null for feedback"},
    "category": {"enum": [*CATEGORIES, None]},
    "comment": {"type": ["string", "null"]},
    "hidden": {"type": "boolean", "description": "the merchant hid the text from others as abusive"},
    "created_at": TIME,
    "updated_at": TIME,
    "reply": REPLY,
    "editable": {"type": "boolean", "description": "a review may be changed until the merchant replies"},
}
FEEDBACK_ITEM = {"type": "object", "properties": FEEDBACK_ITEM_PROPERTIES}
RATING = {
    "type": ["object", "null"],
    "description": f"the average of the reviews' ratings and their number; null with fewer than {PUBLIC_MIN_REVIEWS} reviews",
    "properties": {"average": {"type": "number", "minimum": 1, "maximum": 5}, "count": bounded_integer(PUBLIC_MIN_REVIEWS)},
}
RESOURCE_RATINGS = {
    "type": "array",
    "description": f"the resources (a coach, a guide) reviewed for this booking type at least {PUBLIC_MIN_REVIEWS} times, with their rating",
    "items": {"type": "object", "properties": {**RESOURCE["properties"], "rating": RATING}},
}
PAGE = [
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}, "description": "next_cursor of the previous page"},
    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE}},
]
WRITE_ERRORS = (400, 401, 409, 413, 415, 422, 429)
DESCRIBED = {409: "review_exists, review_replied or booking_not_over", 429: "too many reviews and feedback; retry after Retry-After seconds"}

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/me/bookings/{{public_id}}/review": {
        "parameters": [TENANT, PUBLIC_ID],
        "post": operation(
            "Review one of the customer's bookings that is over: a rating, a comment, the resource that served them (one review per booking)",
            201,
            FEEDBACK_ITEM,
            auth="customer",
            body=REVIEW_WRITE,
            errors=WRITE_ERRORS,
            described=DESCRIBED,
        ),
        "put": operation(
            "Change the customer's review of the booking, until the merchant replies to it",
            200,
            FEEDBACK_ITEM,
            auth="customer",
            body=REVIEW_WRITE,
            errors=WRITE_ERRORS,
            described=DESCRIBED,
        ),
    },
    f"{PREFIX}/me/feedback": {
        "parameters": [TENANT],
        "get": operation(
            "The customer's reviews and feedback with the merchant's replies, newest first, in pages",
            200,
            {"type": "object", "properties": {"items": {"type": "array", "items": FEEDBACK_ITEM}, "next_cursor": {"type": ["string", "null"]}}},
            auth="customer",
            parameters=PAGE,
            errors=(401, 422),
        ),
        "post": operation(
            "Send the merchant general feedback, not about one booking",
            201,
            FEEDBACK_ITEM,
            auth="customer",
            body=FEEDBACK_SEND,
            errors=(400, 401, 413, 415, 422, 429),
            described=DESCRIBED,
        ),
    },
}

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FEEDBACK_ITEM",
    "FEEDBACK_ITEM_PROPERTIES",
    "FEEDBACK_SEND",
    "MAX_PAGE_SIZE",
    "OPENAPI_PATHS",
    "RATING",
    "RESOURCE_RATINGS",
    "REVIEW_WRITE",
]
