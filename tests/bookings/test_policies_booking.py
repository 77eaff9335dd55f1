"""Booking policies: bans, identity quotas, the persons limit and minors, each at its boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from stdnum.cn import ric

from yuyue.bookings import policies
from yuyue.bookings.models import BookingStatus
from yuyue.customers.models import BanSubject
from yuyue.db import db
from yuyue.errors import Refused
from yuyue.provisioning.operations import create_tenant

NOW = datetime(2025, 4, 28, 12, 0, tzinfo=UTC)
DAY = date(2025, 5, 1)
ONE_PER_ID_A_DAY = {"quotas": [{"scope": "id_number", "max_bookings": 1, "period": "day"}]}


@pytest.fixture
def check(session, in_tenant):
    """``check(booking_type, customer, people, local_date=…)``: run check_booking as the tenant."""

    def run(booking_type, customer, people, *, local_date=DAY, party_size=None, exclude_booking_id=None, now=NOW):
        policies.check_booking(
            session,
            policies=booking_type.policies,
            customer=customer,
            people=people,
            local_date=local_date,
            party_size=party_size if party_size is not None else max(len(people), 1),
            now=now,
            booking_type_id=booking_type.id,
            exclude_booking_id=exclude_booking_id,
        )

    return run


def refusal(run, *args, **kwargs) -> Refused:
    with pytest.raises(Refused) as raised:
        run(*args, **kwargs)
    return raised.value


# --------------------------------------------------------------------------
# Bans
# --------------------------------------------------------------------------


def test_customer_with_active_ban_is_refused(check, make_booking_type, make_customer, make_person, make_ban):
    booking_type, customer = make_booking_type(), make_customer()
    make_ban(BanSubject.customer, str(customer.id), starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=29), reason="3 no-shows within 30 days")
    error = refusal(check, booking_type, customer, [make_person()])
    assert error.code == "banned"
    assert "3 no-shows within 30 days" in error.message
    assert [problem.pointer for problem in error.errors] == [""]


def test_banned_id_number_is_refused_at_that_person(check, make_booking_type, make_customer, make_person, make_ban):
    booking_type, customer = make_booking_type(), make_customer()
    people = [make_person("Wang"), make_person("Li")]
    make_ban(BanSubject.id_number, people[1].id_number, starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    error = refusal(check, booking_type, customer, people)
    assert error.code == "banned"
    assert [problem.pointer for problem in error.errors] == ["/people/1/id_number"]


def test_banned_phone_of_a_person_is_refused_at_that_person(check, make_booking_type, make_customer, make_person, make_ban):
    booking_type, customer = make_booking_type(), make_customer()
    people = [make_person("Wang", phone="13800000001")]
    make_ban(BanSubject.phone, "13800000001", starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    assert [problem.pointer for problem in refusal(check, booking_type, customer, people).errors] == ["/people/0/phone"]


def test_banned_phone_of_the_account_is_refused(check, make_booking_type, make_customer, make_person, make_ban):
    booking_type, customer = make_booking_type(), make_customer("13800000002")
    make_ban(BanSubject.phone, "13800000002", starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1))
    assert refusal(check, booking_type, customer, [make_person()]).code == "banned"


def test_ban_that_ended_yesterday_no_longer_refuses(check, make_booking_type, make_customer, make_person, make_ban):
    booking_type, customer = make_booking_type(), make_customer()
    make_ban(BanSubject.customer, str(customer.id), starts_at=NOW - timedelta(days=31), ends_at=NOW - timedelta(days=1))
    check(booking_type, customer, [make_person()])


def test_ban_ending_right_now_no_longer_refuses(check, make_booking_type, make_customer, make_person, make_ban):
    booking_type, customer = make_booking_type(), make_customer()
    make_ban(BanSubject.customer, str(customer.id), starts_at=NOW - timedelta(days=30), ends_at=NOW)
    check(booking_type, customer, [make_person()])


def test_ban_starting_tomorrow_does_not_refuse_yet(check, make_booking_type, make_customer, make_person, make_ban):
    booking_type, customer = make_booking_type(), make_customer()
    make_ban(BanSubject.customer, str(customer.id), starts_at=NOW + timedelta(days=1), ends_at=NOW + timedelta(days=30))
    check(booking_type, customer, [make_person()])


def test_ban_of_the_same_id_number_at_another_tenant_does_not_refuse(app, session, check, make_booking_type, make_customer, make_person, make_ban):
    other = create_tenant(session, app.extensions["yuyue.plugins"], slug="zoo", name="Zoo")
    booking_type, customer, person = make_booking_type(), make_customer(), make_person()
    make_ban(BanSubject.id_number, person.id_number, starts_at=NOW - timedelta(days=1), ends_at=NOW + timedelta(days=1), for_tenant=other)
    check(booking_type, customer, [person])


# --------------------------------------------------------------------------
# Identity quotas
# --------------------------------------------------------------------------


def test_first_booking_for_an_id_number_on_a_day_passes(check, make_booking_type, make_customer, make_person):
    check(make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer(), [make_person()])


def test_second_booking_with_same_id_number_on_same_day_is_refused(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer = make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer()
    li = make_person("Li")
    make_booking(booking_type, make_customer(), local_date=DAY, people=[li])
    error = refusal(check, booking_type, customer, [make_person("Wang"), li])
    assert error.code == "quota_exceeded"
    [problem] = error.errors
    assert problem.pointer == "/people/1/id_number"
    assert "Li already has 1 booking on 2025-05-01" in problem.message
    assert "the limit is 1 booking per ID number a day" in problem.message


def test_every_person_over_the_quota_is_named(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer = make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer()
    li, wang = make_person("Li"), make_person("Wang")
    make_booking(booking_type, customer, people=[li])
    make_booking(booking_type, customer, people=[wang])
    error = refusal(check, booking_type, customer, [li, make_person("Zhao"), wang])
    assert [problem.pointer for problem in error.errors] == ["/people/0/id_number", "/people/2/id_number"]


def test_same_id_number_on_the_next_day_passes(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer, li = make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer(), make_person("Li")
    make_booking(booking_type, customer, local_date=DAY, people=[li])
    check(booking_type, customer, [li], local_date=DAY + timedelta(days=1))


@pytest.mark.parametrize("status", [BookingStatus.cancelled, BookingStatus.expired, BookingStatus.no_show])
def test_bookings_that_hold_no_place_do_not_count_towards_quotas(check, make_booking_type, make_customer, make_person, make_booking, status):
    booking_type, customer, li = make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer(), make_person("Li")
    make_booking(booking_type, customer, people=[li], status=status)
    check(booking_type, customer, [li])


@pytest.mark.parametrize("status", [BookingStatus.held, BookingStatus.checked_in, BookingStatus.completed])
def test_held_and_attended_bookings_count_towards_quotas(check, make_booking_type, make_customer, make_person, make_booking, status):
    booking_type, customer, li = make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer(), make_person("Li")
    make_booking(booking_type, customer, people=[li], status=status)
    assert refusal(check, booking_type, customer, [li]).code == "quota_exceeded"


def test_rescheduling_a_booking_does_not_count_the_booking_itself(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer, li = make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer(), make_person("Li")
    booking = make_booking(booking_type, customer, people=[li])
    check(booking_type, customer, [li], exclude_booking_id=booking.id)


def test_quota_counts_only_this_booking_type_by_default(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer, li = make_booking_type(policies=ONE_PER_ID_A_DAY), make_customer(), make_person("Li")
    make_booking(make_booking_type(), customer, people=[li])
    check(booking_type, customer, [li])


def test_quota_across_booking_types_counts_every_type_of_the_same_vertical(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type = make_booking_type(policies={**ONE_PER_ID_A_DAY, "across_booking_types": True})
    customer, li = make_customer(), make_person("Li")
    make_booking(make_booking_type(vertical="exhibition"), customer, people=[li])
    assert refusal(check, booking_type, customer, [li]).code == "quota_exceeded"


def test_quota_across_booking_types_ignores_other_verticals(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type = make_booking_type(policies={**ONE_PER_ID_A_DAY, "across_booking_types": True})
    customer, li = make_customer(), make_person("Li")
    make_booking(make_booking_type(vertical="course"), customer, people=[li])
    check(booking_type, customer, [li])


def test_nth_booking_passes_and_the_next_is_refused(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type = make_booking_type(policies={"quotas": [{"scope": "id_number", "max_bookings": 2, "period": "day"}]})
    customer, li = make_customer(), make_person("Li")
    make_booking(booking_type, customer, people=[li])
    check(booking_type, customer, [li])
    make_booking(booking_type, customer, people=[li])
    error = refusal(check, booking_type, customer, [li])
    assert "already has 2 bookings on 2025-05-01; the limit is 2 bookings per ID number a day" in error.errors[0].message


ONE_PER_ID_A_WEEK = {"quotas": [{"scope": "id_number", "max_bookings": 1, "period": "rolling_days", "days": 7}]}


@pytest.mark.parametrize(("offset", "refused"), [(6, True), (7, False), (-6, True), (-7, False)])
def test_rolling_quota_holds_for_any_run_of_days_and_then_rolls_over(check, make_booking_type, make_customer, make_person, make_booking, offset, refused):
    booking_type, customer, li = make_booking_type(policies=ONE_PER_ID_A_WEEK), make_customer(), make_person("Li")
    make_booking(booking_type, customer, local_date=DAY, people=[li])
    later = DAY + timedelta(days=offset)
    if refused:
        assert refusal(check, booking_type, customer, [li], local_date=later).code == "quota_exceeded"
    else:
        check(booking_type, customer, [li], local_date=later)


def test_rolling_quota_finds_the_crowded_window_between_two_bookings(check, make_booking_type, make_customer, make_person, make_booking):
    two_a_week = {"quotas": [{"scope": "id_number", "max_bookings": 2, "period": "rolling_days", "days": 7}]}
    booking_type, customer, li = make_booking_type(policies=two_a_week), make_customer(), make_person("Li")
    make_booking(booking_type, customer, local_date=DAY, people=[li])
    make_booking(booking_type, customer, local_date=DAY + timedelta(days=6), people=[li])
    error = refusal(check, booking_type, customer, [li], local_date=DAY + timedelta(days=3))
    assert "between 2025-05-01 and 2025-05-07" in error.errors[0].message
    check(booking_type, customer, [li], local_date=DAY + timedelta(days=7))


def test_phone_quota_counts_the_phones_of_the_people(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type = make_booking_type(policies={"quotas": [{"scope": "phone", "max_bookings": 1, "period": "day"}]})
    customer = make_customer()
    make_booking(booking_type, customer, people=[make_person("Li", phone="13900000001")])
    check(booking_type, customer, [make_person("Wang", phone="13900000002")])
    error = refusal(check, booking_type, customer, [make_person("Wang", phone="13900000002"), make_person("Li", phone="13900000001")])
    assert [problem.pointer for problem in error.errors] == ["/people/1/phone"]


def test_account_quota_counts_the_accounts_bookings(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type = make_booking_type(policies={"quotas": [{"scope": "customer", "max_bookings": 2, "period": "day"}]})
    customer = make_customer()
    make_booking(booking_type, customer, people=[make_person()])
    check(booking_type, customer, [make_person()])
    make_booking(booking_type, customer, people=[make_person()])
    error = refusal(check, booking_type, customer, [make_person()])
    assert error.code == "quota_exceeded"
    assert "the limit is 2 bookings per account a day" in error.message
    check(booking_type, customer, [make_person()], local_date=DAY + timedelta(days=1))


def test_counting_takes_one_query_per_scope_whatever_the_number_of_people(check, make_booking_type, make_customer, make_person, make_booking):
    every_scope = {
        "quotas": [
            {"scope": "id_number", "max_bookings": 1, "period": "day"},
            {"scope": "id_number", "max_bookings": 3, "period": "rolling_days", "days": 30},
            {"scope": "phone", "max_bookings": 2, "period": "day"},
            {"scope": "customer", "max_bookings": 5, "period": "day"},
        ],
        "max_persons_per_account_per_day": 10,
    }
    booking_type, customer = make_booking_type(policies=every_scope), make_customer()
    make_booking(booking_type, customer, people=[make_person(phone="13700000000")])

    # bans, the account, ID numbers, phones
    with selects() as one_person:
        check(booking_type, customer, [make_person(phone="13700000001")])
    with selects() as five_people:
        check(booking_type, customer, [make_person(phone=f"1370000000{i}") for i in range(1, 6)])
    assert len(one_person) == len(five_people) == 4


def test_without_policies_only_bans_are_looked_up(check, make_booking_type, make_customer, make_person):
    booking_type, customer = make_booking_type(), make_customer()
    with selects() as seen:
        check(booking_type, customer, [make_person(), make_person()])
    [statement] = seen
    assert "FROM bans" in statement


@contextmanager
def selects() -> Iterator[list[str]]:
    """Collect the SELECT statements sent to the database in the block."""
    seen: list[str] = []

    def record(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# --------------------------------------------------------------------------
# Persons per account per day
# --------------------------------------------------------------------------

FIVE_PERSONS = {"max_persons_per_account_per_day": 5}


def test_account_may_book_up_to_the_persons_limit_in_a_day(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer = make_booking_type(policies=FIVE_PERSONS), make_customer()
    make_booking(booking_type, customer, people=[make_person() for _ in range(3)])
    check(booking_type, customer, [make_person(), make_person()])


def test_booking_one_person_over_the_persons_limit_is_refused(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer = make_booking_type(policies=FIVE_PERSONS), make_customer()
    make_booking(booking_type, customer, people=[make_person() for _ in range(3)])
    error = refusal(check, booking_type, customer, [make_person() for _ in range(3)])
    assert error.code == "persons_limit_exceeded"
    assert "at most 5 people a day; 3 already booked" in error.message
    assert error.errors[0].pointer == "/party_size"


def test_persons_limit_counts_party_size_not_only_named_people(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer = make_booking_type(policies=FIVE_PERSONS), make_customer()
    make_booking(booking_type, customer, people=[make_person()], party_size=4)
    assert refusal(check, booking_type, customer, [make_person()], party_size=2).code == "persons_limit_exceeded"


def test_persons_limit_starts_afresh_the_next_day(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer = make_booking_type(policies=FIVE_PERSONS), make_customer()
    make_booking(booking_type, customer, people=[make_person() for _ in range(5)])
    check(booking_type, customer, [make_person()], local_date=DAY + timedelta(days=1))


def test_persons_limit_ignores_cancelled_bookings(check, make_booking_type, make_customer, make_person, make_booking):
    booking_type, customer = make_booking_type(policies=FIVE_PERSONS), make_customer()
    make_booking(booking_type, customer, people=[make_person() for _ in range(5)], status=BookingStatus.cancelled)
    check(booking_type, customer, [make_person()])


# --------------------------------------------------------------------------
# Minors
# --------------------------------------------------------------------------

MINORS = {"minors": {"max_minors_per_booking": 3, "require_adult": True}}
CHILD = date(2015, 6, 1)
ADULT = date(1985, 6, 1)


def test_factory_id_numbers_are_valid_gb_11643_numbers(new_id_number):
    assert all(ric.is_valid(new_id_number(date(2010, 5, 1))) for _ in range(20))


@pytest.mark.parametrize(("born", "minor"), [(date(2007, 5, 1), False), (date(2007, 5, 2), True), (date(2007, 4, 30), False)])
def test_age_comes_from_the_id_number_on_the_slot_date(make_person, born, minor):
    assert policies.is_minor({"minors": {}}, make_person(born=born), DAY) is minor


def test_id_number_birth_date_wins_over_a_typed_one(make_person):
    child_claiming_adulthood = make_person(born=CHILD, birth_date=ADULT)
    assert policies.is_minor({}, child_claiming_adulthood, DAY)


def test_typed_birth_date_is_used_without_an_id_number(make_person):
    assert policies.is_minor({}, make_person(with_id=False, birth_date=CHILD), DAY)


def test_person_of_unknown_age_counts_as_an_adult(make_person):
    assert not policies.is_minor({}, make_person(with_id=False), DAY)


def test_adult_age_is_configurable(make_person):
    fifteen = make_person(born=date(2010, 1, 1))
    assert policies.is_minor({}, fifteen, DAY)
    assert not policies.is_minor({"minors": {"adult_age": 14}}, fifteen, DAY)


def test_someone_born_on_29_february_comes_of_age_on_1_march(make_person):
    person = make_person(born=date(2008, 2, 29))
    assert policies.is_minor({}, person, date(2026, 2, 28))
    assert not policies.is_minor({}, person, date(2026, 3, 1))


def test_minor_booked_alone_is_refused(check, make_booking_type, make_customer, make_person):
    error = refusal(check, make_booking_type(policies=MINORS), make_customer(), [make_person("Xiaoming", born=CHILD)])
    assert error.code == "minor_without_adult"
    assert error.errors[0].pointer == "/people"


def test_minor_booked_with_an_adult_passes(check, make_booking_type, make_customer, make_person):
    check(make_booking_type(policies=MINORS), make_customer(), [make_person("Xiaoming", born=CHILD), make_person("Mum", born=ADULT)])


def test_booking_with_the_most_minors_allowed_passes(check, make_booking_type, make_customer, make_person):
    people = [make_person(born=ADULT), *(make_person(born=CHILD) for _ in range(3))]
    check(make_booking_type(policies=MINORS), make_customer(), people)


def test_booking_with_one_minor_too_many_is_refused_naming_the_minors(check, make_booking_type, make_customer, make_person):
    people = [make_person(born=ADULT), *(make_person(born=CHILD) for _ in range(4))]
    error = refusal(check, make_booking_type(policies=MINORS), make_customer(), people)
    assert error.code == "too_many_minors"
    assert [problem.pointer for problem in error.errors] == [f"/people/{index}/id_number" for index in range(1, 5)]


def test_minors_without_a_minors_policy_are_not_limited(check, make_booking_type, make_customer, make_person):
    check(make_booking_type(), make_customer(), [make_person(born=CHILD) for _ in range(5)])
