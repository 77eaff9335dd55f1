"""Scheduling fixtures: a tenant with a booking type whose rules a test chooses."""

from __future__ import annotations

import pytest

from yuyue.catalog.models import BookingType
from yuyue.db import tenant_scope, write_transaction
from yuyue.plugins import plugin_host
from yuyue.tenancy import operations


@pytest.fixture
def tenant(app, session):
    return operations.create_tenant(session, plugin_host(app), slug="museum", name="Museum")


@pytest.fixture
def make_booking_type(session, tenant):
    """``make_booking_type(rules)`` stores a booking type of ``tenant`` with those availability rules."""

    def make(rules: list[dict], slug: str = "entry") -> BookingType:
        with tenant_scope(tenant.id), write_transaction(session):
            booking_type = BookingType(slug=slug, vertical="exhibition", name={"en": slug}, availability_rules=rules)
            session.add(booking_type)
        return booking_type

    return make
