"""The tenant's webhook endpoints: their URL, topics and secret, their delivery log, pings and redeliveries."""

from __future__ import annotations

from typing import Any

from yuyue.api.converters import RowIdConverter, path_parameter
from yuyue.api.schemas.merchant.common import NULLABLE_TEXT, PREFIX, TENANT_PARAMETER, json_content, operation, query_parameter
from yuyue.events.models import DeliveryStatus
from yuyue.events.webhooks import MAX_ENDPOINTS, MAX_TOPIC_PATTERNS, PREVIOUS_SECRET_HOURS
from yuyue.tenancy.models import StaffRole
from yuyue.types import bounded_integer

# Who may see and change where the tenant's events are sent (and read their secrets).
WEBHOOKS_ROLE = StaffRole.manager
DEFAULT_LOG_PAGE = 20
MAX_LOG_PAGE = 100

URL = {"type": "string", "minLength": 1, "maxLength": 500, "description": "https:// (http and private addresses only where the installation allows them)"}
TOPICS = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_TOPIC_PATTERNS,
    "items": {"type": "string", "minLength": 1, "maxLength": 60},
    "description": "event types (see event-types), an area's wildcard such as booking.*, or * for all",
}
DESCRIPTION = {"type": "string", "maxLength": 200}

WEBHOOK_CREATE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url", "topics"],
    "properties": {"url": URL, "topics": TOPICS, "description": DESCRIPTION},
}
WEBHOOK_CHANGE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"url": URL, "topics": TOPICS, "description": DESCRIPTION},
    "description": "the fields to change; a field left out keeps its value",
}
WEBHOOK: dict[str, Any] = {
    "type": "object",
    "required": ["id", "url", "topics", "enabled"],
    "properties": {
        "id": bounded_integer(1),
        "url": {"type": "string"},
        "description": {"type": "string"},
        "topics": {"type": "array", "items": {"type": "string"}},
        "enabled": {"type": "boolean"},
        "disabled_at": NULLABLE_TEXT,
        "disabled_reason": {"enum": [None, "gone", "failing"], "description": "gone: it answered 410; failing: a delivery died and nothing reached it"},
        "consecutive_failures": bounded_integer(0),
        "previous_secret_until": {**NULLABLE_TEXT, "description": f"after a rotation, until when the old secret still signs (+{PREVIOUS_SECRET_HOURS} h)"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "secret": {"type": "string", "description": "whsec_…: only in the answer to a creation or a rotation; keep it, it is not shown again"},
    },
}
WEBHOOKS: dict[str, Any] = {"type": "object", "properties": {"endpoints": {"type": "array", "maxItems": MAX_ENDPOINTS, "items": WEBHOOK}}}
EVENT_TYPES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event_types": {
            "type": "array",
            "items": {"type": "object", "properties": {"type": {"type": "string"}, "description": {"type": "string"}}},
        }
    },
}
ATTEMPT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "at": {"type": "string"},
        "succeeded": {"type": "boolean"},
        "response_status": {**bounded_integer(100, 599), "type": ["integer", "null"]},
        "latency_ms": {**bounded_integer(0), "type": ["integer", "null"]},
        "error": NULLABLE_TEXT,
        "response_excerpt": NULLABLE_TEXT,
        "request": {"type": ["object", "null"], "description": "method, url and headers as sent (signatures, never the secret)"},
    },
}
DELIVERY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": bounded_integer(1),
        "event_id": bounded_integer(1),
        "type": {"type": "string", "description": "the event type"},
        "webhook_id": {"type": "string", "description": "the webhook-id header: the same on every attempt and redelivery"},
        "status": {"enum": [status.value for status in DeliveryStatus]},
        "attempt_count": bounded_integer(0),
        "next_attempt_at": NULLABLE_TEXT,
        "last_error": NULLABLE_TEXT,
        "created_at": {"type": "string"},
        "delivered_at": NULLABLE_TEXT,
        "body": {"type": "string", "description": "the JSON body sent, as text"},
        "attempts": {"type": "array", "items": ATTEMPT, "description": "oldest first"},
    },
}
DELIVERIES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "deliveries": {"type": "array", "items": DELIVERY, "description": "newest first"},
        "next_before": {**bounded_integer(1), "type": ["integer", "null"], "description": "pass as ?before= for the next page; null on the last"},
    },
}
PING: dict[str, Any] = {"type": "object", "properties": {"event_id": bounded_integer(1)}}

