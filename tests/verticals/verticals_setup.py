"""What the vertical settings tests share: tenants, slot times, valid answers for each vertical's own form.

Slots lie on a day a week ahead of the real clock (the customer API reads it),
in the tenants' zone; tests that need "now" near a slot move the clock.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient
from tenant_setup import id_number, phone
from werkzeug.test import TestResponse

ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = datetime.now(ZONE).date() + timedelta(days=7)
ADULT_BORN = date(1990, 5, 1)
CHILD_BORN = SLOT_DAY.replace(year=SLOT_DAY.year - 10)
# tenant-a gets the settings a test sets; tenant-b keeps every plugin's defaults.
CONFIGURED, DEFAULTS = "tenant-a", "tenant-b"
VERTICAL_PLUGINS = ("activity", "course", "exhibition", "scenic", "vehicle")


def at(hour: int, minute: int = 0, day: date = SLOT_DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def post_booking(client: FlaskClient, tenant: str, vertical: str, answers: dict, *, hour: int = 9, day=SLOT_DAY, **fields: Any) -> TestResponse:
    """POST a booking of type ``vertical`` at ``hour`` on ``day``."""
    body = {"booking_type": vertical, "starts_at": at(hour, day=day).isoformat(), "answers": answers, **fields}
    return client.post(f"/api/v1/t/{tenant}/bookings", json=body)


def answers(vertical: str, n: int = 1, **changes: Any) -> dict[str, Any]:
    """Valid answers to ``vertical``'s own form for the n-th customer, with ``changes`` applied."""
    mobile = phone(n)
    base = {
        "activity": {"name": "Li Lei", "mobile": mobile, "attendees": 1},
        "course": {"student_name": "Li Lei", "mobile": mobile, "level": "beginner"},
        "exhibition": {"visitor_name": "Li Lei", "id_card": id_number(ADULT_BORN), "mobile": mobile},
        "scenic": {"visitor_type": "individual", "visitor_name": "Li Lei", "id_card": id_number(ADULT_BORN), "mobile": mobile},
        "vehicle": {"passenger_name": "Li Lei", "mobile": mobile, "pickup_point": "south_gate", "dropoff_point": "airport_t2", "seats": 1},
    }[vertical]
    return {**base, **changes}


def companions(*born: date) -> list[dict[str, str]]:
    """Companions for exhibition and scenic forms, one per birth date, each with a fresh ID number."""
    return [{"name": f"Companion {index}", "id_card": id_number(day)} for index, day in enumerate(born, 1)]


def group(size: int, **changes: Any) -> dict[str, Any]:
    """Scenic answers for a group of ``size`` led by a named leader."""
    return answers("scenic", visitor_type="group", group_size=size, group_leader="Wang Fang", **changes)


def group_of(vertical: str, size: int, n: int = 1, **changes: Any) -> dict[str, Any]:
    """Exhibition or scenic answers for a group of ``size`` whose leader is the n-th customer (the booker's fields are the leader's)."""
    extra = {"group_leader": "Wang Fang"} if vertical == "scenic" else {}
    return answers(vertical, n, visitor_type="group", group_size=size, **extra, **changes)


__all__ = [
    "ADULT_BORN",
    "CHILD_BORN",
    "CONFIGURED",
    "DEFAULTS",
    "SLOT_DAY",
    "VERTICAL_PLUGINS",
    "ZONE",
    "answers",
    "at",
    "companions",
    "group",
    "group_of",
    "post_booking",
]
