"""Webhook deliveries of outbox events: a body per matching endpoint, signed the Standard Webhooks way, retried for up to three days.

The body is fixed when the event is fanned out (``{"type", "timestamp", "data"}``,
data being the object as the merchant API shows it), so every attempt sends the
same bytes under the same ``webhook-id``; only ``webhook-timestamp`` and the
signatures are made anew per attempt. Sending resolves the endpoint's host and
connects to the address it checked, so a name that turns private between the
check and the connection (DNS rebinding) reaches nothing. Redirects are not
followed. A dead delivery may disable its endpoint (``on_dead``).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session, undefer
from standardwebhooks import Webhook

import yuyue
from yuyue.bookings.models import WaitlistEntry
from yuyue.bookings.queries import booking_record
from yuyue.bookings.reviews import get_feedback
from yuyue.customers.models import Customer
from yuyue.db import db
from yuyue.errors import NotFound
from yuyue.events.delivery import DeliveryFailed, PlannedDelivery, SendResult, receipt_acknowledged
from yuyue.events.models import Delivery, DeliveryAttempt, DeliveryKind, DeliveryStatus, OutboxEvent, WebhookEndpoint
from yuyue.events.webhooks import (
    TEST_TOPIC,
    DisabledReason,
    disable_endpoint,
    is_public_address,
    list_endpoints,
    signing_secrets,
    subscriber_key,
    topic_matches,
    url_problems,
)
from yuyue.presenting.customer import waitlist_json
from yuyue.presenting.language import DEFAULT_LOCALE
from yuyue.presenting.reviews import feedback_names, staff_feedback_json
from yuyue.presenting.staff import booking_json
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

__all__ = ["RESPONSE_EXCERPT", "SEND_TIMEOUT_SECONDS", "WEBHOOK_RETRY_DELAYS", "WebhookDeliveries", "signed_headers", "webhook_body"]

# About 3 days in all (5 s … 20 h), the Standard Webhooks suggestion; attempts after the first: 9.
WEBHOOK_RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=20),
)
# Each of connecting, sending and every read of the answer; a receiver should answer at once and work afterwards.
SEND_TIMEOUT_SECONDS = 10.0
# How much of a receiver's answer is read and kept in the log.
RESPONSE_EXCERPT = 1000
USER_AGENT = f"yuyue-webhooks/{yuyue.__version__}"


def _iso(moment: datetime) -> str:
    """UTC, always with microseconds: the same width every time, so receivers may compare timestamps as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event_data(session: Session, tenant: Tenant, event: OutboxEvent) -> Any:
    """The object the event is about as the merchant API shows it, or the event's own payload when there is none to show."""
    payload = event.payload
    area = event.topic.split(".", 1)[0]
    try:
        if area == "booking" and isinstance(payload.get("booking"), str):
            return booking_json(booking_record(session, tenant, payload["booking"]), tenant, with_answers=True)
        if area == "waitlist" and isinstance(payload.get("entry"), int):
            entry = session.get(WaitlistEntry, payload["entry"])
            if entry is not None:
                customer = session.get(Customer, entry.customer_id)
                return waitlist_json(session, tenant, entry) | {"customer": {"id": customer.id, "phone": customer.phone, "name": customer.name}}
        if area in ("review", "feedback") and isinstance(payload.get("feedback"), int):
            item = get_feedback(session, tenant, payload["feedback"])
            return staff_feedback_json(item, feedback_names(session, [item]), ZoneInfo(tenant.time_zone), DEFAULT_LOCALE, full=True)
    except NotFound:
        pass
    # Payments, refunds and the webhooks' own events: the merchant API has no representation of them; the payload names no more than it would.
    return payload


