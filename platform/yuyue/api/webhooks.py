"""Merchant API for the tenant's webhook endpoints: ``/api/v1/t/<tenant>/admin/webhooks`` and what hangs under one endpoint.

Manager tokens and above. The operations (:mod:`yuyue.events.webhooks`) validate and audit;
descriptions in :mod:`yuyue.api.schemas.merchant.webhooks`. A secret is in the answer to a
creation or a rotation and nowhere else.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, request, url_for
from flask_babel import lazy_gettext as _l

from yuyue.api.auth import staff_required
from yuyue.api.core import json_body
from yuyue.api.merchant import staff_actor
from yuyue.api.query import query_int, query_problem
from yuyue.api.schemas.merchant.webhooks import DEFAULT_LOG_PAGE, MAX_LOG_PAGE, WEBHOOK_CHANGE, WEBHOOK_CREATE, WEBHOOKS_ROLE
from yuyue.api.tenant import current_tenant, tenant_api
from yuyue.db import db
from yuyue.events import webhooks
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from yuyue.presenting import local_time


def _zone() -> ZoneInfo:
    return ZoneInfo(current_tenant().time_zone)


def endpoint_json(endpoint: WebhookEndpoint, *, with_secret: bool = False) -> dict[str, Any]:
    zone = _zone()
    body = {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "topics": endpoint.topics,
        "enabled": endpoint.enabled,
        "disabled_at": local_time(endpoint.disabled_at, zone),
        "disabled_reason": endpoint.disabled_reason,
        "consecutive_failures": endpoint.consecutive_failures,
        "previous_secret_until": local_time(endpoint.previous_secret_until, zone),
        "created_at": local_time(endpoint.created_at, zone),
        "updated_at": local_time(endpoint.updated_at, zone),
    }
    if with_secret:
        body["secret"] = endpoint.secret
    return body


def _attempt_json(attempt: DeliveryAttempt, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "at": local_time(attempt.attempted_at, zone),
        "succeeded": attempt.succeeded,
        "response_status": attempt.response_status,
        "latency_ms": attempt.latency_ms,
        "error": attempt.error,
        "response_excerpt": attempt.response_excerpt,
        "request": attempt.request,
    }


def delivery_json(delivery: Delivery, attempts: list[DeliveryAttempt]) -> dict[str, Any]:
    zone = _zone()
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "type": delivery.topic,
        "webhook_id": delivery.message_id,
        "status": delivery.status.value,
        "attempt_count": delivery.attempts,
        "next_attempt_at": local_time(delivery.next_attempt_at, zone) if delivery.status is DeliveryStatus.pending else None,
        "last_error": delivery.last_error,
        "created_at": local_time(delivery.created_at, zone),
        "delivered_at": local_time(delivery.delivered_at, zone),
        "body": delivery.payload.get("body", ""),
        "attempts": [_attempt_json(attempt, zone) for attempt in attempts],
    }


def _allowances() -> dict[str, bool]:
    return {"allow_http": current_app.config.get("WEBHOOKS_ALLOW_HTTP", False), "allow_private": current_app.config.get("WEBHOOKS_ALLOW_PRIVATE", False)}


@tenant_api.get("/admin/webhooks")
@staff_required(WEBHOOKS_ROLE)
def list_webhooks() -> Response:
    return jsonify({"endpoints": [endpoint_json(endpoint) for endpoint in webhooks.list_endpoints(db.session)]})


@tenant_api.post("/admin/webhooks")
@staff_required(WEBHOOKS_ROLE)
def create_webhook() -> tuple[Response, int, dict[str, str]]:
    body = json_body(WEBHOOK_CREATE)
    endpoint = webhooks.create_endpoint(db.session, **body, actor=str(staff_actor()), **_allowances())
    location = url_for(".webhook_endpoint", tenant_slug=current_tenant().slug, endpoint_id=endpoint.id)
    return jsonify(endpoint_json(endpoint, with_secret=True)), 201, {"Location": location}


@tenant_api.get("/admin/webhooks/event-types")
@staff_required(WEBHOOKS_ROLE)
def list_webhook_event_types() -> Response:
    return jsonify({"event_types": [{"type": topic, "description": str(line)} for topic, line in webhooks.WEBHOOK_TOPICS.items()]})


@staff_required(WEBHOOKS_ROLE)
def get_webhook(endpoint_id: int) -> Response:
    return jsonify(endpoint_json(webhooks.get_endpoint(db.session, endpoint_id)))


@staff_required(WEBHOOKS_ROLE)
def update_webhook(endpoint_id: int) -> Response:
    changes = json_body(WEBHOOK_CHANGE)
    return jsonify(endpoint_json(webhooks.update_endpoint(db.session, endpoint_id, changes, actor=str(staff_actor()), **_allowances())))


@staff_required(WEBHOOKS_ROLE)
def delete_webhook(endpoint_id: int) -> tuple[str, int]:
    webhooks.delete_endpoint(db.session, endpoint_id, actor=str(staff_actor()))
    return "", 204


_ONE_ENDPOINT = {"GET": get_webhook, "PATCH": update_webhook, "DELETE": delete_webhook}


@tenant_api.route("/admin/webhooks/<row_id:endpoint_id>", methods=list(_ONE_ENDPOINT))
def webhook_endpoint(endpoint_id: int) -> Any:
    """One rule for the three methods: with a rule per method, werkzeug answers an id out of range with 405 instead of 404."""
    return _ONE_ENDPOINT[request.method](endpoint_id)


@tenant_api.post("/admin/webhooks/<row_id:endpoint_id>/rotate-secret")
@staff_required(WEBHOOKS_ROLE)
def rotate_webhook_secret(endpoint_id: int) -> Response:
    return jsonify(endpoint_json(webhooks.rotate_secret(db.session, endpoint_id, actor=str(staff_actor())), with_secret=True))


@tenant_api.post("/admin/webhooks/<row_id:endpoint_id>/enable")
@staff_required(WEBHOOKS_ROLE)
def enable_webhook(endpoint_id: int) -> Response:
    return jsonify(endpoint_json(webhooks.enable_endpoint(db.session, endpoint_id, actor=str(staff_actor()))))


@tenant_api.post("/admin/webhooks/<row_id:endpoint_id>/ping")
@staff_required(WEBHOOKS_ROLE)
def ping_webhook(endpoint_id: int) -> tuple[Response, int]:
    return jsonify({"event_id": webhooks.ping_endpoint(db.session, endpoint_id, actor=str(staff_actor()))}), 202


@tenant_api.get("/admin/webhooks/<row_id:endpoint_id>/deliveries")
@staff_required(WEBHOOKS_ROLE)
def list_webhook_deliveries(endpoint_id: int) -> Response:
    limit = query_int("limit", minimum=1, maximum=MAX_LOG_PAGE, default=DEFAULT_LOG_PAGE)
    before = query_int("before", minimum=1, maximum=2**31 - 1)
    status = request.args.get("status")
    if status is not None and status not in DeliveryStatus.__members__:
        raise query_problem("status", _l("one of %(choices)s", choices=", ".join(DeliveryStatus.__members__)), "enum")
    page = webhooks.endpoint_deliveries(db.session, endpoint_id, limit=limit, before=before, status=status)
    return jsonify({"deliveries": [delivery_json(delivery, attempts) for delivery, attempts in page.deliveries], "next_before": page.next_before})


@tenant_api.post("/admin/webhooks/<row_id:endpoint_id>/deliveries/<row_id:delivery_id>/redeliver")
@staff_required(WEBHOOKS_ROLE)
def redeliver_webhook(endpoint_id: int, delivery_id: int) -> tuple[Response, int]:
    delivery = webhooks.redeliver(db.session, endpoint_id, delivery_id, actor=str(staff_actor()))
    attempts = webhooks.endpoint_deliveries(db.session, endpoint_id, limit=1, before=delivery.id + 1).deliveries[0][1]
    return jsonify(delivery_json(delivery, attempts)), 202
