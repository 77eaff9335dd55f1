"""The slot-rule registry: validating rule lists with pointers, and plugins adding rule types."""

import copy
import json
from datetime import date
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from yuyue.errors import InvalidInput
from yuyue.plugins import PluginLoadError, make_plugin_host
from yuyue.scheduling.registry import build_slot_rules, builtin_registry
from yuyue.scheduling.rules import SlotRuleRegistry, SlotRuleType, SlotRuleTypeError
from yuyue.scheduling.slots import generate_slots

WINDOWS = {
    "type": "fixed_windows",
    "params": {"windows": [{"start": "09:00", "end": "11:00", "capacity": 300}, {"start": "11:00", "end": "13:00", "capacity": 300}]},
}
WEEKLY = {"type": "weekly_hours", "params": {"weekdays": {"mon": [{"start": "09:00", "end": "12:00"}]}, "slot_minutes": 60, "capacity": 8}}


def pointers(rules):
    return [(p.pointer, p.code) for p in builtin_registry().problems(rules)]


def test_builtin_registry_knows_the_seven_builtin_types():
    assert list(builtin_registry()) == ["booking_window", "closed_dates", "daily_cap", "fixed_windows", "holiday_throttle", "special_hours", "weekly_hours"]


def test_valid_rules_compile_to_their_types():
    compiled = builtin_registry().compile([WEEKLY, WINDOWS])
    assert [rule.key for rule in compiled] == ["weekly_hours", "fixed_windows"]


def test_invalid_params_are_reported_at_the_value_under_availability_rules():
    rules = [WEEKLY, {"type": "closed_dates", "params": {"weekdays": ["mon"]}}, copy.deepcopy(WINDOWS)]
    rules[2]["params"]["windows"][0]["start"] = "9:00"
    with pytest.raises(InvalidInput) as caught:
        builtin_registry().compile(rules)
    assert [p.pointer for p in caught.value.errors] == ["/availability_rules/2/params/windows/0/start"]
    assert caught.value.code == "validation_failed"


def test_unknown_rule_type_is_reported_at_its_type_naming_the_known_ones():
    [problem] = builtin_registry().problems([{"type": "moon_phase", "params": {}}])
    assert (problem.pointer, problem.code) == ("/availability_rules/0/type", "unknown_slot_rule")
    assert "known: booking_window, closed_dates" in problem.message


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ({"type": "weekly_hours"}, [("/availability_rules", "type")]),
        ([{"type": "weekly_hours"}], [("/availability_rules/0/params", "required")]),
        ([{"params": {}}], [("/availability_rules/0/type", "required")]),
        ([{"type": ["weekly_hours"], "params": {}}], [("/availability_rules/0/type", "type")]),
        ([{"type": {"weekly_hours": 1}, "params": {}}], [("/availability_rules/0/type", "type")]),
        ([{"type": "weekly_hours", "params": ["x"]}], [("/availability_rules/0/params", "type")]),
        ([{"type": "closed_dates", "params": {"dates": []}, "note": "x"}], [("/availability_rules/0/note", "additionalProperties")]),
        (["weekly_hours"], [("/availability_rules/0", "type")]),
    ],
)
def test_malformed_rule_lists_are_refused(rules, expected):
    assert pointers(rules) == expected


def test_window_ending_before_it_starts_is_refused_at_its_end():
    rules = [{"type": "fixed_windows", "params": {"windows": [{"start": "11:00", "end": "09:00", "capacity": 1}]}}]
    assert pointers(rules) == [("/availability_rules/0/params/windows/0/end", "end_before_start")]


def test_overlapping_windows_are_refused_at_the_later_start():
    rules = [
        {"type": "fixed_windows", "params": {"windows": [{"start": "10:00", "end": "12:00", "capacity": 1}, {"start": "09:00", "end": "11:00", "capacity": 1}]}}
    ]
    assert pointers(rules) == [("/availability_rules/0/params/windows/0/start", "overlapping")]


def test_overlapping_intervals_of_one_weekday_are_refused():
    params = {"weekdays": {"tue": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}, "slot_minutes": 60, "capacity": 1}
    assert pointers([{"type": "weekly_hours", "params": params}]) == [("/availability_rules/0/params/weekdays/tue/1/start", "overlapping")]


def test_interval_shorter_than_a_slot_is_refused():
    params = {"weekdays": {"tue": [{"start": "09:00", "end": "09:30"}]}, "slot_minutes": 60, "capacity": 1}
    assert pointers([{"type": "weekly_hours", "params": params}]) == [("/availability_rules/0/params/weekdays/tue/0", "interval_too_short")]


def test_channel_shares_above_the_capacity_are_refused():
    params = {
        "weekdays": {"tue": [{"start": "09:00", "end": "10:00"}]},
        "slot_minutes": 60,
        "capacity": 10,
        "capacity_by_channel": {"individual": 8, "group": 3},
    }
    assert pointers([{"type": "weekly_hours", "params": params}]) == [("/availability_rules/0/params/capacity_by_channel", "channels_exceed_capacity")]


def test_two_weekly_hours_rules_are_refused():
    assert pointers([WEEKLY, WEEKLY]) == [("/availability_rules/1/type", "duplicate_rule")]


