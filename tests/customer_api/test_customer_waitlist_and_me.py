"""The waitlist, the customer's own bookings in pages, and their companions."""

from __future__ import annotations

from datetime import date

import pytest
from customer_api_setup import id_number, iso, phone, pointers

A = "/api/v1/t/tenant-a"


@pytest.fixture
def full_slot(make_type, book, alice) -> dict:
    """Type ``entry`` with one place a slot; Alice holds the 09:00 one."""
    make_type(capacity=1)
    return book(alice)


def join(client, **fields):
    return client.post(f"{A}/waitlist", json={"booking_type": "entry", "starts_at": iso(9), "answers": {"name": "Bob"}, **fields})


def test_a_customer_joins_the_waitlist_of_a_full_slot(bob, full_slot):
    response = join(bob)

    assert response.status_code == 201
    entry = response.get_json()
    assert (entry["status"], entry["starts_at"], entry["booking_type"], entry["booking"]) == ("waiting", iso(9), "entry", None)


def test_joining_the_waitlist_of_a_slot_with_places_is_a_409(bob, entry, problem):
    problem(join(bob), 409, "slot_not_full")


def test_joining_the_waitlist_needs_a_login(client, full_slot, problem):
    problem(join(client), 401, "unauthorized")


def test_joining_twice_is_a_409(bob, full_slot, problem):
    join(bob)

    problem(join(bob), 409, "already_waiting")


def test_a_freed_place_is_offered_and_accepted(alice, bob, full_slot):
    waiting = join(bob).get_json()
    alice.post(f"{A}/bookings/{full_slot['id']}/cancel")

    accepted = bob.post(f"{A}/waitlist/{waiting['id']}/accept")

    assert accepted.status_code == 201
    booking = accepted.get_json()
    assert (booking["status"], booking["starts_at"]) == ("confirmed", iso(9))
    assert bob.get(f"{A}/bookings/{booking['id']}").status_code == 200


def test_accepting_without_an_offer_is_a_409(bob, full_slot, problem):
    waiting = join(bob).get_json()

    problem(bob.post(f"{A}/waitlist/{waiting['id']}/accept"), 409, "no_offer")


def test_an_auto_confirm_waiter_is_booked_as_soon_as_a_place_frees(alice, bob, full_slot):
    join(bob, auto_confirm=True)
    alice.post(f"{A}/bookings/{full_slot['id']}/cancel")

    (booking,) = bob.get(f"{A}/me/bookings").get_json()["bookings"]

    assert (booking["status"], booking["starts_at"]) == ("confirmed", iso(9))


def test_a_customer_leaves_the_waitlist(bob, full_slot):
    waiting = join(bob).get_json()

    left = bob.delete(f"{A}/waitlist/{waiting['id']}")

    assert left.status_code == 200
    assert left.get_json()["status"] == "cancelled"


def test_another_customers_waitlist_entry_is_not_found(alice, bob, signed_in_customer, full_slot, problem):
    waiting = join(bob).get_json()
    alice.post(f"{A}/bookings/{full_slot['id']}/cancel")
    carol = signed_in_customer(3)

    problem(carol.post(f"{A}/waitlist/{waiting['id']}/accept"), 404, "waitlist_entry_not_found")
    problem(carol.delete(f"{A}/waitlist/{waiting['id']}"), 404, "waitlist_entry_not_found")
    assert bob.post(f"{A}/waitlist/{waiting['id']}/accept").status_code == 201


@pytest.mark.parametrize("entry_id", ["0", str(2**31), "9" * 30])
def test_an_id_no_row_can_have_is_not_found(bob, full_slot, problem, entry_id):
    problem(bob.post(f"{A}/waitlist/{entry_id}/accept"), 404, "not_found")
    problem(bob.delete(f"{A}/waitlist/{entry_id}"), 404, "not_found")
    problem(bob.delete(f"{A}/me/companions/{entry_id}"), 404, "not_found")


def test_bad_waitlist_input_is_refused_at_its_field(bob, full_slot, problem):
    body = problem(join(bob, auto_confirm="yes", starts_at=f"{iso(9)[:19]}"), 422)

    assert "/auto_confirm" in pointers(body)


def test_my_bookings_come_newest_first_in_pages(alice, bob, entry, book):
    made = [book(alice, hour=9 + n % 2)["id"] for n in range(5)]
    book(bob)

    pages, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        page = alice.get(f"{A}/me/bookings{query}").get_json()
        pages.append([b["id"] for b in page["bookings"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == [made[4:2:-1], made[2:0:-1], made[:1]]


def test_a_page_that_ends_exactly_has_no_next_cursor(alice, entry, book):
    book(alice)
    book(alice)

    assert alice.get(f"{A}/me/bookings?limit=2").get_json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("query", "where"), [("?limit=0", "/limit"), ("?limit=101", "/limit"), ("?limit=two", "/limit"), ("?cursor=%%%", "/cursor"), ("?cursor=YWJj", "/cursor")]
)
def test_a_bad_page_is_a_422(alice, entry, problem, query, where):
    assert pointers(problem(alice.get(f"{A}/me/bookings{query}"), 422)) == {where}


def test_my_bookings_need_a_login(client, tenants, problem):
    problem(client.get(f"{A}/me/bookings"), 401)


def companion_id_number(serial: int) -> str:
    return id_number(date(2010, 5, 1), serial)


def test_a_customer_keeps_a_list_of_companions(alice):
    added = alice.post(f"{A}/me/companions", json={"name": "Li Xiaoming", "id_number": companion_id_number(1), "relation": "son"})

    assert added.status_code == 201
    companion = added.get_json()
    assert (companion["name"], companion["relation"], companion["birth_date"]) == ("Li Xiaoming", "son", "2010-05-01")
    assert alice.get(f"{A}/me/companions").get_json()["companions"] == [companion]


def test_a_companion_is_removed(alice):
    companion = alice.post(f"{A}/me/companions", json={"name": "Li", "id_number": companion_id_number(2)}).get_json()

    assert alice.delete(f"{A}/me/companions/{companion['id']}").status_code == 204
    assert alice.get(f"{A}/me/companions").get_json()["companions"] == []


def test_another_customers_companion_cannot_be_removed(alice, bob, problem):
    companion = alice.post(f"{A}/me/companions", json={"name": "Li", "id_number": companion_id_number(3)}).get_json()

    problem(bob.delete(f"{A}/me/companions/{companion['id']}"), 404, "companion_not_found")
    assert bob.get(f"{A}/me/companions").get_json()["companions"] == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"id_number": companion_id_number(4)}, "/name"),
        ({"name": "Li"}, "/id_number"),
        ({"name": "Li", "id_number": "110105201005010000"}, "/id_number"),
        ({"name": "Li", "id_number": companion_id_number(4), "phone": "nope"}, "/phone"),
        ({"name": "Li", "id_number": companion_id_number(4), "age": 9}, "/age"),
        ({"name": 5, "id_number": companion_id_number(4)}, "/name"),
    ],
)
def test_bad_companion_input_is_refused_at_its_field(alice, problem, body, where):
    assert where in pointers(problem(alice.post(f"{A}/me/companions", json=body), 422))


def test_companions_need_a_login(client, tenants, problem):
    problem(client.get(f"{A}/me/companions"), 401)
    problem(client.post(f"{A}/me/companions", json={"name": "Li", "id_number": companion_id_number(5), "phone": phone(1)}), 401)
