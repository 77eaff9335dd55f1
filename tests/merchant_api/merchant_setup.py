"""Constants and helpers shared by the merchant API tests (imported by name: test folders are not packages)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenant_setup import NAME_FORM, NAME_UI
from tenant_setup import windows as shared_windows

from yuyue.types import utcnow

ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = utcnow().astimezone(ZONE).date() + timedelta(days=10)


def at(hour: int, minute: int = 0, day: date = SLOT_DAY) -> datetime:
    """A moment on ``day`` (the slot day by default) in the tenants' zone."""
    return datetime.combine(day, time(hour, minute), ZONE)


def windows(*spans: tuple[str, str], capacity: int = 50) -> list[dict]:
    """Availability rules with 50 places a window unless told otherwise."""
    return shared_windows(*spans, capacity=capacity)


__all__ = ["NAME_FORM", "NAME_UI", "SLOT_DAY", "ZONE", "at", "windows"]
