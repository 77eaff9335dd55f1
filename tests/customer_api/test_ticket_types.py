"""Ticket types through the public API: the quote's lines and total, tickets against the places taken and, on a
real-name form, against the ages of the people named; what is charged, refunded, shown at the gate and kept on a move.

Type ``visit`` sells adult 60.00, child 30.00 (6–17), senior 30.00 (60+) and student 30.00 (student card) tickets
on a form naming nobody; ``museum`` sells the same on the exhibition vertical's real-name form.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from customer_api_setup import SLOT_DAY, at, id_number, iso, phone, pointers, windows
from sqlalchemy import select
from tenant_setup import NAME_FORM, NAME_UI, make_booking_type

from yuyue.bookings.models import Booking
from yuyue.db import tenant_scope
from yuyue.payments.builtin import send_sandbox_notification
from yuyue.payments.models import Payment, Refund
from yuyue.payments.providers import payment_providers
from yuyue.plugins import plugin_host
from yuyue.scheduling.models import SlotInventory
from yuyue.tenancy.models import StaffRole

A = "/api/v1/t/tenant-a"
ADULT, HALF = 6000, 3000
TICKET_TYPES = [
    {"key": "adult", "name": {"zh-Hans": "成人票", "zh-Hant": "成人票", "en": "Adult"}, "price_amount": ADULT},
    {"key": "child", "name": {"zh-Hans": "儿童票", "zh-Hant": "兒童票", "en": "Child"}, "price_amount": HALF, "min_age": 6, "max_age": 17},
    {"key": "senior", "name": {"zh-Hans": "老人票", "zh-Hant": "長者票", "en": "Senior"}, "price_amount": HALF, "min_age": 60},
    {
        "key": "student",
        "name": {"zh-Hans": "学生票", "zh-Hant": "學生票", "en": "Student"},
        "price_amount": HALF,
        "proof": {"zh-Hans": "学生证", "zh-Hant": "學生證", "en": "Student card"},
    },
]
ADULT_BORN = date(1990, 5, 1)
CHILD_BORN = date(SLOT_DAY.year - 10, 3, 1)


def born_years_before(years: int, *, days_later: int = 0) -> date:
    """The birth date of someone who turns ``years`` on the slot day (``days_later``: that many days after it)."""
    try:
        birthday = SLOT_DAY.replace(year=SLOT_DAY.year - years)
    except ValueError:  # the slot day is 29 February: born on the 28th, a birthday every year before it
        birthday = date(SLOT_DAY.year - years, 2, 28)
    return birthday + timedelta(days=days_later)


@pytest.fixture
def visit(session, tenants):
    """``visit``: ticket types on a course's name-only form, held 15 minutes until paid, up to 6 places a booking."""
    return make_booking_type(
        session,
        tenants["tenant-a"],
        "visit",
        vertical="course",
        rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=20),
        form=NAME_FORM,
        ui=NAME_UI,
        ticket_types=TICKET_TYPES,
        max_party_size=6,
    )


@pytest.fixture
def museum(session, tenants):
    """``museum``: the same ticket types on the exhibition vertical's real-name form (visitor and companions by ID number)."""
    declared = plugin_host().verticals["exhibition"]
    return make_booking_type(
        session,
        tenants["tenant-a"],
        "museum",
        rules=windows(("09:00", "10:00"), ("10:00", "11:00"), capacity=20),
        form=declared.form_schema,
        ui=declared.ui_schema,
        ticket_types=TICKET_TYPES,
        max_party_size=5,
        hold_minutes=0,
    )


def museum_answers(n: int, booker: date = ADULT_BORN, *companions: date) -> dict:
    """The n-th customer's real-name answers: the booker born on ``booker``, a companion per other birth date."""
    return {
        "visitor_name": f"Visitor {n}",
        "id_card": id_number(booker),
        "mobile": phone(n),
        "companions": [{"name": f"Companion {i}", "id_card": id_number(born)} for i, born in enumerate(companions, 1)],
    }


def post(client, booking_type: str = "visit", hour: int = 9, **fields):
    body = {"booking_type": booking_type, "starts_at": iso(hour), "answers": fields.pop("answers", {"name": "Li Lei"}), **fields}
    return client.post(f"{A}/bookings", json=body)


