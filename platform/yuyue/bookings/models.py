"""Bookings, the people on them, the resources they hold, waitlist entries, check-ins, and sessions decided against their minimum."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from yuyue.catalog.models import BookingType


class BookingStatus(enum.StrEnum):
    held = "held"
    confirmed = "confirmed"
    checked_in = "checked_in"
    completed = "completed"
    cancelled = "cancelled"
    expired = "expired"
    no_show = "no_show"


# Statuses that occupy capacity and count towards quotas.
ACTIVE_STATUSES = (BookingStatus.held, BookingStatus.confirmed, BookingStatus.checked_in, BookingStatus.completed)


class Booking(TenantScoped, Model):
    __tablename__ = "bookings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "public_id"),
        UniqueConstraint("tenant_id", "voucher_code"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        Index(None, "tenant_id", "booking_type_id", "starts_at"),
        Index(None, "tenant_id", "customer_id", "local_date"),
        Index(None, "tenant_id", "status", "hold_expires_at"),
    )
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = (
        "id",
        "public_id",
        "booking_type_id",
        "customer_id",
        "inventory_id",
        "starts_at",
        "ends_at",
        "channel",
        "party_size",
        "status",
        "price_amount",
        "currency",
        "voucher_code",
        "released_at",
        "counts_as_no_show",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32))
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="RESTRICT"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    inventory_id: Mapped[int] = mapped_column(ForeignKey("slot_inventory.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The slot's date in the tenant's zone: what "per day" quotas count by.
    local_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(40), default="default")
    party_size: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[BookingStatus] = mapped_column(string_enum(BookingStatus, "booking_status"))
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    form_version: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    price_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Places asked for per ticket type ({"adult": 2, "child": 1}); empty when the booking type sells none.
    tickets: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # The quote as charged: [{"key", "label", "unit_amount", "quantity", "amount", "proof"}]; price_amount is their total.
    price_lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    voucher_code: Mapped[str | None] = mapped_column(String(20))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    reschedule_count: Mapped[int] = mapped_column(Integer, default=0)
    # Kept with the booking that was just placed, so answering with its slug costs no query.
    booking_type: Mapped[BookingType] = relationship(lazy="select")
    # Set once when capacity and resources go back; guards against releasing twice.
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counts_as_no_show: Mapped[bool] = mapped_column(Boolean, default=False)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class BookingPerson(TenantScoped, Model):
    """Someone a booking admits: the booker and companions, or a member of a group's name list, with what identity quotas count."""

    __tablename__ = "booking_persons"
    __table_args__ = (
        Index(None, "tenant_id", "booking_id"),
        Index(None, "tenant_id", "id_number", "local_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(100))
    id_number: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(20))
    birth_date: Mapped[date | None] = mapped_column(Date)
    is_minor: Mapped[bool] = mapped_column(Boolean, default=False)
    local_date: Mapped[date] = mapped_column(Date)
    # From the group's uploaded name list (replaced as a whole), not from the booking's form.
    on_name_list: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ResourceAllocation(TenantScoped, Model):
    """One resource held for one time quantum, by a slot (a coach for a group class) or by one booking.

    Intervals are cut into fixed quanta (``scheduling.inventory.QUANTUM``); the
    unique key on (resource, quantum) makes double allocation impossible on
    SQLite and PostgreSQL alike, inside the booking's transaction.
    """

    __tablename__ = "resource_allocations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "resource_id", "quantum_start"),
        Index(None, "tenant_id", "booking_id"),
        Index(None, "tenant_id", "inventory_id"),
        CheckConstraint("(booking_id IS NULL) <> (inventory_id IS NULL)", name="held_by_slot_or_booking"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="RESTRICT"))
    inventory_id: Mapped[int | None] = mapped_column(ForeignKey("slot_inventory.id", ondelete="CASCADE"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    quantum_start: Mapped[datetime] = mapped_column(UTCDateTime())


class WaitlistStatus(enum.StrEnum):
    waiting = "waiting"
    offered = "offered"
    accepted = "accepted"
    expired = "expired"
    cancelled = "cancelled"


class WaitlistEntry(TenantScoped, Model):
    __tablename__ = "waitlist_entries"
    __table_args__ = (Index(None, "tenant_id", "booking_type_id", "starts_at", "channel", "status"),)
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "booking_type_id", "customer_id", "starts_at", "channel", "party_size", "status", "booking_id")

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(40), default="default")
    party_size: Mapped[int] = mapped_column(Integer, default=1)
    # Confirm at once when a place frees, instead of offering it.
    auto_confirm: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The people the validated form named, so a place can be booked without the form registry.
    people: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The ticket types asked for, so the place offered is booked with the same tickets.
    tickets: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    status: Mapped[WaitlistStatus] = mapped_column(string_enum(WaitlistStatus, "waitlist_status"), default=WaitlistStatus.waiting)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckIn(TenantScoped, Model):
    """A redemption (核销): who checked the booking in, when, where, and how."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    place: Mapped[str | None] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SessionOutcome(enum.StrEnum):
    confirmed = "confirmed"
    # Called off below its minimum: the slot is closed and every booking of it cancelled.
    cancelled = "cancelled"


class SessionDecision(TenantScoped, Model):
    """A session (a booking type's slot) decided once against its minimum participants, when its decision time passed.

    A cancelled session's ``finished_at`` is set when its last booking was
    cancelled; until then a rerun of the job goes on cancelling (a worker killed
    half-way finishes on its next run). A confirmed one is finished when decided.
    """

    __tablename__ = "session_decisions"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_type_id", "starts_at"), Index(None, "tenant_id", "finished_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[SessionOutcome] = mapped_column(string_enum(SessionOutcome, "session_outcome"))
    participants: Mapped[int] = mapped_column(Integer)
    minimum: Mapped[int] = mapped_column(Integer)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CheckInOutcome(enum.StrEnum):
    accepted = "accepted"
    refused = "refused"


class CheckInAttempt(TenantScoped, Model):
    """One scan or typed code at the door, admitted or not: the day's redemption log (核销记录).

    Written by :func:`yuyue.bookings.checkin.check_in` for the API and the admin alike; a refusal
    is written after the refused transaction rolled back. Only the code's last characters are kept,
    so the log does not hand out working vouchers.
    """

    __tablename__ = "check_in_attempts"
    __table_args__ = (Index(None, "tenant_id", "local_date", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The day in the tenant's zone when the attempt was made: the log is read by day.
    local_date: Mapped[date] = mapped_column(Date)
    outcome: Mapped[CheckInOutcome] = mapped_column(string_enum(CheckInOutcome, "check_in_outcome"))
    # Why it was refused (``already_checked_in``, ``wrong_tenant``, ``voucher_not_found``, …); None when accepted.
    reason: Mapped[str | None] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(20))
    masked_code: Mapped[str | None] = mapped_column(String(20))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("ab_user.id", ondelete="SET NULL"))
    place: Mapped[str | None] = mapped_column(String(100))


class ConsentChannel(enum.StrEnum):
    api = "api"
    site = "site"


class Consent(TenantScoped, Model):
    """A customer's agreement to one version of a booking type's privacy notice, given when they booked (or joined its waitlist).

    It holds ids, a version and a time, no personal value, so erasing the customer leaves it as evidence of
    what was agreed. A waitlist entry's consent gets its booking when the entry's place is booked.
    """

    __tablename__ = "consents"
    __table_args__ = (
        Index(None, "tenant_id", "booking_type_id", "notice_version", "id"),
        Index(None, "tenant_id", "customer_id", "id"),
        Index(None, "tenant_id", "booking_id"),
        Index(None, "tenant_id", "waitlist_entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    notice_version: Mapped[int] = mapped_column(Integer)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    waitlist_entry_id: Mapped[int | None] = mapped_column(ForeignKey("waitlist_entries.id", ondelete="SET NULL"))
    channel: Mapped[ConsentChannel] = mapped_column(string_enum(ConsentChannel, "consent_channel"))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FeedbackKind(enum.StrEnum):
    # A rating of one booking that is over, with an optional comment and the resource that served it.
    review = "review"
    # A comment not tied to a booking.
    feedback = "feedback"


class Feedback(TenantScoped, Model):
    """What a customer tells the merchant, a review or general feedback, and what staff did about it (a reply, hiding, handling).

    One table for both kinds, so the merchant's inbox is one keyset-paged list. A review names its booking
    (one review per booking: the unique key), the booking's type (so ratings are grouped without a join) and
    at most one resource that served the booking. Staff actions keep who (an actor as the audit log writes
    it) and when; hiding keeps its reason. Texts are stored exactly as given.
    """

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("tenant_id", "booking_id"),
        Index(None, "tenant_id", "customer_id"),
        Index(None, "tenant_id", "booking_type_id"),
        Index(None, "tenant_id", "resource_id"),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[FeedbackKind] = mapped_column(string_enum(FeedbackKind, "feedback_kind"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="RESTRICT"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"))
    booking_type_id: Mapped[int | None] = mapped_column(ForeignKey("booking_types.id", ondelete="RESTRICT"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="RESTRICT"))
    rating: Mapped[int | None] = mapped_column(Integer)
    # General feedback's topic, one of ``yuyue.bookings.reviews.CATEGORIES``.
    category: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reply: Mapped[str | None] = mapped_column(String(1000))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    replied_by: Mapped[str | None] = mapped_column(String(60))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_reason: Mapped[str | None] = mapped_column(String(200))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hidden_by: Mapped[str | None] = mapped_column(String(60))
    handled: Mapped[bool] = mapped_column(Boolean, default=False)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_by: Mapped[str | None] = mapped_column(String(60))
