"""A seeded data set with known answers, made through the booking, check-in and payment operations.

Tenant ``berlin`` (Europe/Berlin) sells ``tour`` (free; 01:00, 02:00, 03:00 and 10:00, ten
places each) and ``guided`` (10:00, ten places, adult 50.00 / child 20.00 tickets) on Saturday
2026-10-24 and Sunday 2026-10-25, the day the clocks go back (03:00 CEST is 02:00 CET), and on
Sunday 2026-03-29, the day they go forward (02:00 CET is 03:00 CEST, so there is no 02:00 slot).
Each booking is placed a week before its slot, as a customer would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from tenant_setup import make_booking_type, windows

from yuyue.bookings import operations as ops
from yuyue.bookings.checkin import check_in
from yuyue.bookings.models import Booking
from yuyue.bookings.placement import Actor
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import record_offline_payment, set_payment_provider
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import create_tenant
from yuyue.tenancy.models import Tenant

BERLIN = ZoneInfo("Europe/Berlin")
SATURDAY, SUNDAY = date(2026, 10, 24), date(2026, 10, 25)
SPRING_SUNDAY = date(2026, 3, 29)
STAFF = Actor("staff", "test")
TICKETS = [
    {"key": "adult", "name": {"zh-Hans": "成人", "en": "Adult"}, "price_amount": 5000},
    {"key": "child", "name": {"zh-Hans": "儿童", "en": "Child"}, "price_amount": 2000},
]


def local(day: date, hour: int) -> datetime:
    """The wall-clock hour on ``day`` in Berlin (the first pass of a repeated hour), in UTC.

    In UTC because Python never finds a time of a repeated hour equal to one of another zone (PEP 495).
    """
    return datetime.combine(day, time(hour), BERLIN).astimezone(UTC)


@dataclass
class Seeded:
    tenant: Tenant
    bookings: dict[str, Booking]


class Seeder:
    def __init__(self, session, app, tenant: Tenant) -> None:
        self.session, self.app, self.tenant = session, app, tenant
        self.serial = 0

    def book(self, slug: str, starts_at: datetime, *, party: int = 1, tickets: dict[str, int] | None = None, confirm: bool = True) -> Booking:
        self.serial += 1
        booking = ops.book(
            self.session,
            form_registry(),
            self.tenant,
            booking_type_slug=slug,
            starts_at=starts_at,
            phone=f"1390000{self.serial:04d}",
            answers={"name": f"Visitor {self.serial}"},
            party_size=party,
            tickets=tickets,
            now=starts_at - timedelta(days=7),
        )
        if confirm and booking.price_amount == 0 and booking.voucher_code is None:
            booking = ops.confirm(self.session, self.tenant, booking.public_id, now=starts_at - timedelta(days=7))
        return booking

    def pay(self, booking: Booking) -> Booking:
        record_offline_payment(
            self.session, self.tenant, booking.public_id, actor=STAFF, now=booking.starts_at - timedelta(days=7, minutes=-5)
        )  # within the hold
        return self.refreshed(booking)

    def check_in(self, booking: Booking) -> None:
        booking = self.refreshed(booking)
        check_in(self.session, self.tenant, secret_key=self.app.config["SECRET_KEY"], code=booking.voucher_code, now=booking.starts_at - timedelta(minutes=10))

    def no_show(self, booking: Booking) -> None:
        ops.mark_no_show(self.session, self.tenant, booking.public_id, now=booking.starts_at + timedelta(hours=1), actor=STAFF)

    def cancel(self, booking: Booking) -> None:
        ops.cancel(self.session, self.tenant, booking.public_id, now=booking.starts_at - timedelta(days=2), actor=STAFF, by_staff=True)

    def refreshed(self, booking: Booking) -> Booking:
        """The booking as committed (paying confirms it and gives it a voucher)."""
        self.session.commit()
        with tenant_scope(self.tenant.id):
            return self.session.scalar(select(Booking).where(Booking.public_id == booking.public_id).execution_options(populate_existing=True))


def make_berlin(session, slug: str = "berlin") -> Tenant:
    tenant = create_tenant(session, plugin_host(), slug=slug, name="Berlin Museum", time_zone="Europe/Berlin", plugins={"exhibition": {}})
    set_payment_provider(session, tenant, "offline")  # paid at the counter
    make_booking_type(
        session,
        tenant,
        "tour",
        name={"zh-Hans": "导览", "en": "Tour"},
        rules=windows(("01:00", "02:00"), ("02:00", "03:00"), ("03:00", "04:00"), ("10:00", "11:00"), capacity=10),
        max_party_size=5,
    )
    make_booking_type(
        session,
        tenant,
        "guided",
        name={"zh-Hans": "讲解", "en": "Guided"},
        rules=windows(("10:00", "11:00"), capacity=10),
        max_party_size=5,
        ticket_types=TICKETS,
    )
    return tenant


def seed_autumn(session, app, tenant: Tenant) -> dict[str, Booking]:
    """The bookings of the autumn weekend; the comments give what each adds to the figures."""
    seeder = Seeder(session, app, tenant)
    made = {
        "sun01": seeder.book("tour", local(SUNDAY, 1), party=2),  # checked in: Sunday 01 (23:00 UTC on Saturday)
        "sun02": seeder.book("tour", local(SUNDAY, 2)),  # no-show: Sunday 02, the first pass (00:00 UTC)
        "sun03": seeder.book("tour", local(SUNDAY, 3), party=3),  # checked in: Sunday 03 CET (02:00 UTC), the busiest slot
        "sun03_cancelled": seeder.book("tour", local(SUNDAY, 3)),  # cancelled
        "sat10": seeder.book("tour", local(SATURDAY, 10)),  # confirmed, attendance never recorded
        "guided_sat": seeder.book("guided", local(SATURDAY, 10), tickets={"adult": 1}),  # paid 50.00, cancelled: refunded 50.00
        "guided_sun": seeder.book("guided", local(SUNDAY, 10), party=3, tickets={"adult": 2, "child": 1}),  # paid 120.00, checked in
        "guided_expired": seeder.book("guided", local(SUNDAY, 10), tickets={"adult": 1}),  # a hold never paid: expired
    }
    seeder.check_in(made["sun01"])
    seeder.no_show(made["sun02"])
    seeder.check_in(made["sun03"])
    seeder.cancel(made["sun03_cancelled"])
    seeder.pay(made["guided_sat"])
    seeder.cancel(made["guided_sat"])
    seeder.pay(made["guided_sun"])
    seeder.check_in(made["guided_sun"])
    ops.expire_holds(session, tenant, now=local(SUNDAY, 9))
    return made


def seed_spring(session, app, tenant: Tenant) -> dict[str, Booking]:
    seeder = Seeder(session, app, tenant)
    return {
        "spring01": seeder.book("tour", local(SPRING_SUNDAY, 1)),  # 00:00 UTC: Sunday 01 CET
        "spring03": seeder.book("tour", local(SPRING_SUNDAY, 3), party=2),  # 01:00 UTC: Sunday 03 CEST, an hour of real time later
    }
