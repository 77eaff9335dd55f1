"""Shared set-up values for the customer API tests: the form's labels, names and slot times ahead of the real clock.

The API reads the real clock, so slots lie a week ahead of today in the tenant's zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tenant_setup import NAME_FORM, id_number, phone, windows

ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = datetime.now(ZONE).date() + timedelta(days=7)
NAME = {"zh-Hans": "参观", "zh-Hant": "參觀", "en": "Visit"}
DESCRIPTION = {"zh-Hans": "常设展", "zh-Hant": "常設展", "en": "Permanent exhibition"}

FORM = NAME_FORM
UI = {
    "order": ["name", "note"],
    "fields": {
        "name": {
            "label": {"zh-Hans": "姓名", "zh-Hant": "姓名", "en": "Name"},
            "placeholder": {"zh-Hans": "请输入姓名", "zh-Hant": "請輸入姓名", "en": "Your name"},
        },
        "note": {"label": {"zh-Hans": "备注", "zh-Hant": "備註", "en": "Note"}},
    },
}
ANSWERS = {"name": "Li Lei"}


def at(hour: int, minute: int = 0, day: date = SLOT_DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def iso(hour: int, minute: int = 0, day: date = SLOT_DAY) -> str:
    """A slot start as a client sends it: ISO 8601 with the +08:00 offset."""
    return at(hour, minute, day).isoformat()


def pointers(body: dict) -> set[str]:
    """The JSON pointers a problem document names."""
    return {error["pointer"] for error in body["errors"]}


__all__ = ["ANSWERS", "DESCRIPTION", "FORM", "NAME", "SLOT_DAY", "UI", "ZONE", "at", "id_number", "iso", "phone", "pointers", "windows"]
