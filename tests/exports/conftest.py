"""Export fixtures: a tenant in Berlin (English, a zone with summer time) with a booking type and a booking factory."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from tenant_setup import make_booking_type, windows

from yuyue.bookings import operations as booking_operations
from yuyue.bookings.models import Booking
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

BERLIN = ZoneInfo("Europe/Berlin")
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}


@pytest.fixture
def slot_day() -> date:
    return utcnow().astimezone(BERLIN).date() + timedelta(days=10)


@pytest.fixture
def berlin(session) -> Tenant:
    tenant = create_tenant(session, plugin_host(), slug="berlin", name="Berlin", time_zone="Europe/Berlin", locales=["en"], plugins={"exhibition": {}})
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "10:30"), capacity=100), form=FORM, ui={"order": ["name"], "fields": {}})
    return tenant


@pytest.fixture
def book(session, berlin, slot_day) -> Callable[..., Booking]:
    """``book(n)``: the n-th visitor's booking at 09:00 Berlin time on ``day`` (the slot day by default)."""

    def make(n: int, *, day: date | None = None, name: str | None = None) -> Booking:
        starts_at = datetime.combine(day or slot_day, time(9), BERLIN)
        name = name or f"Visitor {n}"
        return booking_operations.book(
            session, form_registry(), berlin, booking_type_slug="entry", starts_at=starts_at, phone=f"1380000{n:04d}", name=name, answers={"name": name}
        )

    return make
