"""policies: a booking type's quotas, minors, cancellation, reschedule and no-show rules."""

import copy

import pytest

import yuyue_schemas

MUSEUM = {
    "quotas": [
        {"scope": "id_number", "max_bookings": 1, "period": "day"},
        {"scope": "phone", "max_bookings": 4, "period": "rolling_days", "days": 7},
        {"scope": "customer", "max_bookings": 3, "period": "day"},
    ],
    "max_persons_per_account_per_day": 5,
    "across_booking_types": True,
    "minors": {"adult_age": 18, "max_minors_per_booking": 3, "require_adult": True},
    "cancellation": {"deadline_hours": 2.5, "late": {"action": "deduct_points", "points": 10}, "max_per_day": 2, "max_per_week": 4},
    "reschedule": {"max_per_booking": 1, "deadline_hours": 24},
    "no_show": {
        "bans": [
            {"count": 3, "within_days": 30, "ban_days": 30, "scope": "customer"},
            {"count": 5, "within_days": 30, "ban_days": 180, "scope": "id_number"},
        ]
    },
}


def with_change(pointer, value):
    policies = copy.deepcopy(MUSEUM)
    *parents, last = pointer.strip("/").split("/")
    node = policies
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return policies


DELETE = object()


def pointers(policies):
    return [problem.pointer for problem in yuyue_schemas.problems("policies", policies)]


def test_complete_policies_are_accepted():
    assert yuyue_schemas.problems("policies", MUSEUM) == []


def test_no_policies_at_all_are_accepted():
    assert yuyue_schemas.problems("policies", {}) == []


@pytest.mark.parametrize(
    "late",
    [{"action": "refuse"}, {"action": "no_show"}, {"action": "fee", "fee_percent": 100}, {"action": "deduct_points", "points": 1}],
)
def test_every_late_action_is_accepted(late):
    assert yuyue_schemas.problems("policies", with_change("/cancellation/late", late)) == []


def test_unknown_policy_is_refused_at_the_key():
    [problem] = yuyue_schemas.problems("policies", with_change("/discounts", {}))
    assert (problem.pointer, problem.keyword) == ("/discounts", "additionalProperties")


@pytest.mark.parametrize("part", ["minors", "cancellation", "cancellation/late", "reschedule", "no_show", "no_show/bans/0", "quotas/0"])
def test_unknown_key_inside_a_policy_is_refused_at_the_key(part):
    assert pointers(with_change(f"/{part}/typo", 1)) == [f"/{part}/typo"]


def test_quota_scope_must_be_known():
    assert pointers(with_change("/quotas/0/scope", "email")) == ["/quotas/0/scope"]


def test_quota_needs_at_least_one_booking():
    assert pointers(with_change("/quotas/0/max_bookings", 0)) == ["/quotas/0/max_bookings"]


def test_rolling_quota_needs_its_days():
    [problem] = yuyue_schemas.problems("policies", with_change("/quotas/1/days", DELETE))
    assert (problem.pointer, problem.keyword, problem.message) == ("/quotas/1/days", "required", "this field is required")


def test_days_belong_to_a_rolling_quota():
    [problem] = yuyue_schemas.problems("policies", with_change("/quotas/0/days", 7))
    assert (problem.pointer, problem.message) == ("/quotas/0/period", "'rolling_days' was expected")


def test_rolling_quota_spans_at_least_two_days():
    assert pointers(with_change("/quotas/1/days", 1)) == ["/quotas/1/days"]


def test_quota_period_must_be_known():
    assert pointers(with_change("/quotas/0/period", "week")) == ["/quotas/0/period"]


def test_adult_age_defaults_to_18():
    assert yuyue_schemas.schema("policies")["properties"]["minors"]["properties"]["adult_age"]["default"] == 18


def test_zero_minors_per_booking_is_a_valid_way_to_refuse_minors():
    assert yuyue_schemas.problems("policies", with_change("/minors/max_minors_per_booking", 0)) == []


def test_deducting_points_needs_the_points():
    [problem] = yuyue_schemas.problems("policies", with_change("/cancellation/late", {"action": "deduct_points"}))
    assert (problem.pointer, problem.keyword) == ("/cancellation/late/points", "required")


def test_fee_needs_its_percentage():
    [problem] = yuyue_schemas.problems("policies", with_change("/cancellation/late", {"action": "fee"}))
    assert (problem.pointer, problem.keyword) == ("/cancellation/late/fee_percent", "required")


def test_fee_over_100_percent_is_refused():
    assert pointers(with_change("/cancellation/late", {"action": "fee", "fee_percent": 101})) == ["/cancellation/late/fee_percent"]


def test_points_belong_to_the_deduct_points_action():
    [problem] = yuyue_schemas.problems("policies", with_change("/cancellation/late", {"action": "refuse", "points": 5}))
    assert (problem.pointer, problem.message) == ("/cancellation/late/action", "'deduct_points' was expected")


def test_late_action_needs_a_deadline():
    [problem] = yuyue_schemas.problems("policies", with_change("/cancellation/deadline_hours", DELETE))
    assert (problem.pointer, problem.keyword) == ("/cancellation", "dependentRequired")


def test_negative_deadline_is_refused():
    assert pointers(with_change("/reschedule/deadline_hours", -1)) == ["/reschedule/deadline_hours"]


def test_no_show_policy_needs_at_least_one_ban():
    assert pointers(with_change("/no_show/bans", [])) == ["/no_show/bans"]


@pytest.mark.parametrize("key", ["count", "within_days", "ban_days", "scope"])
def test_no_show_ban_needs_each_of_its_keys(key):
    [problem] = yuyue_schemas.problems("policies", with_change(f"/no_show/bans/0/{key}", DELETE))
    assert (problem.pointer, problem.keyword) == (f"/no_show/bans/0/{key}", "required")


def test_no_show_ban_scope_must_be_customer_or_id_number():
    assert pointers(with_change("/no_show/bans/0/scope", "phone")) == ["/no_show/bans/0/scope"]


def test_across_booking_types_must_be_a_boolean():
    assert pointers(with_change("/across_booking_types", "yes")) == ["/across_booking_types"]
