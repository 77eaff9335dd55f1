"""The slot inventory: one row per (booking type, slot start, channel) counting capacity taken, and one per capped local day and scope."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
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


class DayInventory(TenantScoped, Model):
    """Places of one local day under a ``daily_cap`` rule: the whole day (scope ``*``) or one channel's day.

    A booking takes its places here and from its slot's row in one transaction,
    each by a conditional UPDATE; ``taken`` is always the sum of what the day's
    slot rows in the scope have taken (a row is created with that sum).
    """

    __tablename__ = "day_inventory"
    __table_args__ = (
        UniqueConstraint("tenant_id", "booking_type_id", "local_date", "scope"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
    )
    # The columns `yuyue audit verify` vouches for (yuyue.audit.state): what decides money, capacity or who may book.
    __audited__ = ("id", "booking_type_id", "local_date", "scope", "capacity", "taken")

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_type_id: Mapped[int] = mapped_column(ForeignKey("booking_types.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    # ``*`` for every channel of the day, else a channel's name.
    scope: Mapped[str] = mapped_column(String(40))
    capacity: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
