"""Set-up shared by the payment and job tests: a museum selling priced timed entries a week ahead.

Times are relative to the real clock, because the callback endpoint settles
notifications at the time they arrive. The ``tenant`` and ``entry`` fixtures are
imported by the conftests of both folders.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import tenant_setup
from sqlalchemy import func, select

from yuyue.bookings import operations as ops
from yuyue.bookings.models import Booking
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.payments.models import Payment, Refund
from yuyue.scheduling.models import SlotInventory
from yuyue.types import utcnow

ZONE = ZoneInfo("Asia/Shanghai")
PRICE = 2000
FORM = {"type": "object", "properties": {"name": {"type": "string", "x-field": "text", "minLength": 1}}, "required": ["name"]}
UI = {"order": ["name"], "fields": {}}


def slot_start(days_ahead: int = 7, hour: int = 9) -> datetime:
    day = (utcnow().astimezone(ZONE) + timedelta(days=days_ahead)).date()
    return datetime.combine(day, time(hour), ZONE)


def make_tenant(session, slug: str = "museum"):
    """A tenant with the exhibition plugin only."""
    return tenant_setup.make_tenant(session, slug, plugins=("exhibition",))


def make_priced_type(session, tenant, slug: str = "entry", *, price: int = PRICE, hold_minutes: int = 15, capacity: int = 20, policies=None):
    return tenant_setup.make_booking_type(
        session,
        tenant,
        slug,
        name={"en": "Visit"},
        rules=tenant_setup.windows(("09:00", "11:00"), capacity=capacity),
        policies=policies,
        form=FORM,
        ui=UI,
        price_amount=price,
        hold_minutes=hold_minutes,
    )


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def entry(session, tenant):
    return make_priced_type(session, tenant)


def book(session, tenant, n: int, *, slug: str = "entry", now: datetime | None = None, starts_at: datetime | None = None) -> Booking:
    return ops.book(
        session,
        form_registry(),
        tenant,
        booking_type_slug=slug,
        starts_at=starts_at or slot_start(),
        phone=f"138{n:08d}",
        answers={"name": f"Visitor {n}"},
        now=now,
    )


def fresh(session, tenant, model, **where):
    """Rows of ``model`` read from the database, not the identity map."""
    session.commit()  # a read transaction left open would show an old snapshot
    with tenant_scope(tenant.id):
        query = select(model).filter_by(**where).order_by(model.id).execution_options(populate_existing=True)
        return session.scalars(query).all()


def booking_state(session, tenant, booking: Booking) -> tuple[str, list[str], list[tuple[int, str, str]]]:
    """(booking status, its payments' statuses, its refunds as (amount, status, reason)), as committed."""
    session.commit()
    with tenant_scope(tenant.id):
        status = session.scalar(select(Booking.status).where(Booking.id == booking.id))
        payments = session.scalars(select(Payment).where(Payment.booking_id == booking.id).order_by(Payment.id).execution_options(populate_existing=True)).all()
        refunds = session.scalars(
            select(Refund).where(Refund.payment_id.in_([p.id for p in payments])).order_by(Refund.id).execution_options(populate_existing=True)
        ).all()
    return status.value, [p.status.value for p in payments], [(r.amount, r.status.value, r.reason) for r in refunds]


def taken(session, tenant) -> int:
    session.commit()
    with tenant_scope(tenant.id):
        return session.scalar(select(func.coalesce(func.sum(SlotInventory.taken), 0)).execution_options(populate_existing=True))


__all__ = ["PRICE", "ZONE", "book", "booking_state", "fresh", "make_priced_type", "make_tenant", "slot_start", "taken", "timedelta", "utcnow"]
