"""The customer erases their own data on the site: a confirmation to tick, what blocks it listed with links, and once
erased, signed out with nothing of theirs left in their account."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from account_setup import SITE, Browser, phone
from sqlalchemy import select
from tenant_setup import make_booking_type, windows

from yuyue.bookings import operations as bookings
from yuyue.customers.models import Customer
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.privacy.models import DataRequest
from yuyue.provisioning.operations import get_tenant
from yuyue.types import utcnow

pytestmark = pytest.mark.usefixtures("tenants")
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture
def browser(app, session) -> Browser:
    """Customer 1's browser, signed in at tenant A, reading English; their name is hostile text."""
    browser = Browser(app)
    browser.log_in(1)
    browser.post(f"{SITE}/me/profile", {"name": HOSTILE})
    return browser


def erased_customers(session) -> list[tuple]:
    session.commit()
    session.expire_all()
    with tenant_scope(get_tenant(session, "tenant-a").id):
        return session.execute(select(Customer.name, Customer.phone).where(Customer.erased_at.is_not(None))).all()


def test_the_profile_links_to_the_erase_page_which_explains_and_asks_to_confirm(browser):
    assert f'href="{SITE}/me/erase"' in browser.page(f"{SITE}/me/profile")

    html = browser.page(f"{SITE}/me/erase")

    assert 'id="erase-confirm"' in html and 'for="erase-confirm"' in html and "cannot be undone" in html
    assert browser.get(f"{SITE}/me/erase").headers["Cache-Control"] == "no-store"


def test_the_erase_page_sends_a_visitor_to_log_in(app):
    response = Browser(app).get(f"{SITE}/me/erase")
    assert response.status_code == 302 and response.headers["Location"] == f"{SITE}/login?next=/t/tenant-a/me/erase"


def test_without_the_box_ticked_nothing_is_erased(browser, session):
    response = browser.post(f"{SITE}/me/erase", {})

    assert response.status_code == 422 and 'id="erase-confirm-error"' in response.get_data(as_text=True)
    assert erased_customers(session) == []


def test_a_form_without_the_csrf_token_erases_nothing(browser, session):
    assert browser.post(f"{SITE}/me/erase", {"confirm": "yes"}, csrf=False).status_code == 400
    assert erased_customers(session) == []


def test_erasing_signs_out_and_leaves_nothing_personal(browser, session):
    response = browser.post(f"{SITE}/me/erase", {"confirm": "yes"})

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "has been erased" in html and "<script>alert(1)" not in html
    assert erased_customers(session) == [(None, None)]
    with tenant_scope(get_tenant(session, "tenant-a").id):
        reference = session.scalar(select(DataRequest.reference).where(DataRequest.kind == "erasure"))
    assert reference in html
    follow = browser.get(f"{SITE}/me/profile")
    assert follow.status_code == 302 and "/login" in follow.headers["Location"]


def test_a_booking_still_to_come_is_listed_with_a_link_and_nothing_is_erased(browser, session, tenants):
    tenant = tenants["tenant-a"]
    make_booking_type(session, tenant, "visit", rules=windows(("09:00", "10:00")))
    zone = ZoneInfo(tenant.time_zone)
    starts_at = datetime.combine((utcnow().astimezone(zone) + timedelta(days=7)).date(), time(9), zone)
    booked = bookings.book(session, form_registry(), tenant, booking_type_slug="visit", starts_at=starts_at, phone=phone(1), answers={"name": "Li Lei"})

    response = browser.post(f"{SITE}/me/erase", {"confirm": "yes"})

    assert response.status_code == 409
    assert f'href="{SITE}/bookings/{booked.public_id}"' in response.get_data(as_text=True)
    assert erased_customers(session) == []
