"""Booking types, resources, and the stops of a booking type's route."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime, string_enum, utcnow


class BookingTypeStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    archived = "archived"


class BookingType(TenantScoped, Model):
    """A merchant's offering (a class, a trip, a timed entry), created from a plugin's vertical.

    Rules and policies are data validated by ``yuyue-schemas``; the form lives in
    versioned ``form_versions`` rows and ``form_version`` names the current one.
    """

    __tablename__ = "booking_types"
    __table_args__ = (UniqueConstraint("tenant_id", "slug"),)
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what prices, sizes and lets a booking be made.
    __audited__ = ("id", "slug", "status", "availability_rules", "policies", "price_amount", "currency", "hold_minutes", "max_party_size")

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60))
    vertical: Mapped[str] = mapped_column(String(40))
    name: Mapped[Any] = mapped_column(JSON)
    description: Mapped[Any | None] = mapped_column(JSON)
    status: Mapped[BookingTypeStatus] = mapped_column(string_enum(BookingTypeStatus, "booking_type_status"), default=BookingTypeStatus.active)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="SET NULL"))
    form_version: Mapped[int] = mapped_column(Integer, default=1)
    # [{"type": "weekly_hours", "params": {...}}, ...] — see yuyue-schemas slot-rules/.
    availability_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Identity quotas, minors, cancellation, reschedule, no-show bans — see yuyue-schemas policies.
    policies: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"kind": "coach", "count": 1, "resource_ids": [..] | null}] — allocated together per booking.
    resource_requirements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    price_amount: Mapped[int] = mapped_column(Integer, default=0)
    # [{"key": "child", "name": {...}, "price_amount": 3000, "proof": {...}, "min_age": 6, "max_age": 17}] — see catalog.tickets.
    ticket_types: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Minutes an unpaid booking holds its place; 0 confirms at once (free bookings).
    hold_minutes: Mapped[int] = mapped_column(Integer, default=15)
    max_party_size: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # The privacy notice version a booking must agree to (``privacy_notices``); None when there is none. On the row the
    # booking reads anyway, so checking consent costs the booking no query.
    privacy_notice_version: Mapped[int | None] = mapped_column(Integer)


class Resource(TenantScoped, Model):
    """A coach, vehicle, driver, room or hall that a booking occupies for its slot."""

    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("tenant_id", "code"), Index(None, "tenant_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[Any] = mapped_column(JSON)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id", ondelete="SET NULL"))
    # Working hours as a weekly_hours rule's params; null means always available.
    schedule: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StopKind(enum.StrEnum):
    pickup = "pickup"
    dropoff = "dropoff"
    both = "both"


class RouteStop(TenantScoped, Model):
    """A pick-up or drop-off point of a booking type's route (a shuttle line), reached ``minutes_after_departure`` after the trip leaves.

    Merchant-managed data rather than an enum inside the form, so a stop can be
    added, renamed, retimed or withdrawn without publishing a new form version.
    ``position`` orders the route; a drop-off must come after the pick-up.
    """

    __tablename__ = "route_stops"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_type_id", "code"), Index(None, "tenant_id", "booking_type_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(60))
    name: Mapped[Any] = mapped_column(JSON)
    kind: Mapped[StopKind] = mapped_column(string_enum(StopKind, "route_stop_kind"), default=StopKind.both)
    minutes_after_departure: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A withdrawn stop is no longer offered; bookings that chose it keep showing it.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PrivacyNotice(TenantScoped, Model):
    """One version of the privacy notice shown with a booking type's form; versions are never changed, only added.

    ``text`` is localized text as the merchant wrote it; ``None`` marks the version that withdrew the notice,
    so the history says when customers stopped being asked. The booking type's ``privacy_notice_version``
    names the version customers must agree to now (``None``: nothing to agree to).
    """

    __tablename__ = "privacy_notices"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_type_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    text: Mapped[Any | None] = mapped_column(JSON(none_as_null=True))
    # Who published it, as the audit log names them (``staff:7``).
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
