"""Set-up shared by the booking-operation tests: a fixed slot day and "now" in Shanghai.

Tenants, booking types, coaches and phone numbers come from ``tenant_setup``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenant_setup import NAME_FORM, NAME_UI, make_booking_type, make_coach, make_tenant, phone, windows

ZONE = ZoneInfo("Asia/Shanghai")
# A Wednesday with no holiday near it; "now" is a week earlier so the default windows are open.
SLOT_DAY = date(2026, 12, 9)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZONE)

SIMPLE_FORM, SIMPLE_UI = NAME_FORM, NAME_UI


def at(hour: int, minute: int = 0, day: date = SLOT_DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


__all__ = ["NOW", "SIMPLE_FORM", "SIMPLE_UI", "SLOT_DAY", "ZONE", "at", "make_booking_type", "make_coach", "make_tenant", "phone", "timedelta", "windows"]