def test_special_hours_with_intervals_need_a_slot_length_and_capacity_from_somewhere():
    special = {"type": "special_hours", "params": {"days": [{"date": "2026-12-24", "intervals": [{"start": "09:00", "end": "12:00"}]}]}}
    assert sorted(pointers([special])) == [
        ("/availability_rules/0/params/days/0", "missing_capacity"),
        ("/availability_rules/0/params/days/0", "missing_slot_minutes"),
    ]
    assert pointers([WEEKLY, special]) == []


def test_special_hours_for_one_date_twice_are_refused():
    day = {"date": "2026-12-24", "intervals": []}
    assert pointers([{"type": "special_hours", "params": {"days": [day, day]}}]) == [("/availability_rules/0/params/days/1/date", "duplicate_date")]


def test_every_shipped_vertical_has_valid_default_rules():
    for package in ("yuyue_activity", "yuyue_course", "yuyue_exhibition", "yuyue_scenic", "yuyue_vehicle"):
        declaration = json.loads((resources.files(package) / "vertical" / "vertical.json").read_text("utf-8"))
        assert builtin_registry().problems(declaration["default_slot_rules"], "/default_slot_rules") == [], package


class Lunar(SlotRuleType):
    key = "lunar"
    params_schema = {"type": "object"}


def test_a_rule_type_key_can_be_registered_once():
    registry = SlotRuleRegistry([Lunar()], owner="moon")
    with pytest.raises(SlotRuleTypeError, match="already registered by 'moon'"):
        registry.register(Lunar(), "sun")


def test_a_rule_type_needs_a_valid_params_schema():
    class Broken(SlotRuleType):
        key = "broken"
        params_schema = {"type": "objekt"}

    with pytest.raises(SlotRuleTypeError, match="params schema of slot rule type 'broken' at /type"):
        SlotRuleRegistry([Broken()])


def test_a_rule_type_whose_params_admit_an_unbounded_number_is_refused():
    class Tides(SlotRuleType):
        key = "tides"
        params_schema = {"type": "object", "properties": {"height": {"type": "number", "minimum": 0}}}

    with pytest.raises(SlotRuleTypeError, match="params schema of slot rule type 'tides' at /properties/height: a number here needs minimum and maximum"):
        SlotRuleRegistry([Tides()])


def test_registering_something_else_is_refused():
    with pytest.raises(SlotRuleTypeError, match="SlotRuleType instance"):
        SlotRuleRegistry().register({"key": "lunar"}, "x")


RAIN_PLUGIN = """
    from yuyue import hookimpl
    from yuyue.scheduling.rules import SlotRuleType


    class RainClosures(SlotRuleType):
        key = "rain_closures"
        params_schema = {
            "type": "object",
            "properties": {"dates": {"type": "array", "items": {"type": "string", "format": "date"}}},
            "required": ["dates"],
            "additionalProperties": False,
        }

        def adjust(self, params, day, slots):
            return [] if day.day.isoformat() in params["dates"] else slots


    @hookimpl
    def register_slot_rules():
        return [RainClosures()]
"""


def test_hook_register_slot_rules_adds_a_rule_type_that_validates_and_generates(make_plugin):
    make_plugin("rain", RAIN_PLUGIN)
    registry = build_slot_rules(make_plugin_host())
    assert registry.owner("rain_closures") == "rain"
    assert "rain_closures" in [v for v in registry]

    bad = [WINDOWS, {"type": "rain_closures", "params": {"dates": ["2026-06-31"]}}]
    assert [p.pointer for p in registry.problems(bad)] == ["/availability_rules/1/params/dates/0"]

    rules = [WINDOWS, {"type": "rain_closures", "params": {"dates": ["2026-06-02"]}}]
    slots = generate_slots(rules, ZoneInfo("Asia/Shanghai"), date(2026, 6, 1), date(2026, 6, 3), registry=registry)
    assert sorted({slot.local_date.day for slot in slots}) == [1, 3]


def test_hook_register_slot_rules_types_may_appear_in_a_vertical_declaration(make_plugin):
    files = {
        f"vertical/{p.name}": json.loads(p.read_text("utf-8")) for p in (resources.files("yuyue_exhibition") / "vertical").iterdir() if p.name.endswith(".json")
    }
    files["vertical/vertical.json"]["key"] = "rainy_museum"
    files["vertical/vertical.json"]["default_slot_rules"].append({"type": "rain_closures", "params": {"dates": []}})
    source = (
        RAIN_PLUGIN
        + """
    from yuyue import VerticalFile

    @hookimpl
    def register_verticals():
        return [VerticalFile(__package__, "vertical/vertical.json")]
"""
    )
    make_plugin("rain", source, files)
    host = make_plugin_host()
    build_slot_rules(host)  # the vertical's rules are checked against the plugin's rule type, and pass
    assert host.verticals["rainy_museum"].default_slot_rules[-1]["type"] == "rain_closures"


def test_hook_register_slot_rules_cannot_take_a_builtin_key(make_plugin):
    make_plugin(
        "usurper",
        """
        from yuyue import hookimpl
        from yuyue.scheduling.rules import SlotRuleType

        class Mine(SlotRuleType):
            key = "weekly_hours"

        @hookimpl
        def register_slot_rules():
            return [Mine()]
    """,
    )
    with pytest.raises(
        PluginLoadError, match="plugin 'usurper' registers an invalid slot rule type: slot rule type 'weekly_hours' is already registered by 'yuyue'"
    ):
        build_slot_rules(make_plugin_host())
