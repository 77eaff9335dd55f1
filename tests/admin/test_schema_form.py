"""The generic schema-to-form renderer: every slot rule's and policy's schema round-trips, problems sit beside their fields, typed text is kept."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from html_forms import posted

import yuyue_schemas
from yuyue.admin.schema_form import read_schema_form, render_schema_form
from yuyue.plugins import plugin_host
from yuyue.scheduling.registry import slot_rules

EXAMPLES = {
    "weekly_hours": {
        "weekdays": {"mon": [{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}], "sat": []},
        "slot_minutes": 30,
        "step_minutes": 15,
        "capacity": 20,
        "capacity_by_channel": {"group": 5, "individual": 10},
        "calendar": "CN",
        "on_public_holidays": "sun",
    },
    "fixed_windows": {
        "windows": [
            {"start": "09:00", "end": "10:00", "capacity": 30, "label": {"zh-Hans": "上午场", "en": "Morning"}},
            {"start": "14:00", "end": "15:00", "capacity": 10, "label": "PM", "capacity_by_channel": {"group": 4}},
        ],
        "weekdays": ["sat", "mon"],
    },
    "special_hours": {
        "days": [{"date": "2026-12-24", "intervals": [{"start": "10:00", "end": "12:00"}], "capacity": 5}, {"date": "2026-12-25", "windows": []}]
    },
    "closed_dates": {"dates": ["2026-12-25"], "weekdays": ["mon"], "open_on_public_holidays": True},
    "holiday_throttle": {"calendar": "CN", "capacity_factor": 0.75, "closed_otherwise": False},
    "booking_window": {"opens_days_ahead": 7, "release_time": "08:30", "closes_minutes_before": 0},
    "daily_cap": {"capacity": 3000, "by_channel": {"group": 600}},
}
POLICIES = {
    "quotas": [{"scope": "id_number", "max_bookings": 1, "period": "day"}, {"scope": "customer", "max_bookings": 3, "period": "rolling_days", "days": 7}],
    "max_persons_per_account_per_day": 5,
    "across_booking_types": False,
    "minors": {"adult_age": 18, "require_adult": True},
    "cancellation": {"deadline_hours": 2.5, "late": {"action": "fee", "fee_percent": 20}, "max_per_day": 2},
    "reschedule": {"max_per_booking": 1},
    "no_show": {"bans": [{"count": 3, "within_days": 30, "ban_days": 14, "scope": "customer"}]},
    "waitlist": {"offer_minutes": 30},
    "check_in": {"early_minutes": 0},
}


def round_trip(schema, value, **changes):
    html = render_schema_form(schema, value, prefix="p", errors={})
    return read_schema_form(schema, posted(html, **changes), prefix="p")


def test_every_registered_slot_rule_has_an_example(app):
    assert set(slot_rules()) <= set(EXAMPLES), "a slot-rule type without an example here is not round-trip tested"


@pytest.mark.parametrize("rule_type", sorted(EXAMPLES))
def test_a_slot_rule_comes_back_as_it_was(app, rule_type):
    schema = slot_rules().params_schemas()[rule_type]
    assert yuyue_schemas.problems_against(schema, EXAMPLES[rule_type]) == []
    assert round_trip(schema, EXAMPLES[rule_type]) == (EXAMPLES[rule_type], {})


def test_the_policies_come_back_as_they_were(app):
    schema = yuyue_schemas.schema("policies")
    assert round_trip(schema, POLICIES) == (POLICIES, {})
    assert round_trip(schema, {}) == ({}, {})


def test_every_verticals_defaults_and_settings_come_back_as_they_were(app):
    rules = slot_rules().params_schemas()
    for vertical in plugin_host().verticals.values():
        for rule in vertical.default_slot_rules:
            assert round_trip(rules[rule["type"]], rule["params"]) == (rule["params"], {}), vertical.key
        assert round_trip(yuyue_schemas.schema("policies"), vertical.default_policies) == (vertical.default_policies, {}), vertical.key
        settings = plugin_host().settings_schema(vertical.plugin)
        example = {key: spec["default"] for key, spec in settings.get("properties", {}).items() if isinstance(spec, dict) and "default" in spec}
        assert round_trip(settings, example) == (example, {}), vertical.key


def test_an_optional_empty_object_stays_apart_from_an_absent_one(app):
    schema = yuyue_schemas.schema("policies")
    assert round_trip(schema, {"minors": {}}) == ({"minors": {}}, {})
    assert round_trip(schema, {"minors": {"adult_age": 18}}, **{"p.minors.adult_age": ""}) == ({"minors": {}}, {})


def test_a_number_that_is_not_one_comes_back_as_typed_with_its_problem(app):
    schema = slot_rules().params_schemas()["booking_window"]
    with force_locale("en"):
        value, problems = round_trip(schema, EXAMPLES["booking_window"], **{"p.opens_days_ahead": "seven"})
    assert value["opens_days_ahead"] == "seven"
    assert problems == {"/opens_days_ahead": "Enter a whole number."}
    html = render_schema_form(schema, value, prefix="p", errors=problems)
    assert 'value="seven"' in html and "Enter a whole number." in html
    with force_locale("zh_Hans"):
        assert round_trip(schema, EXAMPLES["booking_window"], **{"p.opens_days_ahead": "seven"})[1] == {"/opens_days_ahead": "请输入整数。"}
    assert 'aria-invalid="true" aria-describedby="sf-p.opens_days_ahead-error"' in html


def test_a_value_out_of_bounds_is_refused_beside_its_field(app):
    schema = slot_rules().params_schemas()["booking_window"]
    value, problems = round_trip(schema, EXAMPLES["booking_window"], **{"p.opens_days_ahead": "99999"})
    assert value["opens_days_ahead"] == 99999 and list(problems) == ["/opens_days_ahead"]
    html = render_schema_form(schema, value, prefix="p", errors=problems)
    assert html.count('class="field-error"') == 1 and 'id="sf-p.opens_days_ahead-error"' in html


def test_a_row_is_added_in_the_spare_row_and_removed_by_its_box(app):
    schema = slot_rules().params_schemas()["fixed_windows"]
    value = EXAMPLES["fixed_windows"]
    added, problems = round_trip(schema, value, **{"p.windows.2.start": "18:00", "p.windows.2.end": "19:00", "p.windows.2.capacity": "5"})
    assert added["windows"][2] == {"start": "18:00", "end": "19:00", "capacity": 5} and problems == {}
    removed, _problems = round_trip(schema, value, **{"p.windows.0.#remove": "on"})
    assert removed["windows"] == value["windows"][1:]


def test_a_missing_required_part_is_said_where_it_belongs(app):
    schema = slot_rules().params_schemas()["weekly_hours"]
    value, problems = round_trip(schema, EXAMPLES["weekly_hours"], **{"p.capacity": ""})
    assert "capacity" not in value and problems == {"/capacity": "this field is required"}


def test_an_unknown_construct_falls_back_to_json_and_keeps_bad_json_as_typed(app):
    schema = {"type": "object", "properties": {"anything": {}}}
    assert round_trip(schema, {"anything": {"a": [1, 2]}}) == ({"anything": {"a": [1, 2]}}, {})
    value, problems = round_trip(schema, {"anything": 1}, **{"p.anything.#json": "{not json"})
    assert value == {"anything": "{not json"} and list(problems) == ["/anything"]
    assert "{not json" in render_schema_form(schema, value, prefix="p", errors=problems)


def test_alternative_objects_are_chosen_then_filled(app):
    schema = {
        "type": "object",
        "properties": {
            "refund": {
                "oneOf": [
                    {
                        "title": "Percent",
                        "type": "object",
                        "properties": {"percent": {"type": "integer", "minimum": 0, "maximum": 100}},
                        "required": ["percent"],
                        "additionalProperties": False,
                    },
                    {
                        "title": "Fixed",
                        "type": "object",
                        "properties": {"amount": {"type": "integer", "minimum": 0, "maximum": 1000}},
                        "required": ["amount"],
                        "additionalProperties": False,
                    },
                ]
            }
        },
    }
    assert round_trip(schema, {"refund": {"amount": 5}}) == ({"refund": {"amount": 5}}, {})
    assert round_trip(schema, {"refund": {"percent": 50}}) == ({"refund": {"percent": 50}}, {})
