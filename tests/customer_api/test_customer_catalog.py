"""Booking types and their availability, as customers see them: localized, active only, slots in the tenant's zone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from customer_api_setup import SLOT_DAY, iso, pointers

from yuyue.catalog.operations import update_booking_type
from yuyue.forms.registry import form_registry
from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import reinstate_tenant, suspend_tenant
from yuyue.scheduling.registry import current_registry

A = "/api/v1/t/tenant-a"


@pytest.mark.parametrize(
    ("headers", "query", "name", "label"),
    [
        # No language asked for: the tenant's first locale (the test client asks for English unless told otherwise).
        ({"Accept-Language": ""}, "", "参观", "姓名"),
        ({"Accept-Language": "zh-TW,zh;q=0.8"}, "", "參觀", "姓名"),
        ({"Accept-Language": "en-US,en;q=0.9"}, "", "Visit", "Name"),
        ({"Accept-Language": "en"}, "?lang=zh-Hant", "參觀", "姓名"),
        ({}, "?lang=en", "Visit", "Name"),
    ],
)
def test_booking_types_are_listed_and_shown_in_the_callers_language(client, entry, headers, query, name, label):
    listed = client.get(f"{A}/booking-types{query}", headers=headers)
    shown = client.get(f"{A}/booking-types/entry{query}", headers=headers)

    assert listed.status_code == shown.status_code == 200
    assert [t["name"] for t in listed.get_json()["booking_types"]] == [name]
    assert shown.get_json()["name"] == name
    assert shown.get_json()["ui_schema"]["fields"]["name"]["label"] == label


def test_listing_shows_what_a_customer_chooses_by(client, make_type):
    make_type(price_amount=3000, max_party_size=4)

    (listed,) = client.get(f"{A}/booking-types?lang=en").get_json()["booking_types"]

    assert listed == {
        "slug": "entry",
        "vertical": "exhibition",
        "name": "Visit",
        "description": "Permanent exhibition",
        "price_amount": 3000,
        "currency": "CNY",
        "max_party_size": 4,
    }


def test_a_missing_translation_falls_back_to_simplified_chinese(client, make_type):
    make_type(name={"zh-Hans": "参观"})

    assert client.get(f"{A}/booking-types?lang=en").get_json()["booking_types"][0]["name"] == "参观"


def test_archived_and_draft_booking_types_are_not_offered(client, session, make_type, tenants):
    make_type("open")
    make_type("old")
    update_booking_type(session, plugin_host(), form_registry(), current_registry(), tenants["tenant-a"], "old", status="archived")

    assert [t["slug"] for t in client.get(f"{A}/booking-types").get_json()["booking_types"]] == ["open"]
    assert client.get(f"{A}/booking-types/old").status_code == 404


def test_detail_carries_the_compiled_form_its_version_rules_and_policies(client, make_type):
    make_type(policies={"cancellation": {"deadline_hours": 24}})

    detail = client.get(f"{A}/booking-types/entry").get_json()

    assert detail["form_version"] == 1
    assert detail["form_schema"]["required"] == ["name"]
    assert detail["form_schema"]["properties"]["name"]["type"] == "string"
    assert detail["ui_schema"]["order"] == ["name", "note"]
    assert detail["availability_rules"][0]["type"] == "fixed_windows"
    assert detail["policies"] == {"cancellation": {"deadline_hours": 24}}
    assert detail["time_zone"] == "Asia/Shanghai"


def test_an_unsupported_language_is_a_422(client, entry, problem):
    assert pointers(problem(client.get(f"{A}/booking-types?lang=fr"), 422)) == {"/lang"}


def test_unknown_booking_type_is_a_404(client, entry, problem):
    problem(client.get(f"{A}/booking-types/nothing"), 404, "booking_type_not_found")


def test_availability_lists_each_slot_with_offsets_in_the_tenant_zone(client, entry):
    response = client.get(f"{A}/booking-types/entry/availability?from={SLOT_DAY}&to={SLOT_DAY}")

    assert response.status_code == 200
    body = response.get_json()
    assert body["time_zone"] == "Asia/Shanghai"
    assert [(s["starts_at"], s["ends_at"]) for s in body["slots"]] == [(iso(9), iso(10)), (iso(10), iso(11))]
    assert all(s["starts_at"].endswith("+08:00") for s in body["slots"])
    assert body["slots"][0] | {"label": None} == {
        "starts_at": iso(9),
        "ends_at": iso(10),
        "local_date": SLOT_DAY.isoformat(),
        "channel": "default",
        "capacity": 20,
        "remaining": 20,
        "bookable": True,
        "reason": None,
        "opens_at": None,
        "label": None,
    }


def test_availability_counts_places_taken(client, entry, book, alice):
    book(alice, party_size=1)

    slots = client.get(f"{A}/booking-types/entry/availability?from={SLOT_DAY}&to={SLOT_DAY}").get_json()["slots"]

    assert [s["remaining"] for s in slots] == [19, 20]


def test_a_full_slot_is_shown_as_not_bookable(client, make_type, book, alice):
    make_type(capacity=1)
    book(alice)

    first = client.get(f"{A}/booking-types/entry/availability?from={SLOT_DAY}&to={SLOT_DAY}").get_json()["slots"][0]

    assert (first["remaining"], first["bookable"], first["reason"]) == (0, False, "sold_out")


def test_availability_spans_62_days(client, entry):
    last = SLOT_DAY + timedelta(days=61)

    slots = client.get(f"{A}/booking-types/entry/availability?from={SLOT_DAY}&to={last}").get_json()["slots"]

    assert len(slots) == 62 * 2


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"/from", "/to"}),
        (f"from={SLOT_DAY}", {"/to"}),
        (f"to={SLOT_DAY}", {"/from"}),
        (f"from=tomorrow&to={SLOT_DAY}", {"/from"}),
        (f"from={SLOT_DAY}&to=2026-02-30", {"/to"}),
        (f"from={SLOT_DAY:%Y%m%d}&to={SLOT_DAY}", {"/from"}),
        (f"from={SLOT_DAY}&to={SLOT_DAY - timedelta(days=1)}", {"/to"}),
        (f"from={SLOT_DAY}&to={SLOT_DAY + timedelta(days=62)}", {"/to"}),
        # Outside the years 2000-2999: the ends of the calendar overflow, old dates have seconds in their UTC offset.
        ("from=9999-12-31&to=9999-12-31", {"/from", "/to"}),
        ("from=0001-01-01&to=0001-01-02", {"/from", "/to"}),
        ("from=1999-12-31&to=2000-01-01", {"/from"}),
    ],
)
def test_a_bad_or_too_long_availability_window_is_a_422(client, entry, problem, query, expected):
    body = problem(client.get(f"{A}/booking-types/entry/availability?{query}"), 422, "validation_failed")

    assert pointers(body) == expected


def test_a_suspended_tenant_answers_403(client, session, entry, problem, booking_request):
    suspend_tenant(session, "tenant-a")

    problem(client.get(f"{A}/booking-types"), 403, "tenant_suspended")
    problem(client.post(f"{A}/bookings", json=booking_request(phone="13800000009")), 403, "tenant_suspended")


def test_a_reinstated_tenant_takes_bookings_again(client, session, entry, problem, booking_request):
    suspend_tenant(session, "tenant-a")
    problem(client.post(f"{A}/bookings", json=booking_request(phone="13800000009")), 403, "tenant_suspended")
    reinstate_tenant(session, "tenant-a")

    assert client.get(f"{A}/booking-types").status_code == 200
    assert client.post(f"{A}/bookings", json=booking_request(phone="13800000009")).status_code == 201


def test_an_unknown_tenant_answers_404(client, problem):
    problem(client.get("/api/v1/t/nobody/booking-types"), 404)