def booked(client, booking_type: str = "visit", **fields) -> dict:
    response = post(client, booking_type, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def codes(body: dict) -> set[tuple[str, str]]:
    return {(error["pointer"], error["code"]) for error in body["errors"]}


# --- the quote ---------------------------------------------------------------------------


def test_the_quote_has_a_line_per_ticket_type_and_the_booking_costs_their_total(alice, visit):
    booking = booked(alice, tickets={"child": 1, "adult": 2})

    assert [(line["key"], line["unit_amount"], line["quantity"], line["amount"]) for line in booking["price_lines"]] == [
        ("adult", ADULT, 2, 2 * ADULT),
        ("child", HALF, 1, HALF),
    ]
    assert booking["price_lines"][0]["label"] == TICKET_TYPES[0]["name"]
    assert (booking["tickets"], booking["party_size"], booking["price_amount"], booking["status"]) == ({"adult": 2, "child": 1}, 3, 2 * ADULT + HALF, "held")


def test_the_payment_opened_is_for_the_quotes_total(alice, visit):
    booking = booked(alice, tickets={"adult": 1, "senior": 2})

    instructions = alice.post(f"{A}/bookings/{booking['id']}/pay").get_json()

    assert (instructions["amount"], booking["price_amount"]) == (ADULT + 2 * HALF, ADULT + 2 * HALF)


def test_a_refund_follows_the_amount_charged_under_the_cancellation_terms(alice, session, tenants, app, client):
    """Cancelled late with a 20 % fee: 80 % of what the tickets cost goes back."""
    late_fee = {"cancellation": {"deadline_hours": 24 * 30, "late": {"action": "fee", "fee_percent": 20}}}
    make_booking_type(
        session,
        tenants["tenant-a"],
        "visit",
        vertical="course",
        max_party_size=4,
        rules=windows(("09:00", "10:00")),
        form=NAME_FORM,
        ui=NAME_UI,
        ticket_types=TICKET_TYPES,
        policies=late_fee,
    )
    booking = booked(alice, tickets={"adult": 1, "child": 1})
    reference = alice.post(f"{A}/bookings/{booking['id']}/pay").get_json()["reference"]
    secret = payment_providers(app).settings("sandbox")["secret"]
    assert send_sandbox_notification(client, "tenant-a", "payment.succeeded", reference, secret=secret, amount=ADULT + HALF)[0] == 200

    cancelled = alice.post(f"{A}/bookings/{booking['id']}/cancel").get_json()

    assert cancelled["cancellation"]["fee_percent"] == 20
    with tenant_scope(tenants["tenant-a"].id):
        payment = session.scalar(select(Payment).where(Payment.reference == reference))
        refunds = list(session.scalars(select(Refund.amount).where(Refund.payment_id == payment.id)))
    assert (payment.amount, refunds) == (ADULT + HALF, [(ADULT + HALF) * 80 // 100])


def test_a_change_of_prices_reaches_new_bookings_not_the_ones_already_charged(alice, bob, visit, staff_client):
    first = booked(alice, tickets={"adult": 1})
    cheaper = [{**TICKET_TYPES[0], "price_amount": 5000}]
    assert staff_client("tenant-a", StaffRole.manager).patch(f"{A}/admin/booking-types/visit", json={"ticket_types": cheaper}).status_code == 200

    second = booked(bob, party_size=2)  # one ticket type left: every place is of that type

    assert alice.get(f"{A}/bookings/{first['id']}").get_json()["price_amount"] == ADULT
    assert (second["tickets"], second["price_amount"]) == ({"adult": 2}, 10000)


def test_with_one_ticket_type_every_place_is_of_that_type(alice, session, tenants):
    only_adult = TICKET_TYPES[:1]
    make_booking_type(session, tenants["tenant-a"], "visit", vertical="course", form=NAME_FORM, ui=NAME_UI, ticket_types=only_adult, max_party_size=4)

    booking = booked(alice, party_size=3)

    assert (booking["tickets"], booking["price_amount"], [line["quantity"] for line in booking["price_lines"]]) == ({"adult": 3}, 3 * ADULT, [3])


def test_a_booking_type_without_ticket_types_charges_its_price_per_place(alice, session, tenants):
    make_booking_type(session, tenants["tenant-a"], "visit", vertical="course", form=NAME_FORM, ui=NAME_UI, price_amount=2500, max_party_size=4)

    booking = booked(alice, party_size=2)

    assert booking["tickets"] == {}
    assert [(line["key"], line["unit_amount"], line["quantity"], line["amount"]) for line in booking["price_lines"]] == [("place", 2500, 2, 5000)]


# --- tickets against the places ----------------------------------------------------------


def test_with_several_ticket_types_the_request_must_say_which(alice, visit, problem):
    body = problem(post(alice, party_size=2), 422, "validation_failed")

    assert codes(body) == {("/tickets", "tickets_required")}


def test_an_unknown_ticket_type_is_refused_at_its_key(alice, visit, problem):
    body = problem(post(alice, tickets={"adult": 1, "vip": 1}), 422, "validation_failed")

    assert codes(body) == {("/tickets/vip", "unknown_ticket_type")}


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", True, None, [1], {"n": 1}, 10**30])
def test_a_quantity_that_is_not_a_positive_whole_number_is_refused_at_its_key(alice, visit, problem, quantity):
    body = problem(post(alice, tickets={"adult": quantity}), 422, "validation_failed")

    assert pointers(body) == {"/tickets/adult"}


def test_tickets_on_a_booking_type_that_sells_none_are_refused(alice, entry, problem):
    body = problem(alice.post(f"{A}/bookings", json={"booking_type": "entry", "starts_at": iso(9), "answers": {"name": "Li"}, "tickets": {"adult": 1}}), 422)

    assert codes(body) == {("/tickets/adult", "unknown_ticket_type")}


def test_tickets_and_party_size_must_agree(alice, visit, problem):
    body = problem(post(alice, party_size=2, tickets={"adult": 3}), 422, "validation_failed")

    assert codes(body) == {("/tickets", "party_size_mismatch")}
    assert booked(alice, party_size=3, tickets={"adult": 3})["party_size"] == 3


def test_the_tickets_sum_is_the_party_and_above_the_types_maximum_is_refused(alice, visit, problem):
    assert booked(alice, tickets={"adult": 4, "child": 2})["party_size"] == 6

    body = problem(post(alice, hour=10, tickets={"adult": 5, "child": 2}), 422, "validation_failed")

    assert codes(body) == {("/party_size", "party_size_out_of_range")}


def test_the_places_taken_are_the_tickets_sum(alice, visit, session, tenants):
    booked(alice, tickets={"adult": 2, "student": 1})

    with tenant_scope(tenants["tenant-a"].id):
        assert session.scalar(select(SlotInventory.taken)) == 3


# --- tickets against the people on a real-name form --------------------------------------


def test_each_person_named_gets_a_ticket_whose_age_range_fits(signed_in_customer, museum):
    booking = booked(signed_in_customer(1), "museum", answers=museum_answers(1, ADULT_BORN, CHILD_BORN), tickets={"adult": 1, "child": 1})

    assert (booking["party_size"], booking["price_amount"]) == (2, ADULT + HALF)


def test_a_thirty_year_old_cannot_travel_on_a_child_ticket(signed_in_customer, museum, problem):
    body = problem(post(signed_in_customer(1), "museum", answers=museum_answers(1, ADULT_BORN, CHILD_BORN), tickets={"child": 2}), 422, "validation_failed")

    assert codes(body) == {("/answers/id_card", "ticket_age_mismatch")}


def test_the_person_left_without_a_fitting_ticket_is_the_one_pointed_at(signed_in_customer, museum, problem):
    answers = museum_answers(1, CHILD_BORN, ADULT_BORN)  # a child books, an adult comes along

    body = problem(post(signed_in_customer(1), "museum", answers=answers, tickets={"child": 1, "senior": 1}), 422, "validation_failed")

    assert codes(body) == {("/answers/companions/0/id_card", "ticket_age_mismatch")}


def test_people_are_matched_to_tickets_not_served_first_come(signed_in_customer, museum):
    """The child booker could take the adult ticket (it has no age limit), but then the adult would have none: a matching finds the way."""
    booking = booked(signed_in_customer(1), "museum", answers=museum_answers(1, CHILD_BORN, ADULT_BORN), tickets={"adult": 1, "child": 1})

    assert booking["tickets"] == {"adult": 1, "child": 1}


@pytest.mark.parametrize(
    "born, fits",
    [
        (born_years_before(17), True),  # 17 on the visit day: the child ticket's last year
        (born_years_before(18, days_later=1), True),  # turns 18 the day after the visit
        (born_years_before(18), False),  # 18 on the visit day
        (born_years_before(6), True),
        (born_years_before(6, days_later=1), False),  # still 5 on the visit day
    ],
)
def test_the_child_tickets_age_range_holds_at_each_end_on_the_visit_date(signed_in_customer, museum, problem, born, fits):
    response = post(signed_in_customer(1), "museum", answers=museum_answers(1, ADULT_BORN, born), tickets={"adult": 1, "child": 1})

    if fits:
        assert response.status_code == 201, response.get_json()
    else:
        assert codes(problem(response, 422, "validation_failed")) == {("/answers/companions/0/id_card", "ticket_age_mismatch")}


def test_a_senior_ticket_starts_at_sixty(signed_in_customer, museum, problem):
    assert post(signed_in_customer(1), "museum", answers=museum_answers(1, born_years_before(60)), tickets={"senior": 1}).status_code == 201
    response = post(signed_in_customer(2), "museum", answers=museum_answers(2, born_years_before(60, days_later=1)), tickets={"senior": 1})

    assert codes(problem(response, 422, "validation_failed")) == {("/answers/id_card", "ticket_age_mismatch")}


def test_on_a_real_name_form_the_tickets_must_add_up_to_the_people_named(signed_in_customer, museum, problem):
    body = problem(post(signed_in_customer(1), "museum", answers=museum_answers(1, ADULT_BORN, ADULT_BORN), tickets={"adult": 3}), 422, "validation_failed")

    assert codes(body) == {("/tickets", "party_size_mismatch")}


def test_on_a_real_name_form_the_party_size_is_the_people_named(signed_in_customer, museum, problem):
    body = problem(post(signed_in_customer(1), "museum", answers=museum_answers(1), party_size=2, tickets={"adult": 1}), 422, "validation_failed")

    assert codes(body) == {("/party_size", "party_size_mismatch")}


# --- proofs at the gate --------------------------------------------------------------------


def test_a_ticket_that_needs_proof_shows_it_on_the_voucher_the_booking_and_the_check_in(signed_in_customer, museum, staff_client, monkeypatch):
    monkeypatch.setattr("yuyue.bookings.checkin.utcnow", lambda: at(9, 5))
    booking = booked(signed_in_customer(1), "museum", answers=museum_answers(1, ADULT_BORN, ADULT_BORN), tickets={"adult": 1, "student": 1})
    student_card = {"key": "student", "label": TICKET_TYPES[3]["name"], "quantity": 1, "proof": TICKET_TYPES[3]["proof"]}
    staff = staff_client("tenant-a")

    detail = staff.get(f"{A}/admin/bookings/{booking['id']}").get_json()
    checked_in = staff.post(f"{A}/admin/check-ins", json={"code": booking["voucher"]["code"]}).get_json()

    assert booking["voucher"]["proofs"] == [student_card]
    assert [line["proof"] for line in booking["price_lines"]] == [None, TICKET_TYPES[3]["proof"]]
    assert (detail["proofs"], detail["tickets"], detail["price_amount"]) == ([student_card], {"adult": 1, "student": 1}, ADULT + HALF)
    assert [(line["key"], line["amount"]) for line in detail["price_lines"]] == [("adult", ADULT), ("student", HALF)]
    assert checked_in["booking"]["proofs"] == [student_card]


# --- moves and the waitlist -------------------------------------------------------------------


def test_a_rescheduled_booking_keeps_its_tickets_and_price(alice, visit):
    booking = booked(alice, tickets={"adult": 1, "child": 2})

    moved = alice.post(f"{A}/bookings/{booking['id']}/reschedule", json={"starts_at": iso(10)}).get_json()

    assert (moved["starts_at"], moved["tickets"], moved["price_lines"], moved["price_amount"]) == (
        iso(10),
        booking["tickets"],
        booking["price_lines"],
        booking["price_amount"],
    )


def test_a_waitlist_offer_books_the_tickets_asked_for(alice, bob, session, tenants):
    make_booking_type(
        session,
        tenants["tenant-a"],
        "visit",
        vertical="course",
        max_party_size=4,
        rules=windows(("09:00", "10:00"), capacity=2),
        form=NAME_FORM,
        ui=NAME_UI,
        ticket_types=TICKET_TYPES,
    )
    first = booked(alice, tickets={"adult": 2})
    joined = bob.post(
        f"{A}/waitlist",
        json={"booking_type": "visit", "starts_at": iso(9), "answers": {"name": "Bob"}, "tickets": {"child": 1, "senior": 1}, "auto_confirm": True},
    )
    assert joined.status_code == 201, joined.get_json()

    alice.post(f"{A}/bookings/{first['id']}/cancel")

    with tenant_scope(tenants["tenant-a"].id):
        bobs = session.scalar(select(Booking).where(Booking.customer_id == bob.customer.id))
    assert (bobs.tickets, bobs.party_size, bobs.price_amount) == ({"child": 1, "senior": 1}, 2, 2 * HALF)


def test_joining_the_waitlist_checks_the_tickets_as_booking_does(alice, visit, problem):
    body = problem(alice.post(f"{A}/waitlist", json={"booking_type": "visit", "starts_at": iso(9), "answers": {"name": "A"}, "tickets": {"vip": 1}}), 422)

    assert codes(body) == {("/tickets/vip", "unknown_ticket_type")}


# --- the catalog ---------------------------------------------------------------------------


def test_the_booking_type_shows_its_ticket_types_in_the_readers_language(client, visit):
    shown = client.get(f"{A}/booking-types/visit?lang=en").get_json()

    assert shown["ticket_types"] == [
        {"key": "adult", "name": "Adult", "price_amount": ADULT, "proof": None, "min_age": None, "max_age": None},
        {"key": "child", "name": "Child", "price_amount": HALF, "proof": None, "min_age": 6, "max_age": 17},
        {"key": "senior", "name": "Senior", "price_amount": HALF, "proof": None, "min_age": 60, "max_age": None},
        {"key": "student", "name": "Student", "price_amount": HALF, "proof": "Student card", "min_age": None, "max_age": None},
    ]
    assert shown["hold_minutes"] == 15  # priced by its tickets, so an unpaid booking is held


def test_ticket_types_belong_to_their_tenant(signed_in_customer, visit, session, tenants, problem):
    """tenant-b's type of the same slug sells no ticket types, whatever tenant-a's does."""
    make_booking_type(session, tenants["tenant-b"], "visit", form=NAME_FORM, ui=NAME_UI, max_party_size=4)
    carol = signed_in_customer(3, tenant="tenant-b")

    body = problem(
        carol.post("/api/v1/t/tenant-b/bookings", json={"booking_type": "visit", "starts_at": iso(9), "answers": {"name": "C"}, "tickets": {"adult": 1}}), 422
    )

    assert codes(body) == {("/tickets/adult", "unknown_ticket_type")}


# --- hostile tickets -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "tickets",
    [
        {"": 1},
        {"a" * 10_000: 1},
        {f"t{n}": 1 for n in range(21)},
        {"adult\x00": 1},
        [["adult", 1]],
        "adult",
        {"adult": {"adult": 1}},
    ],
)
def test_hostile_tickets_are_refused_as_invalid_input(alice, visit, problem, tickets):
    problem(post(alice, tickets=tickets), 422, "validation_failed")


def test_an_unknown_key_with_pointer_characters_is_pointed_at_escaped(alice, visit, problem):
    body = problem(post(alice, tickets={"a/b~c": 1}), 422, "validation_failed")

    assert codes(body) == {("/tickets/a~1b~0c", "unknown_ticket_type")}
