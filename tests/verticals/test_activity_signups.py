"""One sign-up per mobile number and per ID number per event session, on by default; a merchant may relax either for its tenant."""

from __future__ import annotations

import threading

import pytest
from tenant_setup import id_number, make_booking_type, phone, windows
from verticals_setup import ADULT_BORN, CONFIGURED, DEFAULTS, answers, post_booking

from yuyue.plugins import plugin_host
from yuyue.provisioning.operations import get_tenant

ACTIVITY = "activity"


@pytest.fixture
def sessions(offer):
    offer(ACTIVITY)


@pytest.fixture
def with_id_numbers(session, set_settings):
    """Booking type ``activity-id``: the event form with an ID card field the merchant added, in both tenants."""
    declared = plugin_host().verticals[ACTIVITY]
    form = {**declared.form_schema, "properties": {**declared.form_schema["properties"], "id_card": {"x-field": "id_card", "x-person": "id_number"}}}
    ui = {**declared.ui_schema, "order": [*declared.ui_schema["order"], "id_card"]}
    for slug in (CONFIGURED, DEFAULTS):
        make_booking_type(session, get_tenant(session, slug), "activity-id", vertical=ACTIVITY, rules=windows(("09:00", "10:00")), form=form, ui=ui)


def _errors(body) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body["errors"]]


def test_a_second_sign_up_of_one_phone_for_a_session_is_refused(sessions, client, booked, book, problem):
    booked(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1))

    body = problem(book(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1)), 409, "already_signed_up")

    assert _errors(body) == [("/phone", "already_signed_up")]


def test_the_same_phone_may_sign_up_for_another_session(sessions, client, booked):
    booked(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1))

    booked(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1), hour=10)


def test_a_phone_named_on_another_sign_up_counts(sessions, client, booked, book, problem):
    booked(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1, mobile=phone(2)), phone=phone(1))

    body = problem(book(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 2), phone=phone(2)), 409, "already_signed_up")

    assert _errors(body) == [("/phone", "already_signed_up")]


def test_naming_a_phone_already_signed_up_points_at_the_answer(sessions, client, booked, book, problem):
    booked(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1))

    body = problem(book(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 3, mobile=phone(1)), phone=phone(3)), 409, "already_signed_up")

    assert _errors(body) == [("/answers/mobile", "already_signed_up")]


def test_a_cancelled_sign_up_frees_the_phone(sessions, customer, booked):
    alice = customer(1)
    first = booked(alice, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1))
    assert alice.post(f"/api/v1/t/{CONFIGURED}/bookings/{first['id']}/cancel", json={}).status_code == 200

    booked(alice, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1))


def test_a_tenant_that_allows_several_sign_ups_per_phone_takes_them_and_the_other_tenant_does_not(sessions, set_settings, client, booked, book, problem):
    set_settings(ACTIVITY, one_signup_per_phone=False)
    for _ in range(2):
        booked(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1))

    booked(client, DEFAULTS, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1))
    problem(book(client, DEFAULTS, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1)), 409, "already_signed_up")


def test_a_second_sign_up_of_one_id_number_for_a_session_is_refused(with_id_numbers, client, booked, book, problem):
    card = id_number(ADULT_BORN)
    booked(client, CONFIGURED, "activity-id", answers(ACTIVITY, 1, id_card=card), phone=phone(1))

    body = problem(book(client, CONFIGURED, "activity-id", answers(ACTIVITY, 2, id_card=card), phone=phone(2)), 409, "already_signed_up")

    assert _errors(body) == [("/answers/id_card", "already_signed_up")]


def test_a_tenant_may_allow_an_id_number_to_sign_up_again(with_id_numbers, set_settings, client, booked, book, problem):
    set_settings(ACTIVITY, one_signup_per_id_number=False)
    card = id_number(ADULT_BORN)
    booked(client, CONFIGURED, "activity-id", answers(ACTIVITY, 1, id_card=card), phone=phone(1))
    booked(client, CONFIGURED, "activity-id", answers(ACTIVITY, 2, id_card=card), phone=phone(2))

    booked(client, DEFAULTS, "activity-id", answers(ACTIVITY, 1, id_card=card), phone=phone(1))
    problem(book(client, DEFAULTS, "activity-id", answers(ACTIVITY, 2, id_card=card), phone=phone(2)), 409, "already_signed_up")


def test_moving_a_sign_up_within_its_own_phone_is_not_a_second_one(sessions, customer, booked):
    alice = customer(1)
    booking = booked(alice, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1))

    response = alice.post(f"/api/v1/t/{CONFIGURED}/bookings/{booking['id']}/reschedule", json={"starts_at": booking["starts_at"].replace("T09", "T10")})

    assert response.status_code == 200, response.get_json()


def test_concurrent_sign_ups_of_one_phone_for_a_session_let_one_through(app, sessions, client, booked):
    booked(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1), hour=11)  # the account exists: nothing else serialises them
    attempts = 4
    start = threading.Barrier(attempts)
    statuses = []

    def attempt():
        client = app.test_client()
        start.wait()
        statuses.append(post_booking(client, CONFIGURED, ACTIVITY, answers(ACTIVITY, 1), phone=phone(1)).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * (attempts - 1)
