"""The site's booking form over HTTP: drawn from the form's schema, posted to the booking operation, problems inline with every value kept."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from site_booking_setup import ZONE, hidden_fields, sign_in, slot_at, unlabelled_controls
from sqlalchemy import func, select
from tenant_setup import id_number, make_booking_type, make_tenant, phone, windows

from yuyue.bookings import operations as bookings
from yuyue.bookings.customer_account import save_companion
from yuyue.bookings.models import Booking
from yuyue.customers.operations import customer_for_phone
from yuyue.db import tenant_scope
from yuyue.forms.registry import form_registry
from yuyue.payments.operations import set_payment_provider

DAY = datetime.now(ZONE).date() + timedelta(days=2)
AT = slot_at(DAY, 9)
FORM = f"/t/museum/book/entry/form?at={AT.isoformat().replace('+', '%2B')}"
PEOPLE_FORM = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "x-field": "text", "x-person": "name", "minLength": 1},
        "id_card": {"type": "string", "x-field": "id_card", "x-person": "id_number", "format": "cn-id-card"},
        "companions": {
            "type": "array",
            "x-field": "person_list",
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "x-field": "text", "x-person": "name", "minLength": 1},
                    "id_card": {"type": "string", "x-field": "id_card", "x-person": "id_number", "format": "cn-id-card"},
                },
                "required": ["name", "id_card"],
            },
        },
    },
    "required": ["name", "id_card"],
}
TICKETS = [
    {"key": "adult", "name": {"zh-Hans": "成人票", "en": "Adult"}, "price_amount": 0},
    {"key": "child", "name": {"zh-Hans": "儿童票", "en": "Child"}, "price_amount": 0, "min_age": 6, "max_age": 17},
]
ADULT = id_number(datetime(1990, 5, 1).date())


@pytest.fixture
def museum(session):
    """``entry``: 09:00 and 11:00 with 2 places, a name and a note; ``family``: tickets and a list of people."""
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00"), ("11:00", "13:00"), capacity=2), max_party_size=2)
    make_booking_type(
        session, tenant, "family", rules=windows(("09:00", "11:00"), capacity=10), form=PEOPLE_FORM, ui=None, ticket_types=TICKETS, max_party_size=5
    )
    return tenant


def open_form(client, url: str = FORM, lang: str = "en"):
    page = client.get(url + f"&lang={lang}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return page, hidden_fields(page)


def post(client, url: str, hidden: dict, **fields):
    return client.post(url, data={**hidden, **fields})


def count_bookings(session, tenant) -> int:
    with tenant_scope(tenant.id):
        return session.scalar(select(func.count(Booking.id)))


def test_the_form_labels_every_control_and_carries_a_key_and_the_csrf_token(client, museum):
    page, hidden = open_form(client)
    html = page.get_data(as_text=True)
    assert {"csrf_token", "form_key", "at"} <= hidden.keys()
    assert 'name="answers.name"' in html and 'name="phone"' in html and 'name="party_size"' in html
    assert unlabelled_controls(html) == []
    assert page.headers["Cache-Control"] == "no-store"


def test_a_guest_books_and_lands_on_the_voucher(client, session, museum):
    _, hidden = open_form(client)
    placed = post(client, FORM, hidden, **{"answers.name": "Lin", "phone": phone(1), "party_size": "1"})
    assert placed.status_code == 303
    voucher = client.get(placed.headers["Location"] + "?lang=en")
    html = voucher.get_data(as_text=True)
    assert voucher.status_code == 200 and "Confirmed" in html and "<svg" in html
    assert count_bookings(session, museum) == 1


def test_problems_show_beside_their_fields_and_every_value_is_kept(client, session, museum):
    _, hidden = open_form(client)
    refused = post(client, FORM, hidden, **{"answers.name": "", "answers.note": "by the window", "phone": "12", "party_size": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="f-answers-name-error"' in html or 'id="f-phone-error"' in html
    assert "by the window" in html and 'value="12"' in html
    assert count_bookings(session, museum) == 0


def test_a_bad_phone_is_shown_at_the_phone_field_and_the_answers_stay(client, session, museum):
    _, hidden = open_form(client)
    refused = post(client, FORM, hidden, **{"answers.name": "Lin", "answers.note": "quiet", "phone": "12", "party_size": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="f-phone-error"' in html and 'aria-invalid="true"' in html
    assert 'value="Lin"' in html and "quiet" in html
    corrected = post(client, FORM, hidden_fields(refused), **{"answers.name": "Lin", "phone": phone(2), "party_size": "1"})
    assert corrected.status_code == 303


def test_a_schema_problem_is_shown_beside_the_merchants_field(client, museum):
    _, hidden = open_form(client)
    refused = post(client, FORM, hidden, **{"answers.name": "", "phone": phone(1), "party_size": "1"})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'id="f-answers-name-error"' in html


def test_a_double_submit_books_once_and_both_land_on_the_same_voucher(client, session, museum):
    _, hidden = open_form(client)
    fields = {"answers.name": "Lin", "phone": phone(1), "party_size": "1"}
    first, second = post(client, FORM, hidden, **fields), post(client, FORM, hidden, **fields)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert count_bookings(session, museum) == 1


def test_a_form_key_this_browser_was_not_given_books_nothing(client, app, session, museum):
    _, hidden = open_form(client)
    other = app.test_client()
    _, other_hidden = open_form(other)
    stolen = post(other, FORM, {**other_hidden, "form_key": hidden["form_key"]}, **{"answers.name": "Lin", "phone": phone(1), "party_size": "1"})
    assert stolen.status_code == 409 and 'value="Lin"' in stolen.get_data(as_text=True)
    assert hidden_fields(stolen)["form_key"] not in (hidden["form_key"], other_hidden["form_key"])
    assert count_bookings(session, museum) == 0


def test_a_full_slot_is_refused_with_a_message_on_the_form(client, session, museum):
    _, hidden = open_form(client)
    for n in (1, 2):
        bookings.book(session, form_registry(), museum, booking_type_slug="entry", starts_at=AT, phone=phone(n), answers={"name": "x"})
    refused = post(client, FORM, hidden, **{"answers.name": "Lin", "answers.note": "kept", "phone": phone(3), "party_size": "1"})
    assert refused.status_code == 409
    assert 'role="alert"' in refused.get_data(as_text=True) and "kept" in refused.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(client, session, museum):
    _, hidden = open_form(client)
    hidden.pop("csrf_token")
    refused = post(client, FORM, hidden, **{"answers.name": "Lin", "phone": phone(1), "party_size": "1"})
    assert refused.status_code == 400
    assert count_bookings(session, museum) == 0


@pytest.mark.parametrize(
    "query",
    ["", "?at=yesterday", "?at=2026-12-09T09:00:00", "?at=" + "9" * 500, "?at=1900-01-01T09:00:00%2B08:00", "?at=2031-01-01T09:17:00%2B08:00"],
)
def test_a_hostile_slot_is_a_4xx_page(client, museum, query):
    page = client.get("/t/museum/book/entry/form" + query)
    assert 400 <= page.status_code < 500 and page.mimetype == "text/html"


def test_an_unknown_channel_is_a_4xx_page(client, museum):
    assert client.get(FORM + "&channel=vip").status_code == 422


def test_hostile_form_values_are_refused_as_problems_not_500(client, museum):
    _, hidden = open_form(client)
    for fields in (
        {"answers.name": "Lin", "party_size": "-3", "phone": phone(1)},
        {"answers.name": "Lin", "party_size": "1", "phone": phone(1), "channel": "x" * 300},
        {"answers.name": "Lin", "party_size": "9" * 40, "phone": phone(1)},
        {"answers.name": "Lin", "party_size": "1", "phone": "\x00" * 30},
        # Digits that str.isdigit() admits and int() refuses, and more digits than int() parses.
        {"answers.name": "Lin", "party_size": "²", "phone": phone(1)},
        {"answers.name": "Lin", "party_size": "9" * 5000, "phone": phone(1)},
    ):
        response = post(client, FORM, hidden, **fields)
        assert 400 <= response.status_code < 500, fields
    # A guest has no saved people: whatever is ticked is ignored, and the booking is placed.
    ignored = post(client, FORM, hidden, **{"answers.name": "Lin", "party_size": "1", "phone": phone(1), "companion": ["²", "9" * 5000]})
    assert ignored.status_code == 303


def test_tickets_are_asked_with_their_prices_and_a_ticket_problem_shows_at_the_tickets(client, museum):
    url = f"/t/museum/book/family/form?at={AT.isoformat().replace('+', '%2B')}"
    page, hidden = open_form(client, url)
    html = page.get_data(as_text=True)
    assert 'name="tickets.adult"' in html and 'name="tickets.child"' in html and 'name="party_size"' not in html
    refused = post(client, url, hidden, **{"answers.name": "Lin", "answers.id_card": ADULT, "tickets.adult": "2", "phone": phone(1)})
    assert refused.status_code == 422
    assert 'id="f-tickets-error"' in refused.get_data(as_text=True)
    assert 'name="tickets.adult" value="2"' in refused.get_data(as_text=True)


def test_a_signed_in_customer_picks_saved_people_and_gives_no_phone(client, session, museum):
    with tenant_scope(museum.id):
        customer = customer_for_phone(session, phone(5))
        child = save_companion(session, customer, "Mei", id_number(DAY.replace(year=DAY.year - 10)))
    sign_in(client, museum, customer)
    url = f"/t/museum/book/family/form?at={AT.isoformat().replace('+', '%2B')}"
    page, hidden = open_form(client, url)
    html = page.get_data(as_text=True)
    assert 'name="phone"' not in html and f'name="companion" value="{child.id}"' in html
    placed = post(
        client, url, hidden, **{"answers.name": "Lin", "answers.id_card": ADULT, "tickets.adult": "1", "tickets.child": "1", "companion": str(child.id)}
    )
    assert placed.status_code == 303, placed.get_data(as_text=True)
    with tenant_scope(museum.id):
        booking = session.scalar(select(Booking))
    assert booking.customer_id == customer.id and [p["name"] for p in booking.answers["companions"]] == ["Mei"]


def test_a_booking_awaiting_payment_goes_to_the_pay_page(client, session, museum):
    set_payment_provider(session, museum, "offline")
    make_booking_type(session, museum, "paid", rules=windows(("09:00", "11:00")), price_amount=5000)
    url = f"/t/museum/book/paid/form?at={AT.isoformat().replace('+', '%2B')}"
    page, hidden = open_form(client, url)
    assert "¥50.00" in page.get_data(as_text=True) or "CN¥50.00" in page.get_data(as_text=True)
    placed = post(client, url, hidden, **{"answers.name": "Lin", "phone": phone(1), "party_size": "1"})
    assert placed.status_code == 303 and placed.headers["Location"].endswith("/pay")


def test_a_party_larger_than_the_type_allows_is_shown_at_the_party_size(client, museum):
    _, hidden = open_form(client)
    refused = post(client, FORM, hidden, **{"answers.name": "Lin", "phone": phone(1), "party_size": "3"})
    assert refused.status_code == 422 and 'id="f-party-size-error"' in refused.get_data(as_text=True)


def test_placing_bookings_is_rate_limited_like_the_api_and_reading_the_form_is_not(make_app, session):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_BOOKING="2/minute", RATELIMIT_STORAGE_URI="memory://")
    with app.app_context():
        tenant = make_tenant(session, "museum")
        make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00")), max_party_size=2)
        browser = app.test_client()
        for _ in range(3):
            page = browser.get(FORM)
            assert page.status_code == 200
        answers = {"answers.name": "", "phone": phone(1), "party_size": "1"}  # refused by the form: nothing is booked
        responses = [browser.post(FORM, data={**hidden_fields(page), **answers}) for _ in range(3)]
        assert [r.status_code for r in responses] == [422, 422, 429]
        assert responses[-1].mimetype == "text/html"
