"""What the notifying area keeps of its own: the reminders already emitted, so each is emitted once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime, utcnow


class SentReminder(TenantScoped, Model):
    """A reminder emitted for one booking at one offset and one start time; a rescheduled booking's new start gets new reminders."""

    __tablename__ = "sent_reminders"
    __table_args__ = (UniqueConstraint("tenant_id", "booking_id", "offset_key", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    # The reminder rule it answers, e.g. "1440m" or "1d@18:00".
    offset_key: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
