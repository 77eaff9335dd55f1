"""Merchant API fixtures: staff clients by role, booking types, coaches, and bookings made through the booking operations.

``tenants``, ``staff_client``, ``operator`` and ``problem`` come from the root conftest.

Slots lie ten days ahead of the real clock, so holds made now are still open
when a test confirms them over HTTP; tests that need "now" on the slot's day
(check-in, no-show) move the operations' clock with ``clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask.testing import FlaskClient
from merchant_setup import windows
from tenant_setup import make_booking_type
from tenant_setup import make_coach as create_coach

from yuyue.bookings import operations as booking_operations
from yuyue.bookings.models import Booking
from yuyue.catalog.models import Resource
from yuyue.forms.registry import form_registry
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import StaffRole, Tenant


@pytest.fixture
def manager(tenants, staff_client) -> FlaskClient:
    return staff_client("tenant-a", StaffRole.manager)


@pytest.fixture
def front_desk(tenants, staff_client) -> FlaskClient:
    """A tenant-a token with the plain staff role."""
    return staff_client("tenant-a")


@pytest.fixture
def manager_b(tenants, staff_client) -> FlaskClient:
    return staff_client("tenant-b", StaffRole.manager)


@pytest.fixture
def tenant_of(session, tenants) -> Callable[[str], Tenant]:
    return lambda slug: get_tenant(session, slug)


@pytest.fixture
def make_type(session, tenant_of) -> Callable[..., object]:
    """``make_type("tenant-a", "entry", price_amount=100)``: a timed-entry booking type with a name-only form."""

    def make(tenant_slug: str, slug: str = "entry", *, rules=None, **options):
        return make_booking_type(session, tenant_of(tenant_slug), slug, rules=rules or windows(("09:00", "11:00"), ("14:00", "16:00")), **options)

    return make


@pytest.fixture
def make_coach(session, tenant_of) -> Callable[..., Resource]:
    """``make_coach("tenant-b", "coach-wang")``: a coach resource of that tenant."""

    def make(tenant_slug: str, code: str = "coach-li") -> Resource:
        return create_coach(session, tenant_of(tenant_slug), code)

    return make


@pytest.fixture
def book(session, tenant_of) -> Callable[..., Booking]:
    """``book("tenant-a", at(9), "13800000001", name="Li")``: a booking of type ``entry``, confirmed unless ``confirm=False``."""

    def make(tenant_slug: str, starts_at: datetime, phone: str, *, name: str = "Visitor", booking_type: str = "entry", confirm: bool = True, **options):
        tenant = tenant_of(tenant_slug)
        booking = booking_operations.book(
            session, form_registry(), tenant, booking_type_slug=booking_type, starts_at=starts_at, phone=phone, name=name, answers={"name": name}, **options
        )
        if confirm and booking.voucher_code is None:
            booking = booking_operations.confirm(session, tenant, booking.public_id)
        return booking

    return make


@pytest.fixture
def clock(monkeypatch) -> Callable[[datetime], None]:
    """``clock(at(9))``: the booking and check-in operations read this as "now"."""

    def set_now(now: datetime) -> None:
        monkeypatch.setattr("yuyue.bookings.operations.utcnow", lambda: now)
        monkeypatch.setattr("yuyue.bookings.checkin.utcnow", lambda: now)

    return set_now
