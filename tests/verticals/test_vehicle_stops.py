"""A shuttle's pick-up and drop-off points are the merchant's data: managed through the merchant API, listed with their times
to customers, checked by the vehicle plugin when a booking names them, and shown on the booking.

Vehicle booking types made by ``offer`` have the route of ``tenant_setup.ROUTE``: south_gate (pick-up, 0 min),
metro_exit_b (both, 10), railway_north (both, 25), airport_t2 (drop-off, 50).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from verticals_setup import CONFIGURED, DEFAULTS, answers, at

from yuyue.audit.models import AuditRecord
from yuyue.catalog.stops import MAX_STOPS
from yuyue.db import tenant_scope
from yuyue.provisioning.operations import get_tenant
from yuyue.tenancy.models import StaffRole

VEHICLE = "vehicle"
STOPS = f"/api/v1/t/{CONFIGURED}/admin/booking-types/{VEHICLE}/stops"
CIVIC_CENTRE = {"zh-Hans": "市民中心", "zh-Hant": "市民中心", "en": "Civic Centre"}


@pytest.fixture
def trips(offer):
    offer(VEHICLE, policies={})


@pytest.fixture
def manager(staff_client, trips):
    return staff_client(CONFIGURED, StaffRole.manager)


def _codes(response) -> list[str]:
    return [stop["code"] for stop in response.get_json()["stops"]]


# --- the merchant's stops -------------------------------------------------------------------


def test_a_manager_adds_a_stop_at_the_end_of_the_route_and_staff_list_it(manager, staff_client):
    response = manager.post(STOPS, json={"code": "civic_centre", "name": CIVIC_CENTRE, "kind": "pickup", "minutes_after_departure": 55})

    assert response.status_code == 201, response.get_json()
    assert response.get_json() | {"created_at": None} == {
        "code": "civic_centre",
        "name": CIVIC_CENTRE,
        "kind": "pickup",
        "minutes_after_departure": 55,
        "position": 4,
        "active": True,
        "created_at": None,
    }
    listed = staff_client(CONFIGURED).get(STOPS)
    assert _codes(listed) == ["south_gate", "metro_exit_b", "railway_north", "airport_t2", "civic_centre"]


def test_a_stop_goes_where_its_position_puts_it(manager):
    manager.post(STOPS, json={"code": "science_park", "name": "Science Park", "position": 1})
    manager.patch(f"{STOPS}/metro_exit_b", json={"position": 2})

    assert _codes(manager.get(STOPS))[:3] == ["south_gate", "science_park", "metro_exit_b"]


def test_plain_staff_may_read_the_stops_but_not_change_them(staff_client, trips, problem):
    front_desk = staff_client(CONFIGURED)

    problem(front_desk.post(STOPS, json={"code": "x", "name": "X"}), 403)
    problem(front_desk.patch(f"{STOPS}/south_gate", json={"name": "X"}), 403)
    problem(front_desk.delete(f"{STOPS}/south_gate"), 403)
    assert front_desk.get(STOPS).status_code == 200


def test_a_code_already_on_the_route_is_a_conflict(manager, problem):
    body = problem(manager.post(STOPS, json={"code": "south_gate", "name": "Again"}), 409, "stop_code_taken")

    assert [error["pointer"] for error in body["errors"]] == ["/code"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"code": "has space", "name": "X"}, "/code"),
        ({"code": "x", "name": {"fr": "Arrêt"}}, "/name/fr"),
        ({"code": "x", "name": "X", "kind": "midway"}, "/kind"),
        ({"code": "x", "name": "X", "minutes_after_departure": 1441}, "/minutes_after_departure"),
        ({"code": "x", "name": "X", "minutes_after_departure": -1}, "/minutes_after_departure"),
        ({"code": "x", "name": "X", "position": 1001}, "/position"),
        ({"name": "X"}, "/code"),
        ({"code": "x", "name": "X", "active": False}, "/active"),
    ],
)
def test_a_stop_that_cannot_be_added_is_pointed_at(manager, problem, body, pointer):
    response = manager.post(STOPS, json=body)

    assert pointer in [error["pointer"] for error in problem(response, 422)["errors"]]


def test_a_change_that_cannot_be_made_is_pointed_at(manager, problem):
    body = problem(manager.patch(f"{STOPS}/south_gate", json={"kind": "nowhere", "code": "renamed"}), 422)

    assert {error["pointer"] for error in body["errors"]} == {"/kind", "/code"}


def test_a_stop_of_an_unknown_route_or_code_is_not_found(manager, problem):
    problem(manager.get(f"/api/v1/t/{CONFIGURED}/admin/booking-types/no-such-type/stops"), 404, "booking_type_not_found")
    problem(manager.patch(f"{STOPS}/no_such_stop", json={"name": "X"}), 404, "stop_not_found")
    problem(manager.delete(f"{STOPS}/no_such_stop"), 404, "stop_not_found")


def test_a_route_takes_up_to_its_most_stops_and_refuses_one_more(manager, problem):
    for n in range(MAX_STOPS - 4):
        assert manager.post(STOPS, json={"code": f"stop-{n}", "name": f"Stop {n}"}).status_code == 201

    problem(manager.post(STOPS, json={"code": "one-more", "name": "One more"}), 409, "too_many_stops")


def test_every_change_to_a_stop_is_audited(manager, session):
    manager.post(STOPS, json={"code": "civic_centre", "name": CIVIC_CENTRE})
    manager.patch(f"{STOPS}/civic_centre", json={"minutes_after_departure": 5})
    manager.delete(f"{STOPS}/civic_centre")

    with tenant_scope(get_tenant(session, CONFIGURED).id):
        records = session.scalars(select(AuditRecord).where(AuditRecord.subject_id == "vehicle/civic_centre").order_by(AuditRecord.seq)).all()
    assert [(r.action, r.data["minutes_after_departure"], r.data["active"]) for r in records] == [
        ("route_stop.created", 0, True),
        ("route_stop.changed", 5, True),
        ("route_stop.withdrawn", 5, False),
    ]
    assert all(r.actor.startswith("staff:") for r in records)


def test_deleting_a_stop_withdraws_it_and_a_patch_brings_it_back(manager, client):
    withdrawn = manager.delete(f"{STOPS}/metro_exit_b")

    assert withdrawn.status_code == 200 and withdrawn.get_json()["active"] is False
    assert "metro_exit_b" in _codes(manager.get(STOPS))
    assert "metro_exit_b" not in _codes(client.get(f"/api/v1/t/{CONFIGURED}/booking-types/{VEHICLE}"))
    manager.patch(f"{STOPS}/metro_exit_b", json={"active": True})
    assert "metro_exit_b" in _codes(client.get(f"/api/v1/t/{CONFIGURED}/booking-types/{VEHICLE}"))


# --- what customers see -----------------------------------------------------------------


def test_the_booking_type_lists_its_active_stops_in_route_order_in_the_readers_language(manager, client):
    manager.post(STOPS, json={"code": "civic_centre", "name": CIVIC_CENTRE, "kind": "pickup", "position": 0})

    detail = client.get(f"/api/v1/t/{CONFIGURED}/booking-types/{VEHICLE}?lang=en").get_json()

    assert detail["stops"][:2] == [
        {"code": "south_gate", "name": "south_gate", "kind": "pickup", "minutes_after_departure": 0},
        {"code": "civic_centre", "name": "Civic Centre", "kind": "pickup", "minutes_after_departure": 0},
    ]
    assert detail["minimum_participants"] is None


def test_availability_says_when_each_trip_reaches_each_stop(trips, client):
    slots = client.get(f"/api/v1/t/{CONFIGURED}/booking-types/{VEHICLE}/availability?from={at(9).date()}&to={at(9).date()}").get_json()["slots"]

    assert slots[0]["stops"] == [
        {"code": "south_gate", "at": at(9).isoformat()},
        {"code": "metro_exit_b", "at": (at(9) + timedelta(minutes=10)).isoformat()},
        {"code": "railway_north", "at": (at(9) + timedelta(minutes=25)).isoformat()},
        {"code": "airport_t2", "at": (at(9) + timedelta(minutes=50)).isoformat()},
    ]


def test_a_booking_type_without_stops_lists_none(offer, client):
    offer("activity")

    slots = client.get(f"/api/v1/t/{CONFIGURED}/booking-types/activity/availability?from={at(9).date()}&to={at(9).date()}").get_json()["slots"]

    assert client.get(f"/api/v1/t/{CONFIGURED}/booking-types/activity").get_json()["stops"] == []
    assert "stops" not in slots[0]


def test_the_booking_shows_the_chosen_stops_with_their_times(trips, customer, booked):
    booking = booked(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, pickup_point="metro_exit_b", dropoff_point="railway_north"), hour=10)

    assert booking["stops"] == [
        {
            "field": "pickup_point",
            "code": "metro_exit_b",
            "name": {"zh-Hans": "metro_exit_b", "en": "metro_exit_b"},
            "kind": "both",
            "at": at(10, 10).isoformat(),
        },
        {
            "field": "dropoff_point",
            "code": "railway_north",
            "name": {"zh-Hans": "railway_north", "en": "railway_north"},
            "kind": "both",
            "at": at(10, 25).isoformat(),
        },
    ]


def test_a_withdrawn_stop_still_shows_on_the_bookings_that_chose_it(manager, customer, booked):
    alice = customer(1)
    booking = booked(alice, CONFIGURED, VEHICLE, answers(VEHICLE, 1, pickup_point="metro_exit_b"))
    manager.delete(f"{STOPS}/metro_exit_b")

    shown = alice.get(f"/api/v1/t/{CONFIGURED}/bookings/{booking['id']}").get_json()

    assert [stop["code"] for stop in shown["stops"]] == ["metro_exit_b", "airport_t2"]


# --- what the vehicle plugin checks ------------------------------------------------------------


def _errors(body) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body["errors"]]


@pytest.mark.parametrize(
    ("pickup", "dropoff", "errors"),
    [
        ("nowhere", "airport_t2", [("/answers/pickup_point", "unknown_stop")]),
        ("south_gate", "nowhere", [("/answers/dropoff_point", "unknown_stop")]),
        ("airport_t2", "railway_north", [("/answers/pickup_point", "unknown_stop")]),
        ("south_gate", "south_gate", [("/answers/dropoff_point", "unknown_stop")]),
        ("railway_north", "metro_exit_b", [("/answers/dropoff_point", "stop_order")]),
        ("metro_exit_b", "metro_exit_b", [("/answers/dropoff_point", "stop_order")]),
    ],
)
def test_a_booking_names_a_pick_up_point_then_a_later_drop_off_point_of_the_route(trips, customer, book, problem, pickup, dropoff, errors):
    response = book(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, pickup_point=pickup, dropoff_point=dropoff))

    assert _errors(problem(response, 422, "validation_failed")) == errors


def test_a_drop_off_one_stop_after_the_pick_up_is_taken(trips, customer, booked):
    booked(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, pickup_point="metro_exit_b", dropoff_point="railway_north"))


def test_a_withdrawn_stop_is_refused_to_new_bookings(manager, customer, book, problem):
    manager.delete(f"{STOPS}/metro_exit_b")

    response = book(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, pickup_point="metro_exit_b"))

    assert _errors(problem(response, 422, "validation_failed")) == [("/answers/pickup_point", "unknown_stop")]


def test_another_tenants_route_is_its_own(manager, customer, book, booked, problem):
    manager.delete(f"{STOPS}/metro_exit_b")

    booked(customer(1, DEFAULTS), DEFAULTS, VEHICLE, answers(VEHICLE, 1, pickup_point="metro_exit_b"))
    problem(book(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, pickup_point="metro_exit_b")), 422, "validation_failed")


def test_seat_and_stop_problems_are_reported_together(trips, set_settings, customer, book, problem):
    set_settings(VEHICLE, max_seats_per_order=2)

    response = book(customer(1), CONFIGURED, VEHICLE, answers(VEHICLE, 1, seats=3, dropoff_point="nowhere"))

    assert _errors(problem(response, 422, "validation_failed")) == [("/answers/seats", "too_many_seats"), ("/answers/dropoff_point", "unknown_stop")]
