"""Paying for a held booking on the site (sandbox and offline), and the waitlist: join, see the offer, accept it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from account_setup import SITE, Browser, fresh_booking, make_visit, place, slot
from sqlalchemy import select

from yuyue.bookings import operations as bookings
from yuyue.bookings.models import BookingStatus, WaitlistEntry, WaitlistStatus
from yuyue.db import tenant_scope
from yuyue.payments.models import Payment, PaymentStatus
from yuyue.payments.operations import set_payment_provider

pytestmark = pytest.mark.usefixtures("tenants")


@pytest.fixture
def browser(app) -> Browser:
    """A browser of its own on the site, reading English."""
    return Browser(app)


@pytest.fixture
def held(session, browser):
    """A booking of customer 1 at 20.00, held 15 minutes until paid; the browser is logged in as its customer."""
    make_visit(session, price_amount=2000, hold_minutes=15)
    booking = place(session, 1)
    browser.log_in(1)
    return booking


def payments(session, tenants) -> list[tuple[str, str]]:
    session.commit()
    session.expire_all()
    with tenant_scope(tenants["tenant-a"].id):
        return [(p.reference, p.status.value) for p in session.scalars(select(Payment).order_by(Payment.id))]


def test_pay_page_shows_what_is_due_and_changes_nothing_by_reading(browser, held, session, tenants):
    before = payments(session, tenants)

    response = browser.get(f"{SITE}/bookings/{held.public_id}/pay")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "20.00" in html and "Pay now" in html
    assert payments(session, tenants) == before


def test_sandbox_payment_goes_to_the_providers_page_and_returns_to_a_confirmed_voucher(browser, held, session):
    browser.get(f"{SITE}/bookings/{held.public_id}/pay")

    opened = browser.post(f"{SITE}/bookings/{held.public_id}/pay")

    assert opened.status_code == 303 and re.fullmatch(rf"{SITE}/pay/sandbox/[\w-]+", opened.headers["Location"])
    checkout = browser.page(opened.headers["Location"])
    assert "20.00" in checkout and 'type="submit"' in checkout
    paid = browser.post(opened.headers["Location"])
    assert paid.status_code == 303 and paid.headers["Location"] == f"{SITE}/bookings/{held.public_id}"
    assert fresh_booking(session, "tenant-a", held.public_id).status is BookingStatus.confirmed
    assert "Confirmed" in browser.page(f"{SITE}/me/bookings")
    assert "nothing is due" in browser.page(f"{SITE}/bookings/{held.public_id}/pay")


def test_paying_again_on_the_providers_page_changes_nothing(browser, held, session, tenants):
    browser.get(f"{SITE}/bookings/{held.public_id}/pay")
    checkout = browser.post(f"{SITE}/bookings/{held.public_id}/pay").headers["Location"]
    browser.get(checkout)
    browser.post(checkout)
    browser.get(checkout)

    again = browser.post(checkout)

    assert again.status_code == 409 and "already settled" in again.get_data(as_text=True)
    assert [status for _, status in payments(session, tenants)] == [PaymentStatus.paid.value]


def test_opening_the_payment_twice_goes_on_with_the_one_open(browser, held, session, tenants):
    browser.get(f"{SITE}/bookings/{held.public_id}/pay")
    first = browser.post(f"{SITE}/bookings/{held.public_id}/pay").headers["Location"]
    browser.get(f"{SITE}/bookings/{held.public_id}/pay")

    assert browser.post(f"{SITE}/bookings/{held.public_id}/pay").headers["Location"] == first
    assert len(payments(session, tenants)) == 1


def test_an_offline_payment_shows_the_merchants_instruction(browser, session, tenants):
    set_payment_provider(session, tenants["tenant-a"], "offline", config={"message": {"en": "Pay at the ticket office", "zh-Hans": "请到售票处付款"}})
    session.commit()
    make_visit(session, price_amount=2000, hold_minutes=15)
    booking = place(session, 1)
    browser.log_in(1)
    browser.get(f"{SITE}/bookings/{booking.public_id}/pay")

    response = browser.post(f"{SITE}/bookings/{booking.public_id}/pay")

    assert response.status_code == 200 and "Pay at the ticket office" in response.get_data(as_text=True)
    assert "Pay at the ticket office" in browser.page(f"{SITE}/bookings/{booking.public_id}/pay")


def test_a_booking_whose_hold_ran_out_says_so(browser, held, session, tenants):
    bookings.expire_holds(session, tenants["tenant-a"], now=held.hold_expires_at + timedelta(minutes=1))
    session.commit()

    html = browser.page(f"{SITE}/bookings/{held.public_id}/pay")

    assert "run out" in html and "Pay now" not in html
    assert browser.post(f"{SITE}/bookings/{held.public_id}/pay").status_code == 409


def test_someone_elses_sandbox_page_is_a_404_page(app, browser, held):
    browser.get(f"{SITE}/bookings/{held.public_id}/pay")
    checkout = browser.post(f"{SITE}/bookings/{held.public_id}/pay").headers["Location"]
    stranger = Browser(app)
    stranger.log_in(2)

    assert stranger.get(checkout).status_code == 404
    assert stranger.post(checkout).status_code == 404
    assert stranger.get("/t/tenant-b" + checkout.removeprefix(SITE)).status_code == 404


@pytest.mark.parametrize("reference", ["nope", "x" * 300, "%00", "..%2F"])
def test_hostile_payment_references_are_404_pages(browser, reference):
    assert browser.get(f"{SITE}/pay/sandbox/{reference}").status_code in (404, 400)


# --- the waitlist ------------------------------------------------------------------------------


@pytest.fixture
def full(session):
    """A visit with one place a slot, taken at 09:00 by customer 2."""
    make_visit(session, capacity=1)
    return place(session, 2, starts_at=slot(9))


def join(browser, at: str, **fields):
    browser.get(f"{SITE}/book/visit/waitlist", query_string={"at": at})
    return browser.post(f"{SITE}/book/visit/waitlist", {"at": at, "answers.name": "Li Lei", **fields})


def test_joining_the_waitlist_needs_a_login(browser, full):
    response = browser.get(f"{SITE}/book/visit/waitlist", query_string={"at": slot(9).isoformat()})

    assert response.status_code == 302 and response.headers["Location"].startswith(f"{SITE}/login?next=")


def test_the_waitlist_form_is_the_booking_form_with_labels(browser, full):
    browser.log_in(1)

    html = browser.page(f"{SITE}/book/visit/waitlist?at={slot(9).isoformat().replace('+', '%2B')}")

    ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
    assert ids and ids <= labelled


def test_join_then_the_offer_then_accept_it(browser, full, session, tenants):
    browser.log_in(1)
    joined = join(browser, slot(9).isoformat())
    assert joined.status_code == 303 and joined.headers["Location"] == f"{SITE}/me/waitlist"
    assert "Waiting" in browser.page(f"{SITE}/me/waitlist")

    bookings.cancel(session, tenants["tenant-a"], full.public_id)
    session.commit()
    html = browser.page(f"{SITE}/me/waitlist")
    assert "A place is held for you until" in html
    [entry_id] = re.findall(r"/me/waitlist/(\d+)/accept", html)

    accepted = browser.post(f"{SITE}/me/waitlist/{entry_id}/accept")

    assert accepted.status_code == 303
    public_id = accepted.headers["Location"].removeprefix(f"{SITE}/bookings/")
    assert fresh_booking(session, "tenant-a", public_id).status is BookingStatus.confirmed
    assert public_id in browser.page(f"{SITE}/me/bookings")


def test_form_errors_come_back_inline_keeping_the_slot(browser, full):
    browser.log_in(1)

    response = browser.post(f"{SITE}/book/visit/waitlist", {"at": slot(9).isoformat(), "answers.name": ""})

    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)
    assert f'value="{slot(9).isoformat()}"' in response.get_data(as_text=True)


def test_a_slot_with_free_places_is_booked_not_waited_for(browser, full):
    browser.log_in(1)

    response = join(browser, slot(10).isoformat())

    assert response.status_code == 409


@pytest.mark.parametrize("at", ["", "soon", "2026-12-09T09:00:00", "x" * 100, "0001-01-01T00:00:00+00:00"])
def test_hostile_slot_times_are_4xx_pages(browser, full, at):
    browser.log_in(1)

    assert browser.get(f"{SITE}/book/visit/waitlist", query_string={"at": at}).status_code == 422
    assert browser.post(f"{SITE}/book/visit/waitlist", {"at": at}).status_code == 422


def test_someone_elses_offer_cannot_be_accepted(app, browser, full, session, tenants):
    browser.log_in(1)
    join(browser, slot(9).isoformat())
    bookings.cancel(session, tenants["tenant-a"], full.public_id)
    session.commit()
    with tenant_scope(tenants["tenant-a"].id):
        entry = session.scalars(select(WaitlistEntry)).one()
    stranger = Browser(app)
    stranger.log_in(3)

    assert stranger.post(f"{SITE}/me/waitlist/{entry.id}/accept").status_code == 404
    session.expire_all()
    with tenant_scope(tenants["tenant-a"].id):
        assert session.get(WaitlistEntry, entry.id).status is WaitlistStatus.offered


def test_accepting_needs_the_csrf_token(browser, full):
    browser.log_in(1)

    assert browser.post(f"{SITE}/me/waitlist/1/accept", csrf=False).status_code == 400


def test_accepting_without_a_login_leads_to_the_login_and_back_to_a_page_not_the_form_action(browser, full):
    response = browser.post(f"{SITE}/me/waitlist/1/accept")

    assert response.status_code == 302 and response.headers["Location"] == f"{SITE}/login?next=/t/tenant-a/me/bookings"
