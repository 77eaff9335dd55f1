"""The slot inventory: one row per (booking type, slot start, channel) counting capacity taken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from yuyue.db import Model, TenantScoped
from yuyue.types import UTCDateTime


class SlotInventory(TenantScoped, Model):
    """Created when a slot is first booked; capacity is taken by one conditional UPDATE.

    ``UPDATE … SET taken = taken + :n WHERE id = :id AND taken + :n <= capacity``
    and a row count of 1 is the only way a place is sold (ARCHITECTURE §5).
    """

    __tablename__ = "slot_inventory"
    __table_args__ = (
        UniqueConstraint("tenant_id", "booking_type_id", "starts_at", "channel"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
    )
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "booking_type_id", "starts_at", "channel", "capacity", "taken")

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str] = mapped_column(String(40), default="default")
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    # Why the slot takes no more bookings whatever its capacity (``below_minimum``: an activity session called off); null when open.
    closed_reason: Mapped[str | None] = mapped_column(String(40))
