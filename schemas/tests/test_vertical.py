"""vertical: a plugin's vertical.json declaration."""

import copy

import pytest

import yuyue_schemas

NAME = {"zh-Hans": "活动报名", "zh-Hant": "活動報名", "en": "Event registration"}

VALID = {
    "$schema": "https://schemas.yuyue.dev/v1/vertical.json",
    "key": "activity",
    "name": NAME,
    "description": "Sign-ups for events",
    "icon": "calendar",
    "form": {"schema": "form.schema.json", "ui": "form.ui.json"},
    "settings_schema": "settings.schema.json",
    "default_slot_rules": [
        {"type": "fixed_windows", "params": {"windows": [{"start": "09:00", "end": "11:00", "capacity": 50}]}},
        {"type": "plugin_contributed_rule", "params": {"anything": True}},
    ],
    "resource_kinds": [{"key": "venue", "name": {"zh-Hans": "场地"}}],
    "default_policies": {"cancellation": {"deadline_hours": 6}, "quotas": []},
}


def with_change(pointer, value):
    declaration = copy.deepcopy(VALID)
    *parents, last = pointer.strip("/").split("/")
    node = declaration
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return declaration


DELETE = object()


def test_complete_declaration_is_accepted():
    assert yuyue_schemas.problems("vertical", VALID) == []


def test_declaration_without_optional_parts_is_accepted():
    minimal = {k: v for k, v in VALID.items() if k not in ("$schema", "icon", "default_policies")}
    minimal["resource_kinds"] = []
    minimal["default_slot_rules"] = []
    assert yuyue_schemas.problems("vertical", minimal) == []


@pytest.mark.parametrize(
    "missing",
    ["key", "name", "description", "form", "settings_schema", "default_slot_rules", "resource_kinds"],
)
def test_missing_required_key_is_reported_at_the_key(missing):
    [problem] = yuyue_schemas.problems("vertical", with_change(f"/{missing}", DELETE))
    assert (problem.pointer, problem.keyword) == (f"/{missing}", "required")


@pytest.mark.parametrize("key", ["Activity", "a", "1activity", "activity-booking", "x" * 41])
def test_bad_key_is_refused(key):
    [problem] = yuyue_schemas.problems("vertical", with_change("/key", key))
    assert problem.pointer == "/key"


@pytest.mark.parametrize("path", ["/etc/form.json", "../other/form.json", "form.yaml", "a/../form.json", ""])
def test_form_file_must_be_a_relative_json_file_inside_the_package(path):
    [problem] = yuyue_schemas.problems("vertical", with_change("/form/schema", path))
    assert problem.pointer == "/form/schema"


def test_missing_ui_file_is_reported_at_its_key():
    [problem] = yuyue_schemas.problems("vertical", with_change("/form/ui", DELETE))
    assert (problem.pointer, problem.keyword) == ("/form/ui", "required")


def test_unknown_top_level_key_is_refused_at_the_key():
    [problem] = yuyue_schemas.problems("vertical", with_change("/price", 100))
    assert (problem.pointer, problem.keyword) == ("/price", "additionalProperties")


def test_unknown_policy_is_refused_at_the_key():
    [problem] = yuyue_schemas.problems("vertical", with_change("/default_policies/discounts", {}))
    assert problem.pointer == "/default_policies/discounts"


def test_default_policies_are_checked_in_place_against_the_policies_schema():
    [problem] = yuyue_schemas.problems("vertical", with_change("/default_policies/cancellation/deadline_hours", -1))
    assert problem.pointer == "/default_policies/cancellation/deadline_hours"


def test_builtin_slot_rule_params_are_checked_in_place():
    [problem] = yuyue_schemas.problems("vertical", with_change("/default_slot_rules/0/params/windows/0/capacity", 0))
    assert problem.pointer == "/default_slot_rules/0/params/windows/0/capacity"


def test_resource_kind_needs_a_name():
    [problem] = yuyue_schemas.problems("vertical", with_change("/resource_kinds/0/name", DELETE))
    assert (problem.pointer, problem.keyword) == ("/resource_kinds/0/name", "required")


def test_localized_name_with_unknown_language_is_refused_at_the_language():
    [problem] = yuyue_schemas.problems("vertical", with_change("/name", {"ja": "予約"}))
    assert problem.pointer == "/name/ja"
