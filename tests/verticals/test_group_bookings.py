"""Groups at exhibitions and scenic areas: a place per head on the group channel, sizes the tenant sets, a leader instead of a roster.

Slots are split by ``capacity_by_channel``: 4 places for individual visitors and 10 for groups unless a test says otherwise.
"""

from __future__ import annotations

import pytest
from tenant_setup import id_number
from verticals_setup import ADULT_BORN, CONFIGURED, DEFAULTS, SLOT_DAY, answers, companions, group_of

from yuyue.plugins import plugin_host

VERTICALS = ("exhibition", "scenic")
EXHIBITION = "exhibition"
INDIVIDUAL, GROUP = "individual", "group"


@pytest.fixture(params=VERTICALS)
def vertical(request, split_offer, set_settings) -> str:
    """Each vertical in turn, offered with split slots; tenant-a takes groups of 2 and more."""
    split_offer(request.param)
    set_settings(request.param, group_min_size=2)
    return request.param


def remaining(client, tenant: str, vertical: str, hour: int = 9) -> dict[str, int]:
    """Places left per channel in the slot at ``hour``, as the customer API lists them."""
    body = client.get(f"/api/v1/t/{tenant}/booking-types/{vertical}/availability?from={SLOT_DAY}&to={SLOT_DAY}").get_json()
    return {slot["channel"]: slot["remaining"] for slot in body["slots"] if slot["starts_at"].startswith(f"{SLOT_DAY}T{hour:02d}:")}


def visit(vertical: str, n: int, people: int) -> dict:
    """An individual visit of ``people`` adults booked by the n-th customer."""
    return answers(vertical, n, companions=companions(*[ADULT_BORN] * (people - 1)))


def pointers(body: dict) -> list[tuple[str, str]]:
    return [(error["pointer"], error["code"]) for error in body["errors"]]


# --- places by headcount, on the group channel -------------------------------------------


def test_a_group_takes_a_place_per_head_of_the_group_channel(vertical, customer, booked, client):
    booking = booked(customer(1), CONFIGURED, vertical, group_of(vertical, 7), channel=GROUP)

    assert (booking["party_size"], booking["channel"]) == (7, GROUP)
    assert remaining(client, CONFIGURED, vertical) == {INDIVIDUAL: 4, GROUP: 3}


def test_a_full_group_channel_leaves_the_individual_places_untouched(vertical, customer, booked, book, problem, client):
    booked(customer(1), CONFIGURED, vertical, group_of(vertical, 10, 1), channel=GROUP)

    problem(book(customer(2), CONFIGURED, vertical, group_of(vertical, 2, 2), channel=GROUP), 409, "slot_full")
    booked(customer(3), CONFIGURED, vertical, visit(vertical, 3, 4), channel=INDIVIDUAL)
    assert remaining(client, CONFIGURED, vertical) == {INDIVIDUAL: 0, GROUP: 0}


def test_a_full_individual_channel_leaves_the_group_places_untouched(vertical, customer, booked, book, problem, client):
    booked(customer(1), CONFIGURED, vertical, visit(vertical, 1, 4), channel=INDIVIDUAL)

    problem(book(customer(2), CONFIGURED, vertical, visit(vertical, 2, 1), channel=INDIVIDUAL), 409, "slot_full")
    booked(customer(3), CONFIGURED, vertical, group_of(vertical, 10, 3), channel=GROUP)
    assert remaining(client, CONFIGURED, vertical) == {INDIVIDUAL: 0, GROUP: 0}


def test_a_cancelled_group_gives_back_its_headcount(vertical, customer, booked, client):
    leader = customer(1)
    booking = booked(leader, CONFIGURED, vertical, group_of(vertical, 6), channel=GROUP)

    leader.post(f"/api/v1/t/{CONFIGURED}/bookings/{booking['id']}/cancel")

    assert remaining(client, CONFIGURED, vertical) == {INDIVIDUAL: 4, GROUP: 10}


def test_a_group_on_the_individual_channel_is_refused(vertical, customer, book, problem):
    body = problem(book(customer(1), CONFIGURED, vertical, group_of(vertical, 3), channel=INDIVIDUAL), 422, "validation_failed")

    assert pointers(body) == [("/channel", "channel_mismatch")]


def test_an_individual_visit_on_the_group_channel_is_refused(vertical, customer, book, problem):
    body = problem(book(customer(1), CONFIGURED, vertical, visit(vertical, 1, 2), channel=GROUP), 422, "validation_failed")

    assert pointers(body) == [("/channel", "channel_mismatch")]


def test_both_verticals_split_their_default_slots_between_individuals_and_groups(app):
    for key in VERTICALS:
        windows = plugin_host(app).verticals[key].default_slot_rules[0]["params"]
        assert windows["capacity_by_channel"].keys() == {INDIVIDUAL, GROUP}, key


# --- the leader -------------------------------------------------------------------------


def test_a_group_leader_need_not_give_an_id_number(vertical, customer, booked):
    leader = group_of(vertical, 5)
    del leader["id_card"]

    booking = booked(customer(1), CONFIGURED, vertical, leader, channel=GROUP)

    assert booking["party_size"] == 5


def test_an_individual_visitor_gives_an_id_number(vertical, customer, book, problem):
    visitor = answers(vertical)
    del visitor["id_card"]

    body = problem(book(customer(1), CONFIGURED, vertical, visitor, channel=INDIVIDUAL), 422, "validation_failed")

    assert pointers(body) == [("/answers/id_card", "required")]


