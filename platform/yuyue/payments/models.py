"""Payments of bookings, their refunds, the notifications already processed, and which provider a tenant uses."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.sealing import SealedJSON
from yuyue.types import UTCDateTime, string_enum, utcnow


class PaymentStatus(enum.StrEnum):
    pending = "pending"
    paid = "paid"
    # Money is owed back (in full or in part): see the payment's refunds for how far that got.
    refunded = "refunded"
    failed = "failed"


class RefundStatus(enum.StrEnum):
    # Decided and recorded, not yet accepted by the provider (the worker retries sending it).
    requested = "requested"
    # Accepted by the provider, waiting for its notification.
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class Payment(TenantScoped, Model):
    """One attempt to collect a booking's price through one provider.

    ``reference`` is ours and travels to the provider (WeChat Pay's ``out_trade_no``);
    notifications name the payment by it. ``provider_txn`` is the provider's own id.
    """

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "reference"),
        Index(None, "tenant_id", "booking_id"),
    )
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "booking_id", "provider", "reference", "provider_txn", "amount", "currency", "status", "refunded_amount", "paid_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"))
    provider: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(64))
    provider_txn: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(string_enum(PaymentStatus, "payment_status"), default=PaymentStatus.pending)
    # What the customer does next, as the provider answered when the payment was created.
    instructions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Sum of the refunds decided for this payment, in minor units.
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Refund(TenantScoped, Model):
    """Money going back for a payment; ``reference`` is ours (WeChat Pay's ``out_refund_no``)."""

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reference"),
        Index(None, "tenant_id", "payment_id"),
        Index(None, "tenant_id", "status"),
    )
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "payment_id", "reference", "provider_ref", "amount", "status", "reason")

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id", ondelete="RESTRICT"))
    reference: Mapped[str] = mapped_column(String(64))
    provider_ref: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[RefundStatus] = mapped_column(string_enum(RefundStatus, "refund_status"), default=RefundStatus.requested)
    # Why: ``cancelled``, ``booking_expired``, ``duplicate_payment``, ``provider`` (refunded outside yuyue), …
    reason: Mapped[str] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PaymentNotification(TenantScoped, Model):
    """A provider notification that was processed; its unique key makes a second delivery harmless."""

    __tablename__ = "payment_notifications"
    __table_args__ = (UniqueConstraint("tenant_id", "provider", "notification_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    notification_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id", ondelete="SET NULL"))
    # What processing it did: ``confirmed``, ``refund_requested``, ``ignored_unknown_payment``, …
    outcome: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PaymentSetting(TenantScoped, Model):
    """Which provider collects payment, for a whole tenant (no booking type) or one booking type, with its configuration."""

    __tablename__ = "payment_settings"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int | None] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40))
    # The provider's keys, sealed at rest (decisions §70).
    config: Mapped[dict[str, Any]] = mapped_column(SealedJSON("payment_settings.config"), default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
