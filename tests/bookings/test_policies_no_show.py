"""No-show bans escalate: the rule with the longest ban that matches applies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from yuyue.bookings import policies
from yuyue.bookings.models import BookingStatus
from yuyue.customers.models import BanSubject

NOW = datetime(2025, 5, 20, 12, 0, tzinfo=UTC)
ESCALATING = {
    "no_show": {
        "bans": [
            {"count": 3, "within_days": 30, "ban_days": 30, "scope": "customer"},
            {"count": 5, "within_days": 30, "ban_days": 180, "scope": "customer"},
        ]
    }
}


@pytest.fixture
def booking_type(make_booking_type):
    return make_booking_type(policies=ESCALATING)


@pytest.fixture
def no_show(booking_type, make_booking, make_person):
    """``no_show(customer, days_ago, people=…)``: a booking whose slot started ``days_ago`` days before NOW and was missed."""

    def make(customer, days_ago, *, people=None, status=BookingStatus.no_show, **fields):
        starts_at = NOW - timedelta(days=days_ago)
        return make_booking(booking_type, customer, starts_at=starts_at, local_date=starts_at.date(), people=people or [make_person()], status=status, **fields)

    return make


def bans(session, customer, rules=ESCALATING, id_numbers=()):
    return policies.bans_after_no_show(session, rules, customer, list(id_numbers), NOW)


def test_two_no_shows_earn_no_ban(session, in_tenant, make_customer, no_show):
    customer = make_customer()
    no_show(customer, 1)
    no_show(customer, 10)
    assert bans(session, customer) == []


def test_third_no_show_within_30_days_earns_a_30_day_ban(session, in_tenant, make_customer, no_show):
    customer = make_customer()
    for days_ago in (1, 10, 29):
        no_show(customer, days_ago)
    assert bans(session, customer) == [(BanSubject.customer, str(customer.id), 30, "3 no-shows within 30 days")]


def test_no_show_older_than_the_window_does_not_count(session, in_tenant, make_customer, no_show):
    customer = make_customer()
    for days_ago in (1, 10, 30):
        no_show(customer, days_ago)
    assert bans(session, customer) == []


def test_fifth_no_show_within_30_days_earns_the_longer_ban(session, in_tenant, make_customer, no_show):
    customer = make_customer()
    for days_ago in (1, 3, 5, 7, 9):
        no_show(customer, days_ago)
    assert bans(session, customer) == [(BanSubject.customer, str(customer.id), 180, "5 no-shows within 30 days")]


def test_a_short_window_can_escalate_faster(session, in_tenant, make_customer, no_show):
    rules = {
        "no_show": {
            "bans": [
                {"count": 3, "within_days": 30, "ban_days": 30, "scope": "customer"},
                {"count": 3, "within_days": 7, "ban_days": 180, "scope": "customer"},
            ]
        }
    }
    spread, bunched = make_customer(), make_customer()
    for days_ago in (1, 10, 20):
        no_show(spread, days_ago)
    for days_ago in (1, 3, 6):
        no_show(bunched, days_ago)
    assert [days for _, _, days, _ in bans(session, spread, rules)] == [30]
    assert [days for _, _, days, _ in bans(session, bunched, rules)] == [180]


def test_late_cancellation_that_counts_as_a_no_show_counts(session, in_tenant, make_customer, no_show):
    customer = make_customer()
    no_show(customer, 1)
    no_show(customer, 2)
    no_show(customer, -1, status=BookingStatus.cancelled, counts_as_no_show=True)  # cancelled late, slot still ahead
    assert [days for _, _, days, _ in bans(session, customer)] == [30]


def test_plain_cancellations_do_not_count(session, in_tenant, make_customer, no_show):
    customer = make_customer()
    no_show(customer, 1)
    no_show(customer, 2)
    no_show(customer, 3, status=BookingStatus.cancelled)
    assert bans(session, customer) == []


def test_other_accounts_no_shows_do_not_count(session, in_tenant, make_customer, no_show):
    customer, other = make_customer(), make_customer()
    no_show(customer, 1)
    no_show(other, 2)
    no_show(other, 3)
    assert bans(session, customer) == []


def test_subject_already_banned_as_long_earns_nothing_more(session, in_tenant, make_customer, no_show, make_ban):
    customer = make_customer()
    for days_ago in (1, 2, 3):
        no_show(customer, days_ago)
    make_ban(BanSubject.customer, str(customer.id), starts_at=NOW, ends_at=NOW + timedelta(days=30))
    assert bans(session, customer) == []


def test_shorter_existing_ban_is_extended(session, in_tenant, make_customer, no_show, make_ban):
    customer = make_customer()
    for days_ago in (1, 2, 3, 4, 5):
        no_show(customer, days_ago)
    make_ban(BanSubject.customer, str(customer.id), starts_at=NOW - timedelta(days=2), ends_at=NOW + timedelta(days=28))
    assert [days for _, _, days, _ in bans(session, customer)] == [180]


def test_id_number_is_banned_for_no_shows_under_any_account(session, in_tenant, make_customer, make_person, no_show):
    rules = {"no_show": {"bans": [{"count": 3, "within_days": 30, "ban_days": 30, "scope": "id_number"}]}}
    li, wang = make_person("Li"), make_person("Wang")
    first, second = make_customer(), make_customer()
    no_show(first, 1, people=[li, wang])
    no_show(second, 5, people=[li])
    no_show(second, 9, people=[li])
    assert bans(session, first, rules, id_numbers=[li.id_number, wang.id_number, None]) == [
        (BanSubject.id_number, li.id_number, 30, "3 no-shows within 30 days"),
    ]


def test_without_no_show_rules_nothing_is_banned_and_nothing_is_queried(session, make_customer):
    customer = make_customer()
    assert policies.bans_after_no_show(session, {}, customer, ["x"], NOW) == []  # no tenant in context: would raise if it queried
