"""Credit packages a merchant sells, and the ledger of each customer's credits.

The ledger is append-only. An entry that adds credits (a purchase, a positive
adjustment) is a *lot*: it carries the expiry of those credits, and every
entry that takes from or gives back to it names it in ``lot_id``, so a lot's
remaining credits are its own ``delta`` plus those of the entries naming it.
A balance is the sum of what remains in the lots that have not expired.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime, string_enum, utcnow


class CreditPackage(TenantScoped, Model):
    """A package a merchant sells: ``credits`` classes for ``price_amount``, usable for ``valid_days`` (None: no expiry).

    ``booking_type_ids`` limits its credits to those booking types; empty, they pay for any.
    """

    __tablename__ = "credit_packages"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "code", "credits", "price_amount", "currency", "valid_days", "active", "booking_type_ids")

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[Any] = mapped_column(JSON)
    credits: Mapped[int] = mapped_column(Integer)
    price_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    valid_days: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    booking_type_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CreditReason(enum.StrEnum):
    purchase = "purchase"
    booking = "booking"
    cancel_refund = "cancel_refund"
    # The credits a booking took stay spent: a late cancellation or a no-show (delta 0, recorded so the history says why).
    late_forfeit = "late_forfeit"
    no_show = "no_show"
    adjust = "adjust"
    expire = "expire"


class CreditEntry(TenantScoped, Model):
    """One line of a customer's credit ledger (see the module docstring for lots)."""

    __tablename__ = "credit_entries"
    __table_args__ = (
        Index(None, "tenant_id", "customer_id"),
        Index(None, "tenant_id", "booking_id"),
        Index(None, "tenant_id", "lot_id"),
    )
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "customer_id", "package_id", "booking_id", "lot_id", "delta", "reason", "expires_at")

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("credit_packages.id", ondelete="RESTRICT"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    # The lot this entry takes from or gives back to; None for a lot itself and for the delta-0 records.
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("credit_entries.id"))
    delta: Mapped[int] = mapped_column(Integer)
    reason: Mapped[CreditReason] = mapped_column(string_enum(CreditReason, "credit_reason"))
    # A lot's credits cannot be spent from this moment on; None: they never expire.
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why staff changed the balance (an adjustment), or what was sold at the front desk.
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
