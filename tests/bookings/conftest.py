"""Booking factories: a tenant, booking types, customers, bookings with their people, bans, ID numbers.

Each factory writes its rows in a transaction of its own as ``tenant``; pass
``tenant=`` to write for another one. Rows are inserted directly with the
models, bypassing the booking operations, so a test can set up any history.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from tenant_setup import id_number

from yuyue.bookings.models import Booking, BookingPerson, BookingStatus
from yuyue.catalog.models import BookingType
from yuyue.customers.models import Ban, BanSubject, Customer
from yuyue.db import tenant_scope, write_transaction
from yuyue.scheduling.models import SlotInventory
from yuyue.tenancy.models import Tenant

try:
    from yuyue.forms.people import Person
except ImportError:  # until forms/people.py lands

    @dataclass(frozen=True)
    class Person:
        name: str | None
        id_number: str | None
        phone: str | None
        birth_date: date | None


_serial = itertools.count(1)  # customers' phone numbers


@pytest.fixture
def new_id_number():
    """The :func:`id_number` maker: ``new_id_number(date(2010, 5, 1))``."""
    return id_number


@pytest.fixture
def tenant(make_tenant) -> Tenant:
    return make_tenant("museum")


@pytest.fixture
def in_tenant(tenant):
    """Run the test body as ``tenant``, as an operation would."""
    with tenant_scope(tenant.id):
        yield tenant


@pytest.fixture
def make_person():
    """``make_person("Li", born=date(2010, 5, 1))``: someone with a valid ID number carrying that birth date."""

    def make(
        name: str = "Visitor", *, born: date | None = date(1990, 1, 1), phone: str | None = None, with_id: bool = True, birth_date: date | None = None
    ) -> Person:
        return Person(name, id_number(born) if with_id and born else None, phone, birth_date)

    return make


@pytest.fixture
def make_booking_type(session, tenant):
    def make(
        *, policies: dict[str, Any] | None = None, vertical: str = "exhibition", slug: str | None = None, for_tenant: Tenant | None = None, **fields
    ) -> BookingType:
        with tenant_scope((for_tenant or tenant).id), write_transaction(session):
            booking_type = BookingType(
                slug=slug or f"type-{uuid.uuid4().hex[:8]}",
                vertical=vertical,
                name={"en": "Timed entry"},
                policies=policies or {},
                **fields,
            )
            session.add(booking_type)
        return booking_type

    return make


@pytest.fixture
def make_customer(session, tenant):
    def make(phone: str | None = None, *, name: str | None = None, for_tenant: Tenant | None = None) -> Customer:
        with tenant_scope((for_tenant or tenant).id), write_transaction(session):
            customer = Customer(phone=phone or f"139{next(_serial):08d}", name=name)
            session.add(customer)
        return customer

    return make


@pytest.fixture
def make_booking(session, tenant):
    """``make_booking(booking_type, customer, local_date=…, people=[person, …], status=…)``.

    The slot starts at 10:00 UTC on ``local_date`` unless ``starts_at`` is given;
    its inventory row is created on first use.
    """

    def make(
        booking_type: BookingType,
        customer: Customer,
        *,
        local_date: date = date(2025, 5, 1),
        starts_at: datetime | None = None,
        people: list[Any] = (),
        party_size: int | None = None,
        status: BookingStatus = BookingStatus.confirmed,
        for_tenant: Tenant | None = None,
        **fields,
    ) -> Booking:
        starts_at = starts_at or datetime.combine(local_date, datetime.min.time(), UTC).replace(hour=10)
        ends_at = starts_at + timedelta(hours=2)
        with tenant_scope((for_tenant or tenant).id), write_transaction(session):
            inventory = session.scalar(
                select(SlotInventory).where(
                    SlotInventory.booking_type_id == booking_type.id, SlotInventory.starts_at == starts_at, SlotInventory.channel == "default"
                )
            )
            if inventory is None:
                inventory = SlotInventory(booking_type_id=booking_type.id, starts_at=starts_at, ends_at=ends_at, capacity=1000, taken=0)
                session.add(inventory)
                session.flush()
            size = party_size if party_size is not None else max(len(people), 1)
            inventory.taken += size
            booking = Booking(
                public_id=uuid.uuid4().hex,
                booking_type_id=booking_type.id,
                customer_id=customer.id,
                inventory_id=inventory.id,
                starts_at=starts_at,
                ends_at=ends_at,
                local_date=local_date,
                party_size=size,
                status=status,
                form_version=1,
                answers={},
                **fields,
            )
            session.add(booking)
            session.flush()
            session.add_all(
                BookingPerson(
                    booking_id=booking.id,
                    name=person.name,
                    id_number=person.id_number,
                    phone=person.phone,
                    birth_date=person.birth_date,
                    local_date=local_date,
                )
                for person in people
            )
        return booking

    return make


@pytest.fixture
def make_ban(session, tenant):
    def make(
        subject_kind: BanSubject, subject: str, *, starts_at: datetime, ends_at: datetime, reason: str = "no-shows", for_tenant: Tenant | None = None
    ) -> Ban:
        with tenant_scope((for_tenant or tenant).id), write_transaction(session):
            ban = Ban(subject_kind=subject_kind, subject=subject, starts_at=starts_at, ends_at=ends_at, reason=reason)
            session.add(ban)
        return ban

    return make