def webhook_body(session: Session, tenant: Tenant, event: OutboxEvent) -> str:
    """The body every attempt of the event's deliveries sends, as text: ``{"type", "timestamp", "data"}``."""
    body = {"type": event.topic, "timestamp": _iso(event.created_at), "data": _event_data(session, tenant, event)}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def signed_headers(message_id: str, at: datetime, body: bytes, secrets: list[str]) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt: id, timestamp and a ``v1`` signature per secret, space-separated."""
    signatures = " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to one checked address, whatever the name resolves to by the time it connects."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to one checked address; the certificate is still verified against the host name."""

    def __init__(self, host: str, port: int | None, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def _checked_address(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to: every address ``host`` resolves to must be public (unless allowed); the first is used."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise DeliveryFailed(f"cannot resolve {host}: {error}") from None
    addresses = [info[4][0] for info in found]
    if not addresses:
        raise DeliveryFailed(f"{host} resolves to no address")
    if not allow_private:
        refused = [a for a in addresses if not is_public_address(ipaddress.ip_address(a.split("%", 1)[0]))]
        if refused:
            raise DeliveryFailed(f"{host} resolves to {refused[0]}, a loopback, private or link-local address: refused", retryable=False)
    return addresses[0]


class WebhookDeliveries:
    """The webhook subscriber: one delivery per enabled endpoint whose topics match the event."""

    kind = DeliveryKind.webhook
    retry_delays = WEBHOOK_RETRY_DELAYS
    timeout = SEND_TIMEOUT_SECONDS

    def __init__(self, app: Flask) -> None:
        self.app = app

    # --- fan-out ------------------------------------------------------------------------

    def plan(self, session: Session, event: OutboxEvent) -> list[PlannedDelivery]:
        if event.topic == TEST_TOPIC:
            endpoints = [e for e in list_endpoints(session) if e.id == event.payload.get("endpoint") and e.enabled]
        else:
            endpoints = [e for e in list_endpoints(session) if e.enabled and topic_matches(e.topics, event.topic)]
        if not endpoints:
            return []
        body = webhook_body(session, session.get(Tenant, event.tenant_id), event)
        return [
            PlannedDelivery(
                subscriber=subscriber_key(endpoint.id),
                kind=DeliveryKind.webhook,
                target=str(endpoint.id),
                payload={"body": body},
                recipient=(urlsplit(endpoint.url).hostname or "")[:200],
            )
            for endpoint in endpoints
        ]

    # --- sending ------------------------------------------------------------------------

    def _endpoint(self, delivery: Delivery) -> WebhookEndpoint | None:
        """The endpoint as it is now (its URL and secrets may have changed since the event), read in a session of its own."""
        with self.app.app_context(), Session(db.engine, expire_on_commit=False) as reader:
            secrets = undefer(WebhookEndpoint.secret), undefer(WebhookEndpoint.previous_secret)
            return reader.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == int(delivery.target)).options(*secrets))

    def send(self, delivery: Delivery) -> SendResult:
        endpoint = self._endpoint(delivery)
        if endpoint is None:
            raise DeliveryFailed("the endpoint was deleted", retryable=False)
        if not endpoint.enabled:
            raise DeliveryFailed("the endpoint is disabled", retryable=False)
        allow_http, allow_private = self.app.config.get("WEBHOOKS_ALLOW_HTTP", False), self.app.config.get("WEBHOOKS_ALLOW_PRIVATE", False)
        problems = url_problems(endpoint.url, allow_http=allow_http, allow_private=allow_private)
        if problems:
            raise DeliveryFailed(f"the endpoint's URL is refused: {problems[0].code}", retryable=False)
        body = delivery.payload["body"].encode()
        now = datetime.now(UTC)  # the signature's time is the attempt's, on the real clock: receivers check it against theirs
        headers = signed_headers(delivery.message_id, now, body, signing_secrets(endpoint, utcnow()))
        logged = {"method": "POST", "url": endpoint.url, "headers": headers}
        status, excerpt = self._post(endpoint.url, body, headers, allow_private=allow_private, logged=logged)
        if 200 <= status < 300:
            return SendResult(response_status=status, response_excerpt=excerpt, request=logged)
        if status == 410:
            raise DeliveryFailed("410 Gone: the receiver asked for no more", retryable=False, response_status=status, request=logged, response_excerpt=excerpt)
        reason = "redirects are not followed" if 300 <= status < 400 else "the receiver did not answer 2xx"
        raise DeliveryFailed(f"{status}: {reason}", response_status=status, request=logged, response_excerpt=excerpt)

    def _post(self, url: str, body: bytes, headers: Mapping[str, str], *, allow_private: bool, logged: Mapping[str, Any]) -> tuple[int, str]:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        address = _checked_address(parts.hostname, port, allow_private=allow_private)
        connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        connection = connection_class(parts.hostname, port, address, self.timeout)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        status = None  # kept in the log when reading the body fails after the status line came
        try:
            connection.request("POST", target, body=body, headers=dict(headers))
            response = connection.getresponse()
            status = response.status
            if 200 <= status < 300:
                receipt_acknowledged()  # before the body is read and the connection closed: the receiver has it
            excerpt = response.read(RESPONSE_EXCERPT * 4).decode("utf-8", "replace")[:RESPONSE_EXCERPT]
            return status, excerpt
        except (OSError, http.client.HTTPException) as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}"[:500] or "connection failed", response_status=status, request=logged) from None
        finally:
            connection.close()

    # --- outcomes -----------------------------------------------------------------------

    def on_delivered(self, session: Session, delivery: Delivery) -> None:
        session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == int(delivery.target), WebhookEndpoint.consecutive_failures > 0)
            .values(consecutive_failures=0)
            .execution_options(synchronize_session=False)
        )

    def on_dead(self, session: Session, delivery: Delivery) -> None:
        """Count the failure; disable the endpoint on a 410 Gone, or when nothing reached it since the dead delivery was planned.

        A delivery that died because its endpoint was deleted or disabled meanwhile is not a failure of the
        receiver: it ends ``skipped``.
        """
        endpoint = session.get(WebhookEndpoint, int(delivery.target))
        if endpoint is None or not endpoint.enabled:
            session.execute(
                update(Delivery)
                .where(Delivery.id == delivery.id, Delivery.status == DeliveryStatus.dead)
                .values(status=DeliveryStatus.skipped)
                .execution_options(synchronize_session=False)
            )
            return
        if delivery.topic == TEST_TOPIC:
            return  # a failed ping says what is wrong in the log; it does not count against the endpoint
        endpoint.consecutive_failures += 1
        last = session.scalar(
            select(DeliveryAttempt.response_status).where(DeliveryAttempt.delivery_id == delivery.id).order_by(DeliveryAttempt.id.desc()).limit(1)
        )
        if last == 410:
            disable_endpoint(session, endpoint, DisabledReason.gone, last_error=delivery.last_error)
            return
        reached = session.scalar(
            select(Delivery.id)
            .where(
                Delivery.kind == DeliveryKind.webhook,
                Delivery.target == delivery.target,
                Delivery.status == DeliveryStatus.delivered,
                Delivery.delivered_at >= delivery.created_at,
            )
            .limit(1)
        )
        if reached is None:
            disable_endpoint(session, endpoint, DisabledReason.failing, last_error=delivery.last_error)
