"""slot-rule and the params of each built-in slot-rule type."""

import pytest

import yuyue_schemas

VALID_PARAMS = {
    "weekly_hours": {
        "weekdays": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "14:00", "end": "18:00"}], "sun": []},
        "slot_minutes": 60,
        "step_minutes": 30,
        "capacity": 8,
        "capacity_by_channel": {"individual": 6, "group": 2},
        "calendar": "CN",
        "on_public_holidays": "sun",
        "on_adjusted_workdays": "fri",
    },
    "fixed_windows": {
        "windows": [
            {"start": "09:00", "end": "11:00", "capacity": 300, "label": {"zh-Hans": "上午场"}},
            {"start": "13:00", "end": "15:00", "capacity": 300, "capacity_by_channel": {"group": 50}},
        ],
        "weekdays": ["tue", "wed"],
        "on_adjusted_workdays": "closed",
        "capacity_by_channel": {"group": 100},
    },
    "closed_dates": {"dates": ["2025-01-29", "2025-10-01"], "weekdays": ["mon"], "open_on_public_holidays": True, "calendar": "CN"},
    "holiday_throttle": {"calendar": "CN", "capacity_factor": 0.75, "applies_to": "public_holidays"},
    "special_hours": {
        "days": [
            {"date": "2026-12-24", "intervals": [{"start": "09:00", "end": "12:00"}], "slot_minutes": 30, "capacity": 4},
            {"date": "2026-12-31", "windows": [{"start": "20:00", "end": "23:00", "capacity": 100, "label": "New Year's Eve"}]},
            {"date": "2027-01-01", "intervals": []},
        ]
    },
    "booking_window": {"opens_days_ahead": 7, "release_time": "17:00", "closes_minutes_before": 30},
    "daily_cap": {"capacity": 3000, "by_channel": {"group": 2000}},
}

