"""Scheduling fixtures: a tenant with a booking type whose rules a test chooses."""

from __future__ import annotations

import pytest

from yuyue.catalog.models import BookingType
from yuyue.db import tenant_scope, write_transaction


@pytest.fixture
def tenant(make_tenant):
    return make_tenant("museum")


@pytest.fixture
def make_booking_type(session, tenant):
    """``make_booking_type(rules)`` stores a booking type of ``tenant`` with those availability rules."""

    def make(rules: list[dict], slug: str = "entry") -> BookingType:
        with tenant_scope(tenant.id), write_transaction(session):
            booking_type = BookingType(slug=slug, vertical="exhibition", name={"en": slug}, availability_rules=rules)
            session.add(booking_type)
        return booking_type

    return make
