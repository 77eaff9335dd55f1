"""Outbox records, written in the same transaction as the change they announce, and what delivering them leaves behind.

An :class:`OutboxEvent` is fanned out once (``delivered_at`` set) into one
:class:`Delivery` per subscriber: a customer notification on one channel, a
webhook endpoint, a plugin's ``handle_event`` hook. The unique key
``(tenant_id, event_id, subscriber)`` is what keeps a retried fan-out from
planning a message twice; the delivery's status is what keeps a retried
send from sending it twice (decisions §55).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.sealing import SealedJSON, SealedString
from yuyue.types import UTCDateTime, string_enum, utcnow


class OutboxEvent(TenantScoped, Model):
    __tablename__ = "outbox_events"
    __table_args__ = (Index(None, "tenant_id", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the event was fanned out into its deliveries (not when they were sent).
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The X-Request-ID of the request that wrote the event (None: the worker or a command did), so that the worker's log
    # lines about delivering it are found with that request's (migration 0027). Not part of what subscribers receive.
    request_id: Mapped[str | None] = mapped_column(String(64))


class DeliveryStatus(enum.StrEnum):
    pending = "pending"  # waiting for its next attempt (next_attempt_at)
    sending = "sending"  # claimed by a worker until lease_until; past it, the claim is void
    delivered = "delivered"
    dead = "dead"  # retry budget spent (or refused for good); last_error says why; `yuyue outbox retry` revives it
    skipped = "skipped"  # nothing to send after all (the customer unsubscribed, the endpoint was deleted)


class DeliveryKind(enum.StrEnum):
    notification = "notification"
    webhook = "webhook"
    hook = "hook"


class Delivery(TenantScoped, Model):
    """One event to one subscriber: planned once at fan-out, attempted until delivered or dead."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "event_id", "subscriber"),
        Index(None, "tenant_id", "status", "next_attempt_at"),
        Index(None, "tenant_id", "kind", "target", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable for every attempt: the webhook-id, the email's Message-ID, the SMS gateway's out-id.
    message_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(60))
    # Unique per event: "webhook:12", "notification:sms:<customer id>", "hook:yuyue_course".
    subscriber: Mapped[str] = mapped_column(String(120))
    kind: Mapped[DeliveryKind] = mapped_column(string_enum(DeliveryKind, "delivery_kind"))
    # The channel key, the webhook endpoint's id, or the plugin's name.
    target: Mapped[str] = mapped_column(String(60))
    # Who receives it, as shown to the merchant (a masked phone, an email, a URL's host).
    recipient: Mapped[str | None] = mapped_column(String(200))
    # Everything needed to send, fixed at fan-out so that every attempt sends the same thing.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(string_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeliveryAttempt(TenantScoped, Model):
    """One try of a delivery: the log a merchant reads (request, response code, latency, error)."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index(None, "tenant_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    response_status: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    # The request as sent (a webhook's headers without the signature secret) and the start of the response body.
    request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    response_excerpt: Mapped[str | None] = mapped_column(String(1000))
    error: Mapped[str | None] = mapped_column(String(500))


class WebhookEndpoint(TenantScoped, Model):
    """A merchant's receiver of events: a URL, the topics it wants, and the secret its Standard Webhooks signatures use."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (Index(None, "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(200), default="")
    # Topic patterns: "booking.confirmed", "booking.*", "*".
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "whsec_" + base64, sealed at rest and loaded only when used (decisions §70): an endpoint whose secret no key
    # opens is still listed and fanned out to, and only signing its deliveries fails.
    secret: Mapped[str] = mapped_column(SealedString("webhook_endpoints.secret"), deferred=True)
    # After a rotation the old secret signs too until previous_secret_until, so receivers can switch over (migration 0019).
    previous_secret: Mapped[str | None] = mapped_column(SealedString("webhook_endpoints.previous_secret"), deferred=True)
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disabled_reason: Mapped[str | None] = mapped_column(String(200))
    # Deliveries that ended dead in a row; reset by a success. Reaching the limit disables the endpoint.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationTemplate(TenantScoped, Model):
    """A merchant's own wording of one event's message on one channel in one language, over the host's default."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "event", "channel", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(10))
    # Jinja source, rendered in a sandbox. Email uses all three; SMS and WeChat use `body` only.
    subject: Mapped[str] = mapped_column(String(200), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChannelSettings(TenantScoped, Model):
    """A tenant's settings of one notification channel (its SMTP server, SMS gateway keys, WeChat template ids), over the installation's."""

    __tablename__ = "channel_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(40))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Validated against the channel's settings schema; sealed at rest, for its secrets (decisions §70).
    config: Mapped[dict[str, Any]] = mapped_column(SealedJSON("channel_settings.config"), default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class NotificationPreference(TenantScoped, Model):
    """What one customer wants to hear and where: their email, the channels they turned off, the optional messages they muted."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("tenant_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    email: Mapped[str | None] = mapped_column(String(254))
    channels_off: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Non-essential events the customer unsubscribed from (reminders, no-show notices); essential ones are always sent.
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
