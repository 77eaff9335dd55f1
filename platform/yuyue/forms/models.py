"""Form versions: editing a form adds a version; bookings keep the one they were validated against.

A draft is the form a merchant is still building: one per booking type, never read by a booking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime, utcnow


class FormVersion(TenantScoped, Model):
    __tablename__ = "form_versions"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_type_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    # The form as authored (dialect JSON Schema with x-field keys) and its UI schema.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    ui: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FormDraft(TenantScoped, Model):
    """The next version of a booking type's form while the merchant builds it: kept across reloads, unseen by customers.

    It may be incomplete or invalid; publishing checks it and adds a :class:`FormVersion`.
    """

    __tablename__ = "form_drafts"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_type_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    # The version the draft started from: publishing warns if another version was published since.
    based_on: Mapped[int] = mapped_column(Integer)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    ui: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
