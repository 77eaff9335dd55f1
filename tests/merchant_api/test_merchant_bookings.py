"""Bookings through the merchant API: search with filters and cursor pages, one booking, and staff actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from merchant_setup import SLOT_DAY, at

BOOKINGS = "/api/v1/t/tenant-a/admin/bookings"


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [b["id"] for b in response.get_json()["bookings"]]


@pytest.fixture
def entry(make_type):
    return make_type("tenant-a", "entry")


def test_a_booking_shows_its_customer_times_in_the_tenant_zone_and_voucher(front_desk, entry, book):
    booking = book("tenant-a", at(9), "13800000001", name="Li Lei")

    body = front_desk.get(f"{BOOKINGS}/{booking.public_id}").get_json()

    assert (body["id"], body["booking_type"], body["status"]) == (booking.public_id, "entry", "confirmed")
    assert body["starts_at"] == at(9).isoformat() and body["starts_at"].endswith("+08:00")
    assert body["ends_at"] == at(11).isoformat() and body["local_date"] == SLOT_DAY.isoformat()
    assert body["customer"] == {"id": booking.customer_id, "phone": "13800000001", "name": "Li Lei"}
    assert body["voucher_code"] == booking.voucher_code and body["check_in"] is None
    assert body["answers"] == {"name": "Li Lei"} and body["form_version"] == 1


def test_bookings_are_listed_by_slot_start(front_desk, entry, book):
    late = book("tenant-a", at(14), "13800000001")
    early = book("tenant-a", at(9), "13800000002")

    assert ids(front_desk.get(BOOKINGS)) == [early.public_id, late.public_id]


def test_filter_by_date_range_in_the_tenant_zone(front_desk, entry, book):
    first = book("tenant-a", at(9), "13800000001")
    book("tenant-a", at(9, day=SLOT_DAY + timedelta(days=1)), "13800000002")
    third = book("tenant-a", at(9, day=SLOT_DAY + timedelta(days=2)), "13800000003")

    assert ids(front_desk.get(BOOKINGS, query_string={"from": SLOT_DAY.isoformat(), "to": SLOT_DAY.isoformat()})) == [first.public_id]
    assert ids(front_desk.get(BOOKINGS, query_string={"from": (SLOT_DAY + timedelta(days=2)).isoformat()})) == [third.public_id]


def test_filter_by_one_or_several_statuses(front_desk, entry, make_type, book):
    make_type("tenant-a", "paid", price_amount=100)
    confirmed = book("tenant-a", at(9), "13800000001")
    held = book("tenant-a", at(9), "13800000002", booking_type="paid", confirm=False)

    assert ids(front_desk.get(BOOKINGS, query_string={"status": "held"})) == [held.public_id]
    assert set(ids(front_desk.get(BOOKINGS, query_string={"status": "held,confirmed"}))) == {held.public_id, confirmed.public_id}
    assert ids(front_desk.get(BOOKINGS, query_string={"status": "cancelled"})) == []


def test_filter_by_booking_type(front_desk, entry, make_type, book):
    make_type("tenant-a", "tour")
    book("tenant-a", at(9), "13800000001")
    tour = book("tenant-a", at(9), "13800000002", booking_type="tour")

    assert ids(front_desk.get(BOOKINGS, query_string={"booking_type": "tour"})) == [tour.public_id]
    assert ids(front_desk.get(BOOKINGS, query_string={"booking_type": "nothing"})) == []


@pytest.mark.parametrize("query", ["13800000002", "0000002", "han mei", "HAN", "{voucher}", "{voucher_lower}"])
def test_text_matches_phone_name_or_voucher_code(front_desk, entry, book, query):
    book("tenant-a", at(9), "13800000001", name="Li Lei")
    wanted = book("tenant-a", at(9), "13800000002", name="Han Meimei")
    query = query.format(voucher=wanted.voucher_code, voucher_lower=wanted.voucher_code.lower())

    assert ids(front_desk.get(BOOKINGS, query_string={"q": query})) == [wanted.public_id]


def test_text_with_like_wildcards_matches_them_literally(front_desk, entry, book):
    book("tenant-a", at(9), "13800000001", name="Li Lei")

    assert ids(front_desk.get(BOOKINGS, query_string={"q": "%"})) == []
    assert ids(front_desk.get(BOOKINGS, query_string={"q": "L_"})) == []


def test_cursor_pages_cover_every_booking_once_in_order(front_desk, entry, book):
    made = [book("tenant-a", at(hour, minute), f"138000000{n:02d}") for n, (hour, minute) in enumerate([(9, 0), (14, 0)] * 4)]
    expected = [b.public_id for b in sorted(made, key=lambda b: (b.starts_at, b.id))]

    seen, cursor, pages = [], None, 0
    while True:
        body = front_desk.get(BOOKINGS, query_string={"limit": 3, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += [b["id"] for b in body["bookings"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == expected and pages == 3


def test_bookings_made_while_paging_neither_repeat_nor_shift_rows(front_desk, entry, book):
    first_three = [book("tenant-a", at(9), f"1380000000{n}").public_id for n in range(3)]
    later = book("tenant-a", at(14), "13800000009").public_id

    page = front_desk.get(BOOKINGS, query_string={"limit": 2}).get_json()
    early_newcomer = book("tenant-a", at(9), "13800000008").public_id  # sorts after the first page by id
    rest = ids(front_desk.get(BOOKINGS, query_string={"limit": 50, "cursor": page["next_cursor"]}))

    assert [b["id"] for b in page["bookings"]] == first_three[:2]
    assert rest == [first_three[2], early_newcomer, later]


def test_last_page_has_no_cursor(front_desk, entry, book):
    book("tenant-a", at(9), "13800000001")

    assert front_desk.get(BOOKINGS, query_string={"limit": 1}).get_json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "pointer"),
    [
        ({"from": "2026-13-01"}, "/from"),
        ({"to": "tomorrow"}, "/to"),
        ({"from": "2026-12-10", "to": "2026-12-09"}, "/to"),
        ({"status": "confirmed,lost"}, "/status"),
        ({"limit": "0"}, "/limit"),
        ({"limit": "201"}, "/limit"),
        ({"limit": "ten"}, "/limit"),
        ({"limit": "-1"}, "/limit"),
        ({"limit": "²"}, "/limit"),
        ({"cursor": "not-a-cursor"}, "/cursor"),
        ({"cursor": "WyJ4IiwgMV0"}, "/cursor"),
        ({"cursor": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgMTAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMF0"}, "/cursor"),
        ({"cursor": "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgMV0"}, "/cursor"),
        ({"q": "x" * 101}, "/q"),
        ({"date": "2026-12-09"}, "/date"),
    ],
)
def test_bad_query_parameters_are_a_422_pointing_at_them(front_desk, entry, problem, query, pointer):
    body = problem(front_desk.get(BOOKINGS, query_string=query), 422, None)

    assert pointer in {e["pointer"] for e in body["errors"]}


def test_an_unknown_booking_is_not_found(front_desk, tenants, problem):
    problem(front_desk.get(f"{BOOKINGS}/nothing"), 404, "booking_not_found")


def test_staff_confirm_a_held_booking(front_desk, make_type, book):
    make_type("tenant-a", "paid", price_amount=100)
    held = book("tenant-a", at(9), "13800000001", booking_type="paid", confirm=False)

    body = front_desk.post(f"{BOOKINGS}/{held.public_id}/confirm").get_json()

    assert body["status"] == "confirmed" and body["voucher_code"]


def test_confirming_twice_is_harmless(front_desk, entry, book):
    booking = book("tenant-a", at(9), "13800000001")

    assert front_desk.post(f"{BOOKINGS}/{booking.public_id}/confirm").get_json()["voucher_code"] == booking.voucher_code


def test_staff_cancel_past_the_deadline_without_penalty(front_desk, make_type, book, clock):
    make_type("tenant-a", "strict", policies={"cancellation": {"deadline_hours": 24, "late": {"action": "refuse"}}})
    booking = book("tenant-a", at(9), "13800000001", booking_type="strict")
    clock(at(8))

    response = front_desk.post(f"{BOOKINGS}/{booking.public_id}/cancel", json={"reason": "closed for repairs"})

    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["cancel_reason"]) == ("cancelled", "closed for repairs")


def test_cancel_needs_no_body(front_desk, entry, book):
    booking = book("tenant-a", at(9), "13800000001")

    assert front_desk.post(f"{BOOKINGS}/{booking.public_id}/cancel").get_json()["status"] == "cancelled"


def test_cancel_with_an_unknown_field_is_refused(front_desk, entry, book, problem):
    booking = book("tenant-a", at(9), "13800000001")

    problem(front_desk.post(f"{BOOKINGS}/{booking.public_id}/cancel", json={"why": "x"}), 422, "validation_failed")


def test_cancelling_a_cancelled_booking_is_a_conflict(front_desk, entry, book, problem):
    booking = book("tenant-a", at(9), "13800000001")
    front_desk.post(f"{BOOKINGS}/{booking.public_id}/cancel")

    problem(front_desk.post(f"{BOOKINGS}/{booking.public_id}/cancel"), 409, "illegal_transition")


def test_no_show_after_the_slot_started(front_desk, entry, book, clock):
    booking = book("tenant-a", at(9), "13800000001")
    clock(at(10))

    assert front_desk.post(f"{BOOKINGS}/{booking.public_id}/no-show").get_json()["status"] == "no_show"


def test_no_show_before_the_slot_started_is_refused(front_desk, entry, book, problem):
    booking = book("tenant-a", at(9), "13800000001")

    problem(front_desk.post(f"{BOOKINGS}/{booking.public_id}/no-show"), 409, "slot_not_started")
