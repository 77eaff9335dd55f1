"""Tenant isolation of the account pages, generated from the URL map.

Tenant B holds one object of every kind an account page names: a booking type, a held booking with its
open sandbox payment, a waitlist entry with an open offer and a saved companion, all of the customer whose phone also
logs in at tenant A. Logged in at tenant A, that customer calls every account route with an id, under
tenant A's URL with tenant B's ids, with each of its methods: a 404 page every time, and tenant B's
rows exactly as they were. The routes without ids show tenant A's own objects and none of tenant B's.
A new account route fails here until it joins :data:`ACCOUNT_ENDPOINTS`.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from account_setup import SITE, Browser, make_visit, phone, place, slot
from sqlalchemy import select
from tenant_setup import id_number

from yuyue.bookings import customer_account, waitlist
from yuyue.bookings import operations as bookings
from yuyue.bookings.models import Booking, WaitlistEntry
from yuyue.customers import operations as customers
from yuyue.customers.models import Companion
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.payments.models import Payment
from yuyue.payments.operations import payment_instructions
from yuyue.site.base import site

ACCOUNT_ENDPOINTS = {
    "login",
    "login_code",
    "logout",
    "my_bookings",
    "cancel_booking",
    "reschedule_booking",
    "pay_booking",
    "sandbox_checkout",
    "join_waitlist",
    "my_waitlist",
    "accept_offer",
    "my_points",
    "my_profile",
    "my_companions",
    "edit_companion",
    "remove_companion",
    "my_data",
}
WITH_IDS = {"cancel_booking", "reschedule_booking", "pay_booking", "sandbox_checkout", "join_waitlist", "accept_offer", "edit_companion", "remove_companion"}
PERSONAL_LISTS = ("/me/bookings", "/me/waitlist", "/me/points", "/me/profile", "/me/companions", "/me/data")


def account_rules(app) -> list:
    return [r for r in app.url_map.iter_rules() if r.endpoint.removeprefix(f"{site.name}.") in ACCOUNT_ENDPOINTS and r.endpoint.startswith(f"{site.name}.")]


def test_every_account_route_is_in_the_matrix(app):
    assert {r.endpoint.removeprefix("site.") for r in account_rules(app)} == ACCOUNT_ENDPOINTS


@pytest.fixture
def tenant_b(session, tenants):
    """Tenant B's objects (a held booking and its sandbox payment, an offered waitlist entry) of customer 1, and their ids by path argument."""
    b = tenants["tenant-b"]
    make_visit(session, "tenant-b", capacity=1, price_amount=1500, hold_minutes=15)
    held = place(session, 1, tenant_slug="tenant-b", starts_at=slot(10))
    reference = payment_instructions(session, held)["reference"]
    taken = place(session, 2, tenant_slug="tenant-b", starts_at=slot(9))
    entry = waitlist.join(session, form_registry(), b, booking_type_slug="visit", starts_at=slot(9), phone=phone(1), answers={"name": "B"})
    bookings.cancel(session, b, taken.public_id)
    with tenant_scope(b.id):
        companion = customer_account.save_companion(session, customers.customer_for_phone(session, phone(1)), "Bee Companion", id_number(date(2010, 5, 1), 7))
    session.commit()
    return {
        "public_id": held.public_id,
        "reference": reference,
        "entry_id": str(entry.id),
        "companion_id": str(companion.id),
        "companion": "Bee Companion",
        "type_slug": "visit",
        "tenant": b,
    }


def rows_of(session, tenant) -> list:
    session.commit()
    session.expire_all()
    with tenant_scope(tenant.id):
        return [
            [(r.public_id, r.status, r.starts_at) for r in session.scalars(select(Booking).order_by(Booking.id))],
            [(r.reference, r.status) for r in session.scalars(select(Payment).order_by(Payment.id))],
            [(r.id, r.status, r.booking_id) for r in session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id))],
            [(r.id, r.name, r.id_number) for r in session.scalars(select(Companion).order_by(Companion.id))],
        ]


def test_tenant_b_ids_under_tenant_a_are_404_pages_and_change_nothing(app, session, tenant_b):
    before = rows_of(session, tenant_b["tenant"])
    browser = Browser(app)
    browser.log_in(1, site="/t/tenant-b")
    browser.log_in(1)
    called = []
    for rule in account_rules(app):
        if rule.endpoint.removeprefix("site.") not in WITH_IDS:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "tenant-a" if m.group(1) == "tenant_slug" else tenant_b[m.group(1)], rule.rule)
        query = {"at": slot(9).isoformat()} if "waitlist" in path else {}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if method == "GET":
                response = browser.get(path, query_string=query)
            else:
                response = browser.post(
                    path,
                    {
                        "at": slot(9).isoformat(),
                        "answers.name": "A",
                        "starts_at": slot(9).isoformat(),
                        "name": "A",
                        "id_number": id_number(date(2011, 1, 1), 8),
                    },
                )
            called.append((path, method))
            assert response.status_code == 404, (path, method, response.status_code)
    assert len(called) == 14
    assert rows_of(session, tenant_b["tenant"]) == before


@pytest.mark.parametrize("path", PERSONAL_LISTS)
def test_the_personal_lists_show_none_of_tenant_bs_objects(app, session, tenant_b, path):
    browser = Browser(app)
    browser.log_in(1)

    html = browser.page(f"{SITE}{path}")

    assert tenant_b["public_id"] not in html and f"/me/waitlist/{tenant_b['entry_id']}/" not in html
    assert tenant_b["companion"] not in html and f"/me/companions/{tenant_b['companion_id']}" not in html
