"""Statistics fixtures: the Berlin museum's seeded weekend (``stats_setup``) and a Shanghai tenant's bookings in the same days."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from stats_setup import SUNDAY, Seeder, make_berlin, seed_autumn, seed_spring
from tenant_setup import make_booking_type, windows

from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant


@pytest.fixture
def berlin(app, session):
    tenant = make_berlin(session)
    bookings = {**seed_autumn(session, app, tenant), **seed_spring(session, app, tenant)}
    session.commit()
    return tenant, bookings


@pytest.fixture
def other_tenant(app, session):
    """Tenant ``other`` with its own ``tour`` on the same Sunday: none of it may be counted for Berlin."""
    tenant = create_tenant(session, plugin_host(), slug="other", name="Other", plugins={"exhibition": {}})
    make_booking_type(session, tenant, "tour", rules=windows(("01:00", "02:00"), ("10:00", "11:00"), capacity=7), max_party_size=5)
    seeder = Seeder(session, app, tenant)
    for _ in range(3):
        seeder.book("tour", datetime.combine(SUNDAY, time(10), ZoneInfo("Asia/Shanghai")), party=2)
    return tenant
