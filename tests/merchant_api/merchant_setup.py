"""Constants and helpers shared by the merchant API tests (imported by name: test folders are not packages)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from yuyue.types import utcnow

ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = utcnow().astimezone(ZONE).date() + timedelta(days=10)
NAME_FORM = {
    "type": "object",
    "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}, "note": {"type": "string", "x-field": "text"}},
    "required": ["name"],
}
NAME_UI = {"order": ["name", "note"], "fields": {}}
PLUGINS = {"exhibition": {}, "course": {}}


def at(hour: int, minute: int = 0, day: date = SLOT_DAY) -> datetime:
    """A moment on ``day`` (the slot day by default) in the tenants' zone."""
    return datetime.combine(day, time(hour, minute), ZONE)


def windows(*spans: tuple[str, str], capacity: int = 50) -> list[dict]:
    return [{"type": "fixed_windows", "params": {"windows": [{"start": s, "end": e, "capacity": capacity} for s, e in spans]}}]