ENDPOINT_PARAMETER = path_parameter("endpoint_id", RowIdConverter, "the endpoint's id")
DELIVERY_PARAMETER = path_parameter("delivery_id", RowIdConverter, "the delivery's id, from the endpoint's log")
ONE = f"{PREFIX}/webhooks/{{endpoint_id}}"

OPENAPI_PATHS: dict[str, Any] = {
    f"{PREFIX}/webhooks": {
        "parameters": [TENANT_PARAMETER],
        "get": operation("The tenant's webhook endpoints (without their secrets)", WEBHOOKS_ROLE, 200, json_content(WEBHOOKS)),
        "post": operation(
            "Add a webhook endpoint; the answer shows its secret, once",
            WEBHOOKS_ROLE,
            201,
            json_content(WEBHOOK),
            body=WEBHOOK_CREATE,
            errors=(400, 409, 413, 415, 422),
        ),
    },
    f"{PREFIX}/webhooks/event-types": {
        "parameters": [TENANT_PARAMETER],
        "get": operation(
            "The event types an endpoint may subscribe to, each with a line in the reader's language", WEBHOOKS_ROLE, 200, json_content(EVENT_TYPES)
        ),
    },
    ONE: {
        "parameters": [TENANT_PARAMETER, ENDPOINT_PARAMETER],
        "get": operation("One webhook endpoint", WEBHOOKS_ROLE, 200, json_content(WEBHOOK), errors=(404,)),
        "patch": operation(
            "Change an endpoint's URL, event types or description",
            WEBHOOKS_ROLE,
            200,
            json_content(WEBHOOK),
            body=WEBHOOK_CHANGE,
            errors=(400, 404, 413, 415, 422),
        ),
        "delete": operation("Delete an endpoint; its deliveries not yet sent are skipped", WEBHOOKS_ROLE, 204, {}, errors=(404,)),
    },
    f"{ONE}/rotate-secret": {
        "parameters": [TENANT_PARAMETER, ENDPOINT_PARAMETER],
        "post": operation(
            f"A new secret for the endpoint (shown once); the old one signs beside it for {PREVIOUS_SECRET_HOURS} hours",
            WEBHOOKS_ROLE,
            200,
            json_content(WEBHOOK),
            errors=(404,),
        ),
    },
    f"{ONE}/enable": {
        "parameters": [TENANT_PARAMETER, ENDPOINT_PARAMETER],
        "post": operation("Enable an endpoint that was disabled; its failure count starts again", WEBHOOKS_ROLE, 200, json_content(WEBHOOK), errors=(404,)),
    },
    f"{ONE}/ping": {
        "parameters": [TENANT_PARAMETER, ENDPOINT_PARAMETER],
        "post": operation(
            "Send a webhook.test event to this endpoint alone (through the outbox: see its log)", WEBHOOKS_ROLE, 202, json_content(PING), errors=(404, 409)
        ),
    },
    f"{ONE}/deliveries": {
        "parameters": [TENANT_PARAMETER, ENDPOINT_PARAMETER],
        "get": operation(
            "The endpoint's delivery log, newest first: status, and each attempt's time, response code, latency and error",
            WEBHOOKS_ROLE,
            200,
            json_content(DELIVERIES),
            parameters=[
                query_parameter("limit", f"deliveries per page, 1-{MAX_LOG_PAGE} (default {DEFAULT_LOG_PAGE})", bounded_integer(1, MAX_LOG_PAGE)),
                query_parameter("before", "only deliveries older than this delivery id (the previous page's next_before)", bounded_integer(1)),
                query_parameter("status", "only deliveries in this status", {"enum": [status.value for status in DeliveryStatus]}),
            ],
            errors=(404, 422),
        ),
    },
    f"{ONE}/deliveries/{{delivery_id}}/redeliver": {
        "parameters": [TENANT_PARAMETER, ENDPOINT_PARAMETER, DELIVERY_PARAMETER],
        "post": operation(
            "Send a delivery again now, with the same webhook-id and body (one more attempt)", WEBHOOKS_ROLE, 202, json_content(DELIVERY), errors=(404, 409)
        ),
    },
}
