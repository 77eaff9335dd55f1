"""The site's booking pages over HTTP: the front page's cards, a booking type's days and slot states, and hostile queries."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from site_booking_setup import ZONE, slot_at
from tenant_setup import make_booking_type, make_coach, make_tenant, phone, windows

from yuyue.bookings import operations as bookings
from yuyue.forms.registry import form_registry

TODAY = datetime.now(ZONE).date()
DAY = TODAY + timedelta(days=2)


@pytest.fixture
def museum(session):
    """Tenant ``museum``: booking type ``entry`` with two slots a day (09:00 and 11:00) of 2 places."""
    tenant = make_tenant(session, "museum")
    make_booking_type(session, tenant, "entry", rules=windows(("09:00", "11:00"), ("11:00", "13:00"), capacity=2))
    return tenant


def slot_sections(html: str) -> list[str]:
    """The day page's slots, each as its HTML."""
    return html.split('<section class="card slot')[1:]


def book(session, tenant, starts_at, n: int = 1, slug: str = "entry", **request) -> None:
    bookings.book(
        session,
        form_registry(),
        tenant,
        booking_type_slug=slug,
        starts_at=starts_at,
        phone=phone(n),
        answers=request.pop("answers", {"name": f"G{n}"}),
        **request,
    )


def test_front_page_lists_each_active_booking_type_with_its_next_slot(client, museum):
    page = client.get("/t/museum/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'href="/t/museum/book/entry/"' in html
    # The exhibition card's entry times of the first day in reach: today's left (11:00 once 09:00 has begun) or the next day's.
    assert re.search(r'class="entry-time-at">(09|11):00<', html)


def test_front_page_class_card_names_the_coach_its_next_class_holds(client, session, museum):
    make_coach(session, museum, "coach-li")
    make_booking_type(
        session,
        museum,
        "yoga",
        vertical="course",
        name={"zh-Hans": "瑜伽", "en": "Yoga"},
        rules=windows(("18:00", "19:00")),
        resource_requirements=[{"kind": "coach", "count": 1, "per": "slot"}],
    )
    html = client.get("/t/museum/?lang=en").get_data(as_text=True)
    card = html[html.index("Yoga") :]
    assert "Coach Li" in card


def test_day_strip_marks_the_chosen_day_and_links_the_others(client, museum):
    html = client.get(f"/t/museum/book/entry/?day={DAY}").get_data(as_text=True)
    assert f'href="/t/museum/book/entry/?day={DAY}" aria-current="date"' in html
    assert f'href="/t/museum/book/entry/?day={TODAY}"' in html
    assert html.count('aria-current="date"') == 1


def test_a_slot_with_places_links_to_its_form_with_the_places_left(client, session, museum):
    book(session, museum, slot_at(DAY, 9))
    html = client.get(f"/t/museum/book/entry/?day={DAY}&lang=en").get_data(as_text=True)
    assert "Places left: 1" in html
    assert "/t/museum/book/entry/form?at=" + slot_at(DAY, 9).isoformat().replace("+", "%2B") in html


def test_a_full_slot_is_sold_out_without_a_form_link(client, session, museum):
    book(session, museum, slot_at(DAY, 9), 1)
    book(session, museum, slot_at(DAY, 9), 2)
    html = client.get(f"/t/museum/book/entry/?day={DAY}&lang=en").get_data(as_text=True)
    nine, eleven = slot_sections(html)
    assert "Places left: 2" in eleven
    assert "Sold out" in nine and "form?at=" not in nine


def test_slots_not_yet_released_say_when_booking_opens(client, session, museum):
    rules = [*windows(("09:00", "11:00")), {"type": "booking_window", "params": {"opens_days_ahead": 3, "release_time": "08:00", "closes_minutes_before": 0}}]
    make_booking_type(session, museum, "later", rules=rules)
    far = TODAY + timedelta(days=10)
    html = client.get(f"/t/museum/book/later/?day={far}&lang=en").get_data(as_text=True)
    assert "Not yet open: booking opens" in html
    assert "form?at=" not in html


def test_slots_past_the_booking_deadline_are_closed_with_the_reason(client, session, museum):
    rules = [
        *windows(("09:00", "11:00")),
        {"type": "booking_window", "params": {"opens_days_ahead": 30, "release_time": "00:00", "closes_minutes_before": 5 * 24 * 60}},
    ]
    make_booking_type(session, museum, "deadline", rules=rules)
    html = client.get(f"/t/museum/book/deadline/?day={DAY}&lang=en").get_data(as_text=True)
    assert "Closed: booking is closed for this time" in html


def test_slots_without_a_free_coach_are_closed_for_that_reason(client, session, museum):
    make_booking_type(
        session,
        museum,
        "private",
        vertical="course",
        rules=windows(("18:00", "19:00")),
        resource_requirements=[{"kind": "coach", "count": 1, "per": "booking"}],
    )
    html = client.get(f"/t/museum/book/private/?day={DAY}&lang=en").get_data(as_text=True)
    assert "Closed: no staff, vehicle or room is free at this time" in html


def test_a_shuttle_slot_lists_its_stops_with_their_times(client, session):
    tenant = make_tenant(session, "buses", plugins=("vehicle",))
    make_booking_type(session, tenant, "shuttle", vertical="vehicle", rules=windows(("07:30", "08:30")), form={"type": "object", "properties": {}}, ui={})
    html = client.get(f"/t/buses/book/shuttle/?day={DAY}").get_data(as_text=True)
    assert "07:30" in html and "07:40" in html and "metro_exit_b" in html and "08:20" in html


@pytest.mark.parametrize(
    "day", ["2026-13-01", "tomorrow", "0000-00-00", "1900-01-01", "9999-12-31", "x" * 5000, "2026-1-1", "%00", "../../etc", "\u202e2026-01-01"]
)
def test_a_hostile_day_is_a_404_page(client, museum, day):
    page = client.get("/t/museum/book/entry/", query_string={"day": day})
    assert page.status_code == 404
    assert page.mimetype == "text/html"


def test_a_past_day_is_a_404_page(client, museum):
    assert client.get(f"/t/museum/book/entry/?day={TODAY - timedelta(days=1)}").status_code == 404


def test_an_unknown_or_inactive_booking_type_is_a_404_page(client, museum):
    assert client.get("/t/museum/book/nothing-here/").status_code == 404


def test_pages_carry_the_site_security_headers(client, museum):
    page = client.get("/t/museum/book/entry/")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script>" not in page.get_data(as_text=True) and 'style="' not in page.get_data(as_text=True)


@pytest.mark.parametrize(("lang", "words"), [("zh_Hans", ("选择日期", "剩余名额：2", "预约")), ("zh_Hant", ("選擇日期", "剩餘名額：2", "預約"))])
def test_the_day_page_reads_in_the_chosen_language(client, museum, lang, words):
    html = client.get(f"/t/museum/book/entry/?day={DAY}&lang={lang}").get_data(as_text=True)
    for word in words:
        assert word in html
    assert "Places left" not in html and "Choose a day" not in html
