"""The voucher page and its calendar file: who may see them, the QR code the door accepts, the tenant's time zone in the ``.ics``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from icalendar import Calendar
from site_booking_setup import ZONE, hidden_fields, sign_in, slot_at
from tenant_setup import make_booking_type, make_tenant, phone, windows

from yuyue.bookings import checkin
from yuyue.bookings import operations as bookings
from yuyue.bookings.checkin import voucher_qr
from yuyue.bookings.placement import get_booking
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import set_payment_provider
from yuyue.tenancy.models import StaffRole

DAY = datetime.now(ZONE).date() + timedelta(days=2)
AT = slot_at(DAY, 9)


@pytest.fixture
def museum(session):
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00"), capacity=5))
    return tenant


@pytest.fixture
def booked(client, museum) -> str:
    """A guest's booking placed through the form by ``client``; its voucher path."""
    url = f"/t/museum/book/entry/form?at={AT.isoformat().replace('+', '%2B')}"
    hidden = hidden_fields(client.get(url))
    placed = client.post(url, data={**hidden, "answers.name": "Lin", "phone": phone(1), "party_size": "1"})
    assert placed.status_code == 303
    return placed.headers["Location"]


def test_the_voucher_shows_status_time_people_code_and_qr_and_is_never_cached(client, session, museum, booked):
    page = client.get(booked + "?lang=en")
    html = page.get_data(as_text=True)
    public_id = booked.rsplit("/", 1)[1]
    with tenant_scope(museum.id):
        booking = get_booking(session, public_id)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "Confirmed" in html and booking.voucher_code in html and booking.public_id in html
    assert re.search(r'<svg[^>]*class="voucher-qr"', html)
    assert 'href="' + booked + '/calendar.ics"' in html and f'href="/t/museum/bookings/{public_id}/cancel"' in html
    assert 'style="' not in html


def test_the_qr_svg_carries_the_payload_of_the_apis_booking(client, app, session, museum, booked):
    public_id = booked.rsplit("/", 1)[1]
    with tenant_scope(museum.id):
        booking = get_booking(session, public_id)
        payload = voucher_qr(app.config["SECRET_KEY"], museum, booking)
    segno = pytest.importorskip("segno")
    expected = segno.make(payload, error="m", micro=False).svg_inline(
        scale=4, border=4, dark="#000", light="#fff", svgclass="voucher-qr", lineclass=None, omitsize=True
    )
    drawn = re.search(r'<path stroke="#000" d="([^"]+)"', client.get(booked).get_data(as_text=True)).group(1)
    assert drawn in expected


def test_the_qr_payload_checks_in_at_the_merchants_door(client, session, museum, booked, staff_client, monkeypatch):
    public_id = booked.rsplit("/", 1)[1]
    token = staff_client("museum", StaffRole.staff)
    html = client.get(booked).get_data(as_text=True)
    with tenant_scope(museum.id):
        booking = get_booking(session, public_id)
    monkeypatch.setattr(checkin, "utcnow", lambda: AT - timedelta(minutes=5))
    payload = voucher_qr(client.application.config["SECRET_KEY"], museum, booking)
    assert booking.voucher_code in unescape(html)
    admitted = token.post("/api/v1/t/museum/admin/check-ins", json={"qr": payload})
    assert admitted.status_code == 200, admitted.get_data(as_text=True)
    assert admitted.get_json()["booking"]["id"] == public_id


def test_the_calendar_file_parses_and_is_in_the_tenants_time_zone(client, museum, booked):
    response = client.get(booked + "/calendar.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "no-store"
    calendar = Calendar.from_ical(response.data)
    [event] = calendar.walk("VEVENT")
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Shanghai"
    assert event["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert event.decoded("DTSTART") == AT and event.decoded("DTSTART").utcoffset() == timedelta(hours=8)
    assert str(event["UID"]) == booked.rsplit("/", 1)[1]
    assert "Museum" in str(event["SUMMARY"])


def test_another_browser_sees_no_voucher_and_no_calendar(app, museum, booked):
    stranger = app.test_client()
    assert stranger.get(booked).status_code == 404
    assert stranger.get(booked + "/calendar.ics").status_code == 404


def test_an_unknown_booking_looks_exactly_like_someone_elses(app, museum, booked):
    stranger = app.test_client()
    public_id = booked.rsplit("/", 1)[1]
    same_id = {"X-Request-ID": "probe"}  # the pages show their request's id; with one id they must not differ at all
    missing, foreign = stranger.get("/t/museum/bookings/NoSuchBooking123", headers=same_id), stranger.get(booked, headers=same_id)
    assert missing.status_code == foreign.status_code == 404
    assert missing.get_data(as_text=True).replace("NoSuchBooking123", public_id) == foreign.get_data(as_text=True)


def test_the_signed_in_customer_sees_their_booking_on_any_browser(app, session, museum):
    with tenant_scope(museum.id):
        customer = customer_for_phone(session, phone(7))
    booking = bookings.book(session, form_registry(), museum, booking_type_slug="entry", starts_at=AT, phone=phone(7), answers={"name": "Wu"})
    browser = app.test_client()
    assert browser.get(f"/t/museum/bookings/{booking.public_id}").status_code == 404
    sign_in(browser, museum, customer)
    assert browser.get(f"/t/museum/bookings/{booking.public_id}").status_code == 200


def test_a_held_booking_offers_payment_and_no_qr(client, session, museum):
    set_payment_provider(session, museum, "offline")
    make_booking_type(session, museum, "paid", rules=windows(("09:00", "11:00")), price_amount=5000)
    with tenant_scope(museum.id):
        customer = customer_for_phone(session, phone(8))
    booking = bookings.book(session, form_registry(), museum, booking_type_slug="paid", starts_at=AT, phone=phone(8), answers={"name": "Wu"})
    sign_in(client, museum, customer)
    html = client.get(f"/t/museum/bookings/{booking.public_id}?lang=en").get_data(as_text=True)
    assert "Awaiting payment" in html and f'href="/t/museum/bookings/{booking.public_id}/pay"' in html and "<svg" not in html


# --- tenants never see each other ---------------------------------------------------------------------


def test_a_booking_of_another_tenant_is_not_found_under_this_one(app, session, museum, booked):
    make_tenant(session, "gallery")
    public_id = booked.rsplit("/", 1)[1]
    browser = app.test_client()
    # The browser that placed it, asking under another tenant's address.
    assert browser.get(f"/t/gallery/bookings/{public_id}").status_code == 404


def test_the_booking_pages_of_one_tenant_never_show_another_tenants_types(client, session, museum):
    other = make_tenant(session, "gallery")
    make_booking_type(session, other, "secret-show", name={"zh-Hans": "zzb-mark", "en": "zzb-mark"})
    for path in ("/t/museum/", "/t/museum/book/entry/", f"/t/museum/book/entry/form?at={AT.isoformat().replace('+', '%2B')}"):
        assert "zzb-mark" not in client.get(path).get_data(as_text=True)
    assert client.get("/t/museum/book/secret-show/").status_code == 404
    assert client.get(f"/t/museum/book/secret-show/form?at={AT.isoformat().replace('+', '%2B')}").status_code == 404
