"""Cancellation terms and limits, and reschedule limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from yuyue.bookings import policies
from yuyue.bookings.models import Booking, BookingStatus
from yuyue.bookings.policies import CancellationTerms
from yuyue.errors import Refused

STARTS_AT = datetime(2025, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
DEADLINE = STARTS_AT - timedelta(hours=6)
SIX_HOURS = {"deadline_hours": 6}

# --------------------------------------------------------------------------
# Terms
# --------------------------------------------------------------------------


def test_without_a_policy_cancelling_before_the_start_is_free():
    assert policies.cancellation_terms({}, STARTS_AT, STARTS_AT - timedelta(minutes=1)) == CancellationTerms(allowed=True, late=False, code="on_time")


@pytest.mark.parametrize("rules", [{}, {"cancellation": SIX_HOURS}, {"cancellation": {**SIX_HOURS, "late": {"action": "fee", "fee_percent": 50}}}])
def test_once_the_slot_has_started_it_cannot_be_cancelled(rules):
    terms = policies.cancellation_terms(rules, STARTS_AT, STARTS_AT)
    assert (terms.allowed, terms.code) == (False, "cancellation_closed")


def test_cancelling_exactly_at_the_deadline_is_on_time():
    terms = policies.cancellation_terms({"cancellation": {**SIX_HOURS, "late": {"action": "deduct_points", "points": 10}}}, STARTS_AT, DEADLINE)
    assert terms == CancellationTerms(allowed=True, late=False, code="on_time", deadline=DEADLINE)


def test_deadline_without_a_late_action_refuses_late_cancellations():
    terms = policies.cancellation_terms({"cancellation": SIX_HOURS}, STARTS_AT, DEADLINE + timedelta(seconds=1))
    assert terms == CancellationTerms(allowed=False, late=True, code="cancellation_closed", deadline=DEADLINE)


@pytest.mark.parametrize(
    ("late", "expected"),
    [
        ({"action": "refuse"}, CancellationTerms(allowed=False, late=True, code="cancellation_closed")),
        ({"action": "deduct_points", "points": 10}, CancellationTerms(allowed=True, late=True, points=10, code="late_deduct_points")),
        ({"action": "fee", "fee_percent": 20}, CancellationTerms(allowed=True, late=True, fee_percent=20, code="late_fee")),
        ({"action": "no_show"}, CancellationTerms(allowed=True, late=True, counts_as_no_show=True, code="late_no_show")),
    ],
)
def test_late_action_applies_just_after_the_deadline(late, expected):
    rules = {"cancellation": {**SIX_HOURS, "late": late}}
    assert policies.cancellation_terms(rules, STARTS_AT, DEADLINE + timedelta(seconds=1)) == replace(expected, deadline=DEADLINE)


@pytest.mark.parametrize("late", [{"action": "deduct_points", "points": 10}, {"action": "fee", "fee_percent": 20}, {"action": "no_show"}, {"action": "refuse"}])
def test_late_action_does_not_apply_before_the_deadline(late):
    terms = policies.cancellation_terms({"cancellation": {**SIX_HOURS, "late": late}}, STARTS_AT, DEADLINE - timedelta(hours=1))
    assert terms == CancellationTerms(allowed=True, late=False, deadline=DEADLINE)


def test_fractional_deadline_hours_are_honoured():
    rules = {"cancellation": {"deadline_hours": 0.5}}
    assert policies.cancellation_terms(rules, STARTS_AT, STARTS_AT - timedelta(minutes=30)).allowed
    assert not policies.cancellation_terms(rules, STARTS_AT, STARTS_AT - timedelta(minutes=29)).allowed


# --------------------------------------------------------------------------
# Limits per day and week (Asia/Shanghai; 2025-04-30 is a Wednesday)
# --------------------------------------------------------------------------

NOW = datetime(2025, 4, 30, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
TWO_A_DAY = {"cancellation": {"max_per_day": 2}}
FOUR_A_WEEK = {"cancellation": {"max_per_week": 4}}


@pytest.fixture
def cancelled(make_booking_type, make_booking, make_person):
    """``cancelled(customer, at)``: a booking of ``customer`` cancelled at ``at``."""
    booking_type = make_booking_type()

    def make(customer, at, status=BookingStatus.cancelled):
        return make_booking(booking_type, customer, people=[make_person()], status=status, released_at=at)

    return make


def limit_refusal(session, rules, customer) -> Refused:
    with pytest.raises(Refused) as raised:
        policies.check_cancellation_limits(session, rules, customer, NOW)
    return raised.value


def test_cancellations_up_to_the_daily_limit_pass(session, in_tenant, make_customer, cancelled):
    customer = make_customer()
    cancelled(customer, NOW - timedelta(hours=1))
    policies.check_cancellation_limits(session, TWO_A_DAY, customer, NOW)


def test_cancellation_over_the_daily_limit_is_refused(session, in_tenant, make_customer, cancelled):
    customer = make_customer()
    cancelled(customer, NOW - timedelta(hours=1))
    cancelled(customer, NOW - timedelta(hours=2))
    error = limit_refusal(session, TWO_A_DAY, customer)
    assert error.code == "cancellation_limit"
    assert "at most 2 bookings a day" in error.message


def test_the_day_is_the_tenants_local_day(session, in_tenant, make_customer, cancelled):
    customer = make_customer()
    cancelled(customer, datetime(2025, 4, 29, 16, 0, tzinfo=UTC))  # 00:00 on the 30th in Shanghai
    cancelled(customer, datetime(2025, 4, 29, 15, 59, tzinfo=UTC))  # 23:59 on the 29th
    policies.check_cancellation_limits(session, TWO_A_DAY, customer, NOW)
    cancelled(customer, datetime(2025, 4, 30, 1, 0, tzinfo=UTC))
    assert limit_refusal(session, TWO_A_DAY, customer).code == "cancellation_limit"


def test_an_explicit_time_zone_overrides_the_tenants(session, in_tenant, make_customer, cancelled):
    customer = make_customer()
    cancelled(customer, datetime(2025, 4, 29, 16, 0, tzinfo=UTC))
    cancelled(customer, datetime(2025, 4, 29, 17, 0, tzinfo=UTC))
    policies.check_cancellation_limits(session, TWO_A_DAY, customer, NOW, time_zone="UTC")


def test_cancellation_over_the_weekly_limit_is_refused(session, in_tenant, make_customer, cancelled):
    customer = make_customer()
    monday = datetime(2025, 4, 27, 16, 30, tzinfo=UTC)  # 00:30 on Monday the 28th in Shanghai
    for hours in range(3):
        cancelled(customer, monday + timedelta(hours=hours))
    policies.check_cancellation_limits(session, FOUR_A_WEEK, customer, NOW)
    cancelled(customer, NOW - timedelta(hours=1))
    assert "at most 4 bookings a week; 4 cancelled this week" in limit_refusal(session, FOUR_A_WEEK, customer).message


def test_last_weeks_cancellations_do_not_count(session, in_tenant, make_customer, cancelled):
    customer = make_customer()
    sunday_night = datetime(2025, 4, 27, 15, 59, tzinfo=UTC)  # 23:59 on Sunday the 27th in Shanghai
    for minutes in range(4):
        cancelled(customer, sunday_night - timedelta(minutes=minutes))
    policies.check_cancellation_limits(session, FOUR_A_WEEK, customer, NOW)


def test_only_the_accounts_own_cancellations_count(session, in_tenant, make_customer, cancelled):
    customer, other = make_customer(), make_customer()
    cancelled(other, NOW - timedelta(hours=1))
    cancelled(other, NOW - timedelta(hours=2))
    policies.check_cancellation_limits(session, TWO_A_DAY, customer, NOW)


def test_expired_holds_are_not_cancellations(session, in_tenant, make_customer, cancelled):
    customer = make_customer()
    cancelled(customer, NOW - timedelta(hours=1), status=BookingStatus.expired)
    cancelled(customer, NOW - timedelta(hours=2), status=BookingStatus.expired)
    policies.check_cancellation_limits(session, TWO_A_DAY, customer, NOW)


def test_no_limits_means_no_query(session, make_customer):
    customer = make_customer()
    policies.check_cancellation_limits(session, {"cancellation": SIX_HOURS}, customer, NOW)  # no tenant in context: would raise if it queried


# --------------------------------------------------------------------------
# Reschedule
# --------------------------------------------------------------------------


def booking(reschedule_count=0) -> Booking:
    return Booking(starts_at=STARTS_AT, reschedule_count=reschedule_count)


def reschedule_refusal(rules, moved, now):
    terms = policies.reschedule_terms(rules, moved, now)
    assert not terms.allowed
    return terms


def test_booking_may_be_rescheduled_up_to_the_limit():
    assert policies.reschedule_terms({"reschedule": {"max_per_booking": 1}}, booking(0), NOW).allowed


def test_rescheduling_past_the_limit_is_refused():
    terms = reschedule_refusal({"reschedule": {"max_per_booking": 1}}, booking(1), NOW)
    assert (terms.code, terms.message) == ("reschedule_limit", "a booking may be rescheduled at most once")


def test_limit_of_zero_forbids_rescheduling():
    assert reschedule_refusal({"reschedule": {"max_per_booking": 0}}, booking(0), NOW).code == "reschedule_limit"


def test_rescheduling_exactly_at_the_deadline_passes():
    terms = policies.reschedule_terms({"reschedule": {"deadline_hours": 24}}, booking(), STARTS_AT - timedelta(hours=24))
    assert (terms.allowed, terms.deadline) == (True, STARTS_AT - timedelta(hours=24))


def test_rescheduling_after_the_deadline_is_refused():
    terms = reschedule_refusal({"reschedule": {"deadline_hours": 24}}, booking(), STARTS_AT - timedelta(hours=24) + timedelta(seconds=1))
    assert terms.code == "reschedule_closed"
    assert "24 hours before it starts" in terms.message


def test_without_a_policy_a_booking_may_be_moved_until_it_starts():
    assert policies.reschedule_terms({}, booking(5), STARTS_AT - timedelta(seconds=1)).allowed
    assert reschedule_refusal({}, booking(), STARTS_AT).code == "reschedule_closed"