def test_a_group_gives_its_headcount(vertical, customer, book, problem):
    leader = group_of(vertical, 5)
    del leader["group_size"]

    body = problem(book(customer(1), CONFIGURED, vertical, leader, channel=GROUP), 422, "validation_failed")

    assert ("/answers/group_size", "required") in pointers(body)


def test_a_group_leader_gives_a_mainland_mobile_number(vertical, customer, book, problem):
    body = problem(book(customer(1), CONFIGURED, vertical, group_of(vertical, 5, mobile="12345"), channel=GROUP), 422, "validation_failed")

    assert [pointer for pointer, _ in pointers(body)] == ["/answers/mobile"]


def test_a_group_names_no_companions_on_the_form(vertical, customer, book, problem):
    body = problem(book(customer(1), CONFIGURED, vertical, group_of(vertical, 5, companions=companions(ADULT_BORN)), channel=GROUP), 422, "validation_failed")

    assert pointers(body) == [("/answers/companions", "max_items")]


def test_a_group_may_name_its_organisation_and_an_individual_may_not(vertical, customer, booked, book, problem):
    booked(customer(1), CONFIGURED, vertical, group_of(vertical, 5, organisation="杭州市第二中学"), channel=GROUP)

    body = problem(book(customer(2), CONFIGURED, vertical, answers(vertical, 2, organisation="杭州市第二中学"), channel=INDIVIDUAL), 422, "validation_failed")

    assert pointers(body) == [("/answers/organisation", "not_applicable")]


def test_the_leaders_id_number_counts_like_any_visitors_one_booking_a_day(vertical, customer, booked, book, problem):
    leader = id_number(ADULT_BORN)
    booked(customer(1), CONFIGURED, vertical, answers(vertical, 1, id_card=leader), channel=INDIVIDUAL)

    problem(book(customer(1), CONFIGURED, vertical, group_of(vertical, 5, 1, id_card=leader), channel=GROUP, hour=10), 409, "quota_exceeded")


def test_an_account_that_booked_a_group_still_books_its_own_people_a_day(vertical, set_settings, customer, booked):
    set_settings(vertical, group_min_size=2, max_persons_per_account_per_day=3)
    leader = customer(1)
    without_id = group_of(vertical, 8)
    del without_id["id_card"]
    booked(leader, CONFIGURED, vertical, without_id, channel=GROUP)

    booked(leader, CONFIGURED, vertical, visit(vertical, 1, 3), channel=INDIVIDUAL, hour=10)


# --- group sizes (exhibition; scenic's are in test_scenic_settings) -----------------------


@pytest.fixture
def exhibition(split_offer):
    split_offer(EXHIBITION, individual=4, group=300)


def test_an_exhibition_group_has_at_least_the_size_set(exhibition, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, group_min_size=12)
    booked(customer(1), CONFIGURED, EXHIBITION, group_of(EXHIBITION, 12, 1), channel=GROUP)

    body = problem(book(customer(2), CONFIGURED, EXHIBITION, group_of(EXHIBITION, 11, 2), channel=GROUP), 422, "validation_failed")

    assert pointers(body) == [("/answers/group_size", "group_too_small")]


def test_an_exhibition_tenant_with_default_settings_needs_ten_for_a_group(exhibition, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, group_min_size=12)
    booked(customer(1, DEFAULTS), DEFAULTS, EXHIBITION, group_of(EXHIBITION, 10, 1), channel=GROUP)

    body = problem(book(customer(2, DEFAULTS), DEFAULTS, EXHIBITION, group_of(EXHIBITION, 9, 2), channel=GROUP), 422, "validation_failed")

    assert pointers(body) == [("/answers/group_size", "group_too_small")]


def test_an_exhibition_group_has_at_most_the_size_set(exhibition, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, group_max_size=30)
    booked(customer(1), CONFIGURED, EXHIBITION, group_of(EXHIBITION, 30, 1), channel=GROUP)

    body = problem(book(customer(2), CONFIGURED, EXHIBITION, group_of(EXHIBITION, 31, 2), channel=GROUP), 422, "validation_failed")

    assert pointers(body) == [("/answers/group_size", "group_too_large")]


def test_an_exhibition_tenant_with_default_settings_takes_groups_of_two_hundred(exhibition, set_settings, customer, booked, book, problem):
    set_settings(EXHIBITION, group_max_size=30)
    booked(customer(1, DEFAULTS), DEFAULTS, EXHIBITION, group_of(EXHIBITION, 200, 1), channel=GROUP)

    body = problem(book(customer(2, DEFAULTS), DEFAULTS, EXHIBITION, group_of(EXHIBITION, 201, 2), channel=GROUP), 422, "validation_failed")

    assert pointers(body) == [("/answers/group_size", "group_too_large")]


def test_a_group_larger_than_the_booking_types_party_limit_is_refused_by_it(session, set_settings, customer, book, problem, offer):
    offer(EXHIBITION, max_party_size=20, capacity=100)

    body = problem(book(customer(1), CONFIGURED, EXHIBITION, group_of(EXHIBITION, 21)), 422, "validation_failed")

    assert pointers(body) == [("/party_size", "party_size_out_of_range")]


def test_a_slot_without_a_channel_split_takes_groups_and_individuals_alike(offer, customer, booked):
    offer(EXHIBITION, max_party_size=20, capacity=100)

    assert booked(customer(1), CONFIGURED, EXHIBITION, group_of(EXHIBITION, 20, 1))["party_size"] == 20
    assert booked(customer(2), CONFIGURED, EXHIBITION, answers(EXHIBITION, 2, id_card=id_number(ADULT_BORN, 7)))["party_size"] == 1
