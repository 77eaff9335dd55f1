"""Payment providers' callbacks under ``/api/v1/t/<tenant>/payments/<provider>/…``.

Providers authenticate by signing the notification, not by a token: a bad
signature is a 401 problem and changes nothing; a repeated notification answers
200 and changes nothing. A signed notification the host refuses (unreadable, or
without the amount and currency that decide money) is a 422 problem: not
acknowledged, so the provider keeps delivering it until it is fixed, and audited. Notifications are accepted for a suspended tenant too,
so money a customer paid before the suspension is recorded and settled (see
docs/decisions.md §21). The sandbox's checkout plays the part of the customer
paying in the provider's app, and like every other route refuses a suspended tenant.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request
from flask_babel import lazy_gettext as _l

from yuyue.api.body import request_bytes
from yuyue.api.converters import NameConverter, SlugConverter, TokenConverter, path_parameter
from yuyue.api.problems import ApiProblem
from yuyue.api.tenant import current_tenant, serves_suspended_tenants, tenant_api
from yuyue.db import db
from yuyue.payments.builtin import pay_in_sandbox
from yuyue.payments.operations import handle_notification, send_refunds
from yuyue.payments.providers import payment_providers

# Limits what a caller can make the server read before the signature is checked.
MAX_NOTIFICATION_BYTES = 64 * 1024


def _known_provider(provider: str) -> None:
    if provider not in payment_providers():
        raise ApiProblem(404, "unknown_provider", _l("no payment provider %(provider)r", provider=provider))


def _answer(outcome: str) -> Response:
    return jsonify({"code": "SUCCESS", "outcome": outcome})


@tenant_api.post("/payments/<name:provider>/notify")
@serves_suspended_tenants
def payment_notification(provider: str) -> Response:
    """A provider's asynchronous notification: verify, apply once, answer 200 so it stops retrying."""
    _known_provider(provider)
    # Raw bytes, whatever their media type (providers send JSON or XML, some as text/plain): the signature covers them as sent.
    body = request_bytes(MAX_NOTIFICATION_BYTES)
    outcome = handle_notification(db.session, current_tenant(), provider, request.headers, body)
    if outcome is None:
        raise ApiProblem(401, "invalid_signature", _l("the notification's signature does not verify"))
    if outcome == "refund_requested":
        send_refunds(db.session, current_tenant())
    return _answer(outcome)


@tenant_api.post("/payments/sandbox/checkout/<token:reference>")
def sandbox_checkout(reference: str) -> Response:
    """The sandbox's pay page: the customer pays, and the sandbox sends its signed notification."""
    _known_provider("sandbox")
    return _answer(pay_in_sandbox(db.session, current_tenant(), reference))


_PROBLEM = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_OUTCOME = {"content": {"application/json": {"schema": {"type": "object", "properties": {"code": {"const": "SUCCESS"}, "outcome": {"type": "string"}}}}}}
_TENANT = path_parameter("tenant_slug", SlugConverter, "the tenant's slug")

# For the OpenAPI document: the paths this module serves.
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/t/{tenant_slug}/payments/{provider}/notify": {
        "parameters": [_TENANT, path_parameter("provider", NameConverter, "the payment provider's key, e.g. sandbox")],
        "post": {
            "summary": "A payment provider's signed notification (payment succeeded or failed, refund succeeded)",
            "description": (
                "Authenticated by the provider's signature over the raw body, read as bytes whatever its media type (a provider may send "
                "JSON, XML or text/plain); a repeated notification changes nothing. "
                "Accepted for a suspended tenant too: a held booking paid in time is confirmed, one whose hold ran out "
                "is expired and the money refunded."
            ),
            "security": [],
            "x-yuyue-raw-body": True,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": {"description": "processed, or already processed", **_OUTCOME},
                "401": {"description": "bad signature; nothing changed", **_PROBLEM},
                "422": {
                    "description": (
                        "signed, but not a notification the provider can read (invalid_notification), or without what decides money: "
                        "the amount and currency of a payment or refund, the payment's reference (incomplete_notification). "
                        "Nothing changed but an audit record of the refusal; not a 2xx, so the provider delivers it again"
                    ),
                    **_PROBLEM,
                },
                "404": {"description": "unknown tenant or provider", **_PROBLEM},
                "413": {"description": "body over 64 KiB", **_PROBLEM},
            },
        },
    },
    "/api/v1/t/{tenant_slug}/payments/sandbox/checkout/{reference}": {
        "parameters": [_TENANT, path_parameter("reference", TokenConverter, "the sandbox payment's reference")],
        "post": {
            "summary": "Sandbox only: pay a sandbox payment, as a customer would in the provider's app",
            "security": [],
            "responses": {
                "200": {"description": "the sandbox notified the payment", **_OUTCOME},
                "403": {"description": "the tenant is suspended (tenant_suspended)", **_PROBLEM},
                "404": {"description": "no such sandbox payment", **_PROBLEM},
                "409": {"description": "the payment is no longer pending", **_PROBLEM},
            },
        },
    },
}