INVALID_PARAMS = [
    ("weekly_hours", {"weekdays": {"mon": []}, "slot_minutes": 4, "capacity": 1}, "/slot_minutes"),
    ("weekly_hours", {"weekdays": {"mon": []}, "slot_minutes": 1441, "capacity": 1}, "/slot_minutes"),
    ("weekly_hours", {"weekdays": {"mon": []}, "slot_minutes": 30, "capacity": 0}, "/capacity"),
    ("weekly_hours", {"weekdays": {"monday": []}, "slot_minutes": 30, "capacity": 1}, "/weekdays/monday"),
    ("weekly_hours", {"weekdays": {}, "slot_minutes": 30, "capacity": 1}, "/weekdays"),
    (
        "weekly_hours",
        {"weekdays": {"mon": [{"start": "24:00", "end": "25:00"}]}, "slot_minutes": 30, "capacity": 1},
        "/weekdays/mon/0/end",
    ),
    (
        "weekly_hours",
        {"weekdays": {"mon": []}, "slot_minutes": 30, "capacity": 1, "capacity_by_channel": {"vip": -1}},
        "/capacity_by_channel/vip",
    ),
    ("fixed_windows", {"windows": []}, "/windows"),
    ("fixed_windows", {"windows": [{"start": "9:00", "end": "10:00", "capacity": 1}]}, "/windows/0/start"),
    ("fixed_windows", {"windows": [{"start": "09:00", "end": "10:00"}]}, "/windows/0/capacity"),
    (
        "fixed_windows",
        {"windows": [{"start": "09:00", "end": "10:00", "capacity": 1}], "weekdays": ["mon", "mon"]},
        "/weekdays",
    ),
    ("closed_dates", {"dates": ["2025-13-01"]}, "/dates/0"),
    ("closed_dates", {"dates": ["20250101"]}, "/dates/0"),
    ("closed_dates", {}, ""),
    ("closed_dates", {"weekdays": ["mon"], "open_on_public_holidays": "yes"}, "/open_on_public_holidays"),
    ("holiday_throttle", {"calendar": "US", "capacity_factor": 0.5}, "/calendar"),
    ("holiday_throttle", {"calendar": "CN", "capacity_factor": 0}, "/capacity_factor"),
    ("holiday_throttle", {"calendar": "CN", "capacity_factor": 2.5}, "/capacity_factor"),
    ("holiday_throttle", {"calendar": "CN"}, ""),
    ("holiday_throttle", {"calendar": "CN", "closed_otherwise": True, "applies_to": "weekends"}, "/applies_to"),
    ("holiday_throttle", {"calendar": "CN", "capacity_factor": 0.5, "only_on_holidays": True}, "/only_on_holidays"),
    ("weekly_hours", {"weekdays": {"mon": []}, "slot_minutes": 30, "capacity": 1, "on_adjusted_workdays": "monday"}, "/on_adjusted_workdays"),
    ("special_hours", {"days": []}, "/days"),
    ("special_hours", {"days": [{"date": "2026-12-24"}]}, "/days/0"),
    ("special_hours", {"days": [{"date": "2026-12-24", "intervals": [], "windows": []}]}, "/days/0"),
    ("special_hours", {"days": [{"date": "24.12.2026", "intervals": []}]}, "/days/0/date"),
    ("special_hours", {"days": [{"date": "2026-12-24", "windows": [{"start": "09:00", "end": "10:00"}]}]}, "/days/0/windows/0/capacity"),
    ("booking_window", {"opens_days_ahead": -1, "release_time": "17:00", "closes_minutes_before": 0}, "/opens_days_ahead"),
    ("booking_window", {"opens_days_ahead": 7, "release_time": "5pm", "closes_minutes_before": 0}, "/release_time"),
    ("daily_cap", {}, ""),
    ("daily_cap", {"capacity": 0}, "/capacity"),
    ("daily_cap", {"capacity": 10000001}, "/capacity"),
    ("daily_cap", {"by_channel": {}}, "/by_channel"),
    ("daily_cap", {"by_channel": {"Group": 5}}, "/by_channel/Group"),
    ("daily_cap", {"by_channel": {"group": -1}}, "/by_channel/group"),
    ("daily_cap", {"capacity": 100, "per_week": 500}, "/per_week"),
]


@pytest.mark.parametrize("rule_type", sorted(VALID_PARAMS))
def test_valid_params_are_accepted(rule_type):
    assert yuyue_schemas.problems(f"slot-rules/{rule_type}", VALID_PARAMS[rule_type]) == []


@pytest.mark.parametrize(("rule_type", "params", "pointer"), INVALID_PARAMS)
def test_invalid_params_are_refused_at_the_value(rule_type, params, pointer):
    assert pointer in [p.pointer for p in yuyue_schemas.problems(f"slot-rules/{rule_type}", params)]


@pytest.mark.parametrize(("rule_type", "params", "pointer"), INVALID_PARAMS)
def test_slot_rule_checks_builtin_params_under_params(rule_type, params, pointer):
    found = yuyue_schemas.problems("slot-rule", {"type": rule_type, "params": params})
    assert f"/params{pointer}" in [p.pointer for p in found]


def test_closed_dates_accepts_weekdays_alone():
    assert yuyue_schemas.problems("slot-rules/closed_dates", {"weekdays": ["mon"]}) == []


def test_slot_rule_of_a_plugin_type_accepts_any_params_object():
    assert yuyue_schemas.problems("slot-rule", {"type": "lunar_festival", "params": {"x": 1}}) == []


@pytest.mark.parametrize(
    ("rule", "pointer"),
    [
        ({"type": "Weekly", "params": {}}, "/type"),
        ({"type": "weekly_hours"}, "/params"),
        ({"type": "lunar_festival", "params": []}, "/params"),
        ({"type": "lunar_festival", "params": {}, "enabled": True}, "/enabled"),
    ],
)
def test_bad_slot_rule_is_refused(rule, pointer):
    assert [p.pointer for p in yuyue_schemas.problems("slot-rule", rule)] == [pointer]
