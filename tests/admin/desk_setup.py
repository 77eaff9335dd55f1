"""What the desk and check-in tests share: tenant-a's and tenant-b's museum (the exhibition vertical's real-name form), bookings of it, and the clock."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import g
from tenant_setup import id_number, make_booking_type, windows

from yuyue.bookings import operations as booking_operations
from yuyue.bookings.models import Booking
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.tenancy.models import Tenant
from yuyue.types import utcnow

ZONE = ZoneInfo("Asia/Shanghai")
SLOT_DAY = utcnow().astimezone(ZONE).date() + timedelta(days=10)
TICKET_TYPES = [
    {"key": "adult", "name": {"zh-Hans": "成人票", "en": "Adult"}, "price_amount": 6000},
    {"key": "child", "name": {"zh-Hans": "儿童票", "en": "Child"}, "price_amount": 3000, "min_age": 6, "max_age": 17},
]
ADULT_ID, CHILD_ID = id_number(date(1990, 5, 1)), id_number(date(2016, 3, 1))


def at(hour: int, minute: int = 0, day: date = SLOT_DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def make_museum(session, tenant: Tenant, *, priced: bool = False) -> None:
    """The ``museum`` booking type: 09:00-11:00 and 14:00-16:00, free unless ``priced`` (adult and child tickets)."""
    declared = plugin_host().verticals["exhibition"]
    options = {"ticket_types": TICKET_TYPES} if priced else {}
    make_booking_type(
        session,
        tenant,
        "museum",
        form=declared.form_schema,
        ui=declared.ui_schema,
        rules=windows(("09:00", "11:00"), ("14:00", "16:00"), capacity=30),
        max_party_size=5,
        **options,
    )


def book_visit(session, tenant: Tenant, phone: str, name: str, *, hour: int = 9, companion: bool = True, tickets=None) -> Booking:
    """A visit to ``museum`` by ``name`` with their ID number (and a child with theirs)."""
    answers = {"visitor_name": name, "id_card": ADULT_ID, "mobile": phone}
    if companion:
        answers["companions"] = [{"name": "王小明", "id_card": CHILD_ID}]
    return booking_operations.book(
        session, form_registry(), tenant, booking_type_slug="museum", starts_at=at(hour), phone=phone, answers=answers, tickets=tickets
    )


def set_clock(monkeypatch, now: datetime) -> None:
    """The operations and the admin's pages read ``now`` as the time."""
    for module in ("yuyue.bookings.operations", "yuyue.bookings.checkin", "yuyue.admin.desk", "yuyue.admin.checkin", "yuyue.payments.operations"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: now)


class SignedIn:
    """An admin client that forgets what the last request cached in ``g`` (Flask-Login's user, Flask-WTF's CSRF token).

    The tests run inside one application context, so ``g`` outlives a request and another
    client's user and token would answer for this one; a test that signs in two users needs this.
    """

    def __init__(self, client) -> None:
        self.client = client

    def get(self, url: str, **kwargs):
        _forget()
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs):
        _forget()
        return self.client.post(url, data, **kwargs)

    def post_without_csrf(self, url: str, data: dict):
        _forget()
        return self.client.client.post(url, data=data)


def sign_in(admin_login, username: str) -> SignedIn:
    """``username`` signed in, reading the pages in English (the tests match English words; zh-Hans is the default)."""
    _forget()
    signed_in = SignedIn(admin_login(username))
    assert signed_in.get("/lang/en").status_code == 302
    return signed_in


def _forget() -> None:
    for cached in ("_login_user", "csrf_token"):
        g.pop(cached, None)
